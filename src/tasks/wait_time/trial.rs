//! Actions, outcomes and per-trial records of the wagering task, and the draws that fix a
//! trial before the agent acts.

use std::fmt;
use std::str::FromStr;

use rand::Rng;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use super::block::Block;
use super::{DT_S, MAX_ITI_STEPS, MAX_REWARD_STEP, MEAN_DELAY_S};
use crate::error::{Error, Result};

/// An agent's choice on one step. The input channel "previous action" carries its code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    /// Keep waiting for the reward (code 0). Allowed only in a trial.
    Wait,
    /// Give up the trial and take the opt-out penalty (code 1). Allowed only in a trial.
    OptOut,
    /// The only action allowed in the inter-trial interval (code 2).
    Iti,
}

impl Action {
    /// Integer code: 0 wait, 1 opt-out, 2 ITI.
    pub fn code(self) -> usize {
        match self {
            Action::Wait => 0,
            Action::OptOut => 1,
            Action::Iti => 2,
        }
    }

    /// Returns the name used in files and messages.
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Wait => "wait",
            Action::OptOut => "opt_out",
            Action::Iti => "iti",
        }
    }

    /// Converts a policy index (0 wait, 1 opt-out, 2 ITI) into an action.
    pub fn from_code(code: usize) -> Result<Self> {
        match code {
            0 => Ok(Action::Wait),
            1 => Ok(Action::OptOut),
            2 => Ok(Action::Iti),
            other => Err(Error::invalid(
                "action",
                format!("code {other} is out of range; expected 0 (wait), 1 (opt-out) or 2 (ITI)"),
            )),
        }
    }
}

/// Outcome of a trial, written as `rewarded`, `opted_out` or `timeout`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// The agent waited until the reward arrived.
    Rewarded,
    /// The agent opted out before the reward (or on a catch trial).
    OptedOut,
    /// A catch trial that the agent never opted out of.
    Timeout,
}

impl Outcome {
    /// Returns the name used in files.
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Rewarded => "rewarded",
            Outcome::OptedOut => "opted_out",
            Outcome::Timeout => "timeout",
        }
    }
}

impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Outcome {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self> {
        match s {
            "rewarded" => Ok(Outcome::Rewarded),
            "opted_out" => Ok(Outcome::OptedOut),
            "timeout" => Ok(Outcome::Timeout),
            other => Err(Error::invalid(
                "outcome",
                format!("'{other}' is not an outcome; expected rewarded, opted_out or timeout"),
            )),
        }
    }
}

/// Phase of a step: 0 first step of a trial, 1 later in-trial step, 2 inter-trial interval.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Epoch {
    /// First in-trial step, where the offer and the start flag are shown.
    TrialStart,
    /// Any later in-trial step.
    Wait,
    /// A step of the inter-trial interval.
    Iti,
}

impl Epoch {
    /// Integer code stored in simulation files: 0 trial start, 1 wait, 2 ITI.
    pub fn code(self) -> u8 {
        match self {
            Epoch::TrialStart => 0,
            Epoch::Wait => 1,
            Epoch::Iti => 2,
        }
    }
}

/// One row of `trials.csv`. Step indices count from the first step of the session.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrialRecord {
    /// Trial index in the session, from 0.
    pub trial: u64,
    /// Reward block of the trial.
    pub block: Block,
    /// Offered volume in µL.
    pub offer_ul: f64,
    /// Drawn reward delay in seconds (drawn for catch trials too, and unused there).
    pub delay_s: f64,
    /// Whether the trial was a catch trial (no reward at any delay).
    pub catch: bool,
    /// Outcome of the trial.
    pub outcome: Outcome,
    /// In-trial steps times `dt`, including the decision step: an opt-out on in-trial step
    /// `k` (from 0) gives `(k + 1)·dt`, a timeout 30.1 s.
    pub wait_time_s: f64,
    /// Length of the inter-trial interval in steps.
    pub iti_steps: u32,
    /// Step index of the trial's first step.
    pub start_step: u64,
    /// Step index of the decision (reward, opt-out or timeout) step.
    pub decision_step: u64,
    /// Step index of the trial's last ITI step (inclusive).
    pub end_step: u64,
    /// Sum of every reward paid from `start_step` to `end_step`, wait costs included.
    pub reward_total: f64,
}

/// The variables of one trial that are fixed before the agent acts.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TrialPlan {
    /// Reward block.
    pub block: Block,
    /// Offered volume in µL.
    pub offer_ul: f64,
    /// Reward delay in seconds.
    pub delay_s: f64,
    /// In-trial step index on which waiting is rewarded: ⌊delay/dt⌋, or 600 if delay ≥ 30 s.
    pub reward_step: u32,
    /// Whether the trial is a catch trial.
    pub catch: bool,
    /// Inter-trial interval in steps, uniform on 1..=20.
    pub iti_steps: u32,
}

/// Draws trial plans from two named streams: `trials` (offer, delay, catch flag) and `itis`.
///
/// Each trial consumes exactly three uniforms from `trials` and one from `itis`, whatever the
/// block, `p_catch` or the agent's actions, so trial `n` always gets the same draws.
#[derive(Debug, Clone)]
pub struct TrialSampler {
    trials: ChaCha8Rng,
    itis: ChaCha8Rng,
    p_catch: f64,
}

impl TrialSampler {
    /// Creates a sampler from its two streams.
    pub fn new(trials: ChaCha8Rng, itis: ChaCha8Rng, p_catch: f64) -> Self {
        Self {
            trials,
            itis,
            p_catch,
        }
    }

    /// Draws the next trial's plan in `block`.
    ///
    /// The offer is entry ⌊u·n_offers⌋ of the block's set for one uniform `u`, so the number
    /// of draws does not depend on the block.
    pub fn draw(&mut self, block: Block) -> TrialPlan {
        let offer_uniform: f64 = self.trials.gen();
        let delay_uniform: f64 = self.trials.gen();
        let catch_uniform: f64 = self.trials.gen();
        let iti_uniform: f64 = self.itis.gen();

        let offers = block.offers_ul();
        let offer_index = ((offer_uniform * offers.len() as f64) as usize).min(offers.len() - 1);

        // Inverse-CDF exponential; 1 − u lies in (0, 1], so the log is finite.
        let delay_s = -MEAN_DELAY_S * (1.0 - delay_uniform).ln();
        let reward_step = if delay_s >= MAX_REWARD_STEP as f64 * DT_S {
            MAX_REWARD_STEP
        } else {
            ((delay_s / DT_S).floor() as u32).min(MAX_REWARD_STEP)
        };

        let iti_steps = ((iti_uniform * MAX_ITI_STEPS as f64) as u32).min(MAX_ITI_STEPS - 1) + 1;

        TrialPlan {
            block,
            offer_ul: offers[offer_index],
            delay_s,
            reward_step,
            catch: catch_uniform < self.p_catch,
            iti_steps,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outcome_names_round_trip() {
        for outcome in [Outcome::Rewarded, Outcome::OptedOut, Outcome::Timeout] {
            assert_eq!(outcome.to_string().parse::<Outcome>().unwrap(), outcome);
        }
        assert!("won".parse::<Outcome>().is_err());
    }

    #[test]
    fn action_codes_round_trip() {
        for action in [Action::Wait, Action::OptOut, Action::Iti] {
            assert_eq!(Action::from_code(action.code()).unwrap(), action);
        }
        let error = Action::from_code(3).unwrap_err().to_string();
        assert!(error.contains('3'), "{error}");
    }

    #[test]
    fn serde_names_are_lowercase() {
        assert_eq!(serde_json::to_string(&Block::High).unwrap(), "\"high\"");
        assert_eq!(
            serde_json::to_string(&Outcome::OptedOut).unwrap(),
            "\"opted_out\""
        );
    }

    #[test]
    fn sampler_plans_stay_in_range() {
        let mut sampler = TrialSampler::new(
            crate::rng::stream(3, "trials"),
            crate::rng::stream(3, "itis"),
            0.2,
        );
        for _ in 0..5000 {
            let plan = sampler.draw(Block::Low);
            assert!(Block::Low.offers_ul().contains(&plan.offer_ul));
            assert!((1..=MAX_ITI_STEPS).contains(&plan.iti_steps));
            assert!(plan.reward_step <= MAX_REWARD_STEP);
            assert!(plan.delay_s >= 0.0);
            assert!(plan.delay_s.is_finite());
        }
    }
}
