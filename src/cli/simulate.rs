//! `analyze simulate`: run a frozen two-region network on the wagering task and write a
//! simulation folder (trials.csv, states.safetensors, run.json).

use std::path::PathBuf;

use clap::Args;

use crate::batch::products::{write_simulation, SimulationRequest};
use crate::tasks::wait_time::DEFAULT_P_CATCH;

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
    let existed = args.out.exists();
    super::common::create_out_dir(&args.out)?;
    let request = SimulationRequest {
        model: &args.model,
        trials: args.trials,
        seed: args.seed,
        p_catch: args.p_catch,
        use_blocks: args.blocks == "on",
        record_model_path: true,
    };
    let sim = match write_simulation(&request, &args.out) {
        Ok(sim) => sim,
        Err(err) => {
            super::common::remove_if_created_empty(&args.out, existed);
            return Err(err.into());
        }
    };
    let n = sim.steps as usize;

    if !quiet {
        let trials = crate::behavior::records::behavior_trials(&sim.trials);
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
