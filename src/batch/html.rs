//! The batch report files: `report.md` (setup, the study's questions answered as found, the
//! tables and the figure list) and `index.html` (every figure with its caption).

use std::fmt::Write as _;
use std::path::Path;

use crate::compare::report::{answer_questions, markdown_tables, ComparisonReport, Figure};
use crate::error::Result;

use super::jobs::Job;
use super::spec::BatchSpec;

/// Writes `report.md` into `out`.
pub fn write_report_md(
    out: &Path,
    spec: &BatchSpec,
    jobs: &[Job],
    report: &ComparisonReport,
    figures: &[Figure],
) -> Result<()> {
    let mut md = format!("# {}: group comparison\n\n", spec.name);

    let _ = writeln!(md, "## Setup\n");
    let _ = writeln!(
        md,
        "- Preset `{}`; frozen simulation of {} trials per network (task seed = network seed).",
        spec.preset, spec.simulation_trials
    );
    if !spec.overrides.is_empty() {
        let items: Vec<String> = spec.overrides.iter().map(|(k, v)| format!("{k} = {v}")).collect();
        let _ = writeln!(md, "- Preset overrides for every group: {}.", items.join(", "));
    }
    for g in &spec.groups {
        let reached = report
            .groups
            .iter()
            .find(|r| r.name == g.name)
            .map_or(0, |r| r.reached_criterion);
        let rl_budget = jobs
            .iter()
            .find(|j| j.group == g.name)
            .map_or(0, |j| j.preset.rl_sessions() * j.preset.session_trials);
        let mut line = format!(
            "- **{}**: curriculum `{}`, auxiliary losses `{}`, seeds {:?}; {} of {} networks met the learning criterion within about {} RL trials",
            g.name,
            g.curriculum,
            g.aux_losses,
            g.seeds,
            reached,
            g.seeds.len(),
            rl_budget
        );
        if !g.overrides.is_empty() {
            let items: Vec<String> = g.overrides.iter().map(|(k, v)| format!("{k} = {v}")).collect();
            let _ = write!(line, "; overrides {}", items.join(", "));
        }
        let _ = writeln!(md, "{line}.");
    }
    let _ = writeln!(
        md,
        "- Statistics: {} bootstrap resamples (seed {}) for the 95 % percentile intervals; Cliff's δ; Mann–Whitney U with \
         midranks (exact permutation p-value conditional on ties when n1 + n2 ≤ 50, otherwise the tie-corrected normal \
         approximation); two-sample KS D with its exact p-value. All p-values are two-sided and uncorrected for multiple \
         comparisons. Networks that never met the criterion (or never showed a significant offer slope) enter the rank \
         tests as +∞ (worst) and are left out of the means, medians and intervals of those trial counts.",
        report.stats.resamples, report.stats.seed
    );
    if !spec.analysis.slow_dynamics {
        let _ = writeln!(
            md,
            "- The slow-dynamics analysis was switched off, so question (c) has no data."
        );
    }
    md.push('\n');

    let _ = writeln!(md, "## Questions\n");
    let _ = writeln!(
        md,
        "Each question compares the first group, **{}**, with every other group, and states the result as found.\n",
        report.groups[0].name
    );
    for other in &report.groups[1..] {
        md.push_str(&answer_questions(report, &report.groups[0].name, &other.name));
    }
    md.push('\n');

    md.push_str("## Tables\n\n");
    md.push_str(&markdown_tables(report));
    md.push_str(
        "\nPer-network values: `networks.csv`; every number above: `comparison.json` and `comparison.csv`.\n\n",
    );

    let _ = writeln!(md, "## Figures\n");
    for f in figures {
        let _ = writeln!(md, "- `{}`: {}", f.file, f.caption);
    }
    crate::io::write_atomic(&out.join("report.md"), md.as_bytes())
}

/// Escapes text for HTML element content and attribute values.
fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// Writes `index.html` into `out`: every figure as an image with its caption.
pub fn write_index(out: &Path, spec: &BatchSpec, figures: &[Figure]) -> Result<()> {
    let mut html = String::new();
    let title = escape(&format!("{}: figures", spec.name));
    let _ = writeln!(
        html,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>{title}</title>"
    );
    let _ = writeln!(
        html,
        "<style>body{{font-family:sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem}}figure{{margin:2rem 0}}img{{max-width:100%}}</style>\n</head>\n<body>"
    );
    let _ = writeln!(html, "<h1>{title}</h1>");
    let _ = writeln!(html, "<p>Statistics and the answers to the study's questions: <a href=\"report.md\">report.md</a>. Tables: <a href=\"comparison.csv\">comparison.csv</a>, <a href=\"networks.csv\">networks.csv</a>.</p>");
    for f in figures {
        let file = escape(&f.file);
        let _ = writeln!(html, "<figure>\n<img src=\"{file}\" alt=\"{file}\">\n<figcaption><code>{file}</code>: {}</figcaption>\n</figure>", escape(&f.caption));
    }
    html.push_str("</body>\n</html>\n");
    crate::io::write_atomic(&out.join("index.html"), html.as_bytes())
}
