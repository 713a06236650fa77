//! One RL session on the wagering task, in truncated-BPTT windows of 500 steps at batch 1.
//! Each window adds the optional auxiliary losses to the actor–critic loss and takes one Adam
//! step. The state is reset at random roughly every 160 trials, at a window boundary.

use rand_chacha::ChaCha8Rng;
use serde::Serialize;

use crate::error::Result;
use crate::tasks::wait_time::DT_S;
use crate::tasks::{EnvConfig, TrialRecord, WaitTimeEnv};
use crate::train::actor_critic::{ActorCriticConfig, StepRecord};
use crate::train::adam::{global_norm, Adam};
use crate::train::params::TwoRegionParams;
use crate::train::simulate::take_step;
use crate::train::two_region::{TwoRegionState, TwoRegionTape};
use crate::train::window::{supervised_backward, RlWindow};
use crate::tasks::SupervisedBatch;

use super::{AuxLosses, Preset, RlStage};

/// The fixed regulariser batch (intermediate kindergarten sequences of 20 and 25 steps) and its
/// tape, kept across sessions.
pub struct Regularizer {
    pub data: SupervisedBatch,
    pub tape: TwoRegionTape<f32>,
    pub weight: f64,
}

/// Per-window log entry (one JSON line).
#[derive(Debug, Clone, Serialize)]
pub struct WindowLog {
    pub window: usize,
    pub trials_completed: usize,
    pub loss_total: f64,
    pub loss_policy: f64,
    pub loss_value: f64,
    pub loss_entropy: f64,
    pub loss_prediction: f64,
    pub loss_supervised: Option<f64>,
    /// Mean reward per second over the window (mean reward per step / dt).
    pub reward_rate_per_s: f64,
    pub grad_norm: f64,
}

/// Outcome of a session: its trials, window logs and reward rate.
#[derive(Debug, Clone)]
pub struct SessionResult {
    pub trials: Vec<TrialRecord>,
    pub windows: Vec<WindowLog>,
    pub reward_rate_per_s: f64,
}

/// Settings of one session.
pub struct SessionConfig<'a> {
    pub stage: RlStage,
    pub env_seed: u64,
    pub preset: &'a Preset,
    pub aux: AuxLosses,
    pub actor_critic: ActorCriticConfig,
}

/// Runs one training session, updating `params` and `adam` in place. `state` is the session's
/// initial state and contains the final state afterwards. `rng_actions` and `rng_states` are the
/// run's action and initial-state streams.
#[allow(clippy::too_many_arguments)]
pub fn run_session(
    params: &mut TwoRegionParams<f32>,
    adam: &mut Adam<f32>,
    config: &SessionConfig,
    regularizer: &mut Option<Regularizer>,
    state: &mut TwoRegionState<f32>,
    rng_actions: &mut ChaCha8Rng,
    rng_states: &mut ChaCha8Rng,
    mut on_window: impl FnMut(&WindowLog),
) -> Result<SessionResult> {
    let preset = config.preset;
    let [h1, h2] = preset.hidden;
    let env_config = EnvConfig {
        seed: config.env_seed,
        p_catch: config.stage.p_catch(),
        use_blocks: config.stage.use_blocks(),
        ..EnvConfig::default()
    };
    let mut env = WaitTimeEnv::new(env_config)?;
    let mut window: RlWindow<f32> = RlWindow::new(h1, h2, preset.window_steps);
    let mut records: Vec<StepRecord> = Vec::with_capacity(preset.window_steps);
    let predict_blocks = config.aux.prediction && config.stage.use_blocks();
    let mut ac = config.actor_critic;
    if !predict_blocks {
        ac.lambda_pred = 0.0;
    }

    let mut trials: Vec<TrialRecord> = Vec::with_capacity(preset.session_trials + 64);
    let mut windows = Vec::new();
    let mut next_reset = preset.reset_every_trials;
    let mut reward_sum = 0.0;
    let mut steps = 0usize;

    while trials.len() < preset.session_trials {
        window.begin(state)?;
        records.clear();
        let mut window_reward = 0.0;

        for _ in 0..preset.window_steps {
            let (event, finished) = take_step(&mut window, params, &mut env, rng_actions)?;
            records.push(StepRecord {
                action: event.action,
                reward: event.reward,
                in_iti: event.in_iti,
                block: predict_blocks.then_some(event.block),
            });
            window_reward += event.reward;
            if let Some(trial) = finished {
                trials.push(trial);
            }
        }
        reward_sum += window_reward;
        steps += records.len();

        // Actor–critic gradient of the window, then the supervised regulariser on its own batch.
        let loss = window.actor_critic_backward(params, &records, &ac)?;
        let mut supervised = None;
        if let Some(reg) = regularizer.as_mut() {
            if let Some(selection) = config.aux.supervised {
                let reg_state = TwoRegionState::uniform(reg.data.batch, h1, h2, rng_states);
                let mse = supervised_backward(
                    &mut reg.tape,
                    params,
                    &reg.data.inputs,
                    &reg.data.targets,
                    reg.data.steps,
                    &reg_state,
                    selection,
                    reg.weight,
                    window.grads_mut(),
                )?;
                supervised = Some(mse);
            }
        }
        let grad_norm = global_norm(&window.grads().tensors());
        {
            let grads = window.grads().tensors();
            let mut view = params.tensors_mut();
            adam.step(&mut view, &grads)?;
        }

        let log = WindowLog {
            window: windows.len(),
            trials_completed: trials.len(),
            loss_total: loss.total + supervised.map_or(0.0, |m| m * regularizer.as_ref().map_or(0.0, |r| r.weight)),
            loss_policy: loss.policy,
            loss_value: loss.value,
            loss_entropy: loss.entropy,
            loss_prediction: loss.prediction,
            loss_supervised: supervised,
            reward_rate_per_s: window_reward / records.len() as f64 / DT_S,
            grad_norm,
        };
        on_window(&log);
        windows.push(log);

        // Carry the state into the next window (graph cut), or reset it at a window boundary
        // once the reset interval has passed.
        *state = window.final_state();
        if trials.len() > next_reset {
            *state = TwoRegionState::uniform(1, h1, h2, rng_states);
            next_reset += preset.reset_every_trials;
        }
    }

    let reward_rate_per_s = if steps == 0 { 0.0 } else { reward_sum / steps as f64 / DT_S };
    Ok(SessionResult { trials, windows, reward_rate_per_s })
}
