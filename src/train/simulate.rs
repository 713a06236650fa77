//! Running a two-region network on the wagering task one step at a time: the shared loop of
//! RL training sessions and of frozen simulations (`analyze simulate`, the learning criterion).

use rand::Rng;
use rand_chacha::ChaCha8Rng;

use crate::error::Result;
use crate::tasks::{Action, EnvConfig, TrialRecord, WaitTimeEnv};
use crate::train::params::TwoRegionParams;
use crate::train::policy::{allowed_actions, Categorical, ACTIONS};
use crate::train::two_region::TwoRegionState;
use crate::train::window::{RlWindow, StepOutputs};

/// Derives a 64-bit seed for the purpose `name` from the run seed, so that sub-tasks (each
/// session's environment, each evaluation) get independent, reproducible streams.
pub fn derive_seed(seed: u64, name: &str) -> u64 {
    crate::rng::stream(seed, name).gen()
}

/// Draws an action index from `probs` with one uniform number.
pub fn sample_action(probs: &[f64; ACTIONS], rng: &mut ChaCha8Rng) -> usize {
    let u: f64 = rng.gen();
    let mut cumulative = 0.0;
    for (a, &p) in probs.iter().enumerate() {
        cumulative += p;
        if u < cumulative && p > 0.0 {
            return a;
        }
    }
    // Rounding left u above the last cumulative sum: take the last allowed action.
    (0..ACTIONS).rev().find(|&a| probs[a] > 0.0).unwrap_or(0)
}

/// Record of one step, for callers that store or learn from it.
#[derive(Debug, Clone, Copy)]
pub struct StepEvent {
    pub input: [f32; 4],
    pub outputs: StepOutputs<f32>,
    pub action: usize,
    pub reward: f64,
    pub in_iti: bool,
    pub block: usize,
    pub epoch: u8,
    pub trial: u64,
}

/// Settings of a frozen simulation.
#[derive(Debug, Clone)]
pub struct SimulationConfig {
    pub trials: usize,
    pub env: EnvConfig,
    /// Seed of the action stream.
    pub action_seed: u64,
    /// Seed of the initial state (uniform on [0, 1), as in training).
    pub state_seed: u64,
    pub window_steps: usize,
}

/// Per-step recordings of a simulation (row-major, one row per step).
#[derive(Debug, Clone, Default)]
pub struct Recording {
    pub steps: usize,
    pub ofc: Vec<f32>,
    pub str_: Vec<f32>,
    pub inputs: Vec<f32>,
    pub ofc_outputs: Vec<f32>,
    pub str_outputs: Vec<f32>,
    pub block_belief: Vec<f32>,
    pub trial: Vec<f32>,
    pub epoch: Vec<f32>,
    pub block: Vec<f32>,
}

impl Recording {
    /// Returns the per-step tensors of a simulation folder's `states.safetensors`, for OFC size
    /// `h1` and STR size `h2`: `ofc`, `str` ([n, 2H], `[h; c]`), `inputs`, `ofc_outputs`,
    /// `str_outputs`, `block_belief`, `trial`, `epoch` and `block`.
    pub fn tensors(&self, h1: usize, h2: usize) -> Vec<(String, Vec<usize>, Vec<f32>)> {
        let n = self.steps;
        vec![
            ("ofc".to_string(), vec![n, 2 * h1], self.ofc.clone()),
            ("str".to_string(), vec![n, 2 * h2], self.str_.clone()),
            ("inputs".to_string(), vec![n, 4], self.inputs.clone()),
            ("ofc_outputs".to_string(), vec![n, 4], self.ofc_outputs.clone()),
            ("str_outputs".to_string(), vec![n, 6], self.str_outputs.clone()),
            ("block_belief".to_string(), vec![n, 3], self.block_belief.clone()),
            ("trial".to_string(), vec![n], self.trial.clone()),
            ("epoch".to_string(), vec![n], self.epoch.clone()),
            ("block".to_string(), vec![n], self.block.clone()),
        ]
    }
}

/// Result of a frozen simulation.
#[derive(Debug, Clone)]
pub struct Simulation {
    pub trials: Vec<TrialRecord>,
    pub recording: Option<Recording>,
    /// Sum of rewards over all steps, and the number of steps.
    pub reward_sum: f64,
    pub steps: u64,
}

/// Runs `params` frozen (no learning) for `config.trials` completed trials. With `record`,
/// every step's state `[h; c]` per region (after the update), inputs, outputs, block belief
/// (softmax of the OFC logits), trial index and epoch are kept.
pub fn simulate(params: &TwoRegionParams<f32>, config: &SimulationConfig, record: bool) -> Result<Simulation> {
    let (h1, h2) = (params.ofc_hidden(), params.str_hidden());
    let mut env = WaitTimeEnv::new(config.env.clone())?;
    let mut actions = crate::rng::stream(config.action_seed, "actions");
    let mut state_rng = crate::rng::stream(config.state_seed, "initial-states");
    let mut state = TwoRegionState::uniform(1, h1, h2, &mut state_rng);
    let mut window: RlWindow<f32> = RlWindow::new(h1, h2, config.window_steps);

    let mut trials = Vec::with_capacity(config.trials);
    let mut recording = record.then(Recording::default);
    let mut reward_sum = 0.0;
    let mut steps = 0u64;

    while trials.len() < config.trials {
        window.begin(&state)?;
        for k in 0..config.window_steps {
            let event = take_step(&mut window, params, &mut env, &mut actions)?;
            reward_sum += event.0.reward;
            steps += 1;
            if let Some(rec) = recording.as_mut() {
                push_step(rec, &event.0, window.state_after(k + 1));
            }
            if let Some(trial) = event.1 {
                trials.push(trial);
                if trials.len() >= config.trials {
                    break;
                }
            }
        }
        state = window.final_state();
    }

    Ok(Simulation { trials, recording, reward_sum, steps })
}

/// Takes one network step and one environment step: the input is read before the step, the
/// action is drawn from the masked policy, and the trial record is returned when a trial ends.
pub fn take_step(
    window: &mut RlWindow<f32>,
    params: &TwoRegionParams<f32>,
    env: &mut WaitTimeEnv,
    actions: &mut ChaCha8Rng,
) -> Result<(StepEvent, Option<TrialRecord>)> {
    let input = env.input();
    let in_iti = env.in_iti();
    let block = env.block().code() as usize;
    let trial = env.trial_index();
    let outputs = window.forward_step(params, &input)?;

    let policy = Categorical::masked(&outputs.p[..ACTIONS], allowed_actions(in_iti))?;
    let action = sample_action(&policy.probs, actions);
    let outcome = env.step(Action::from_code(action)?)?;

    let event = StepEvent {
        input,
        outputs,
        action,
        reward: outcome.reward,
        in_iti,
        block,
        epoch: outcome.epoch.code(),
        trial,
    };
    Ok((event, outcome.finished_trial))
}

fn push_step(rec: &mut Recording, event: &StepEvent, state: [&[f32]; 4]) {
    rec.steps += 1;
    rec.ofc.extend_from_slice(state[0]);
    rec.ofc.extend_from_slice(state[1]);
    rec.str_.extend_from_slice(state[2]);
    rec.str_.extend_from_slice(state[3]);
    rec.inputs.extend_from_slice(&event.input);
    rec.ofc_outputs.extend_from_slice(&event.outputs.q);
    rec.str_outputs.extend_from_slice(&event.outputs.p);

    let logits = &event.outputs.q[..3];
    let max = logits.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    let exps = [(logits[0] - max).exp(), (logits[1] - max).exp(), (logits[2] - max).exp()];
    let total: f32 = exps.iter().sum();
    rec.block_belief.extend(exps.iter().map(|e| e / total));

    rec.trial.push(event.trial as f32);
    rec.epoch.push(event.epoch as f32);
    rec.block.push(event.block as f32);
}
