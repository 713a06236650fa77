//! Offer and block sensitivity, outcome rates and the training criterion.

use serde::{Deserialize, Serialize};

use super::{selected_waits, validate_trials, BehaviorTrial, Block, Outcome, WaitSelection};
use crate::compare::summary::mean;
use crate::compare::{mann_whitney, ols_simple};
use crate::error::Result;

/// Slope of wait time on log2 offer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OfferSensitivity {
    pub n: usize,
    /// Seconds of waiting per doubling of the offer.
    pub slope: f64,
    pub intercept: f64,
    pub r_squared: Option<f64>,
    /// Two-sided p-value of the slope.
    pub p_value: f64,
    /// Slope times the log2 range of the offers, seconds.
    pub wait_range_s: f64,
}

/// Wait-time ratio of the high and low blocks at the reference offer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BlockSensitivity {
    pub offer_ul: f64,
    pub n_high: usize,
    pub n_low: usize,
    pub mean_high_s: f64,
    pub mean_low_s: f64,
    /// WT_high/WT_low; below 1 is rat-like adaptation (waiting longer in the low block).
    pub ratio: f64,
    /// One-sided rank-sum p-value for high-block waits being shorter than low-block waits.
    pub p_high_less: f64,
}

/// Outcome fractions over the trials present and the reward rate.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OutcomeRates {
    pub n_trials: usize,
    pub rewarded: Option<f64>,
    /// Opt-outs over all trials present (catch trials included).
    pub opted_out: Option<f64>,
    pub timeout: Option<f64>,
    /// Opt-outs over non-catch trials, where opting out forgoes a reward.
    pub opted_out_non_catch: Option<f64>,
    /// Net reward per second of session time: offers delivered minus wait costs and opt-out
    /// penalties, in the task's reward units (1 unit = 1 µL of offer).
    pub reward_rate_per_s: Option<f64>,
}

/// The trainer's stop rule: a positive offer slope with p < 0.01 and a high/low wait-time
/// ratio below 1 with one-sided rank-sum p < 0.05. An undefined part counts as not met.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct TrainingCriterion {
    pub offer_sensitive: bool,
    pub block_sensitive: bool,
    pub met: bool,
}

/// Fits wait time on log2 offer over the selected trials, all blocks or one. `None` with fewer
/// than 3 trials or a single offer level.
pub fn offer_sensitivity(
    trials: &[BehaviorTrial],
    selection: WaitSelection,
    block: Option<Block>,
) -> Result<Option<OfferSensitivity>> {
    validate_trials(trials)?;
    let chosen: Vec<&BehaviorTrial> = trials
        .iter()
        .filter(|t| selection.includes(t) && block.is_none_or(|b| t.block == b))
        .collect();
    let log_offers: Vec<f64> = chosen.iter().map(|t| t.offer_ul.log2()).collect();
    let waits: Vec<f64> = chosen.iter().map(|t| t.wait_time_s).collect();

    let low = log_offers.iter().cloned().fold(f64::INFINITY, f64::min);
    let high = log_offers.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
    if chosen.len() < 3 || high <= low {
        return Ok(None);
    }

    let fit = ols_simple(&log_offers, &waits)?;
    Ok(Some(OfferSensitivity {
        n: fit.n,
        slope: fit.slope,
        intercept: fit.intercept,
        r_squared: fit.r_squared,
        p_value: fit.p_slope,
        wait_range_s: fit.slope * (high - low),
    }))
}

/// Compares high- and low-block wait times at `offer_ul`. `None` when either block has no
/// selected trial at that offer or the low-block mean is 0.
pub fn block_sensitivity(
    trials: &[BehaviorTrial],
    selection: WaitSelection,
    offer_ul: f64,
) -> Result<Option<BlockSensitivity>> {
    validate_trials(trials)?;
    let high = selected_waits(trials, selection, Some(Block::High), Some(offer_ul));
    let low = selected_waits(trials, selection, Some(Block::Low), Some(offer_ul));
    if high.is_empty() || low.is_empty() {
        return Ok(None);
    }
    let (mean_high_s, mean_low_s) = (mean(&high), mean(&low));
    if mean_low_s == 0.0 {
        return Ok(None);
    }

    let test = mann_whitney(&high, &low)?;
    Ok(Some(BlockSensitivity {
        offer_ul,
        n_high: high.len(),
        n_low: low.len(),
        mean_high_s,
        mean_low_s,
        ratio: mean_high_s / mean_low_s,
        p_high_less: test.p_less,
    }))
}

/// Computes outcome fractions over the trials actually present and the reward rate
/// Σ reward / Σ duration. Fractions are `None` for an empty session.
pub fn outcome_rates(trials: &[BehaviorTrial]) -> Result<OutcomeRates> {
    validate_trials(trials)?;
    let n = trials.len();
    let fraction = |count: usize, total: usize| (total > 0).then(|| count as f64 / total as f64);
    let count = |outcome: Outcome| trials.iter().filter(|t| t.outcome == outcome).count();

    let non_catch: Vec<&BehaviorTrial> = trials.iter().filter(|t| !t.catch).collect();
    let non_catch_opt_outs = non_catch
        .iter()
        .filter(|t| t.outcome == Outcome::OptedOut)
        .count();
    let duration: f64 = trials.iter().map(|t| t.duration_s).sum();
    let reward: f64 = trials.iter().map(|t| t.reward_total).sum();

    Ok(OutcomeRates {
        n_trials: n,
        rewarded: fraction(count(Outcome::Rewarded), n),
        opted_out: fraction(count(Outcome::OptedOut), n),
        timeout: fraction(count(Outcome::Timeout), n),
        opted_out_non_catch: fraction(non_catch_opt_outs, non_catch.len()),
        reward_rate_per_s: (duration > 0.0).then(|| reward / duration),
    })
}

/// Evaluates the training criterion from the all-block offer sensitivity and the block
/// sensitivity.
pub fn training_criterion(
    offer: Option<&OfferSensitivity>,
    block: Option<&BlockSensitivity>,
) -> TrainingCriterion {
    let offer_sensitive = offer.is_some_and(|o| o.slope > 0.0 && o.p_value < 0.01);
    let block_sensitive = block.is_some_and(|b| b.ratio < 1.0 && b.p_high_less < 0.05);
    TrainingCriterion {
        offer_sensitive,
        block_sensitive,
        met: offer_sensitive && block_sensitive,
    }
}
