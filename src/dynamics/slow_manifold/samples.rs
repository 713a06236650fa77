//! Region states of one task epoch, read from a simulation folder.
//!
//! The study's trial filter keeps trials whose decision came 6 to 299 steps after the trial
//! start and whose ITI lasted at least 5 steps, so that every kept trial has a wait epoch and
//! an ITI of some length. Samples of the wait epoch are the steps with epoch code 1 (the
//! in-trial steps after the first, the decision step included).

use std::fmt;
use std::str::FromStr;

use ndarray::Array2;
use serde::{Deserialize, Serialize};

use crate::behavior::records::SimulationDir;
use crate::error::{Error, Result};
use crate::tasks::Block;

/// Minimum number of steps from trial start to decision of a kept trial.
pub const MIN_DECISION_STEPS: u64 = 6;
/// Maximum number of steps from trial start to decision of a kept trial.
pub const MAX_DECISION_STEPS: u64 = 299;
/// Minimum ITI, in steps, of a kept trial.
pub const MIN_ITI_STEPS: u32 = 5;

/// Region of the two-region network.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Region {
    Ofc,
    Str,
}

impl Region {
    /// Name of the region's state tensor in `states.safetensors` (`ofc` or `str`).
    pub fn as_str(self) -> &'static str {
        match self {
            Region::Ofc => "ofc",
            Region::Str => "str",
        }
    }
}

impl fmt::Display for Region {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Region {
    type Err = Error;

    fn from_str(s: &str) -> Result<Region> {
        match s {
            "ofc" => Ok(Region::Ofc),
            "str" => Ok(Region::Str),
            other => Err(Error::invalid("region", format!("'{other}' is not a region; expected ofc or str"))),
        }
    }
}

/// Task epoch whose states are analysed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Epoch {
    /// Epoch code 1: in-trial steps after the first, up to and including the decision.
    Wait,
    /// Epoch code 2: the inter-trial interval.
    Iti,
    /// Every step of the kept trials.
    All,
}

impl Epoch {
    /// Lowercase name used on the command line and in files.
    pub fn as_str(self) -> &'static str {
        match self {
            Epoch::Wait => "wait",
            Epoch::Iti => "iti",
            Epoch::All => "all",
        }
    }

    fn contains(self, code: u8) -> bool {
        match self {
            Epoch::Wait => code == 1,
            Epoch::Iti => code == 2,
            Epoch::All => true,
        }
    }
}

impl FromStr for Epoch {
    type Err = Error;

    fn from_str(s: &str) -> Result<Epoch> {
        match s {
            "wait" => Ok(Epoch::Wait),
            "iti" => Ok(Epoch::Iti),
            "all" => Ok(Epoch::All),
            other => Err(Error::invalid("epoch", format!("'{other}' is not an epoch; expected wait, iti or all"))),
        }
    }
}

/// States of one region in one epoch, with per-sample labels.
#[derive(Debug, Clone)]
pub struct EpochSamples {
    pub region: Region,
    pub epoch: Epoch,
    /// Region states `[h; c]`, one row per sample.
    pub states: Array2<f64>,
    /// Simulation step index of each sample.
    pub steps: Vec<usize>,
    /// Trial index of each sample.
    pub trials: Vec<usize>,
    /// Block of each sample.
    pub blocks: Vec<Block>,
    /// OFC block belief (softmax of the OFC block logits) of each sample, [n × 3].
    pub belief: Array2<f64>,
    /// OFC block logits (first three OFC head outputs) of each sample, [n × 3].
    pub logits: Array2<f64>,
    /// Number of trials that passed the trial filter.
    pub n_kept_trials: usize,
}

impl EpochSamples {
    /// Number of samples.
    pub fn len(&self) -> usize {
        self.steps.len()
    }

    /// True when there are no samples.
    pub fn is_empty(&self) -> bool {
        self.steps.is_empty()
    }

    /// Groups sample indices by trial, in trial order, each group in step order.
    pub fn trajectories(&self) -> Vec<Vec<usize>> {
        let mut groups: Vec<Vec<usize>> = Vec::new();
        let mut last_trial = None;
        for (index, &trial) in self.trials.iter().enumerate() {
            if last_trial != Some(trial) {
                groups.push(Vec::new());
                last_trial = Some(trial);
            }
            groups.last_mut().expect("a group was pushed").push(index);
        }
        groups
    }
}

/// Returns whether a trial passes the study's filter (decision 6–299 steps after the start,
/// ITI of at least 5 steps).
pub fn keep_trial(start_step: u64, decision_step: u64, iti_steps: u32) -> bool {
    let decision_after = decision_step.saturating_sub(start_step);
    (MIN_DECISION_STEPS..=MAX_DECISION_STEPS).contains(&decision_after) && iti_steps >= MIN_ITI_STEPS
}

/// Reads the `region` states of `epoch` from the kept trials of `sim`. Errors on a missing or
/// misshapen tensor, a trial or block code out of range, or no sample at all.
pub fn epoch_samples(sim: &SimulationDir, region: Region, epoch: Epoch) -> Result<EpochSamples> {
    let (n_steps, width, states) = sim.rows(region.as_str())?;
    let codes = step_codes(sim, "epoch", n_steps)?;
    let trial_of = step_codes(sim, "trial", n_steps)?;
    let block_codes = step_codes(sim, "block", n_steps)?;
    let (_, belief_width, belief) = sim.rows("block_belief")?;
    let (_, ofc_width, ofc_outputs) = sim.rows("ofc_outputs")?;
    if belief_width != 3 || ofc_width < 3 {
        return Err(Error::tensor(
            "block_belief",
            format!("has width {belief_width} (ofc_outputs {ofc_width}); expected 3 (and at least 3)"),
        ));
    }

    let mut kept = vec![false; sim.trials.len()];
    for (index, trial) in sim.trials.iter().enumerate() {
        kept[index] = keep_trial(trial.start_step, trial.decision_step, trial.iti_steps);
    }
    let n_kept_trials = kept.iter().filter(|&&k| k).count();

    let mut chosen = Vec::new();
    for step in 0..n_steps {
        let trial = trial_of[step];
        let Some(&is_kept) = kept.get(trial) else {
            return Err(Error::tensor(
                "trial",
                format!("step {step} names trial {trial}, but trials.csv has {} trials", sim.trials.len()),
            ));
        };
        if is_kept && epoch.contains(codes[step] as u8) {
            chosen.push(step);
        }
    }
    if chosen.is_empty() {
        return Err(Error::invalid(
            "simulation",
            format!(
                "no {} samples: {n_kept_trials} of {} trials pass the filter (decision {MIN_DECISION_STEPS}–{MAX_DECISION_STEPS} steps after start, ITI ≥ {MIN_ITI_STEPS} steps); simulate more trials",
                epoch.as_str(),
                sim.trials.len()
            ),
        ));
    }

    let mut blocks = Vec::with_capacity(chosen.len());
    for &step in &chosen {
        let block = match block_codes[step] {
            0 => Block::Mixed,
            1 => Block::High,
            2 => Block::Low,
            other => {
                return Err(Error::tensor("block", format!("step {step} has block code {other}, expected 0, 1 or 2")));
            }
        };
        blocks.push(block);
    }

    Ok(EpochSamples {
        region,
        epoch,
        states: Array2::from_shape_fn((chosen.len(), width), |(row, column)| states[chosen[row] * width + column]),
        trials: chosen.iter().map(|&step| trial_of[step]).collect(),
        belief: Array2::from_shape_fn((chosen.len(), 3), |(row, column)| belief[chosen[row] * 3 + column]),
        logits: Array2::from_shape_fn((chosen.len(), 3), |(row, column)| ofc_outputs[chosen[row] * ofc_width + column]),
        steps: chosen,
        blocks,
        n_kept_trials,
    })
}

/// Reads a per-step integer code tensor (`epoch`, `trial`, `block`) of length `n_steps`.
fn step_codes(sim: &SimulationDir, name: &str, n_steps: usize) -> Result<Vec<usize>> {
    let (n, width, data) = sim.rows(name)?;
    if n != n_steps || width != 1 {
        return Err(Error::tensor(name, format!("has {n} rows of width {width}, expected {n_steps} of width 1")));
    }
    data.iter()
        .enumerate()
        .map(|(step, &value)| {
            if value.is_finite() && value >= 0.0 && value.fract() == 0.0 {
                Ok(value as usize)
            } else {
                Err(Error::tensor(name, format!("step {step} has {value}, expected a non-negative integer")))
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trial_filter_bounds() {
        assert!(keep_trial(100, 106, 5));
        assert!(keep_trial(100, 399, 20));
        assert!(!keep_trial(100, 105, 5));
        assert!(!keep_trial(100, 400, 5));
        assert!(!keep_trial(100, 150, 4));
    }

    #[test]
    fn region_and_epoch_names() {
        assert_eq!("ofc".parse::<Region>().unwrap(), Region::Ofc);
        assert_eq!("str".parse::<Region>().unwrap(), Region::Str);
        let error = "pfc".parse::<Region>().unwrap_err().to_string();
        assert!(error.contains("'pfc'"), "{error}");
        assert_eq!("iti".parse::<Epoch>().unwrap(), Epoch::Iti);
        assert!("trial".parse::<Epoch>().is_err());
    }
}
