//! `analyze simulate`: run a frozen two-region network on the wagering task and write a
//! simulation folder (trials.csv, states.safetensors, run.json).

use std::path::PathBuf;

use anyhow::Context;
use clap::Args;
use sha2::{Digest, Sha256};

use crate::behavior::records::write_simulation_dir;
use crate::tasks::wait_time::DEFAULT_P_CATCH;
use crate::tasks::EnvConfig;
use crate::train::params::TwoRegionParams;
use crate::train::simulate::{derive_seed, simulate, SimulationConfig};

/// Arguments of `analyze simulate`.
#[derive(Debug, Args)]
pub struct SimulateArgs {
    /// Two-region model file (safetensors with rnn1/linear1/rnn2/linear2 tensors).
    pub model: PathBuf,

    /// Number of completed trials to simulate.
    #[arg(long, default_value_t = 1000)]
    pub trials: usize,

    /// Seed of the task, the action sampling and the initial state.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,

    /// Catch-trial probability, in [0, 1].
    #[arg(long, default_value_t = DEFAULT_P_CATCH)]
    pub p_catch: f64,

    /// Hidden blocks: on (the full task) or off (mixed offers only).
    #[arg(long, default_value = "on", value_parser = ["on", "off"])]
    pub blocks: String,

    /// Output folder.
    #[arg(long)]
    pub out: PathBuf,
}

/// Runs `analyze simulate`.
pub fn run(args: &SimulateArgs, quiet: bool) -> anyhow::Result<()> {
    if args.trials == 0 {
        anyhow::bail!("invalid --trials 0: expected at least 1 trial");
    }
    let bytes = std::fs::read(&args.model).with_context(|| format!("cannot read model {}", args.model.display()))?;
    let params = TwoRegionParams::<f32>::from_tensors(&crate::io::tensors::parse_tensor_bytes(&args.model, &bytes)?)
        .with_context(|| format!("{} is not a two-region model", args.model.display()))?;

    let config = SimulationConfig {
        trials: args.trials,
        env: EnvConfig { seed: args.seed, p_catch: args.p_catch, use_blocks: args.blocks == "on", ..EnvConfig::default() },
        action_seed: derive_seed(args.seed, "actions"),
        state_seed: derive_seed(args.seed, "initial-states"),
        window_steps: 500,
    };
    let sim = simulate(&params, &config, true)?;
    super::common::create_out_dir(&args.out)?;
    let rec = sim.recording.as_ref().context("simulation recorded no steps")?;
    let n = rec.steps;
    let (h1, h2) = (params.ofc_hidden(), params.str_hidden());

    let tensors = rec.tensors(h1, h2);
    let run = serde_json::json!({
        "format": "rnn-dynamics/simulation/1",
        "model": args.model.display().to_string(),
        "model_sha256": format!("{:x}", Sha256::digest(&bytes)),
        "trials": args.trials,
        "steps": n,
        "seed": args.seed,
        "p_catch": args.p_catch,
        "blocks": args.blocks == "on",
        "dt_s": crate::tasks::wait_time::DT_S,
        "hidden": [h1, h2],
        "version": env!("CARGO_PKG_VERSION"),
    });
    write_simulation_dir(&args.out, &sim.trials, &tensors, &run)?;

    if !quiet {
        let trials = crate::train::curriculum::criterion::behavior_trials(&sim.trials);
        let rates = crate::behavior::outcome_rates(&trials)?;
        println!(
            "simulated {} trials ({} steps, {:.1} s of task time): {:.3} reward units per s (offers in µL minus costs and penalties), opt-out rate {}",
            sim.trials.len(),
            n,
            n as f64 * crate::tasks::wait_time::DT_S,
            sim.reward_sum / n.max(1) as f64 / crate::tasks::wait_time::DT_S,
            rates.opted_out.map_or("-".into(), |r| format!("{r:.3}")),
        );
        println!("wrote {}", args.out.display());
    }
    Ok(())
}
