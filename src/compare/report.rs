//! Comparison reports: every metric compared across groups, written as JSON, CSV, a markdown
//! table and SVG figures, each figure with a caption for `index.html`.

use std::fmt::Write as _;
use std::path::Path;

use serde::{Deserialize, Serialize};

use super::groups::{
    compare_metric, group_values, learning_curves, stage_boundaries, Group, MetricComparison, StatsOptions,
};
use super::metrics::{metric_def, Missing, METRICS};
use crate::error::Result;
use crate::plot::{
    draw_ecdf, draw_learning_curves, draw_strip, EcdfData, GroupSample, LearningCurvesData, PlotOptions, StripData,
};

/// Significance level behind the words "significant" and "not significant" in the report; the
/// p-values themselves are reported.
pub const ALPHA: f64 = 0.05;

/// Every metric compared across the groups.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ComparisonReport {
    pub format: String,
    pub version: String,
    pub stats: StatsOptions,
    /// Group names and their networks' folders, in input order.
    pub groups: Vec<GroupRuns>,
    pub metrics: Vec<MetricComparison>,
}

/// Networks of one group, by run folder.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GroupRuns {
    pub name: String,
    pub runs: Vec<String>,
    /// Networks that met the learning criterion within their RL budget.
    pub reached_criterion: usize,
}

/// An SVG written by [`write_figures`], with what it shows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Figure {
    /// File name inside the output folder.
    pub file: String,
    pub caption: String,
}

/// Compares every metric of [`METRICS`] across `groups`.
pub fn build_report(groups: &[Group], stats: &StatsOptions) -> Result<ComparisonReport> {
    let metrics = METRICS
        .iter()
        .map(|def| compare_metric(def, groups, stats))
        .collect::<Result<Vec<_>>>()?;
    let groups = groups
        .iter()
        .map(|g| GroupRuns {
            name: g.name.clone(),
            runs: g.networks.iter().map(|m| m.run.clone()).collect(),
            reached_criterion: g.networks.iter().filter(|m| m.trials_to_criterion.is_some()).count(),
        })
        .collect();
    Ok(ComparisonReport {
        format: "rnn-dynamics/comparison/1".into(),
        version: env!("CARGO_PKG_VERSION").into(),
        stats: *stats,
        groups,
        metrics,
    })
}

/// Formats a number with 4 significant digits (values from 1000 to 99 999 in full, without
/// decimals), or `-` when absent or not finite.
pub fn fmt_num(value: Option<f64>) -> String {
    match value {
        Some(v) if v.is_finite() => {
            if v == 0.0 {
                "0".into()
            } else if v.abs() >= 1e5 || v.abs() < 1e-3 {
                format!("{v:.3e}")
            } else {
                let digits = (3 - v.abs().log10().floor() as i32).clamp(0, 6) as usize;
                format!("{v:.digits$}")
            }
        }
        _ => "-".into(),
    }
}

fn fmt_ci(ci: Option<[f64; 2]>) -> String {
    ci.map_or("-".into(), |[lo, hi]| {
        format!("[{}, {}]", fmt_num(Some(lo)), fmt_num(Some(hi)))
    })
}

/// Markdown tables: per metric, each group's n, mean, median and bootstrap intervals, then
/// each pair's Cliff's delta, Mann–Whitney U with p, and KS D with p.
pub fn markdown_tables(report: &ComparisonReport) -> String {
    let mut md = String::new();
    let level = (report.stats.level * 100.0).round();
    let _ = writeln!(md, "### Groups\n");
    let _ = writeln!(
        md,
        "| metric | group | n | censored | missing | mean | {level} % CI (mean) | median | {level} % CI (median) |"
    );
    let _ = writeln!(md, "| --- | --- | --- | --- | --- | --- | --- | --- | --- |");
    for m in &report.metrics {
        for g in &m.groups {
            let b = g.bootstrap.as_ref();
            let _ = writeln!(
                md,
                "| {} | {} | {} | {} | {} | {} | {} | {} | {} |",
                m.metric,
                g.group,
                g.n_observed,
                g.n_censored,
                g.n_missing,
                fmt_num(g.summary.as_ref().map(|s| s.mean)),
                fmt_ci(b.map(|b| b.mean_ci)),
                fmt_num(g.summary.as_ref().map(|s| s.median)),
                fmt_ci(b.map(|b| b.median_ci)),
            );
        }
    }

    let _ = writeln!(md, "\n### Pairs (two-sided p-values)\n");
    let _ = writeln!(
        md,
        "| metric | A | B | Cliff's δ (A vs B) | U (A) | p (Mann–Whitney) | exact | KS D | p (KS) | exact |"
    );
    let _ = writeln!(md, "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |");
    for m in &report.metrics {
        for p in m.pairs.iter().flatten() {
            let _ = writeln!(
                md,
                "| {} | {} | {} | {} | {} | {} | {} | {} | {} | {} |",
                m.metric,
                p.group_a,
                p.group_b,
                fmt_num(Some(p.cliffs_delta)),
                fmt_num(Some(p.mann_whitney.u1)),
                fmt_num(Some(p.mann_whitney.p_two_sided)),
                if p.mann_whitney.exact { "yes" } else { "no" },
                fmt_num(Some(p.ks.d)),
                fmt_num(Some(p.ks.p_value)),
                if p.ks.exact { "yes" } else { "no" },
            );
        }
    }
    md
}

/// CSV with one row per metric and group, then one row per metric and pair (the `kind`
/// column distinguishes them). Empty cells mean undefined.
pub fn csv_table(report: &ComparisonReport) -> String {
    let opt = |v: Option<f64>| v.map_or(String::new(), |x| format!("{x}"));
    let mut csv = String::from(
        "kind,metric,group_a,group_b,n_a,n_b,censored_a,missing_a,mean,mean_ci_low,mean_ci_high,median,median_ci_low,median_ci_high,\
         cliffs_delta,mann_whitney_u,mann_whitney_p,mann_whitney_exact,ks_d,ks_p,ks_exact\n",
    );
    for m in &report.metrics {
        for g in &m.groups {
            let b = g.bootstrap.as_ref();
            let _ = writeln!(
                csv,
                "group,{},{},,{},,{},{},{},{},{},{},{},{},,,,,,,",
                m.metric,
                g.group,
                g.n_observed,
                g.n_censored,
                g.n_missing,
                opt(g.summary.as_ref().map(|s| s.mean)),
                opt(b.map(|b| b.mean_ci[0])),
                opt(b.map(|b| b.mean_ci[1])),
                opt(g.summary.as_ref().map(|s| s.median)),
                opt(b.map(|b| b.median_ci[0])),
                opt(b.map(|b| b.median_ci[1])),
            );
        }
        for p in m.pairs.iter().flatten() {
            let _ = writeln!(
                csv,
                "pair,{},{},{},{},{},,,,,,,,,{},{},{},{},{},{},{}",
                m.metric,
                p.group_a,
                p.group_b,
                p.mann_whitney.n1,
                p.mann_whitney.n2,
                p.cliffs_delta,
                p.mann_whitney.u1,
                p.mann_whitney.p_two_sided,
                p.mann_whitney.exact,
                p.ks.d,
                p.ks.p_value,
                p.ks.exact,
            );
        }
    }
    csv
}

/// Per-network CSV: one row per network with every scalar metric (empty when absent).
pub fn networks_csv(groups: &[Group]) -> String {
    let mut csv = String::from("group,run,curriculum,seed");
    for def in METRICS {
        csv.push(',');
        csv.push_str(def.id);
    }
    csv.push('\n');
    for g in groups {
        for m in &g.networks {
            let _ = write!(csv, "{},{},{},{}", g.name, m.run, m.curriculum, m.seed);
            for def in METRICS {
                let _ = write!(csv, ",{}", (def.extract)(m).map_or(String::new(), |v| format!("{v}")));
            }
            csv.push('\n');
        }
    }
    csv
}

/// Selection of the comparison figures to draw.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FigureSelection {
    pub learning_curves: bool,
    pub feature_cdfs: bool,
    /// Metric ids to draw strip plots of; `None` draws every metric.
    pub strips: Option<Vec<String>>,
}

impl Default for FigureSelection {
    fn default() -> Self {
        FigureSelection {
            learning_curves: true,
            feature_cdfs: true,
            strips: None,
        }
    }
}

/// Draws the selected comparison figures into `dir` and returns them with captions: the
/// learning curves, the CDFs of the feature counts per region, and strip plots per metric.
pub fn write_figures(
    dir: &Path,
    groups: &[Group],
    report: &ComparisonReport,
    selection: &FigureSelection,
) -> Result<Vec<Figure>> {
    let mut figures = Vec::new();
    let names: Vec<&str> = groups.iter().map(|g| g.name.as_str()).collect();

    if selection.learning_curves {
        let curves = LearningCurvesData {
            metric_label: "training reward rate (reward units per s)".into(),
            groups: learning_curves(groups),
            stage_boundaries: stage_boundaries(groups),
        };
        draw_learning_curves(
            &dir.join("learning_curves.svg"),
            &curves,
            &PlotOptions::default().with_title("Reward rate per RL session"),
        )?;
        figures.push(Figure {
        file: "learning_curves.svg".into(),
        caption: format!(
            "Learning curves of {}: mean training reward rate (reward units per s: offers minus costs and penalties) per RL session, with a ±1 SEM band \
             across each group's networks; dashed lines mark the start of each RL stage (no-catch, catch, block) and name \
             the groups whose first network changes stage there. Sessions are numbered across stages from 1; \
             supervised pretraining is not shown.",
                names.join(", ")
            ),
        });
    }

    let regions: &[&str] = if selection.feature_cdfs { &["ofc", "str"] } else { &[] };
    for &region in regions {
        let def = metric_def(&format!("{region}_n_features"))?;
        let data = EcdfData {
            metric_label: def.label.into(),
            groups: samples(def, groups),
        };
        let file = format!("ecdf_{region}_features.svg");
        draw_ecdf(
            &dir.join(&file),
            &data,
            &PlotOptions::default().with_title(format!("{} features per network", region.to_uppercase())),
        )?;
        figures.push(Figure {
            file,
            caption: format!(
                "Empirical CDF of the number of dynamical features (clusters of slow points plus isolated fixed points) in the \
                 {} per network{}, one step curve per group; networks without slow-dynamics metrics are left out.",
                region.to_uppercase(),
                if region == "str" { " (mixed-block context)" } else { "" }
            ),
        });
    }

    for m in &report.metrics {
        if selection.strips.as_ref().is_some_and(|ids| !ids.contains(&m.metric)) {
            continue;
        }
        let def = metric_def(&m.metric)?;
        let data = StripData {
            metric_label: def.label.into(),
            groups: samples(def, groups),
        };
        let file = format!("strip_{}.svg", m.metric);
        draw_strip(&dir.join(&file), &data, &PlotOptions::default().with_title(def.label))?;
        let censored = if def.missing == Missing::RankWorst {
            " Networks that never reached it within their run are not drawn; the tables count them as censored."
        } else {
            ""
        };
        figures.push(Figure {
            file,
            caption: format!(
                "{}: one point per network (horizontal jitter only), with the group mean and its 95 % t interval.{censored}",
                def.label
            ),
        });
    }
    Ok(figures)
}

fn samples(def: &super::metrics::MetricDef, groups: &[Group]) -> Vec<GroupSample> {
    groups
        .iter()
        .map(|g| GroupSample {
            name: g.name.clone(),
            values: group_values(def, g).into_iter().flatten().collect(),
        })
        .collect()
}

/// Expected direction of group A's values against group B's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    Lower,
    Higher,
}

/// One of the study's questions about `metric`, asked of A against B.
#[derive(Debug, Clone, Copy)]
pub struct Question {
    /// Question letter: a, b or c.
    pub label: &'static str,
    pub metric: &'static str,
    pub expected: Direction,
    pub wording: &'static str,
}

/// The three questions of the kindergarten study: (a) fewer RL trials to criterion, (b) a
/// lower WT_high/WT_low at 20 µL, (c) more features and a slower slowest time constant per
/// region.
pub const QUESTIONS: &[Question] = &[
    Question {
        label: "a",
        metric: "trials_to_criterion",
        expected: Direction::Lower,
        wording: "reach the learning criterion in fewer RL trials",
    },
    Question {
        label: "b",
        metric: "wait_ratio_20",
        expected: Direction::Lower,
        wording: "have a lower WT_high/WT_low at 20 µL",
    },
    Question {
        label: "c",
        metric: "ofc_n_features",
        expected: Direction::Higher,
        wording: "have more dynamical features in the OFC",
    },
    Question {
        label: "c",
        metric: "str_n_features",
        expected: Direction::Higher,
        wording: "have more dynamical features in the STR",
    },
    Question {
        label: "c",
        metric: "ofc_slowest_tau",
        expected: Direction::Higher,
        wording: "have a slower slowest time constant in the OFC",
    },
    Question {
        label: "c",
        metric: "str_slowest_tau",
        expected: Direction::Higher,
        wording: "have a slower slowest time constant in the STR",
    },
];

/// Formats a markdown answer to each of [`QUESTIONS`] for `a` against `b`, as found: the medians with intervals,
/// Cliff's delta, Mann–Whitney U and p, KS D and p, and whether the data point the expected way.
pub fn answer_questions(report: &ComparisonReport, a: &str, b: &str) -> String {
    let mut md = String::new();
    for q in QUESTIONS {
        let Some(m) = report.metrics.iter().find(|m| m.metric == q.metric) else {
            continue;
        };
        let _ = write!(md, "- ({}) Does **{a}** {} than **{b}**? ", q.label, q.wording);
        let stats = |name: &str| m.groups.iter().find(|g| g.group == name);
        let describe = |name: &str| match stats(name) {
            Some(g) => {
                let censored = if m.missing == Missing::RankWorst {
                    format!(", {} of {} reached it", g.n_observed, g.n_networks)
                } else {
                    String::new()
                };
                format!(
                    "median {} (95 % CI {}, n = {}{censored})",
                    fmt_num(g.summary.as_ref().map(|s| s.median)),
                    fmt_ci(g.bootstrap.as_ref().map(|b| b.median_ci)),
                    g.n_observed
                )
            }
            None => "no data".into(),
        };
        let pair = m
            .pairs
            .iter()
            .flatten()
            .find(|p| (p.group_a == a && p.group_b == b) || (p.group_a == b && p.group_b == a));
        let Some(pair) = pair else {
            let _ = writeln!(md, "Not testable: {a} {}, {b} {}.", describe(a), describe(b));
            continue;
        };
        // Orient the effect as A against B, whatever order the pair was tested in.
        let (delta, u) = if pair.group_a == a {
            (pair.cliffs_delta, pair.mann_whitney.u1)
        } else {
            (-pair.cliffs_delta, pair.mann_whitney.u2)
        };
        let direction = if delta < 0.0 {
            "lower"
        } else if delta > 0.0 {
            "higher"
        } else {
            "neither higher nor lower"
        };
        let expected = match q.expected {
            Direction::Lower => delta < 0.0,
            Direction::Higher => delta > 0.0,
        };
        let p = pair.mann_whitney.p_two_sided;
        let all_tied = delta == 0.0 && pair.mann_whitney.undefined;
        let verdict = match (expected, p < ALPHA) {
            _ if all_tied => format!("Not testable: every network of both groups has the same value (for trials to criterion: none reached it), so {a} and {b} cannot differ."),
            (true, true) => format!("Yes: {a} tends {direction} and the difference is significant at α = {ALPHA}."),
            (true, false) => {
                format!("Not shown: {a} tends {direction}, but the difference is not significant at α = {ALPHA}.")
            }
            (false, true) => {
                format!("No: {a} tends {direction}, opposite to the question, and significantly so at α = {ALPHA}.")
            }
            (false, false) => {
                format!("No: {a} tends {direction}, and the difference is not significant at α = {ALPHA}.")
            }
        };
        let censoring = if m.missing == Missing::RankWorst {
            " Networks that never met the criterion rank last (+∞)."
        } else {
            ""
        };
        let _ = writeln!(
            md,
            "{verdict} {a}: {}; {b}: {}. Cliff's δ = {} ({a} vs {b}), Mann–Whitney U = {} (p = {}, {}), KS D = {} (p = {}, {}).{censoring}",
            describe(a),
            describe(b),
            fmt_num(Some(delta)),
            fmt_num(Some(u)),
            fmt_num(Some(p)),
            if pair.mann_whitney.exact { "exact" } else { "normal approximation" },
            fmt_num(Some(pair.ks.d)),
            fmt_num(Some(pair.ks.p_value)),
            if pair.ks.exact { "exact" } else { "asymptotic" },
        );
    }
    md
}

/// Writes `comparison.json`, `comparison.csv`, `networks.csv`, `comparison.md` and the
/// selected figures into `dir`, and returns the figures.
pub fn write_comparison(
    dir: &Path,
    groups: &[Group],
    report: &ComparisonReport,
    selection: &FigureSelection,
) -> Result<Vec<Figure>> {
    crate::io::write_json_atomic(&dir.join("comparison.json"), report)?;
    crate::io::write_atomic(&dir.join("comparison.csv"), csv_table(report).as_bytes())?;
    crate::io::write_atomic(&dir.join("networks.csv"), networks_csv(groups).as_bytes())?;

    let mut md = String::from("# Group comparison\n\n");
    for g in &report.groups {
        let _ = writeln!(
            md,
            "- **{}**: {} networks, {} reached the learning criterion",
            g.name,
            g.runs.len(),
            g.reached_criterion
        );
    }
    md.push('\n');
    if report.groups.len() >= 2 {
        let _ = writeln!(md, "## Questions\n");
        for other in &report.groups[1..] {
            md.push_str(&answer_questions(report, &report.groups[0].name, &other.name));
        }
        md.push('\n');
    }
    md.push_str(&markdown_tables(report));
    crate::io::write_atomic(&dir.join("comparison.md"), md.as_bytes())?;

    write_figures(dir, groups, report, selection)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_keep_four_digits() {
        assert_eq!(fmt_num(Some(0.012345)), "0.01235");
        assert_eq!(fmt_num(Some(123.456)), "123.5");
        assert_eq!(fmt_num(Some(13083.0)), "13083");
        assert_eq!(fmt_num(Some(2.5e-5)), "2.500e-5");
        assert_eq!(fmt_num(None), "-");
        assert_eq!(fmt_num(Some(f64::NAN)), "-");
    }
}
