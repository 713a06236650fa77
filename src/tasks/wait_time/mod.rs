//! The temporal-wagering (wait-time) environment with batched reward delivery.
//!
//! Each trial offers a volume `v` (µL, shown as `ln v` on the trial's first step). Waiting
//! costs [`WAIT_COST`] per in-trial step. The reward arrives after an exponential delay
//! (mean 2.5 s) unless the trial is a catch trial. Opting out ends the trial with
//! [`OPT_OUT_PENALTY`]. An inter-trial interval (ITI) of `I` steps (uniform on 1..=20)
//! follows, and the reward or penalty is paid in `I` equal slices: the first on the decision
//! step, then on ITI steps 1..I−1, while the last ITI step pays 0. A catch trial that is never
//! opted out ends in a timeout after 602 wait steps (30.1 s).
//!
//! Offers, delays and catch flags come from the stream `trials`, ITIs from `itis` and block
//! switches from `blocks`, one fixed number of draws per trial, so the agent's actions never
//! change them. Actions are sampled by the caller.

mod block;
mod named_inputs;
mod trial;

pub use block::{Block, BlockSchedule, MIN_BLOCK_COUNTER, SWITCH_PROBABILITY};
pub use named_inputs::{named_input, DEFAULT_NAMED_OFFER_UL, NAMED_INPUTS};
pub use trial::{Action, Epoch, Outcome, TrialPlan, TrialRecord, TrialSampler};

use rand::Rng;
use rand_chacha::ChaCha8Rng;
use rand_distr::StandardNormal;

use crate::error::{Error, Result};
use crate::rng::stream;

/// Seconds per step.
pub const DT_S: f64 = 0.05;

/// Mean of the exponential reward delay in seconds.
pub const MEAN_DELAY_S: f64 = 2.5;

/// Largest reward step index: delays of 30 s or more are rewarded on in-trial step 600.
pub const MAX_REWARD_STEP: u32 = 600;

/// In-trial step index on which a catch trial that is still waiting times out, giving
/// 602 in-trial steps (30.1 s).
pub const TIMEOUT_STEP: u32 = 601;

/// Reward of every in-trial step (about −1 per second).
pub const WAIT_COST: f64 = -0.05;

/// Total penalty of an opt-out, paid in ITI slices like a reward.
pub const OPT_OUT_PENALTY: f64 = -2.0;

/// Maximum inter-trial interval in steps (the minimum is 1).
pub const MAX_ITI_STEPS: u32 = 20;

/// Catch-trial probability of the catch and block stages.
pub const DEFAULT_P_CATCH: f64 = 0.2;

/// Settings of one session.
#[derive(Debug, Clone, PartialEq)]
pub struct EnvConfig {
    /// Run seed, from which the streams `trials`, `itis`, `blocks` and `input-noise` derive.
    /// Give each session its own seed for a new trial sequence.
    pub seed: u64,
    /// Probability that a trial is a catch trial, in [0, 1] (0 in the no-catch stage).
    pub p_catch: f64,
    /// Whether blocks switch (block stage). Without blocks every trial is mixed.
    pub use_blocks: bool,
    /// Standard deviations of Gaussian input noise, zero by default: `[offer volume in µL
    /// (input channel 0, added before the log), previous reward (input channel 2)]`.
    pub input_noise_std: [f64; 2],
}

impl Default for EnvConfig {
    fn default() -> Self {
        Self {
            seed: 0,
            p_catch: DEFAULT_P_CATCH,
            use_blocks: true,
            input_noise_std: [0.0, 0.0],
        }
    }
}

impl EnvConfig {
    fn validate(&self) -> Result<()> {
        if !(0.0..=1.0).contains(&self.p_catch) {
            return Err(Error::invalid(
                "p_catch",
                format!("{}; expected a probability in [0, 1]", self.p_catch),
            ));
        }
        for (channel, std) in [(0, self.input_noise_std[0]), (2, self.input_noise_std[1])] {
            if !(std.is_finite() && std >= 0.0) {
                return Err(Error::invalid(
                    "input noise",
                    format!("standard deviation {std} on channel {channel}; expected a finite value ≥ 0"),
                ));
            }
        }
        Ok(())
    }
}

/// Result of one call to [`WaitTimeEnv::step`].
#[derive(Debug, Clone, PartialEq)]
pub struct StepOutcome {
    /// Reward of this step. Kept in f64 so a trial's slices sum to its offer to rounding.
    pub reward: f64,
    /// Phase of the step just taken.
    pub epoch: Epoch,
    /// The record of the trial whose last ITI step this was, if any.
    pub finished_trial: Option<TrialRecord>,
}

/// The wagering task for one agent, stepped one action at a time.
#[derive(Debug, Clone)]
pub struct WaitTimeEnv {
    config: EnvConfig,
    sampler: TrialSampler,
    schedule: BlockSchedule,
    block_draws: ChaCha8Rng,
    noise: ChaCha8Rng,

    plan: TrialPlan,
    trial: u64,
    in_trial_steps: u32,
    in_iti: bool,
    iti_step: u32,
    outcome: Outcome,
    step_index: u64,
    start_step: u64,
    decision_step: u64,
    reward_sum: f64,

    previous_reward: f64,
    previous_action: Action,
    clean_input: [f32; 4],
    input: [f32; 4],
}

impl WaitTimeEnv {
    /// Starts a session at the first step of trial 0, with previous reward 0 and previous
    /// action "wait".
    pub fn new(config: EnvConfig) -> Result<Self> {
        config.validate()?;

        let mut sampler = TrialSampler::new(
            stream(config.seed, "trials"),
            stream(config.seed, "itis"),
            config.p_catch,
        );
        let schedule = BlockSchedule::new();
        let plan = sampler.draw(schedule.current());

        let mut env = Self {
            block_draws: stream(config.seed, "blocks"),
            noise: stream(config.seed, "input-noise"),
            config,
            sampler,
            schedule,
            plan,
            trial: 0,
            in_trial_steps: 0,
            in_iti: false,
            iti_step: 0,
            outcome: Outcome::Timeout,
            step_index: 0,
            start_step: 0,
            decision_step: 0,
            reward_sum: 0.0,
            previous_reward: 0.0,
            previous_action: Action::Wait,
            clean_input: [0.0; 4],
            input: [0.0; 4],
        };
        env.prepare_input();
        Ok(env)
    }

    /// Settings of this session.
    pub fn config(&self) -> &EnvConfig {
        &self.config
    }

    /// Input for the next step, `[ln v or 0, start flag, previous reward, previous action]`,
    /// with input noise if configured.
    pub fn input(&self) -> [f32; 4] {
        self.input
    }

    /// Input for the next step without noise (what simulations record).
    pub fn clean_input(&self) -> [f32; 4] {
        self.clean_input
    }

    /// Returns whether the next step is in the ITI. There only [`Action::Iti`] is allowed,
    /// and in a trial only [`Action::Wait`] and [`Action::OptOut`] are.
    pub fn in_iti(&self) -> bool {
        self.in_iti
    }

    /// Phase of the next step.
    pub fn epoch(&self) -> Epoch {
        if self.in_iti {
            Epoch::Iti
        } else if self.in_trial_steps == 0 {
            Epoch::TrialStart
        } else {
            Epoch::Wait
        }
    }

    /// Block of the current trial (during the ITI, of the trial that just ended).
    pub fn block(&self) -> Block {
        self.plan.block
    }

    /// Index of the current trial, from 0.
    pub fn trial_index(&self) -> u64 {
        self.trial
    }

    /// Number of trials whose last ITI step has been taken.
    pub fn trials_completed(&self) -> u64 {
        self.trial
    }

    /// Number of steps taken in this session.
    pub fn steps_taken(&self) -> u64 {
        self.step_index
    }

    /// Pre-drawn variables of the current trial.
    pub fn current_plan(&self) -> &TrialPlan {
        &self.plan
    }

    /// Takes one step with `action` and returns its reward.
    ///
    /// Fails without changing the environment when `action` is not allowed in the current
    /// phase (see [`in_iti`](Self::in_iti)).
    pub fn step(&mut self, action: Action) -> Result<StepOutcome> {
        let epoch = self.epoch();
        let allowed = if self.in_iti {
            action == Action::Iti
        } else {
            action != Action::Iti
        };
        if !allowed {
            let (phase, expected) = if self.in_iti {
                ("in the ITI", "iti")
            } else {
                ("in a trial", "wait or opt_out")
            };
            return Err(Error::invalid(
                "action",
                format!(
                    "{} on step {} ({phase}); expected {expected}",
                    action.as_str(),
                    self.step_index
                ),
            ));
        }

        let slices = f64::from(self.plan.iti_steps);
        let mut trial_ends = false;
        let reward = if self.in_iti {
            if self.iti_step == self.plan.iti_steps {
                trial_ends = true;
                0.0
            } else {
                self.iti_step += 1;
                self.outcome_value() / slices
            }
        } else {
            let reward = self.take_in_trial_step(action, slices);
            self.in_trial_steps += 1;
            reward
        };
        self.reward_sum += reward;

        let finished_trial = if trial_ends {
            Some(self.finish_trial())
        } else {
            None
        };

        self.previous_reward = reward;
        self.previous_action = action;
        self.step_index += 1;
        self.prepare_input();

        Ok(StepOutcome {
            reward,
            epoch,
            finished_trial,
        })
    }

    /// Applies an allowed in-trial action and returns the step's reward.
    fn take_in_trial_step(&mut self, action: Action, slices: f64) -> f64 {
        let t = self.in_trial_steps;
        match action {
            Action::Wait if t == self.plan.reward_step && !self.plan.catch => {
                self.enter_iti(Outcome::Rewarded);
                WAIT_COST + self.plan.offer_ul / slices
            }
            Action::Wait => {
                if t == TIMEOUT_STEP {
                    self.enter_iti(Outcome::Timeout);
                }
                WAIT_COST
            }
            _ => {
                self.enter_iti(Outcome::OptedOut);
                WAIT_COST + OPT_OUT_PENALTY / slices
            }
        }
    }

    /// Records the decision and enters the ITI on its first step.
    fn enter_iti(&mut self, outcome: Outcome) {
        self.outcome = outcome;
        self.in_iti = true;
        self.iti_step = 1;
        self.decision_step = self.step_index;
    }

    /// Total amount paid in slices for the current outcome: the offer, the opt-out penalty,
    /// or nothing after a timeout.
    fn outcome_value(&self) -> f64 {
        match self.outcome {
            Outcome::Rewarded => self.plan.offer_ul,
            Outcome::OptedOut => OPT_OUT_PENALTY,
            Outcome::Timeout => 0.0,
        }
    }

    /// Closes the current trial on its last ITI step and draws the next one.
    fn finish_trial(&mut self) -> TrialRecord {
        let record = TrialRecord {
            trial: self.trial,
            block: self.plan.block,
            offer_ul: self.plan.offer_ul,
            delay_s: self.plan.delay_s,
            catch: self.plan.catch,
            outcome: self.outcome,
            wait_time_s: f64::from(self.in_trial_steps) * DT_S,
            iti_steps: self.plan.iti_steps,
            start_step: self.start_step,
            decision_step: self.decision_step,
            end_step: self.step_index,
            reward_total: self.reward_sum,
        };

        // One block draw per trial, used or not, keeps the stream aligned with trial indices.
        let block_uniform: f64 = self.block_draws.gen();
        if self.config.use_blocks {
            self.schedule.advance(block_uniform);
        }

        self.trial += 1;
        self.plan = self.sampler.draw(self.schedule.current());
        self.in_trial_steps = 0;
        self.in_iti = false;
        self.iti_step = 0;
        self.start_step = self.step_index + 1;
        self.reward_sum = 0.0;

        record
    }

    /// Builds the next step's input from the current trial and the previous step.
    fn prepare_input(&mut self) {
        let first_step = self.epoch() == Epoch::TrialStart;
        let offer = if first_step {
            self.plan.offer_ul.ln()
        } else {
            0.0
        };
        let start_flag = if first_step { 1.0 } else { 0.0 };
        let action_code = self.previous_action.code() as f32;

        self.clean_input = [
            offer as f32,
            start_flag,
            self.previous_reward as f32,
            action_code,
        ];
        self.input = self.clean_input;

        let [offer_std, reward_std] = self.config.input_noise_std;
        if first_step && offer_std > 0.0 {
            // The noisy volume is clipped at 1 µL, so the offer channel never drops below
            // ln 1 = 0, the value of steps without an offer.
            let epsilon: f64 = self.noise.sample(StandardNormal);
            let volume = (self.plan.offer_ul + offer_std * epsilon).max(1.0);
            self.input[0] = volume.ln() as f32;
        }
        if reward_std > 0.0 {
            let epsilon: f64 = self.noise.sample(StandardNormal);
            self.input[2] = (self.previous_reward + reward_std * epsilon) as f32;
        }
    }
}
