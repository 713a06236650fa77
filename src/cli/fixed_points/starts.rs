//! Starting states of the fixed-point search, and the trajectories behind them (which the PCA
//! figure draws).

use anyhow::Context;
use rand::Rng;

use crate::dynamics::fixed_points::starts_from_states;
use crate::io::{npy::read_npy, read_tensor_file, Dtype, Tensor};
use crate::model::{LoadedModel, Network, RecurrentMap};
use crate::tasks::EnvConfig;
use crate::train::params::TwoRegionParams;
use crate::train::simulate::{derive_seed, simulate, SimulationConfig};

use super::FixedPointsArgs;

/// Starts plus the trajectories they were sampled from.
pub struct StartSources {
    pub starts: Vec<Vec<f64>>,
    /// Trajectories (each a list of states) for the PCA basis and the figure.
    pub trajectories: Vec<Vec<Vec<f64>>>,
    /// Origin of the starts, for the summary and the JSON.
    pub description: String,
}

/// Trajectories simulated under random input pulses when no states are given.
const PULSE_TRAJECTORIES: usize = 64;
const PULSE_STEPS: usize = 100;
const PULSE_PROBABILITY: f64 = 0.05;

/// Trials simulated on the wagering task for a two-region network without --states.
const TASK_TRIALS: usize = 200;

/// Builds the starts from --states, else from simulated trajectories.
pub fn starting_states(args: &FixedPointsArgs, model: &LoadedModel, input: &[f64]) -> anyhow::Result<StartSources> {
    let dim = model.network.state_dim();
    let (tensor, description) = match &args.states {
        Some(path) => (read_states(path, args.states_tensor.as_deref())?, format!("states from {}", path.display())),
        None => match &model.network {
            Network::TwoRegion(_) => (
                task_trajectories(args, model)?,
                format!("{TASK_TRIALS} simulated trials of the wagering task (seed {})", args.seed),
            ),
            _ => (
                pulse_trajectories(&model.network, input, args.seed),
                format!("{PULSE_TRAJECTORIES} trajectories of {PULSE_STEPS} steps under random input pulses (seed {})", args.seed),
            ),
        },
    };

    let starts = starts_from_states(&tensor, dim, args.starts, args.noise, args.seed)?;
    let trajectories = split_trajectories(&tensor, dim);
    Ok(StartSources { starts, trajectories, description: format!("{} starts sampled from {description}, noise σ = {}", args.starts, args.noise) })
}

/// Reads the states tensor from a safetensors or .npy file.
fn read_states(path: &std::path::Path, name: Option<&str>) -> anyhow::Result<Tensor> {
    let is_npy = path.extension().is_some_and(|e| e.eq_ignore_ascii_case("npy"));
    if is_npy {
        return Ok(read_npy(path)?);
    }
    let file = read_tensor_file(path)?;
    let chosen = match name {
        Some(n) => n,
        None if file.tensors.contains_key("states") => "states",
        None if file.tensors.contains_key("initial_states") => "initial_states",
        None => {
            let names: Vec<&str> = file.tensors.keys().map(String::as_str).collect();
            anyhow::bail!("{}: no tensor `states` or `initial_states` (the file has {}); pick one with --states-tensor", path.display(), names.join(", "));
        }
    };
    Ok(file.get(chosen).with_context(|| format!("in {}", path.display()))?.clone())
}

/// Splits a [n_traj, n_steps, dim] tensor into trajectories; a [n, dim] tensor is one
/// trajectory per row.
fn split_trajectories(tensor: &Tensor, dim: usize) -> Vec<Vec<Vec<f64>>> {
    let rows: Vec<Vec<f64>> = tensor.data.chunks_exact(dim).map(<[f64]>::to_vec).collect();
    match tensor.shape.as_slice() {
        [_, steps, _] if *steps > 0 => rows.chunks(*steps).map(<[Vec<f64>]>::to_vec).collect(),
        _ => rows.into_iter().map(|r| vec![r]).collect(),
    }
}

/// Simulates trajectories from the zero state with random ±1 pulses added to `input`.
fn pulse_trajectories(network: &Network, input: &[f64], seed: u64) -> Tensor {
    let dim = network.state_dim();
    let mut rng = crate::rng::stream(seed, "fixed-point trajectories");
    let mut data = Vec::with_capacity(PULSE_TRAJECTORIES * PULSE_STEPS * dim);
    let mut u = input.to_vec();
    let mut next = vec![0.0; dim];

    for _ in 0..PULSE_TRAJECTORIES {
        let mut x = vec![0.0; dim];
        for _ in 0..PULSE_STEPS {
            for (channel, base) in u.iter_mut().zip(input) {
                let pulse = if rng.gen_bool(PULSE_PROBABILITY) { if rng.gen_bool(0.5) { 1.0 } else { -1.0 } } else { 0.0 };
                *channel = base + pulse;
            }
            network.step(&x, &u, &mut next);
            // A diverging network keeps its last finite state, so the tensor stays finite.
            if next.iter().all(|v| v.is_finite()) {
                x.copy_from_slice(&next);
            }
            data.extend_from_slice(&x);
        }
    }
    Tensor { shape: vec![PULSE_TRAJECTORIES, PULSE_STEPS, dim], dtype: Dtype::F64, data }
}

/// Simulates the two-region network on the wagering task and returns its states
/// `[h_ofc; c_ofc; h_str; c_str]`, one trajectory per trial.
fn task_trajectories(args: &FixedPointsArgs, model: &LoadedModel) -> anyhow::Result<Tensor> {
    let params = TwoRegionParams::<f32>::load(&args.model).context("cannot read the two-region weights for simulation")?;
    let config = SimulationConfig {
        trials: TASK_TRIALS,
        env: EnvConfig { seed: args.seed, ..EnvConfig::default() },
        action_seed: derive_seed(args.seed, "actions"),
        state_seed: derive_seed(args.seed, "initial-states"),
        window_steps: 500,
    };
    let sim = simulate(&params, &config, true)?;
    let rec = sim.recording.context("the simulation recorded no states")?;
    let (ofc_width, str_width) = (rec.ofc.len() / rec.steps.max(1), rec.str_.len() / rec.steps.max(1));
    let dim = model.network.state_dim();
    anyhow::ensure!(ofc_width + str_width == dim, "simulated state has {} values per step, the model's state has {dim}", ofc_width + str_width);

    let mut data = Vec::with_capacity(rec.steps * dim);
    for t in 0..rec.steps {
        data.extend(rec.ofc[t * ofc_width..(t + 1) * ofc_width].iter().map(|&v| v as f64));
        data.extend(rec.str_[t * str_width..(t + 1) * str_width].iter().map(|&v| v as f64));
    }
    Ok(Tensor { shape: vec![1, rec.steps, dim], dtype: Dtype::F64, data })
}
