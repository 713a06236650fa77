//! Mean wait time per offer, over all blocks and per block.

use serde::{Deserialize, Serialize};

use super::{selected_waits, validate_trials, BehaviorTrial, Block, WaitSelection};
use crate::compare::summary::{mean, sem};
use crate::error::Result;

/// Mean wait time at one offer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CurvePoint {
    pub offer_ul: f64,
    pub n: usize,
    pub mean_s: f64,
    /// Standard error from this group's own standard deviation; `None` for a single trial.
    pub sem_s: Option<f64>,
}

/// Wait-time curves; an offer with no selected trial in a block has no point there.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WaitCurves {
    pub selection: WaitSelection,
    pub all: Vec<CurvePoint>,
    pub mixed: Vec<CurvePoint>,
    pub high: Vec<CurvePoint>,
    pub low: Vec<CurvePoint>,
}

/// Computes the mean wait time per offer (increasing) over all blocks and per block.
pub fn wait_time_curves(trials: &[BehaviorTrial], selection: WaitSelection) -> Result<WaitCurves> {
    validate_trials(trials)?;
    let mut offers: Vec<f64> = trials.iter().map(|t| t.offer_ul).collect();
    offers.sort_by(f64::total_cmp);
    offers.dedup();

    let curve = |block: Option<Block>| -> Vec<CurvePoint> {
        offers
            .iter()
            .filter_map(|&offer_ul| {
                let waits = selected_waits(trials, selection, block, Some(offer_ul));
                (!waits.is_empty()).then(|| CurvePoint {
                    offer_ul,
                    n: waits.len(),
                    mean_s: mean(&waits),
                    sem_s: sem(&waits),
                })
            })
            .collect()
    };
    Ok(WaitCurves {
        selection,
        all: curve(None),
        mixed: curve(Some(Block::Mixed)),
        high: curve(Some(Block::High)),
        low: curve(Some(Block::Low)),
    })
}
