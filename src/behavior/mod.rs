//! Behaviour of a network on the wagering task: trial records, wait-time curves,
//! sensitivities and regressions.
//!
//! The analyses take [`BehaviorTrial`] records, a minimal view of the task's trial records,
//! so that they do not depend on the task module. Wait times are in seconds and offers in µL.
//! Quantities that a session cannot define (no catch trial at 20 µL in a block, a single offer
//! level) are `None`, so no NaN reaches a JSON file.

pub mod curves;
pub mod records;
pub mod regression;
pub mod sensitivity;

#[cfg(test)]
mod tests;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

pub use curves::{wait_time_curves, CurvePoint, WaitCurves};
pub use regression::{block_regression, history_regression, RegressionFit, HISTORY_LAGS};
pub use sensitivity::{
    block_sensitivity, offer_sensitivity, outcome_rates, training_criterion, BlockSensitivity,
    OfferSensitivity, OutcomeRates, TrainingCriterion,
};

/// Reward context of a trial.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Block {
    Mixed,
    High,
    Low,
}

impl Block {
    /// Ordinal code of the block regression: high = 1, mixed = 2, low = 3.
    pub fn ordinal(self) -> f64 {
        match self {
            Block::High => 1.0,
            Block::Mixed => 2.0,
            Block::Low => 3.0,
        }
    }
}

/// End of a trial: reward, opt-out or timeout.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    Rewarded,
    OptedOut,
    Timeout,
}

/// One trial, as the behavioural analyses need it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BehaviorTrial {
    /// Trial number within the session; strictly increasing along a session.
    pub trial: usize,
    pub block: Block,
    /// Offered reward volume, µL (> 0).
    pub offer_ul: f64,
    /// Catch trials never deliver the reward, so their wait time measures the willingness to wait.
    pub catch: bool,
    pub outcome: Outcome,
    /// Time from offer to decision (opt-out, reward or timeout), seconds.
    pub wait_time_s: f64,
    /// Reward delivered in the trial, µL.
    pub reward_total: f64,
    /// Length of the trial including its inter-trial interval, seconds; used for the reward rate.
    pub duration_s: f64,
}

/// Rule for the trials that define wait times.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WaitSelection {
    /// Catch trials that ended by opt-out or timeout (all catch trials).
    CatchTrials,
    /// Catch trials that ended by opt-out only, excluding timeouts.
    CatchOptOuts,
    /// Every trial, for sessions without catch trials.
    AllTrials,
}

impl WaitSelection {
    /// Returns whether `trial` contributes a wait time under this selection.
    pub fn includes(self, trial: &BehaviorTrial) -> bool {
        match self {
            WaitSelection::CatchTrials => trial.catch,
            WaitSelection::CatchOptOuts => trial.catch && trial.outcome == Outcome::OptedOut,
            WaitSelection::AllTrials => true,
        }
    }
}

/// Settings of [`analyze_behavior`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BehaviorOptions {
    pub selection: WaitSelection,
    /// Offer at which high and low blocks are compared, µL (default 20).
    pub reference_offer_ul: f64,
    /// Seed of the ridge penalty search.
    pub seed: u64,
}

impl Default for BehaviorOptions {
    fn default() -> Self {
        BehaviorOptions {
            selection: WaitSelection::CatchTrials,
            reference_offer_ul: 20.0,
            seed: 0,
        }
    }
}

/// Every behavioural summary of one session.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BehaviorReport {
    pub options: BehaviorOptions,
    pub n_trials: usize,
    pub curves: WaitCurves,
    pub offer_sensitivity: Option<OfferSensitivity>,
    pub offer_sensitivity_mixed: Option<OfferSensitivity>,
    pub offer_sensitivity_high: Option<OfferSensitivity>,
    pub offer_sensitivity_low: Option<OfferSensitivity>,
    pub block_sensitivity: Option<BlockSensitivity>,
    pub rates: OutcomeRates,
    pub history_regression: Option<RegressionFit>,
    pub block_regression: Option<RegressionFit>,
    pub criterion: TrainingCriterion,
}

/// Runs every behavioural analysis on one session's trials (see the submodules for each).
pub fn analyze_behavior(
    trials: &[BehaviorTrial],
    options: &BehaviorOptions,
) -> Result<BehaviorReport> {
    validate_trials(trials)?;
    if !(options.reference_offer_ul.is_finite() && options.reference_offer_ul > 0.0) {
        return Err(Error::invalid(
            "reference offer",
            format!(
                "{} µL, expected a positive volume",
                options.reference_offer_ul
            ),
        ));
    }
    let selection = options.selection;

    let all_blocks = offer_sensitivity(trials, selection, None)?;
    let reference_ratio = block_sensitivity(trials, selection, options.reference_offer_ul)?;
    let criterion = training_criterion(all_blocks.as_ref(), reference_ratio.as_ref());
    Ok(BehaviorReport {
        options: options.clone(),
        n_trials: trials.len(),
        curves: wait_time_curves(trials, selection)?,
        offer_sensitivity_mixed: offer_sensitivity(trials, selection, Some(Block::Mixed))?,
        offer_sensitivity_high: offer_sensitivity(trials, selection, Some(Block::High))?,
        offer_sensitivity_low: offer_sensitivity(trials, selection, Some(Block::Low))?,
        offer_sensitivity: all_blocks,
        block_sensitivity: reference_ratio,
        rates: outcome_rates(trials)?,
        history_regression: history_regression(trials, selection, None, options.seed)?,
        block_regression: block_regression(trials, selection, options.seed)?,
        criterion,
    })
}

/// Checks the records: finite values, positive offers, no rewarded catch trial, and strictly
/// increasing trial numbers (the history regression reads earlier trials by position).
pub(crate) fn validate_trials(trials: &[BehaviorTrial]) -> Result<()> {
    for (position, t) in trials.iter().enumerate() {
        let bad = |message: String| {
            Err(Error::invalid(
                "trial records",
                format!("trial {}: {message}", t.trial),
            ))
        };
        if !(t.offer_ul.is_finite() && t.offer_ul > 0.0) {
            return bad(format!(
                "offer {} µL, expected a positive volume",
                t.offer_ul
            ));
        }
        if !(t.wait_time_s.is_finite() && t.wait_time_s >= 0.0) {
            return bad(format!(
                "wait time {} s, expected a finite value ≥ 0",
                t.wait_time_s
            ));
        }
        if !(t.duration_s.is_finite() && t.duration_s >= 0.0) {
            return bad(format!(
                "duration {} s, expected a finite value ≥ 0",
                t.duration_s
            ));
        }
        if !t.reward_total.is_finite() {
            return bad(format!("reward {} µL is not finite", t.reward_total));
        }
        if t.catch && t.outcome == Outcome::Rewarded {
            return bad("a catch trial cannot be rewarded".to_string());
        }
        if position > 0 && t.trial <= trials[position - 1].trial {
            return bad(format!(
                "trial numbers must increase, but it follows trial {}",
                trials[position - 1].trial
            ));
        }
    }
    Ok(())
}

/// Wait times of the selected trials, optionally in one block and at one offer.
pub(crate) fn selected_waits(
    trials: &[BehaviorTrial],
    selection: WaitSelection,
    block: Option<Block>,
    offer_ul: Option<f64>,
) -> Vec<f64> {
    trials
        .iter()
        .filter(|t| selection.includes(t))
        .filter(|t| block.is_none_or(|b| t.block == b))
        .filter(|t| offer_ul.is_none_or(|v| t.offer_ul == v))
        .map(|t| t.wait_time_s)
        .collect()
}
