//! History and block regressions of catch-trial wait times.
//!
//! History regression: wait time on [log2 V_t, log2 V_{t−1}, …, log2 V_{t−6}], where V_{t−k}
//! is the offer k records earlier in the session and 0 before its first trial. Block
//! regression: the same regressors plus the ordinal block (high 1, mixed 2, low 3) and
//! block × log2 V_t. Each reports the ridge fit with α chosen from [`RIDGE_ALPHAS`] on seeded
//! 80/20 splits, and the OLS fit on the same regressors for p-values. Wait times are in
//! seconds and are not z-scored.

use serde::{Deserialize, Serialize};

use super::{validate_trials, BehaviorTrial, Block, WaitSelection};
use crate::compare::{ols_multiple, ridge_select, MultipleOls, RidgeSelection, RIDGE_ALPHAS};
use crate::error::Result;

/// Number of past offers in the history regression.
pub const HISTORY_LAGS: usize = 6;

/// Ridge and OLS fits of one regression.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RegressionFit {
    /// Regressor names in column order.
    pub regressors: Vec<String>,
    pub n: usize,
    pub ridge: RidgeSelection,
    /// OLS on the same regressors; its p-values list the intercept first.
    pub ols: MultipleOls,
}

/// Fits the history regression. `None` when there are too few selected trials for the
/// coefficients or the regressors are collinear (for example a single offer level).
/// With `only_block`, only that block's trials are responses; past offers still come from
/// every earlier trial.
pub fn history_regression(
    trials: &[BehaviorTrial],
    selection: WaitSelection,
    only_block: Option<Block>,
    seed: u64,
) -> Result<Option<RegressionFit>> {
    validate_trials(trials)?;
    let names = history_names();
    let (x, y) = design(trials, selection, only_block, |row, _| row);
    fit(names, x, y, seed)
}

/// Fits the block regression (history regressors, ordinal block, block × log2 V_t). `None`
/// as for [`history_regression`], which includes sessions with a single block.
pub fn block_regression(
    trials: &[BehaviorTrial],
    selection: WaitSelection,
    seed: u64,
) -> Result<Option<RegressionFit>> {
    validate_trials(trials)?;
    let mut names = history_names();
    names.push("block".to_string());
    names.push("block_x_log2_offer_t".to_string());
    let (x, y) = design(trials, selection, None, |mut row, trial| {
        let block = trial.block.ordinal();
        let current = row[0];
        row.push(block);
        row.push(block * current);
        row
    });
    fit(names, x, y, seed)
}

fn history_names() -> Vec<String> {
    (0..=HISTORY_LAGS)
        .map(|lag| {
            if lag == 0 {
                "log2_offer_t".to_string()
            } else {
                format!("log2_offer_t-{lag}")
            }
        })
        .collect()
}

/// Builds the rows of the selected trials; `extend` appends extra regressors to each row.
fn design(
    trials: &[BehaviorTrial],
    selection: WaitSelection,
    only_block: Option<Block>,
    extend: impl Fn(Vec<f64>, &BehaviorTrial) -> Vec<f64>,
) -> (Vec<Vec<f64>>, Vec<f64>) {
    let mut x = Vec::new();
    let mut y = Vec::new();
    for (position, trial) in trials.iter().enumerate() {
        if !selection.includes(trial) || only_block.is_some_and(|block| trial.block != block) {
            continue;
        }
        let row: Vec<f64> = (0..=HISTORY_LAGS)
            .map(|lag| {
                if lag <= position {
                    trials[position - lag].offer_ul.log2()
                } else {
                    0.0
                }
            })
            .collect();
        x.push(extend(row, trial));
        y.push(trial.wait_time_s);
    }
    (x, y)
}

fn fit(
    regressors: Vec<String>,
    x: Vec<Vec<f64>>,
    y: Vec<f64>,
    seed: u64,
) -> Result<Option<RegressionFit>> {
    // OLS needs more observations than coefficients; ridge needs at least 5 for its split.
    if y.len() < (regressors.len() + 2).max(5) {
        return Ok(None);
    }
    let ols = match ols_multiple(&x, &y) {
        Ok(ols) => ols,
        Err(error) => {
            tracing::debug!(%error, "behaviour regression undefined for this session");
            return Ok(None);
        }
    };
    let ridge = ridge_select(&x, &y, &RIDGE_ALPHAS, seed)?;
    Ok(Some(RegressionFit {
        regressors,
        n: y.len(),
        ridge,
        ols,
    }))
}
