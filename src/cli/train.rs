//! `analyze train`: train one two-region network on the wagering task.

use std::path::PathBuf;

use clap::Args;

use crate::train::curriculum::{train, Curriculum, Preset, PresetName, TrainOptions, CURRICULA};

/// Arguments of `analyze train`.
#[derive(Debug, Args)]
pub struct TrainArgs {
    /// Curriculum: kindergarten (simple → intermediate → inference → no-catch → catch → block),
    /// conventional (no-catch → catch → block), none (block task from the start), or a partial
    /// kindergarten: memory, counting, integration, inference.
    #[arg(long, default_value = "kindergarten", value_parser = parse_curriculum)]
    pub curriculum: Curriculum,

    /// Size preset: small (2 × 32 units and short sessions, minutes on one core) or paper
    /// (2 × 256 units and 10 000-trial sessions as in the study, hours).
    #[arg(long, default_value = "small", value_parser = parse_preset)]
    pub preset: PresetName,

    /// Run seed: weights, datasets, task trials, actions and initial states derive from it.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,

    /// Output folder for checkpoints/, logs/, training.jsonl, summary.json and model.safetensors.
    #[arg(long)]
    pub out: PathBuf,

    /// Continue an interrupted run in --out from its last finished stage or session.
    #[arg(long)]
    pub resume: bool,

    /// Auxiliary losses during RL (kindergarten regulariser, λ_sup = 10, and block prediction,
    /// λ_pred = 0.5): default follows the curriculum (on for kindergarten and the partial
    /// kindergartens, off for conventional and none); on or off overrides.
    #[arg(long, value_parser = ["on", "off"])]
    pub aux_losses: Option<String>,

    /// Override one preset value, e.g. `--set block_sessions=20` or `--set hidden=[64,64]`
    /// (repeatable). `summary.json` records the preset actually used.
    #[arg(long = "set", value_name = "KEY=VALUE")]
    pub overrides: Vec<String>,

    /// Keep the gradient through the bootstrap value of the n-step returns, as the original
    /// study's code did (default: detached, standard semi-gradient TD).
    #[arg(long)]
    pub compat: bool,
}

fn parse_curriculum(s: &str) -> Result<Curriculum, String> {
    s.parse().map_err(|_| format!("expected one of {CURRICULA}"))
}

fn parse_preset(s: &str) -> Result<PresetName, String> {
    s.parse().map_err(|_| "expected small or paper".to_string())
}

/// Runs `analyze train`.
pub fn run(args: &TrainArgs, quiet: bool) -> anyhow::Result<()> {
    let aux = match args.aux_losses.as_deref() {
        Some("on") => Curriculum::forced_aux(),
        Some(_) => crate::train::curriculum::AuxLosses { supervised: None, prediction: false },
        None => args.curriculum.default_aux(),
    };
    let mut preset = Preset::new(args.preset);
    for item in &args.overrides {
        let (key, value) = item
            .split_once('=')
            .ok_or_else(|| anyhow::anyhow!("invalid --set {item:?}: expected KEY=VALUE"))?;
        preset = preset.with_override(key.trim(), value.trim())?;
    }
    let opts = TrainOptions {
        curriculum: args.curriculum,
        preset,
        seed: args.seed,
        out: args.out.clone(),
        resume: args.resume,
        aux,
        compat: args.compat,
        progress: !quiet,
    };
    super::common::create_out_dir(&args.out)?;
    if !quiet {
        // Training installs no signal handler. An interrupted run keeps its finished stages and
        // sessions, so this line shows the user how to continue it.
        eprintln!(
            "training into {}. If it is interrupted, rerun the same command with --resume to continue it.",
            args.out.display()
        );
    }
    let summary = train(&opts)?;

    if !quiet {
        let resumed = if args.resume { " (this invocation only)" } else { "" };
        println!("curriculum {} preset {} seed {}: {:.1} s{resumed}", summary.curriculum, opts.preset.name, summary.seed, summary.seconds);
        for s in &summary.sessions {
            let slope = s.evaluation.offer_sensitivity.as_ref().map(|o| format!("{:+.3} s/log2 µL (p {:.2e})", o.slope, o.p_value));
            let ratio = s.evaluation.block_sensitivity.as_ref().map(|b| format!("{:.3} (p {:.2e})", b.ratio, b.p_high_less));
            println!(
                "  {:<8} {:>3}  trials {:>7}  reward/s {:>7.3}  slope {:<28} WT_high/WT_low {:<20} {}",
                s.stage,
                s.session,
                s.trials_seen,
                s.evaluation.reward_rate_per_s,
                slope.unwrap_or_else(|| "-".into()),
                ratio.unwrap_or_else(|| "-".into()),
                if s.evaluation.meets_criterion { "criterion met" } else { "" }
            );
        }
        match summary.trials_to_criterion {
            Some(n) => println!("trials to criterion: {n}"),
            None => println!("trials to criterion: not reached"),
        }
        match summary.trials_to_offer_slope {
            Some(n) => println!("trials to a significant offer slope: {n}"),
            None => println!("trials to a significant offer slope: not reached"),
        }
        println!("model: {}", args.out.join("model.safetensors").display());
    }
    Ok(())
}
