//! `analyze figures`: run a declarative batch spec (train, simulate, measure and compare
//! groups of networks) and write one report folder with `report.md` and `index.html`.

use std::path::PathBuf;

use clap::Args;

use crate::batch::{run_batch, BatchOptions, BatchSpec, Mode, Shard};

/// Arguments of `analyze figures`.
#[derive(Debug, Args)]
pub struct FiguresArgs {
    /// Batch spec (TOML), e.g. analyses/kindergarten_vs_conventional.toml.
    pub spec: PathBuf,

    /// Run only share i of n (1 ≤ i ≤ n): every n-th job in the spec's stable job order, for
    /// cluster job arrays. Gather afterwards with --gather.
    #[arg(long, value_name = "I/N", conflicts_with = "gather")]
    pub shard: Option<String>,

    /// Only build the report from the products of earlier --shard runs in --out.
    #[arg(long)]
    pub gather: bool,

    /// Output folder: cache/ for trained networks, simulations and metrics, the report at its
    /// top (default: results/NAME with the spec's name).
    #[arg(long)]
    pub out: Option<PathBuf>,

    /// Networks trained in parallel (default: one per core).
    #[arg(long)]
    pub jobs: Option<usize>,
}

/// Runs `analyze figures`.
pub fn run(args: &FiguresArgs, quiet: bool) -> anyhow::Result<()> {
    let spec = BatchSpec::read(&args.spec)?;
    let mode = match (&args.shard, args.gather) {
        (Some(text), _) => Mode::Shard(text.parse::<Shard>()?),
        (None, true) => Mode::Gather,
        (None, false) => Mode::All,
    };
    if args.jobs == Some(0) {
        anyhow::bail!("invalid --jobs 0: expected at least 1 worker");
    }
    let out = args
        .out
        .clone()
        .unwrap_or_else(|| PathBuf::from("results").join(&spec.name));
    super::common::create_out_dir(&out)?;

    let outcome = run_batch(
        &spec,
        &BatchOptions {
            out: out.clone(),
            mode,
            threads: args.jobs,
        },
    )?;
    if !quiet {
        println!(
            "{}: {} of {} jobs run here ({} trained, {} simulated, {} measured; the rest were cached)",
            spec.name, outcome.jobs_run, outcome.jobs_total, outcome.trained, outcome.simulated, outcome.measured
        );
        if outcome.gathered {
            println!(
                "wrote report.md, index.html, comparison tables and figures in {}",
                out.display()
            );
        } else {
            println!(
                "products are in {}; run with --gather once every shard has finished",
                out.join("cache").display()
            );
        }
    }
    Ok(())
}
