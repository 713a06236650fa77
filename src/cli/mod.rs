//! The `analyze` command line: one file per subcommand, argument parsing and output only.
//!
//! Results go to files (JSON, CSV, SVG) and a short human summary to stdout; progress bars and
//! logs go to stderr. Errors bubble up as `anyhow::Error` and `main` prints them as one line.

use clap::{Parser, Subcommand};

pub mod behavior;
pub mod common;
pub mod compare;
pub mod figures;
pub mod fixed_points;
pub mod flow_field;
pub mod inspect;
pub mod pca;
pub mod simulate;
pub mod slow_manifold;
pub mod train;

/// Train recurrent networks on cognitive tasks and analyse them as dynamical systems.
#[derive(Debug, Parser)]
#[command(name = "analyze", version, about, long_about = None)]
pub struct Cli {
    /// Silence progress bars and the summary on stdout (errors are still printed).
    #[arg(long, short, global = true)]
    pub quiet: bool,

    /// More log output on stderr (-v info, -vv debug). RUST_LOG overrides it.
    #[arg(long, short, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,

    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands, one module each.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Print what a model file contains: architecture, sizes, tensors and metadata.
    Inspect(inspect::InspectArgs),

    /// Find fixed and slow points, their spectra and time constants, and draw figures.
    FixedPoints(fixed_points::FixedPointsArgs),

    /// Train one two-region network on the wagering task with a curriculum.
    Train(train::TrainArgs),

    /// Run a frozen two-region network on the wagering task and record every step.
    Simulate(simulate::SimulateArgs),

    /// Behaviour of a simulation: wait-time curves, offer and block sensitivity, regressions.
    Behavior(behavior::BehaviorArgs),

    /// Compare two groups of trained networks: learning speed, behaviour and slow dynamics.
    Compare(compare::CompareArgs),

    /// Run a batch spec: train, simulate and compare groups of networks, then write a report.
    Figures(figures::FiguresArgs),

    /// PCA of the region states of one task epoch: explained variance and trajectory figures.
    Pca(pca::PcaArgs),

    /// Slow points of one region in one block context, grouped into dynamical features.
    SlowManifold(slow_manifold::SlowManifoldArgs),

    /// Velocity of one region's map on a PC1–PC2 grid, with its head read out per node.
    FlowField(flow_field::FlowFieldArgs),
}

/// Parses the command line and runs the chosen subcommand.
pub fn run() -> anyhow::Result<()> {
    let cli = Cli::parse();
    init_logging(cli.verbose, cli.quiet);

    match &cli.command {
        Command::Inspect(args) => inspect::run(args),
        Command::FixedPoints(args) => fixed_points::run(args, cli.quiet),
        Command::Train(args) => train::run(args, cli.quiet),
        Command::Simulate(args) => simulate::run(args, cli.quiet),
        Command::Behavior(args) => behavior::run(args, cli.quiet),
        Command::Compare(args) => compare::run(args, cli.quiet),
        Command::Figures(args) => figures::run(args, cli.quiet),

        Command::Pca(args) => pca::run(args, cli.quiet),
        Command::SlowManifold(args) => slow_manifold::run(args, cli.quiet),
        Command::FlowField(args) => flow_field::run(args, cli.quiet),
    }
}

/// Sends `tracing` output to stderr. Warnings are shown by default; `-v` adds info, `-vv`
/// debug; `RUST_LOG` takes precedence when set.
fn init_logging(verbose: u8, quiet: bool) {
    let default = match (quiet, verbose) {
        (true, _) => "error",
        (false, 0) => "warn",
        (false, 1) => "info",
        (false, _) => "debug",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_target(false)
        .without_time()
        .try_init();
}
