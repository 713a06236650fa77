//! Supervised "kindergarten" tasks that pretrain the network's memory, counting and
//! integration outputs before reinforcement learning.
//!
//! A sub-trial of length `L` shows an offer `V` (uniform over {5, 10, 20, 40, 80} µL) as
//! `ln V` with a start flag on its first step, and a reward channel with `u_t ~ U[0, 1)` on
//! every step. Its last step adds `V`, except in an opt-out sub-trial, where the last step
//! carries `u_{L−1} − 0.1` and the action channel is 1. Inputs follow the wagering task's
//! layout `[offer, start flag, reward, action]`.
//!
//! Targets, in the supervised output order memory, count, integration:
//! * memory: `ln V` on every step;
//! * count: `t / 100`, with `t` the step within the sub-trial from 0;
//! * integration: the running mean `(1/(t+1)) Σ_{s≤t} u_s` of the reward channel, including
//!   the last step's reward or penalty.

use rand::seq::{index, SliceRandom};
use rand::Rng;
use rand_chacha::ChaCha8Rng;

use super::batch::SupervisedBatch;
use super::wait_time::Block;
use crate::error::{Error, Result};
use crate::rng::stream;

/// Sequence length of the simple task.
pub const SIMPLE_STEPS: usize = 20;

/// Sub-trial lengths of the intermediate pretraining task (652 steps in all).
pub const INTERMEDIATE_LENGTHS: [usize; 10] = [31, 90, 83, 95, 29, 97, 60, 24, 83, 60];

/// Sub-trial lengths of the intermediate batch used as a regulariser during reinforcement
/// learning.
pub const REGULARIZER_LENGTHS: [usize; 2] = [20, 25];

/// Fraction of opt-out sequences in the simple task, and the opt-out probability of each
/// sub-trial in the intermediate task.
pub const OPT_OUT_FRACTION: f64 = 0.1;

/// Amount the last step's reward is lowered by in an opt-out sub-trial.
pub const LOCAL_OPT_OUT_PENALTY: f64 = 0.1;

/// Number of input channels.
pub const INPUT_DIM: usize = 4;

/// Number of target columns: memory, count, integration.
pub const TARGET_DIM: usize = 3;

/// Generates `batch` simple-task sequences of `steps` steps from the stream
/// `datasets/kindergarten-simple`.
///
/// Exactly ⌊0.1·batch⌋ sequences, chosen without replacement, are opt-out sequences.
pub fn simple_task(batch: usize, steps: usize, seed: u64) -> Result<SupervisedBatch> {
    check_positive("batch size", batch)?;
    check_positive("sequence length", steps)?;

    let mut rng = stream(seed, "datasets/kindergarten-simple");
    let n_opt_outs = (OPT_OUT_FRACTION * batch as f64).floor() as usize;
    let mut opted_out = vec![false; batch];
    for b in index::sample(&mut rng, batch, n_opt_outs) {
        opted_out[b] = true;
    }

    let mut data = SupervisedBatch::zeros(batch, steps, INPUT_DIM, TARGET_DIM);
    for (b, &opt_out) in opted_out.iter().enumerate() {
        write_sub_trial(&mut data, b, 0, steps, opt_out, &mut rng);
    }
    Ok(data)
}

/// Generates `batch` intermediate-task sequences from the stream
/// `datasets/kindergarten-intermediate`.
///
/// Each sequence concatenates one sub-trial per entry of `lengths`, in an order shuffled per
/// sequence, and its targets restart at every sub-trial. Each sub-trial is an opt-out
/// sub-trial with probability 0.1 on its own.
///
/// NOTE: the original code generated each sub-trial as a simple batch of one,
/// where ⌊0.1·1⌋ = 0 opt-outs, so its intermediate data never contained opt-outs. This
/// generator draws them, which changes the data a reproduction of that study would see.
pub fn intermediate_task(batch: usize, lengths: &[usize], seed: u64) -> Result<SupervisedBatch> {
    check_positive("batch size", batch)?;
    if lengths.is_empty() || lengths.contains(&0) {
        return Err(Error::invalid(
            "sub-trial lengths",
            format!("{lengths:?}; expected at least one length, each ≥ 1"),
        ));
    }

    let mut rng = stream(seed, "datasets/kindergarten-intermediate");
    let steps = lengths.iter().sum();
    let mut data = SupervisedBatch::zeros(batch, steps, INPUT_DIM, TARGET_DIM);
    let mut order = lengths.to_vec();

    for b in 0..batch {
        order.copy_from_slice(lengths);
        order.shuffle(&mut rng);

        let mut offset = 0;
        for &length in &order {
            let opt_out = rng.gen::<f64>() < OPT_OUT_FRACTION;
            write_sub_trial(&mut data, b, offset, length, opt_out, &mut rng);
            offset += length;
        }
    }
    Ok(data)
}

/// Writes one sub-trial of `length` steps into sequence `b` from step `offset` on.
fn write_sub_trial(
    data: &mut SupervisedBatch,
    b: usize,
    offset: usize,
    length: usize,
    opt_out: bool,
    rng: &mut ChaCha8Rng,
) {
    let offers = Block::Mixed.offers_ul();
    // A u32 range draws the same values on 32- and 64-bit targets.
    let offer = offers[rng.gen_range(0..offers.len() as u32) as usize];
    let log_offer = offer.ln();
    let mut reward_sum = 0.0;

    for t in 0..length {
        let mut reward: f64 = rng.gen();
        let mut action = 0.0;
        if t + 1 == length {
            if opt_out {
                reward -= LOCAL_OPT_OUT_PENALTY;
                action = 1.0;
            } else {
                reward += offer;
            }
        }
        reward_sum += reward;

        let first = t == 0;
        let input = data.input_mut(b, offset + t);
        input[0] = if first { log_offer as f32 } else { 0.0 };
        input[1] = if first { 1.0 } else { 0.0 };
        input[2] = reward as f32;
        input[3] = action;

        let target = data.target_mut(b, offset + t);
        target[0] = log_offer as f32;
        target[1] = t as f32 / 100.0;
        target[2] = (reward_sum / (t + 1) as f64) as f32;
    }
}

fn check_positive(name: &str, value: usize) -> Result<()> {
    if value == 0 {
        return Err(Error::invalid(name, "0; expected at least 1"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn simple_task_has_exact_opt_out_count() {
        let data = simple_task(1000, SIMPLE_STEPS, 0).unwrap();
        let opt_outs = (0..1000)
            .filter(|&b| data.input(b, SIMPLE_STEPS - 1)[3] == 1.0)
            .count();
        assert_eq!(opt_outs, 100);
    }

    #[test]
    fn rejects_empty_sizes() {
        assert!(simple_task(0, 20, 0)
            .unwrap_err()
            .to_string()
            .contains("batch size"));
        assert!(simple_task(10, 0, 0)
            .unwrap_err()
            .to_string()
            .contains("sequence length"));
        let error = intermediate_task(10, &[20, 0], 0).unwrap_err().to_string();
        assert!(error.contains("[20, 0]"), "{error}");
        assert!(intermediate_task(10, &[], 0).is_err());
    }
}
