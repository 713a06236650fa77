//! The learning criterion, decided after every RL session on a frozen simulation of the full
//! task (catch trials and blocks on): a positive slope of wait time on log2 offer with
//! p < 0.01, and rat-like block adaptation at 20 µL (WT_high/WT_low < 1, one-sided rank-sum
//! p < 0.05).

use serde::{Deserialize, Serialize};

use crate::behavior::records::behavior_trials;
use crate::behavior::{
    block_sensitivity, offer_sensitivity, outcome_rates, training_criterion, BlockSensitivity, OfferSensitivity,
    WaitSelection,
};
use crate::error::Result;
use crate::tasks::wait_time::{DEFAULT_P_CATCH, DT_S};
use crate::tasks::EnvConfig;
use crate::train::params::TwoRegionParams;
use crate::train::simulate::{derive_seed, simulate, SimulationConfig};

use super::Preset;

/// Behaviour of a frozen network on the full task, as logged after each session.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Evaluation {
    pub trials: usize,
    /// Mean reward per second over the simulation (rewards, costs and penalties).
    pub reward_rate_per_s: f64,
    pub opt_out_rate: Option<f64>,
    pub offer_sensitivity: Option<OfferSensitivity>,
    pub block_sensitivity: Option<BlockSensitivity>,
    pub meets_criterion: bool,
}

impl Evaluation {
    /// Returns whether the wait time rose with the offer: slope > 0 with p < 0.01, the first
    /// half of the criterion. It is computed from the stored statistics, so it works on logs
    /// written before the method existed.
    pub fn offer_sensitive(&self) -> bool {
        training_criterion(self.offer_sensitivity.as_ref(), self.block_sensitivity.as_ref()).offer_sensitive
    }
}

/// Simulates `params` frozen for the preset's evaluation trials and applies the criterion.
pub fn evaluate(params: &TwoRegionParams<f32>, preset: &Preset, seed: u64) -> Result<Evaluation> {
    let config = SimulationConfig {
        trials: preset.evaluation_trials,
        env: EnvConfig { seed, p_catch: DEFAULT_P_CATCH, use_blocks: true, ..EnvConfig::default() },
        action_seed: derive_seed(seed, "actions"),
        state_seed: derive_seed(seed, "initial-states"),
        window_steps: preset.window_steps,
    };
    let sim = simulate(params, &config, false)?;
    let trials = behavior_trials(&sim.trials);

    let offer = offer_sensitivity(&trials, WaitSelection::CatchTrials, None)?;
    let block = block_sensitivity(&trials, WaitSelection::CatchTrials, 20.0)?;
    let rates = outcome_rates(&trials)?;
    let criterion = training_criterion(offer.as_ref(), block.as_ref());

    Ok(Evaluation {
        trials: trials.len(),
        reward_rate_per_s: sim.reward_sum / sim.steps.max(1) as f64 / DT_S,
        opt_out_rate: rates.opted_out,
        offer_sensitivity: offer,
        block_sensitivity: block,
        meets_criterion: criterion.met,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn evaluation(offer: Option<(f64, f64)>) -> Evaluation {
        Evaluation {
            trials: 2000,
            reward_rate_per_s: 1.0,
            opt_out_rate: Some(0.3),
            offer_sensitivity: offer.map(|(slope, p_value)| OfferSensitivity {
                n: 400,
                slope,
                intercept: 1.0,
                r_squared: Some(0.1),
                p_value,
                wait_range_s: slope * 4.0,
            }),
            block_sensitivity: None,
            meets_criterion: false,
        }
    }

    #[test]
    fn offer_sensitive_needs_positive_significant_slope() {
        assert!(evaluation(Some((0.5, 0.001))).offer_sensitive());
        assert!(!evaluation(Some((-0.5, 0.001))).offer_sensitive());
        assert!(!evaluation(Some((0.5, 0.02))).offer_sensitive());
        assert!(!evaluation(Some((0.5, 0.01))).offer_sensitive());
        assert!(!evaluation(None).offer_sensitive());
    }
}
