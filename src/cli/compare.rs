//! `analyze compare`: compare two groups of trained networks on learning speed, behaviour and
//! slow dynamics, and write tables and figures.

use std::path::{Path, PathBuf};

use anyhow::Context;
use clap::Args;
use rayon::prelude::*;

use crate::compare::groups::{Group, StatsOptions};
use crate::compare::metrics::{network_metrics, MetricsOptions};
use crate::compare::report::{build_report, fmt_num, write_comparison, FigureSelection};

/// Arguments of `analyze compare`.
#[derive(Debug, Args)]
pub struct CompareArgs {
    /// Training folders of group A (the --out folders of `analyze train`).
    #[arg(required = true)]
    pub runs_a: Vec<PathBuf>,

    /// Training folders of group B.
    #[arg(long = "vs", required = true, num_args = 1..)]
    pub runs_b: Vec<PathBuf>,

    /// Group names, comma-separated: A,B.
    #[arg(long, default_value = "A,B")]
    pub names: String,

    /// Output folder for comparison.{md,csv,json}, networks.csv and the SVG figures.
    #[arg(long, default_value = "comparison")]
    pub out: PathBuf,

    /// Subfolder of each training folder with its simulation (`analyze simulate --out RUN/sim`).
    /// Without one, behaviour comes from the last session's evaluation and slow dynamics are
    /// left out.
    #[arg(long, default_value = "sim")]
    pub sim_subdir: String,

    /// Skip the slow-manifold analysis (the slowest step).
    #[arg(long)]
    pub no_slow_dynamics: bool,

    /// Slow-point searches per region and block context.
    #[arg(long, default_value_t = 256)]
    pub starts: usize,

    /// Bootstrap resamples of the 95 % intervals.
    #[arg(long, default_value_t = 10_000)]
    pub resamples: usize,

    /// Seed of the bootstrap and of the behavioural ridge-penalty search.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
}

/// Reads the metrics of every run in `runs`, in parallel, keeping their order.
fn read_group(name: &str, runs: &[PathBuf], sim_subdir: &str, opts: &MetricsOptions) -> anyhow::Result<Group> {
    let networks = runs
        .par_iter()
        .map(|run| {
            // A simulation folder counts only when it has its trial table.
            let sim = Some(run.join(sim_subdir)).filter(|dir| dir.join("trials.csv").is_file());
            network_metrics(run, sim.as_deref(), opts).with_context(|| format!("group {name}: run {}", run.display()))
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    Ok(Group {
        name: name.to_string(),
        networks,
    })
}

/// Runs `analyze compare`.
pub fn run(args: &CompareArgs, quiet: bool) -> anyhow::Result<()> {
    let names: Vec<&str> = args.names.split(',').map(str::trim).collect();
    if names.len() != 2 || names.iter().any(|n| n.is_empty()) || names[0] == names[1] {
        anyhow::bail!(
            "invalid --names {:?}: expected two different names, e.g. kindergarten,conventional",
            args.names
        );
    }
    if args.starts == 0 {
        anyhow::bail!("invalid --starts 0: expected at least 1 slow-point search");
    }
    if args.resamples < 2 {
        anyhow::bail!(
            "invalid --resamples {}: expected at least 2 (e.g. 10000)",
            args.resamples
        );
    }
    for run in args.runs_a.iter().chain(&args.runs_b) {
        if !run.join("summary.json").is_file() {
            anyhow::bail!(
                "run folder {} has no summary.json; expected the --out folder of a finished `analyze train`",
                run.display()
            );
        }
    }

    let mut opts = MetricsOptions {
        slow_dynamics: !args.no_slow_dynamics,
        behavior_seed: args.seed,
        ..MetricsOptions::default()
    };
    opts.slow_manifold.starts = args.starts;
    let groups = vec![
        read_group(names[0], &args.runs_a, &args.sim_subdir, &opts)?,
        read_group(names[1], &args.runs_b, &args.sim_subdir, &opts)?,
    ];

    super::common::create_out_dir(&args.out)?;
    let stats = StatsOptions {
        resamples: args.resamples,
        level: 0.95,
        seed: args.seed,
    };
    let report = build_report(&groups, &stats)?;
    let figures = write_comparison(&args.out, &groups, &report, &FigureSelection::default())?;

    if !quiet {
        print_summary(&report, &args.out, figures.len());
    }
    Ok(())
}

/// Prints one line per metric with both medians and the Mann–Whitney p-value.
fn print_summary(report: &crate::compare::ComparisonReport, out: &Path, n_figures: usize) {
    for g in &report.groups {
        println!(
            "{}: {} networks, {} reached the criterion",
            g.name,
            g.runs.len(),
            g.reached_criterion
        );
    }
    println!(
        "{:<24} {:>12} {:>12} {:>10} {:>10}",
        "metric", "median A", "median B", "Cliff's δ", "p (MWU)"
    );
    for m in &report.metrics {
        let median = |i: usize| fmt_num(m.groups[i].summary.as_ref().map(|s| s.median));
        let (delta, p) = match m.pairs.first().and_then(Option::as_ref) {
            Some(pair) => (
                fmt_num(Some(pair.cliffs_delta)),
                fmt_num(Some(pair.mann_whitney.p_two_sided)),
            ),
            None => ("-".into(), "-".into()),
        };
        println!(
            "{:<24} {:>12} {:>12} {:>10} {:>10}",
            m.metric,
            median(0),
            median(1),
            delta,
            p
        );
    }
    println!(
        "wrote comparison.md, comparison.csv, comparison.json, networks.csv and {n_figures} figures in {}",
        out.display()
    );
}
