//! Block-inference data: streams of trials whose offers depend on a hidden block, for
//! training the OFC head to report the block (mixed, high, low).
//!
//! Each sequence runs the wagering task's block process (first block mixed, ≥ 40 trials,
//! then mixed → low → mixed → high) over back-to-back trials without ITI and without catch
//! trials. A trial with delay `D` (exponential, mean 2.5 s) lasts ⌊D/dt⌋ + 1 steps, capped
//! at 601. A fixed share of trials are opt-outs, which end with the penalty −2 and action 1
//! on their last step. A fixed share of those are fast opt-outs that last a single step.
//!
//! Inputs per step:
//! * channels 0 and 1: `ln V` and the start flag on a trial's first step, else 0;
//! * channel 2: the wait cost −0.05 on every step, plus the outcome (V, or −2) on the
//!   trial's last step;
//! * channel 3: 1 on the last step of an opt-out trial, else 0.
//!
//! Targets are memory `ln V`, count `t/100` with `t` counted from 1 within the trial, and
//! the running mean of channel 2 within the trial. Sequences are cut to the shortest one.
//!
//! Deliberate differences from the original code:
//! * every sequence has its own trial-start mask, where the original applied sequence 0's
//!   trial starts to all sequences;
//! * the first switch goes mixed → low as in the environment, where the original went to
//!   high;
//! * the integration target is computed from the reward values, not read from a fixed input
//!   column;
//! * fast opt-outs last one step, the environment's quickest opt-out, where the original's
//!   lasted two.

use rand::seq::index;
use rand::Rng;

use super::batch::SupervisedBatch;
use super::kindergarten::{INPUT_DIM, TARGET_DIM};
use super::wait_time::{Block, BlockSchedule, DT_S, MEAN_DELAY_S, OPT_OUT_PENALTY, WAIT_COST};
use crate::error::{Error, Result};
use crate::rng::indexed_stream;

/// Maximum trial length in steps, reached by delays of 30 s or more.
const MAX_TRIAL_STEPS: usize = 601;

/// Settings of a block-inference dataset. The defaults are the study's sizes.
#[derive(Debug, Clone, PartialEq)]
pub struct InferenceConfig {
    /// Number of sequences.
    pub sequences: usize,
    /// Trials generated per sequence before all sequences are cut to the shortest.
    pub trials: usize,
    /// Share of opt-out trials per sequence; exactly ⌊share·trials⌋ are drawn.
    pub opt_out_share: f64,
    /// Share of opt-out trials that are fast; exactly ⌊share·opt-outs⌋ are drawn.
    pub fast_opt_out_share: f64,
    /// Seed of the streams `datasets/inference/<sequence>`.
    pub seed: u64,
}

impl Default for InferenceConfig {
    fn default() -> Self {
        Self {
            sequences: 20,
            trials: 400,
            opt_out_share: 0.3,
            fast_opt_out_share: 0.2,
            seed: 0,
        }
    }
}

/// A block-inference dataset.
#[derive(Debug, Clone, PartialEq)]
pub struct InferenceBatch {
    /// Inputs (4 channels) and targets (memory, count, integration), `sequences × steps`.
    pub data: SupervisedBatch,
    /// Block code of each step (0 mixed, 1 high, 2 low), `sequences × steps` row-major.
    pub block_labels: Vec<u8>,
    /// Whether each step is the first of a trial in its own sequence, `sequences × steps`.
    pub trial_start: Vec<bool>,
}

/// One trial of a sequence, before the sequence is written out.
struct Trial {
    block: Block,
    offer_ul: f64,
    steps: usize,
    opt_out: bool,
}

/// Generates a block-inference dataset.
pub fn inference_task(config: &InferenceConfig) -> Result<InferenceBatch> {
    validate(config)?;

    let sequences: Vec<Vec<Trial>> = (0..config.sequences)
        .map(|b| draw_sequence(config, b as u64))
        .collect();
    let steps = sequences
        .iter()
        .map(|trials| trials.iter().map(|trial| trial.steps).sum::<usize>())
        .min()
        .unwrap_or(0);

    let mut data = SupervisedBatch::zeros(config.sequences, steps, INPUT_DIM, TARGET_DIM);
    let mut block_labels = vec![0u8; config.sequences * steps];
    let mut trial_start = vec![false; config.sequences * steps];

    for (b, trials) in sequences.iter().enumerate() {
        let mut offset = 0;
        for trial in trials {
            if offset >= steps {
                break;
            }
            let length = trial.steps.min(steps - offset);
            write_trial(&mut data, b, offset, length, trial);
            for t in offset..offset + length {
                block_labels[b * steps + t] = trial.block.code();
            }
            trial_start[b * steps + offset] = true;
            offset += length;
        }
    }

    Ok(InferenceBatch {
        data,
        block_labels,
        trial_start,
    })
}

fn validate(config: &InferenceConfig) -> Result<()> {
    if config.sequences == 0 || config.trials == 0 {
        return Err(Error::invalid(
            "inference dataset size",
            format!(
                "{} sequences × {} trials; expected at least 1 of each",
                config.sequences, config.trials
            ),
        ));
    }
    for (what, share) in [
        ("opt-out share", config.opt_out_share),
        ("fast opt-out share", config.fast_opt_out_share),
    ] {
        if !(0.0..=1.0).contains(&share) {
            return Err(Error::invalid(
                what,
                format!("{share}; expected a value in [0, 1]"),
            ));
        }
    }
    Ok(())
}

/// Draws the trials of sequence `b` from its own stream.
///
/// Per trial the stream gives one block-switch uniform, one offer uniform and one delay
/// uniform. The opt-out and fast opt-out sets are drawn last.
fn draw_sequence(config: &InferenceConfig, b: u64) -> Vec<Trial> {
    let mut rng = indexed_stream(config.seed, "datasets/inference", b);
    let mut schedule = BlockSchedule::new();
    let mut trials = Vec::with_capacity(config.trials);

    for _ in 0..config.trials {
        let block = schedule.current();
        let offers = block.offers_ul();
        let offer_uniform: f64 = rng.gen();
        let delay_uniform: f64 = rng.gen();
        let offer_index = ((offer_uniform * offers.len() as f64) as usize).min(offers.len() - 1);
        let delay_s = -MEAN_DELAY_S * (1.0 - delay_uniform).ln();
        let steps = ((delay_s / DT_S).floor() as usize + 1).min(MAX_TRIAL_STEPS);

        trials.push(Trial {
            block,
            offer_ul: offers[offer_index],
            steps,
            opt_out: false,
        });
        schedule.advance(rng.gen());
    }

    let n_opt_outs = (config.opt_out_share * config.trials as f64).floor() as usize;
    let opt_outs = index::sample(&mut rng, config.trials, n_opt_outs).into_vec();
    let n_fast = (config.fast_opt_out_share * n_opt_outs as f64).floor() as usize;
    let fast = index::sample(&mut rng, n_opt_outs, n_fast).into_vec();

    for &n in &opt_outs {
        trials[n].opt_out = true;
    }
    for &k in &fast {
        trials[opt_outs[k]].steps = 1;
    }
    trials
}

/// Writes the first `length` steps of `trial` into sequence `b` from step `offset` on.
fn write_trial(data: &mut SupervisedBatch, b: usize, offset: usize, length: usize, trial: &Trial) {
    let log_offer = trial.offer_ul.ln();
    let outcome = if trial.opt_out {
        OPT_OUT_PENALTY
    } else {
        trial.offer_ul
    };
    let mut reward_sum = 0.0;

    for t in 0..length {
        let last = t + 1 == trial.steps;
        let reward = if last { WAIT_COST + outcome } else { WAIT_COST };
        reward_sum += reward;

        let first = t == 0;
        let input = data.input_mut(b, offset + t);
        input[0] = if first { log_offer as f32 } else { 0.0 };
        input[1] = if first { 1.0 } else { 0.0 };
        input[2] = reward as f32;
        input[3] = if last && trial.opt_out { 1.0 } else { 0.0 };

        // NOTE: count starts at 1/100 here but at 0 in the kindergarten tasks, as in the
        // original code.
        let target = data.target_mut(b, offset + t);
        target[0] = log_offer as f32;
        target[1] = (t + 1) as f32 / 100.0;
        target[2] = (reward_sum / (t + 1) as f64) as f32;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rejects_bad_config() {
        let empty = InferenceConfig {
            sequences: 0,
            ..InferenceConfig::default()
        };
        assert!(inference_task(&empty)
            .unwrap_err()
            .to_string()
            .contains("0 sequences"));
        let share = InferenceConfig {
            opt_out_share: 1.2,
            ..InferenceConfig::default()
        };
        assert!(inference_task(&share)
            .unwrap_err()
            .to_string()
            .contains("1.2"));
    }

    #[test]
    fn opt_out_counts_are_exact() {
        let config = InferenceConfig {
            sequences: 1,
            trials: 400,
            ..InferenceConfig::default()
        };
        let trials = draw_sequence(&config, 0);
        let opt_outs: Vec<&Trial> = trials.iter().filter(|t| t.opt_out).collect();
        assert_eq!(opt_outs.len(), 120);
        // Fast opt-outs last one step; ordinary trials can too (delay < dt), so count at least.
        assert!(opt_outs.iter().filter(|t| t.steps == 1).count() >= 24);
    }
}
