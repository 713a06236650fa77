//! The training driver: runs a curriculum's stages in order, writes a checkpoint after every
//! stage, round and RL session, a JSON-lines log per session, and a summary with the number of
//! RL trials to criterion. `resume` skips every unit whose checkpoint exists and continues
//! from the last one.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Instant;

use indicatif::{ProgressBar, ProgressStyle};
use serde::Serialize;

use crate::error::{Error, Result};
use crate::tasks::{intermediate_task, REGULARIZER_LENGTHS};
use crate::train::actor_critic::ActorCriticConfig;
use crate::train::adam::Adam;
use crate::train::params::TwoRegionParams;
use crate::train::simulate::derive_seed;
use crate::train::two_region::{TwoRegionState, TwoRegionTape};

use super::criterion::{evaluate, Evaluation};
use super::session::{run_session, Regularizer, SessionConfig, WindowLog};
use super::supervised::{train_inference, train_intermediate, train_simple, StageObserver};
use super::{AuxLosses, Curriculum, Preset, Stage};

/// Options of one training run.
#[derive(Debug, Clone)]
pub struct TrainOptions {
    pub curriculum: Curriculum,
    pub preset: Preset,
    pub seed: u64,
    pub out: PathBuf,
    pub resume: bool,
    pub aux: AuxLosses,
    /// Keep the gradient through the bootstrap value, as the original code did.
    pub compat: bool,
    pub progress: bool,
}

/// One line of `training.jsonl`: a finished RL session with its frozen evaluation.
#[derive(Debug, Clone, Serialize)]
pub struct SessionSummary {
    pub stage: String,
    pub session: usize,
    /// RL trials seen before this session started.
    pub trials_before: usize,
    pub trials_seen: usize,
    pub training_reward_rate_per_s: f64,
    pub training_opt_out_rate: f64,
    pub evaluation: Evaluation,
    pub checkpoint: String,
    pub seconds: f64,
}

/// The run's summary, written as `summary.json`.
#[derive(Debug, Clone, Serialize)]
pub struct TrainSummary {
    pub format: &'static str,
    pub curriculum: Curriculum,
    pub preset: Preset,
    pub seed: u64,
    pub aux_losses: AuxLosses,
    pub detach_bootstrap: bool,
    pub supervised: Vec<super::supervised::StageOutcome>,
    pub sessions: Vec<SessionSummary>,
    /// RL trials seen before the first session whose evaluation met the criterion.
    pub trials_to_criterion: Option<usize>,
    /// RL trials seen before the first session whose evaluation showed a positive offer slope
    /// with p < 0.01 (the criterion's first half).
    pub trials_to_offer_slope: Option<usize>,
    pub final_checkpoint: String,
    /// Wall time of this invocation, s. After `--resume` it counts only the resumed part; the
    /// per-session `seconds` in `training.jsonl` cover the whole run's RL sessions.
    pub seconds: f64,
    pub version: &'static str,
}

/// Metadata written into every checkpoint.
fn metadata(opts: &TrainOptions, stage: &str, session: usize, trials_seen: usize) -> BTreeMap<String, String> {
    let [h1, h2] = opts.preset.hidden;
    let mut m = BTreeMap::new();
    m.insert("format".into(), "rnn-dynamics/1".into());
    m.insert("arch".into(), "two_region_lstm".into());
    m.insert("hidden".into(), format!("{h1},{h2}"));
    m.insert("inputs".into(), "4".into());
    m.insert("layers".into(), "1".into());
    m.insert("dt".into(), "0.05".into());
    m.insert("task".into(), "wait_time".into());
    m.insert("curriculum".into(), opts.curriculum.to_string());
    m.insert("preset".into(), opts.preset.name.to_string());
    m.insert("stage".into(), stage.into());
    m.insert("session".into(), session.to_string());
    m.insert("seed".into(), opts.seed.to_string());
    m.insert("trials_seen".into(), trials_seen.to_string());
    m.insert("version".into(), env!("CARGO_PKG_VERSION").into());
    m
}

/// Appends one JSON line to `path`.
fn append_json_line<T: Serialize>(path: &Path, value: &T) -> Result<()> {
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .map_err(|e| Error::io(path, e))?;
    let line = serde_json::to_string(value).map_err(|e| Error::format(path, e.to_string()))?;
    writeln!(file, "{line}").map_err(|e| Error::io(path, e))
}

struct CheckpointObserver<'a> {
    opts: &'a TrainOptions,
    dir: PathBuf,
    prefix: String,
    bar: &'a ProgressBar,
}

impl StageObserver for CheckpointObserver<'_> {
    fn epoch(&mut self, stage: &str, epoch: usize, loss: f64) {
        self.bar.set_message(format!("{stage} epoch {epoch} loss {loss:.4}"));
        self.bar.inc(1);
    }

    fn round(&mut self, stage: &str, round: usize, params: &TwoRegionParams<f32>) -> Result<()> {
        let path = self.dir.join(format!("{}-{stage}-r{:02}.safetensors", self.prefix, round + 1));
        params.save(&path, &metadata(self.opts, stage, round + 1, 0))
    }
}

fn progress_bar(enabled: bool, length: u64, label: &str) -> ProgressBar {
    if !enabled {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new(length);
    let style = ProgressStyle::with_template("{prefix:>14} [{bar:30}] {pos}/{len} ETA {eta} {msg}")
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .progress_chars("=> ");
    bar.set_style(style);
    bar.set_prefix(label.to_string());
    bar
}

/// File in the output folder that records the options a run was started with, so that
/// `--resume` can check it continues the same run.
const OPTIONS_FILE: &str = "train-options.json";

/// Returns the options that decide a run's results, as recorded in [`OPTIONS_FILE`].
fn run_options(opts: &TrainOptions) -> serde_json::Value {
    serde_json::json!({
        "curriculum": opts.curriculum,
        "preset": opts.preset,
        "seed": opts.seed,
        "aux_losses": opts.aux,
        "compat": opts.compat,
    })
}

/// Checks the output folder before training writes anything: a fresh run needs a folder
/// without an earlier run in it, and `--resume` needs the options the folder's run was started
/// with. Then records this run's options.
fn prepare_out_dir(opts: &TrainOptions) -> Result<()> {
    let options_path = opts.out.join(OPTIONS_FILE);
    let current = run_options(opts);

    if opts.resume {
        let recorded_text = match std::fs::read_to_string(&options_path) {
            Ok(text) => Some(text),
            // A run from before the options file existed, or a fresh folder: nothing to check.
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
            Err(e) => return Err(Error::io(&options_path, e)),
        };
        if let Some(text) = recorded_text {
            let recorded: serde_json::Value =
                serde_json::from_str(&text).map_err(|e| Error::format(&options_path, format!("not a training options file: {e}")))?;
            let differing = differing_options(&recorded, &current);
            if !differing.is_empty() {
                return Err(Error::invalid(
                    "--resume",
                    format!(
                        "{} contains a run started with other options: {}. Rerun with the original options, or train into another --out folder",
                        opts.out.display(),
                        differing.join("; ")
                    ),
                ));
            }
            return Ok(());
        }
    } else {
        let earlier = ["summary.json", "training.jsonl", "checkpoints", OPTIONS_FILE]
            .iter()
            .filter(|name| opts.out.join(name).exists())
            .copied()
            .collect::<Vec<_>>();
        if !earlier.is_empty() {
            return Err(Error::invalid(
                "--out",
                format!(
                    "{} already contains a training run ({}). Continue it with --resume, or choose an empty folder",
                    opts.out.display(),
                    earlier.join(", ")
                ),
            ));
        }
    }
    crate::io::write_json_atomic(&options_path, &current)
}

/// Preset fields that `--resume` may change: the number of sessions per RL stage, so that a
/// finished run can be trained for longer.
const RESUMABLE_PRESET_FIELDS: [&str; 3] = ["nocatch_sessions", "catch_sessions", "block_sessions"];

/// Lists the options that differ between a recorded run and this one, as `key (was A, now B)`,
/// with preset fields named one by one (`preset.session_trials`). Session counts may differ.
fn differing_options(recorded: &serde_json::Value, current: &serde_json::Value) -> Vec<String> {
    let missing = serde_json::Value::Null;
    let mut differing = Vec::new();
    for key in ["curriculum", "seed", "aux_losses", "compat", "preset"] {
        let (was, now) = (recorded.get(key).unwrap_or(&missing), current.get(key).unwrap_or(&missing));
        if was == now {
            continue;
        }
        match (was.as_object(), now.as_object()) {
            (Some(was_fields), Some(now_fields)) if key == "preset" => {
                for (field, now_value) in now_fields {
                    let was_value = was_fields.get(field).unwrap_or(&missing);
                    if was_value != now_value && !RESUMABLE_PRESET_FIELDS.contains(&field.as_str()) {
                        differing.push(format!("preset.{field} (was {was_value}, now {now_value})"));
                    }
                }
            }
            _ => differing.push(format!("{key} (was {was}, now {now})")),
        }
    }
    differing
}

/// Trains one network and returns its summary. Everything is written under `opts.out`.
///
/// Errors before anything is written: an invalid preset, an output folder that already contains
/// a run (without `--resume`), or one whose run was started with other options (with it).
pub fn train(opts: &TrainOptions) -> Result<TrainSummary> {
    let started = Instant::now();
    let preset = &opts.preset;
    preset.validate()?;
    let [h1, h2] = preset.hidden;
    std::fs::create_dir_all(&opts.out).map_err(|e| Error::io(opts.out.as_path(), e))?;
    prepare_out_dir(opts)?;
    let ckpt_dir = opts.out.join("checkpoints");
    let log_dir = opts.out.join("logs");
    for dir in [&ckpt_dir, &log_dir] {
        std::fs::create_dir_all(dir).map_err(|e| Error::io(dir.as_path(), e))?;
    }
    let training_log = opts.out.join("training.jsonl");

    // Initial weights, or the last checkpoint of an interrupted run.
    let init_path = ckpt_dir.join("00-init.safetensors");
    let mut params = if opts.resume && init_path.exists() {
        TwoRegionParams::<f32>::load(&init_path)?
    } else {
        if !opts.resume {
            let _ = std::fs::remove_file(&training_log);
        }
        let p = TwoRegionParams::init(h1, h2, opts.seed);
        p.save(&init_path, &metadata(opts, "init", 0, 0))?;
        p
    };

    let stages = opts.curriculum.stages(preset);
    let mut supervised = Vec::new();
    let mut sessions: Vec<SessionSummary> = Vec::new();
    let mut trials_seen = 0usize;
    let mut last_checkpoint = init_path.clone();
    // The RL optimiser carries over from session to session. Its state after the latest
    // session is kept in one file, overwritten each time, so `--resume` continues it exactly.
    let mut rl_adam = Adam::new(preset.rl_lr);
    let adam_path = ckpt_dir.join("rl-optimizer.adam.safetensors");
    let mut regularizer = opts.aux.supervised.map(|_| -> Result<Regularizer> {
        Ok(Regularizer {
            data: intermediate_task(preset.regularizer_batch, &REGULARIZER_LENGTHS, derive_seed(opts.seed, "datasets/regularizer"))?,
            tape: TwoRegionTape::new(h1, h2),
            weight: 10.0,
        })
    }).transpose()?;
    let actor_critic = ActorCriticConfig {
        lambda_entropy: preset.entropy_weight,
        lambda_value: preset.value_weight,
        detach_bootstrap: !opts.compat,
        ..ActorCriticConfig::default()
    };

    for (index, stage) in stages.iter().enumerate() {
        let prefix = format!("{:02}", index + 1);
        let mut init_rng = crate::rng::stream(opts.seed, &format!("initial-states/{prefix}"));
        let data_seed = derive_seed(opts.seed, &format!("datasets/{prefix}"));

        match stage {
            Stage::Simple { .. } | Stage::Intermediate { .. } | Stage::Inference => {
                let done_path = ckpt_dir.join(format!("{prefix}-{}.safetensors", stage.name()));
                if opts.resume && done_path.exists() {
                    params = TwoRegionParams::load(&done_path)?;
                    last_checkpoint = done_path;
                    continue;
                }
                let length = match stage {
                    Stage::Simple { substages } => (preset.simple_max_epochs * substages.len()) as u64,
                    Stage::Intermediate { .. } => (preset.intermediate_max_rounds * preset.intermediate_round_epochs) as u64,
                    _ => preset.inference_max_epochs as u64,
                };
                let bar = progress_bar(opts.progress, length, stage.name());
                let mut observer = CheckpointObserver { opts, dir: ckpt_dir.clone(), prefix: prefix.clone(), bar: &bar };
                match stage {
                    Stage::Simple { substages } => {
                        supervised.extend(train_simple(&mut params, substages, preset, data_seed, &mut init_rng, &mut observer)?);
                    }
                    Stage::Intermediate { selection } => {
                        supervised.push(train_intermediate(&mut params, *selection, preset, data_seed, &mut init_rng, &mut observer)?);
                    }
                    _ => supervised.push(train_inference(&mut params, preset, data_seed, &mut init_rng, &mut observer)?),
                }
                bar.finish_and_clear();
                params.save(&done_path, &metadata(opts, stage.name(), 0, 0))?;
                tracing::info!(stage = stage.name(), "finished supervised stage");
                last_checkpoint = done_path;
            }

            Stage::Rl { stage: rl, sessions: count } => {
                let bar = progress_bar(opts.progress, (*count * preset.session_trials) as u64, rl.name());
                for k in 1..=*count {
                    let path = ckpt_dir.join(format!("{prefix}-{}-{k:02}.safetensors", rl.name()));
                    let log_path = log_dir.join(format!("{prefix}-{}-{k:02}.jsonl", rl.name()));
                    let unit = format!("{}/{k}", rl.name());

                    if opts.resume && path.exists() {
                        if let Some(summary) = read_session_summary(&training_log, rl.name(), k)? {
                            params = TwoRegionParams::load(&path)?;
                            rl_adam = resume_optimizer(&adam_path, &unit, rl_adam)?;
                            trials_seen = summary.trials_seen;
                            sessions.push(summary);
                            last_checkpoint = path;
                            bar.inc(preset.session_trials as u64);
                            continue;
                        }
                    }

                    let session_started = Instant::now();
                    let _ = std::fs::remove_file(&log_path);
                    let mut rng_actions = crate::rng::stream(opts.seed, &format!("actions/{prefix}/{k}"));
                    let mut rng_states = crate::rng::stream(opts.seed, &format!("initial-states/{prefix}/{k}"));
                    let mut state = TwoRegionState::uniform(1, h1, h2, &mut rng_states);
                    let config = SessionConfig {
                        stage: *rl,
                        env_seed: derive_seed(opts.seed, &format!("task/{prefix}/{k}")),
                        preset,
                        aux: opts.aux,
                        actor_critic,
                    };
                    let mut log_error = None;
                    let mut last_trials = 0;
                    let result = run_session(
                        &mut params,
                        &mut rl_adam,
                        &config,
                        &mut regularizer,
                        &mut state,
                        &mut rng_actions,
                        &mut rng_states,
                        |log: &WindowLog| {
                            if log_error.is_none() {
                                log_error = append_json_line(&log_path, log).err();
                            }
                            bar.inc((log.trials_completed - last_trials) as u64);
                            last_trials = log.trials_completed;
                            bar.set_message(format!("session {k} reward/s {:.2}", log.reward_rate_per_s));
                        },
                    )?;
                    if let Some(err) = log_error {
                        return Err(err);
                    }

                    let trials_before = trials_seen;
                    trials_seen += result.trials.len();
                    params.save(&path, &metadata(opts, rl.name(), k, trials_seen))?;
                    rl_adam.save(&adam_path, &unit)?;
                    let evaluation = evaluate(&params, preset, derive_seed(opts.seed, &format!("evaluation/{prefix}/{k}")))?;
                    let opt_outs = result.trials.iter().filter(|t| t.outcome == crate::tasks::Outcome::OptedOut).count();
                    let summary = SessionSummary {
                        stage: rl.name().into(),
                        session: k,
                        trials_before,
                        trials_seen,
                        training_reward_rate_per_s: result.reward_rate_per_s,
                        training_opt_out_rate: opt_outs as f64 / result.trials.len().max(1) as f64,
                        evaluation,
                        checkpoint: path.display().to_string(),
                        seconds: session_started.elapsed().as_secs_f64(),
                    };
                    append_json_line(&training_log, &summary)?;
                    tracing::info!(unit = %unit, criterion = summary.evaluation.meets_criterion, "finished RL session");
                    sessions.push(summary);
                    last_checkpoint = path;
                }
                bar.finish_and_clear();
            }
        }
    }

    let final_path = opts.out.join("model.safetensors");
    let stage_name = stages.last().map(Stage::name).unwrap_or("init");
    params.save(&final_path, &metadata(opts, stage_name, sessions.last().map_or(0, |s| s.session), trials_seen))?;

    let trials_to_criterion = sessions.iter().find(|s| s.evaluation.meets_criterion).map(|s| s.trials_before);
    let trials_to_offer_slope = sessions.iter().find(|s| s.evaluation.offer_sensitive()).map(|s| s.trials_before);
    let summary = TrainSummary {
        format: "rnn-dynamics/train-summary/1",
        curriculum: opts.curriculum,
        preset: preset.clone(),
        seed: opts.seed,
        aux_losses: opts.aux,
        detach_bootstrap: !opts.compat,
        supervised,
        sessions,
        trials_to_criterion,
        trials_to_offer_slope,
        final_checkpoint: last_checkpoint.display().to_string(),
        seconds: started.elapsed().as_secs_f64(),
        version: env!("CARGO_PKG_VERSION"),
    };
    crate::io::write_json_atomic(&opts.out.join("summary.json"), &summary)?;
    Ok(summary)
}

/// Returns the saved RL optimiser state when it belongs to the finished session `unit`, with
/// the learning rate of `current` so that a changed `rl_lr` takes effect, and `current`
/// otherwise. While earlier sessions are skipped, the file belongs to a later session, which
/// is expected. A missing file (a run from before states were saved) restarts the moments.
fn resume_optimizer(path: &Path, unit: &str, current: Adam<f32>) -> Result<Adam<f32>> {
    if !path.exists() {
        tracing::warn!(path = %path.display(), "no saved optimiser state found, so Adam's moments restart from zero");
        return Ok(current);
    }
    let (mut adam, label) = Adam::load(path)?;
    if label == unit {
        adam.lr = current.lr;
        Ok(adam)
    } else {
        tracing::debug!(saved = %label, session = unit, "optimiser state belongs to another session");
        Ok(current)
    }
}

/// Finds the summary line of a finished session in `training.jsonl`, for `--resume`.
fn read_session_summary(path: &Path, stage: &str, session: usize) -> Result<Option<SessionSummary>> {
    let Ok(text) = std::fs::read_to_string(path) else {
        return Ok(None);
    };
    for line in text.lines() {
        let Ok(value) = serde_json::from_str::<serde_json::Value>(line) else { continue };
        if value["stage"] == stage && value["session"] == session {
            let evaluation: Evaluation = serde_json::from_value(value["evaluation"].clone())
                .map_err(|e| Error::format(path, format!("cannot read the evaluation of {stage} session {session}: {e}")))?;
            return Ok(Some(SessionSummary {
                stage: stage.into(),
                session,
                trials_before: value["trials_before"].as_u64().unwrap_or(0) as usize,
                trials_seen: value["trials_seen"].as_u64().unwrap_or(0) as usize,
                training_reward_rate_per_s: value["training_reward_rate_per_s"].as_f64().unwrap_or(f64::NAN),
                training_opt_out_rate: value["training_opt_out_rate"].as_f64().unwrap_or(f64::NAN),
                evaluation,
                checkpoint: value["checkpoint"].as_str().unwrap_or_default().into(),
                seconds: value["seconds"].as_f64().unwrap_or(0.0),
            }));
        }
    }
    Ok(None)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Returns the options of a conventional run small enough for a unit test: 4 + 4 units,
    /// 20-trial sessions.
    fn tiny_run(out: &Path, block_sessions: usize, resume: bool) -> TrainOptions {
        let mut preset = Preset::small();
        preset.hidden = [4, 4];
        preset.session_trials = 20;
        preset.nocatch_sessions = 1;
        preset.catch_sessions = 0;
        preset.block_sessions = block_sessions;
        preset.evaluation_trials = 20;
        TrainOptions {
            curriculum: Curriculum::Conventional,
            preset,
            seed: 7,
            out: out.to_path_buf(),
            resume,
            aux: Curriculum::Conventional.default_aux(),
            compat: false,
            progress: false,
        }
    }

    fn weights(out: &Path) -> Vec<(String, Vec<usize>, Vec<f32>)> {
        TwoRegionParams::<f32>::load(&out.join("model.safetensors")).unwrap().to_tensors()
    }

    #[test]
    fn resumed_run_matches_uninterrupted_run() {
        let straight = tempfile::tempdir().unwrap();
        train(&tiny_run(straight.path(), 2, false)).unwrap();

        // A run stopped after the first block session, then resumed for the second: it must
        // continue Adam's moments, not restart them.
        let resumed = tempfile::tempdir().unwrap();
        train(&tiny_run(resumed.path(), 1, false)).unwrap();
        train(&tiny_run(resumed.path(), 2, true)).unwrap();

        assert_eq!(weights(resumed.path()), weights(straight.path()));
    }

    #[test]
    fn fresh_run_rejects_used_folder() {
        let out = tempfile::tempdir().unwrap();
        train(&tiny_run(out.path(), 1, false)).unwrap();
        let before = std::fs::read(out.path().join("summary.json")).unwrap();

        let err = train(&tiny_run(out.path(), 1, false)).unwrap_err().to_string();
        assert!(err.contains("already contains a training run"), "{err}");
        assert!(err.contains("--resume"), "{err}");
        assert_eq!(std::fs::read(out.path().join("summary.json")).unwrap(), before);
    }

    #[test]
    fn resume_rejects_other_options() {
        let out = tempfile::tempdir().unwrap();
        train(&tiny_run(out.path(), 1, false)).unwrap();
        let before = std::fs::read(out.path().join("summary.json")).unwrap();

        let mut other_seed = tiny_run(out.path(), 1, true);
        other_seed.seed = 8;
        let err = train(&other_seed).unwrap_err().to_string();
        assert!(err.contains("seed (was 7, now 8)"), "{err}");

        let mut other_sessions = tiny_run(out.path(), 1, true);
        other_sessions.preset.session_trials = 30;
        let err = train(&other_sessions).unwrap_err().to_string();
        assert!(err.contains("preset.session_trials (was 20, now 30)"), "{err}");
        assert_eq!(std::fs::read(out.path().join("summary.json")).unwrap(), before);
    }

    #[test]
    fn invalid_preset_fails_before_writing() {
        let parent = tempfile::tempdir().unwrap();
        let out = parent.path().join("run");
        let mut opts = tiny_run(&out, 1, false);
        opts.preset.window_steps = 1;
        let err = train(&opts).unwrap_err().to_string();
        assert!(err.contains("window_steps = 1"), "{err}");
        assert!(!out.exists());
    }
}
