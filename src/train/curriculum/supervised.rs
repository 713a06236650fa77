//! The supervised pretraining stages: simple and intermediate kindergarten (MSE on the
//! memory, count and integration outputs) and block inference (MSE plus cross-entropy of the
//! OFC block logits at each sequence's own trial starts).
//!
//! Each stage trains on one fixed dataset from one fixed random initial state, one full-batch
//! Adam step per epoch, as the study did. Datasets come from the named stream `datasets` of the
//! run seed, initial states from `initial-states`.

use rand_chacha::ChaCha8Rng;
use serde::Serialize;

use crate::error::Result;
use crate::tasks::{inference_task, intermediate_task, simple_task, InferenceConfig, INTERMEDIATE_LENGTHS, SIMPLE_STEPS};
use crate::train::adam::Adam;
use crate::train::losses::{masked_cross_entropy, supervised_mse, SupervisedSelection, ALL_SUPERVISED};
use crate::train::params::{TwoRegionParams, OFC_OUTPUTS, STR_OUTPUTS};
use crate::train::two_region::{batch_to_time_major, TwoRegionState, TwoRegionTape};
use crate::train::window::supervised_backward;

use super::Preset;

/// Outcome of one supervised stage (or sub-stage).
#[derive(Debug, Clone, Serialize)]
pub struct StageOutcome {
    pub stage: String,
    pub epochs: usize,
    /// Loss of the last epoch (MSE, or MSE + cross-entropy for inference).
    pub final_loss: f64,
    /// Cross-entropy of the last epoch (inference only).
    pub final_ce: Option<f64>,
    /// Why the stage stopped: `converged`, `threshold` or `max-epochs`.
    pub stopped: String,
}

/// Called after each epoch with (stage name, epoch, loss) and after each checkpoint round with
/// the round index; returns an error to abort.
pub trait StageObserver {
    fn epoch(&mut self, stage: &str, epoch: usize, loss: f64);
    fn round(&mut self, stage: &str, round: usize, params: &TwoRegionParams<f32>) -> Result<()>;
}

/// Runs one Adam step of `grads` on `params`.
fn adam_step(adam: &mut Adam<f32>, params: &mut TwoRegionParams<f32>, grads: &TwoRegionParams<f32>) -> Result<()> {
    let grads_view = grads.tensors();
    let mut params_view = params.tensors_mut();
    adam.step(&mut params_view, &grads_view)
}

/// Simple kindergarten: consecutive sub-stages on one 20-step dataset with one Adam instance,
/// each stopping after `simple_patience` epochs without a new best loss or at
/// `simple_max_epochs`.
pub fn train_simple(
    params: &mut TwoRegionParams<f32>,
    substages: &[SupervisedSelection],
    preset: &Preset,
    seed: u64,
    init_rng: &mut ChaCha8Rng,
    observer: &mut dyn StageObserver,
) -> Result<Vec<StageOutcome>> {
    let [h1, h2] = preset.hidden;
    let data = simple_task(preset.simple_batch, SIMPLE_STEPS, seed)?;
    let mut tape = TwoRegionTape::new(h1, h2);
    let mut grads = TwoRegionParams::zeros(h1, h2);
    let mut adam = Adam::new(preset.kindergarten_lr);
    let mut outcomes = Vec::new();

    for (index, &selection) in substages.iter().enumerate() {
        let name = format!("simple-{}", index + 1);
        let state = TwoRegionState::uniform(data.batch, h1, h2, init_rng);
        let mut best = f64::INFINITY;
        let mut since_best = 0;
        let mut outcome = StageOutcome { stage: name.clone(), epochs: 0, final_loss: f64::NAN, final_ce: None, stopped: "max-epochs".into() };

        for epoch in 0..preset.simple_max_epochs {
            grads.fill_zero();
            let loss = supervised_backward(&mut tape, params, &data.inputs, &data.targets, data.steps, &state, selection, 1.0, &mut grads)?;
            adam_step(&mut adam, params, &grads)?;
            observer.epoch(&name, epoch, loss);
            outcome.epochs = epoch + 1;
            outcome.final_loss = loss;

            if loss < best {
                best = loss;
                since_best = 0;
            } else {
                since_best += 1;
            }
            if since_best > preset.simple_patience {
                outcome.stopped = "converged".into();
                break;
            }
        }
        outcomes.push(outcome);
    }
    observer.round("simple", 0, params)?;
    Ok(outcomes)
}

/// Intermediate kindergarten: sequences of concatenated simple trials (652 steps), rounds of
/// `intermediate_round_epochs` epochs with a checkpoint after each, stopping once an epoch's
/// MSE falls below `intermediate_stop_loss`.
pub fn train_intermediate(
    params: &mut TwoRegionParams<f32>,
    selection: SupervisedSelection,
    preset: &Preset,
    seed: u64,
    init_rng: &mut ChaCha8Rng,
    observer: &mut dyn StageObserver,
) -> Result<StageOutcome> {
    let [h1, h2] = preset.hidden;
    let data = intermediate_task(preset.intermediate_batch, &INTERMEDIATE_LENGTHS, seed)?;
    let state = TwoRegionState::uniform(data.batch, h1, h2, init_rng);
    let mut tape = TwoRegionTape::new(h1, h2);
    let mut grads = TwoRegionParams::zeros(h1, h2);
    let mut adam = Adam::new(preset.kindergarten_lr);
    let mut outcome = StageOutcome { stage: "intermediate".into(), epochs: 0, final_loss: f64::NAN, final_ce: None, stopped: "max-epochs".into() };

    'rounds: for round in 0..preset.intermediate_max_rounds {
        for _ in 0..preset.intermediate_round_epochs {
            grads.fill_zero();
            let loss = supervised_backward(&mut tape, params, &data.inputs, &data.targets, data.steps, &state, selection, 1.0, &mut grads)?;
            adam_step(&mut adam, params, &grads)?;
            observer.epoch("intermediate", outcome.epochs, loss);
            outcome.epochs += 1;
            outcome.final_loss = loss;
            if loss < preset.intermediate_stop_loss {
                outcome.stopped = "threshold".into();
                observer.round("intermediate", round, params)?;
                break 'rounds;
            }
        }
        observer.round("intermediate", round, params)?;
    }
    Ok(outcome)
}

/// Block inference: `L = w_mse · MSE(y, targets) + w_ce · CE(q[0..3], block)`, the MSE over every
/// step and the cross-entropy over each sequence's own trial-start steps (the original code
/// took the trial starts of sequence 0 for all sequences). Stops once the epoch's
/// cross-entropy falls below `inference_stop_ce`.
pub fn train_inference(
    params: &mut TwoRegionParams<f32>,
    preset: &Preset,
    seed: u64,
    init_rng: &mut ChaCha8Rng,
    observer: &mut dyn StageObserver,
) -> Result<StageOutcome> {
    let [h1, h2] = preset.hidden;
    let config = InferenceConfig {
        sequences: preset.inference_sequences,
        trials: preset.inference_trials,
        seed,
        ..InferenceConfig::default()
    };
    let set = inference_task(&config)?;
    let (batch, steps) = (set.data.batch, set.data.steps);
    let rows = batch * steps;

    // Time-major copies of the targets, labels and mask, so rows line up with the tape.
    let mut targets = vec![0f32; rows * 3];
    batch_to_time_major(&set.data.targets, batch, steps, 3, &mut targets);
    let mut labels = vec![0usize; rows];
    let mut mask = vec![false; rows];
    for b in 0..batch {
        for t in 0..steps {
            labels[t * batch + b] = set.block_labels[b * steps + t] as usize;
            mask[t * batch + b] = set.trial_start[b * steps + t];
        }
    }

    let state = TwoRegionState::uniform(batch, h1, h2, init_rng);
    let mut tape = TwoRegionTape::new(h1, h2);
    let mut grads = TwoRegionParams::zeros(h1, h2);
    let mut adam = Adam::new(preset.inference_lr);
    let mut dq = vec![0f32; rows * OFC_OUTPUTS];
    let mut dp = vec![0f32; rows * STR_OUTPUTS];
    let mut outcome = StageOutcome { stage: "inference".into(), epochs: 0, final_loss: f64::NAN, final_ce: None, stopped: "max-epochs".into() };

    let mut round = 0;
    for epoch in 0..preset.inference_max_epochs {
        tape.forward_batch(params, &set.data.inputs, steps, &state)?;
        dq.fill(0.0);
        dp.fill(0.0);
        let mse = supervised_mse(tape.q(), tape.p(), &targets, ALL_SUPERVISED, preset.inference_mse_weight, &mut dq, &mut dp)?;
        let ce = masked_cross_entropy(tape.q(), OFC_OUTPUTS, 3, &labels, &mask, preset.inference_ce_weight, &mut dq)?;
        grads.fill_zero();
        tape.backward(params, &dq, &dp, None, &mut grads)?;
        adam_step(&mut adam, params, &grads)?;

        let loss = preset.inference_mse_weight * mse + preset.inference_ce_weight * ce;
        observer.epoch("inference", epoch, loss);
        outcome.epochs = epoch + 1;
        outcome.final_loss = loss;
        outcome.final_ce = Some(ce);

        let done = ce < preset.inference_stop_ce;
        if done || (epoch + 1) % preset.inference_round_epochs == 0 {
            observer.round("inference", round, params)?;
            round += 1;
        }
        if done {
            outcome.stopped = "threshold".into();
            break;
        }
    }
    Ok(outcome)
}
