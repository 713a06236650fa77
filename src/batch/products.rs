//! The three products of one job, each made only when its cache entry is missing: the
//! trained network, its frozen simulation and its metrics. Metrics without the slow-dynamics
//! part are remade on every run, so a fixed analysis fills the gap.

use std::path::Path;

use sha2::{Digest, Sha256};

use crate::behavior::records::write_simulation_dir;
use crate::compare::metrics::{network_metrics, MetricsOptions, NetworkMetrics};
use crate::error::{Error, Result};
use crate::tasks::wait_time::{DEFAULT_P_CATCH, DT_S};
use crate::tasks::EnvConfig;
use crate::train::curriculum::{train, TrainOptions};
use crate::train::params::TwoRegionParams;
use crate::train::simulate::{derive_seed, simulate, Simulation, SimulationConfig};

use super::jobs::Job;

/// Record of the products a job made; the others were found in the cache.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct JobOutcome {
    pub trained: bool,
    pub simulated: bool,
    pub measured: bool,
}

/// Makes every missing product of `job` under the batch folder `out`.
pub fn run_job(out: &Path, job: &Job, metrics: &MetricsOptions, simulation_trials: usize) -> Result<JobOutcome> {
    let mut outcome = JobOutcome::default();
    let train_dir = out.join(job.train_dir());
    let sim_dir = out.join(job.simulation_dir());
    let metrics_file = out.join(job.metrics_file());

    // `summary.json` is written last by the trainer, so its presence marks a finished run.
    if !train_dir.join("summary.json").is_file() {
        tracing::info!(job = %job.label(), dir = %train_dir.display(), "training");
        std::fs::create_dir_all(&train_dir).map_err(|e| Error::io(&train_dir, e))?;
        crate::io::write_json_atomic(&train_dir.join("config.json"), &job.train_config)?;
        let opts = TrainOptions {
            curriculum: job.curriculum,
            preset: job.preset.clone(),
            seed: job.seed,
            out: train_dir.clone(),
            resume: true,
            aux: job.aux,
            compat: false,
            progress: false,
        };
        train(&opts)?;
        outcome.trained = true;
    }

    // `run.json` is the last file of a simulation folder.
    if !sim_dir.join("run.json").is_file() {
        tracing::info!(job = %job.label(), dir = %sim_dir.display(), "simulating");
        std::fs::create_dir_all(&sim_dir).map_err(|e| Error::io(&sim_dir, e))?;
        simulate_to_dir(
            &train_dir.join("model.safetensors"),
            &sim_dir,
            job.seed,
            simulation_trials,
        )?;
        outcome.simulated = true;
    }

    if !metrics_file.is_file() || slow_dynamics_failed(&metrics_file, metrics) {
        tracing::info!(job = %job.label(), "measuring");
        let mut m = network_metrics(&train_dir, Some(&sim_dir), metrics)?;
        // Paths relative to the batch folder keep the metrics identical wherever it lives.
        m.run = job.train_dir().display().to_string();
        crate::io::write_json_atomic(&metrics_file, &m)?;
        outcome.measured = true;
    }
    Ok(outcome)
}

/// Returns whether the cached metrics at `path` lack the slow-dynamics metrics that `opts` requests,
/// so that a rerun retries that analysis (for example after it was fixed) instead of keeping
/// the gap. An unreadable file also counts, and is rewritten.
fn slow_dynamics_failed(path: &Path, opts: &MetricsOptions) -> bool {
    if !opts.slow_dynamics {
        return false;
    }
    let Ok(text) = std::fs::read_to_string(path) else {
        return true;
    };
    match serde_json::from_str::<NetworkMetrics>(&text) {
        Ok(m) => m.slow_dynamics.is_none(),
        Err(_) => true,
    }
}

/// Settings of one frozen simulation written to a folder.
#[derive(Debug, Clone, Copy)]
pub struct SimulationRequest<'a> {
    /// Two-region model file.
    pub model: &'a Path,
    /// Completed trials to simulate.
    pub trials: usize,
    /// Seed of the task, the action sampling and the initial state.
    pub seed: u64,
    /// Catch-trial probability.
    pub p_catch: f64,
    /// Whether hidden blocks switch.
    pub use_blocks: bool,
    /// Whether `run.json` records the model's path. The batch cache leaves it out, so that a
    /// cached folder does not depend on where the model lies; the model's hash is always there.
    pub record_model_path: bool,
}

/// Simulates the model of `request` frozen and writes the simulation folder `dir` (which must
/// exist): trials.csv, states.safetensors and run.json. Returns the simulation for summaries.
pub fn write_simulation(request: &SimulationRequest, dir: &Path) -> Result<Simulation> {
    let model = request.model;
    let bytes = std::fs::read(model).map_err(|e| Error::io(model, e))?;
    let params = TwoRegionParams::<f32>::from_tensors(&crate::io::tensors::parse_tensor_bytes(model, &bytes)?)?;
    let config = SimulationConfig {
        trials: request.trials,
        env: EnvConfig {
            seed: request.seed,
            p_catch: request.p_catch,
            use_blocks: request.use_blocks,
            ..EnvConfig::default()
        },
        action_seed: derive_seed(request.seed, "actions"),
        state_seed: derive_seed(request.seed, "initial-states"),
        window_steps: 500,
    };
    let sim = simulate(&params, &config, true)?;
    let rec = sim
        .recording
        .as_ref()
        .ok_or_else(|| Error::Numerical("simulation recorded no steps".into()))?;
    let (h1, h2) = (params.ofc_hidden(), params.str_hidden());

    let mut run = serde_json::json!({
        "format": "rnn-dynamics/simulation/1",
        "model_sha256": format!("{:x}", Sha256::digest(&bytes)),
        "trials": request.trials,
        "steps": rec.steps,
        "seed": request.seed,
        "p_catch": request.p_catch,
        "blocks": request.use_blocks,
        "dt_s": DT_S,
        "hidden": [h1, h2],
        "version": env!("CARGO_PKG_VERSION"),
    });
    if request.record_model_path {
        run["model"] = serde_json::Value::String(model.display().to_string());
    }
    write_simulation_dir(dir, &sim.trials, &rec.tensors(h1, h2), &run)?;
    Ok(sim)
}

/// Simulates the model at `model` frozen on the full task (blocks and catch trials on) for
/// `trials` trials with `seed`, and writes the simulation folder `dir` as `analyze simulate`
/// does.
pub fn simulate_to_dir(model: &Path, dir: &Path, seed: u64, trials: usize) -> Result<()> {
    let request = SimulationRequest { model, trials, seed, p_catch: DEFAULT_P_CATCH, use_blocks: true, record_model_path: false };
    write_simulation(&request, dir)?;
    Ok(())
}
