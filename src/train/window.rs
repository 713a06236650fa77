//! The two training updates built on [`TwoRegionTape`]: a reinforcement-learning window stepped
//! one step at a time at batch 1, and a batched supervised (kindergarten) pass.

use super::actor_critic::{actor_critic_window, ActorCriticConfig, ActorCriticLoss, StepRecord};
use super::losses::{supervised_mse, SupervisedSelection};
use super::params::{TwoRegionParams, OFC_OUTPUTS, STR_OUTPUTS};
use super::real::Real;
use super::two_region::{batch_to_time_major, TwoRegionState, TwoRegionTape};
use crate::error::{Error, Result};

/// Outputs of one step: OFC `q` (block logits, integration) and STR `p` (policy logits,
/// value, memory, count).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct StepOutputs<T> {
    pub q: [T; OFC_OUTPUTS],
    pub p: [T; STR_OUTPUTS],
}

/// One truncated-BPTT window at batch 1, for a session loop that chooses each action from the
/// policy as the environment advances: [`begin`](Self::begin), [`forward_step`](Self::forward_step)
/// up to `length` times, then [`backward_window`](Self::backward_window) or
/// [`actor_critic_backward`](Self::actor_critic_backward), then an Adam step on
/// [`grads`](Self::grads).
#[derive(Debug, Clone)]
pub struct RlWindow<T> {
    tape: TwoRegionTape<T>,
    grads: TwoRegionParams<T>,
    length: usize,
    dq: Vec<T>,
    dp: Vec<T>,
}

impl<T: Real> RlWindow<T> {
    /// Creates a window of at most `length` steps for a network with OFC size `h1` and STR
    /// size `h2`.
    pub fn new(h1: usize, h2: usize, length: usize) -> Self {
        RlWindow {
            tape: TwoRegionTape::new(h1, h2),
            grads: TwoRegionParams::zeros(h1, h2),
            length,
            dq: vec![T::ZERO; length * OFC_OUTPUTS],
            dp: vec![T::ZERO; length * STR_OUTPUTS],
        }
    }

    /// Starts a window from `state` (batch 1), held constant: carry the previous window's
    /// [`final_state`](Self::final_state) to continue a session with the graph cut.
    pub fn begin(&mut self, state: &TwoRegionState<T>) -> Result<()> {
        if state.batch != 1 {
            return Err(Error::invalid("RL window state", format!("has batch {}, expected 1", state.batch)));
        }
        self.tape.reset(self.length, state)
    }

    /// Takes one step with the task input `x` (4 channels) and returns its outputs.
    pub fn forward_step(&mut self, params: &TwoRegionParams<T>, x: &[T]) -> Result<StepOutputs<T>> {
        let (q, p) = self.tape.step(params, x)?;
        let mut out = StepOutputs { q: [T::ZERO; OFC_OUTPUTS], p: [T::ZERO; STR_OUTPUTS] };
        out.q.copy_from_slice(q);
        out.p.copy_from_slice(p);
        Ok(out)
    }

    /// Steps taken in this window.
    pub fn steps(&self) -> usize {
        self.tape.steps()
    }

    /// Outputs `(q, p)` of every step so far (N × 4, N × 6).
    pub fn outputs(&self) -> (&[T], &[T]) {
        (self.tape.q(), self.tape.p())
    }

    /// Returns the state after step `t` of this window (`t = 0` is the initial state), as
    /// `[h_ofc, c_ofc, h_str, c_str]`.
    pub fn state_after(&self, t: usize) -> [&[T]; 4] {
        self.tape.state_after(t)
    }

    /// Returns the state after the last step, to start the next window.
    pub fn final_state(&self) -> TwoRegionState<T> {
        self.tape.final_state()
    }

    /// Clears the gradients, then backpropagates the loss gradients `dq` (N × 4) and `dp`
    /// (N × 6) through the window and returns the parameter gradients.
    pub fn backward_window(&mut self, params: &TwoRegionParams<T>, dq: &[T], dp: &[T]) -> Result<&mut TwoRegionParams<T>> {
        self.grads.fill_zero();
        self.tape.backward(params, dq, dp, None, &mut self.grads)?;
        Ok(&mut self.grads)
    }

    /// Computes the actor–critic loss of the window from `records` (one per step taken), clears
    /// the gradients and backpropagates it. The supervised regulariser can then be added to
    /// [`grads_mut`](Self::grads_mut) with [`supervised_backward`].
    pub fn actor_critic_backward(&mut self, params: &TwoRegionParams<T>, records: &[StepRecord], config: &ActorCriticConfig) -> Result<ActorCriticLoss> {
        let n = self.steps();
        if records.len() != n {
            return Err(Error::invalid("step records", format!("has {} entries for a window of {n} steps", records.len())));
        }
        let (dq, dp) = (&mut self.dq[..n * OFC_OUTPUTS], &mut self.dp[..n * STR_OUTPUTS]);
        dq.fill(T::ZERO);
        dp.fill(T::ZERO);
        let loss = actor_critic_window(self.tape.p(), self.tape.q(), records, config, dp, dq)?;
        self.grads.fill_zero();
        self.tape.backward(params, &self.dq[..n * OFC_OUTPUTS], &self.dp[..n * STR_OUTPUTS], None, &mut self.grads)?;
        Ok(loss)
    }

    /// Parameter gradients of the last backward pass.
    pub fn grads(&self) -> &TwoRegionParams<T> {
        &self.grads
    }

    /// Parameter gradients, mutable (to add further loss terms before the optimiser step).
    pub fn grads_mut(&mut self) -> &mut TwoRegionParams<T> {
        &mut self.grads
    }
}

/// Runs a supervised batch and adds `weight · ∂MSE/∂θ` to `grads`, returning the unweighted
/// MSE of the selected outputs [memory, count, integration] = [p[4], p[5], q[3]].
///
/// `inputs` is B × T × 4 and `targets` B × T × 3, batch-major; `state` gives the batch size
/// and the (constant) initial state.
#[allow(clippy::too_many_arguments)]
pub fn supervised_backward<T: Real>(
    tape: &mut TwoRegionTape<T>,
    params: &TwoRegionParams<T>,
    inputs: &[T],
    targets: &[T],
    steps: usize,
    state: &TwoRegionState<T>,
    selection: SupervisedSelection,
    weight: f64,
    grads: &mut TwoRegionParams<T>,
) -> Result<f64> {
    let batch = state.batch;
    if targets.len() != batch * steps * 3 {
        return Err(Error::invalid("supervised targets", format!("has {} values, expected B × T × 3 = {}", targets.len(), batch * steps * 3)));
    }
    tape.forward_batch(params, inputs, steps, state)?;

    let rows = batch * steps;
    let mut targets_time_major = vec![T::ZERO; rows * 3];
    batch_to_time_major(targets, batch, steps, 3, &mut targets_time_major);
    let mut dq = vec![T::ZERO; rows * OFC_OUTPUTS];
    let mut dp = vec![T::ZERO; rows * STR_OUTPUTS];
    let loss = supervised_mse(tape.q(), tape.p(), &targets_time_major, selection, weight, &mut dq, &mut dp)?;
    tape.backward(params, &dq, &dp, None, grads)?;
    Ok(loss)
}
