//! `analyze fixed-points`: fixed and slow points of a recurrent network under a constant input,
//! their spectra and time constants, a summary table, JSON, CSV and SVG figures.

mod output;
mod starts;

use std::path::PathBuf;

use anyhow::Context;
use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};

use crate::dynamics::fixed_points::{find_fixed_points, FixedPointOptions};
use crate::model::{load_model, Network, RecurrentMap};
use crate::tasks::named_input;

use super::inspect::ModelArgs;

/// Arguments of `analyze fixed-points`.
#[derive(Debug, Args)]
pub struct FixedPointsArgs {
    /// Model file: safetensors written by rnn-dynamics or a PyTorch state_dict of nn.RNN, nn.GRU,
    /// nn.LSTM (any number of layers) or the two-region network, with any module prefix.
    pub model: PathBuf,

    #[command(flatten)]
    pub model_args: ModelArgs,

    /// Constant input u: comma-separated values, one per input channel (default: zeros). For the
    /// two-region network also a named input: wait = [0, 0, −0.05, 0], iti = [0, 0, 0, 2],
    /// trial-start = [ln(offer), 1, 0, 2].
    #[arg(long, allow_hyphen_values = true)]
    pub input: Option<String>,

    /// Offer for `--input trial-start`, µL.
    #[arg(long, default_value_t = 20.0)]
    pub offer: f64,

    /// Starting states: a safetensors file with `states` [n_traj, n_steps, state_dim] or
    /// `initial_states` [n, state_dim], or a .npy array of either shape. Without it, starts come
    /// from simulated trajectories: the wagering task for the two-region network, random input
    /// pulses (probability 0.05 per channel and step, ±1) for other networks.
    #[arg(long, value_name = "FILE")]
    pub states: Option<PathBuf>,

    /// Tensor to read from --states (default: `states`, else `initial_states`).
    #[arg(long, value_name = "NAME")]
    pub states_tensor: Option<String>,

    /// Number of starts, drawn with replacement from the trajectory states.
    #[arg(long, default_value_t = 1024)]
    pub starts: usize,

    /// Standard deviation of the Gaussian noise added to each start, in state units.
    #[arg(long, default_value_t = 0.05, allow_negative_numbers = true)]
    pub noise: f64,

    /// Seed of the start sampling and of simulated trajectories.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,

    /// q = ½‖F(x) − x‖² below which a point is a fixed point (state units² per step).
    #[arg(long, default_value = "1e-12")]
    pub fixed_tol: f64,

    /// q below which a point is a slow point (state units² per step). Its speed per second is
    /// √(2q)/dt.
    #[arg(long, default_value = "1e-6")]
    pub slow_tol: f64,

    /// Points closer than this Euclidean distance (state units) are one point.
    #[arg(long, default_value = "1e-3")]
    pub duplicate_radius: f64,

    /// Half-width of the marginal band around |λ| = 1: stable below 1 − band, unstable above
    /// 1 + band.
    #[arg(long, default_value = "1e-6")]
    pub stability_band: f64,

    /// Maximum L-BFGS iterations per start (Newton polishing takes over once q < 1e-2). A start
    /// also stops early, as not converged, when q above the slow-point tolerance falls by less
    /// than half over a window of iterations (see docs/methods.md).
    #[arg(long, default_value_t = FixedPointOptions::default().max_iterations)]
    pub max_iterations: u64,

    /// Maximum Newton polishing steps per start (0 disables polishing).
    #[arg(long, default_value_t = FixedPointOptions::default().newton_steps)]
    pub newton_steps: usize,

    /// Seconds per step, for time constants and speeds in seconds (default: the model's `dt`
    /// metadata, else 1).
    #[arg(long)]
    pub dt: Option<f64>,

    /// Number of rows of the summary table (all points are in the JSON and CSV).
    #[arg(long, default_value_t = 30)]
    pub show: usize,

    /// Output folder for fixed_points.json, fixed_points.csv, starts.csv and the SVG figures.
    /// Without it, only the summary is printed.
    #[arg(long)]
    pub out: Option<PathBuf>,
}

/// Parses `--input` into a vector of `input_dim` values.
fn parse_input(spec: Option<&str>, offer: f64, network: &Network) -> anyhow::Result<Vec<f64>> {
    let dim = network.input_dim();
    let Some(spec) = spec else {
        return Ok(vec![0.0; dim]);
    };
    let spec = spec.trim();
    if spec.chars().next().is_some_and(|c| c.is_ascii_alphabetic()) {
        if !matches!(network, Network::TwoRegion(_)) {
            anyhow::bail!("invalid --input {spec:?}: named inputs (wait, iti, trial-start) apply to the two-region network only; give {dim} comma-separated numbers");
        }
        return Ok(named_input(spec, offer)?.to_vec());
    }

    let values: Vec<f64> = spec
        .split(',')
        .map(|s| s.trim().parse::<f64>())
        .collect::<Result<_, _>>()
        .map_err(|_| anyhow::anyhow!("invalid --input {spec:?}: expected {dim} comma-separated numbers"))?;
    if values.len() != dim {
        anyhow::bail!("invalid --input {spec:?}: has {} values, the model has {dim} input channels", values.len());
    }
    if let Some(v) = values.iter().find(|v| !v.is_finite()) {
        anyhow::bail!("invalid --input {spec:?}: value {v} is not finite");
    }
    Ok(values)
}

/// Runs `analyze fixed-points`. On error, an output folder that this run created is removed
/// again, so no empty or half-written output remains.
pub fn run(args: &FixedPointsArgs, quiet: bool) -> anyhow::Result<()> {
    let existed = args.out.as_ref().is_some_and(|out| out.exists());
    let result = run_search(args, quiet);
    if let (Err(_), Some(out)) = (&result, &args.out) {
        super::common::remove_if_created_empty(out, existed);
    }
    result
}

fn run_search(args: &FixedPointsArgs, quiet: bool) -> anyhow::Result<()> {
    let model = load_model(&args.model, &args.model_args.load_options())?;
    let input = parse_input(args.input.as_deref(), args.offer, &model.network)?;
    let dt = args.dt.unwrap_or(model.dt);
    let opts = FixedPointOptions {
        fixed_tol: args.fixed_tol,
        slow_tol: args.slow_tol,
        stability_band: args.stability_band,
        duplicate_radius: args.duplicate_radius,
        max_iterations: args.max_iterations,
        newton_steps: args.newton_steps,
        dt,
        ..FixedPointOptions::default()
    };
    opts.validate()?;
    if let Some(out) = &args.out {
        super::common::create_out_dir(out)?;
    }

    // Starting states and the trajectories they were drawn from (for the PCA figure).
    let sources = starts::starting_states(args, &model, &input).context("cannot build starting states")?;

    let bar = if quiet || sources.starts.len() < 64 {
        ProgressBar::hidden()
    } else {
        let bar = ProgressBar::new(sources.starts.len() as u64);
        bar.set_style(
            ProgressStyle::with_template("fixed points [{bar:30}] {pos}/{len} starts, ETA {eta}")
                .unwrap_or_else(|_| ProgressStyle::default_bar())
                .progress_chars("=> "),
        );
        bar
    };
    let started = std::time::Instant::now();
    let report = find_fixed_points(&model.network, &input, &sources.starts, &opts, Some(&bar))?;
    bar.finish_and_clear();
    let seconds = started.elapsed().as_secs_f64();

    // Files first, then the summary: a reader that closes stdout early (`| head`) must not
    // stop the run before every output file is written.
    let summary = output::Summary::new(&model, &report, &sources, seconds);
    if let Some(out) = &args.out {
        output::write_all(out, &model, &report, &sources, &summary)?;
    }
    if !quiet {
        summary.print(&report, args.show);
        if let Some(out) = &args.out {
            println!("wrote fixed_points.json, fixed_points.csv, starts.csv and 3 figures in {}", out.display());
        }
    }
    Ok(())
}
