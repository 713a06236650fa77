//! Forward and exact backward passes of the two-region network over one window.
//!
//! Per step t, the OFC LSTM reads the task input `x_t` (4 channels) and its head gives
//! `q_t = linear1(h¹_{t+1})`. The STR LSTM then reads `s_t = [x_t[0], x_t[1], q_t[0], q_t[1],
//! q_t[2]]` and its head gives `p_t = linear2(h²_{t+1})`. The OFC logits enter the STR as raw values, so
//! the STR's losses reach the OFC through `q`: the backward pass runs the STR first, adds
//! `∂L/∂s_t[2..5]` to `∂L/∂q_t[0..3]`, then runs the OFC.

use rand::Rng;
use rand_chacha::ChaCha8Rng;

use super::linalg::{accumulate_at_b, accumulate_column_sums, matmul_a_w, matmul_a_wt, SequentialScope};
use super::lstm::{check_len, grow, LstmTape};
use super::pipeline::{self, Progress, StepRows};
use super::params::{TwoRegionParams, OFC_OUTPUTS, STR_INPUTS, STR_OUTPUTS, TASK_INPUTS};
use super::real::Real;
use crate::error::{Error, Result};

/// The state `(h_ofc, c_ofc, h_str, c_str)` of B sequences, each B × H row-major.
#[derive(Debug, Clone, PartialEq)]
pub struct TwoRegionState<T> {
    pub batch: usize,
    pub h_ofc: Vec<T>,
    pub c_ofc: Vec<T>,
    pub h_str: Vec<T>,
    pub c_str: Vec<T>,
}

impl<T: Real> TwoRegionState<T> {
    /// All-zero state (also a zero final-state gradient).
    pub fn zeros(batch: usize, h1: usize, h2: usize) -> Self {
        TwoRegionState {
            batch,
            h_ofc: vec![T::ZERO; batch * h1],
            c_ofc: vec![T::ZERO; batch * h1],
            h_str: vec![T::ZERO; batch * h2],
            c_str: vec![T::ZERO; batch * h2],
        }
    }

    /// Random state with every entry ~ U[0, 1), as the original study starts each session,
    /// reset and supervised batch.
    pub fn uniform(batch: usize, h1: usize, h2: usize, rng: &mut ChaCha8Rng) -> Self {
        let mut state = Self::zeros(batch, h1, h2);
        for part in [&mut state.h_ofc, &mut state.c_ofc, &mut state.h_str, &mut state.c_str] {
            for v in part.iter_mut() {
                *v = T::from_f64(rng.gen::<f64>());
            }
        }
        state
    }
}

/// Caches of the two-region network over one window of up to `capacity` steps for `batch`
/// sequences, reused across windows. All per-step arrays are time-major: row `t·B + b`.
///
/// Memory is about 9·H values per step, sequence and region (inputs, h, c, four gates, tanh c
/// and the head gradient), so a 100 × 652 epoch at 256 + 256 units needs about 1.2 GB in f32.
#[derive(Debug, Clone)]
pub struct TwoRegionTape<T> {
    h1: usize,
    h2: usize,
    batch: usize,
    capacity: usize,
    ofc: LstmTape<T>,
    str: LstmTape<T>,
    q: Vec<T>,
    p: Vec<T>,
    s: Vec<T>,
    x_step: Vec<T>,
    dq_total: Vec<T>,
    dh_ofc: Vec<T>,
    dh_str: Vec<T>,
    ds: Vec<T>,
    zeros1: Vec<T>,
    zeros2: Vec<T>,
}

impl<T: Real> TwoRegionTape<T> {
    /// Creates an empty tape for OFC size `h1` and STR size `h2`.
    pub fn new(h1: usize, h2: usize) -> Self {
        TwoRegionTape {
            h1,
            h2,
            batch: 0,
            capacity: 0,
            ofc: LstmTape::new(TASK_INPUTS, h1),
            str: LstmTape::new(STR_INPUTS, h2),
            q: Vec::new(),
            p: Vec::new(),
            s: Vec::new(),
            x_step: Vec::new(),
            dq_total: Vec::new(),
            dh_ofc: Vec::new(),
            dh_str: Vec::new(),
            ds: Vec::new(),
            zeros1: Vec::new(),
            zeros2: Vec::new(),
        }
    }

    /// Starts a window of at most `capacity` steps from `state`, which is treated as a constant:
    /// a state carried over from the previous window keeps its value but no gradient flows
    /// back into that window (truncated BPTT).
    pub fn reset(&mut self, capacity: usize, state: &TwoRegionState<T>) -> Result<()> {
        let batch = state.batch;
        self.ofc.reset(batch, capacity, &state.h_ofc, &state.c_ofc)?;
        self.str.reset(batch, capacity, &state.h_str, &state.c_str)?;
        self.batch = batch;
        self.capacity = capacity;
        grow(&mut self.q, capacity * batch * OFC_OUTPUTS);
        grow(&mut self.p, capacity * batch * STR_OUTPUTS);
        grow(&mut self.s, batch * STR_INPUTS);
        grow(&mut self.x_step, batch * TASK_INPUTS);
        grow(&mut self.dq_total, capacity * batch * OFC_OUTPUTS);
        grow(&mut self.dh_ofc, batch * self.h1);
        grow(&mut self.dh_str, capacity * batch * self.h2);
        grow(&mut self.ds, capacity * batch * STR_INPUTS);
        grow(&mut self.zeros1, batch * self.h1);
        grow(&mut self.zeros2, batch * self.h2);
        Ok(())
    }

    /// Steps taken since the last reset.
    pub fn steps(&self) -> usize {
        self.ofc.steps()
    }

    /// Batch size of the current window.
    pub fn batch(&self) -> usize {
        self.batch
    }

    /// Takes one step with task input `x` (B × 4) and returns `(q_t, p_t)` (B × 4, B × 6).
    pub fn step(&mut self, params: &TwoRegionParams<T>, x: &[T]) -> Result<(&[T], &[T])> {
        self.check_params(params)?;
        let b = self.batch;
        let t = self.steps();
        if t >= self.capacity {
            return Err(Error::invalid("two-region step", format!("window is full at {} steps; reset it first", self.capacity)));
        }
        check_len("two-region input", x.len(), b * TASK_INPUTS)?;

        let q_t = &mut self.q[t * b * OFC_OUTPUTS..(t + 1) * b * OFC_OUTPUTS];
        ofc_step(&mut self.ofc, q_t, params, x)?;
        for r in 0..b {
            let task_channels = &x[r * TASK_INPUTS..r * TASK_INPUTS + 2];
            fill_str_row(task_channels, &q_t[r * OFC_OUTPUTS..(r + 1) * OFC_OUTPUTS], &mut self.s[r * STR_INPUTS..(r + 1) * STR_INPUTS]);
        }
        let p_t = &mut self.p[t * b * STR_OUTPUTS..(t + 1) * b * STR_OUTPUTS];
        str_step(&mut self.str, p_t, params, &self.s[..b * STR_INPUTS])?;

        Ok((
            &self.q[t * b * OFC_OUTPUTS..(t + 1) * b * OFC_OUTPUTS],
            &self.p[t * b * STR_OUTPUTS..(t + 1) * b * STR_OUTPUTS],
        ))
    }

    /// Runs a whole window: resets to `state`, then steps through `inputs`, given batch-major
    /// as B × T × 4 (sequence b, step t, channel k at `(b·T + t)·4 + k`).
    ///
    /// The OFC needs nothing from the STR, so when the steps are large the OFC's loop and the
    /// STR's loop run as two rayon tasks, the STR's step t starting once the OFC has written
    /// `q_t`. Each loop is one region's sequential steps, so the bytes are those of
    /// [`step`](Self::step) called T times, whatever the number of threads.
    pub fn forward_batch(&mut self, params: &TwoRegionParams<T>, inputs: &[T], steps: usize, state: &TwoRegionState<T>) -> Result<()> {
        let b = state.batch;
        check_len("batched inputs (B × T × 4)", inputs.len(), b * steps * TASK_INPUTS)?;
        self.check_params(params)?;
        self.reset(steps, state)?;
        let parallel = self.pipelined();

        let TwoRegionTape { ofc, str, q, p, s, x_step, .. } = self;
        let q_rows = StepRows::new(&mut q[..steps * b * OFC_OUTPUTS], b * OFC_OUTPUTS);
        let progress = Progress::new();
        let ofc_loop = || {
            let _sequential = SequentialScope::enter();
            let guard = progress.guard();
            for t in 0..steps {
                gather_step(inputs, b, steps, t, x_step);
                // SAFETY: step t is not published yet, and only this loop writes `q`.
                let q_t = unsafe { q_rows.step_mut(t) };
                ofc_step(ofc, q_t, params, &x_step[..b * TASK_INPUTS])?;
                progress.publish(t + 1);
            }
            guard.finish();
            Ok(())
        };
        let str_loop = || {
            let _sequential = SequentialScope::enter();
            for t in 0..steps {
                if !progress.wait_for(t + 1) {
                    // The OFC loop failed and returns its error.
                    return Ok(());
                }
                // SAFETY: step t is published, so the OFC loop no longer writes it.
                let q_t = unsafe { q_rows.step(t) };
                for r in 0..b {
                    let from = (r * steps + t) * TASK_INPUTS;
                    fill_str_row(&inputs[from..from + 2], &q_t[r * OFC_OUTPUTS..(r + 1) * OFC_OUTPUTS], &mut s[r * STR_INPUTS..(r + 1) * STR_INPUTS]);
                }
                let p_t = &mut p[t * b * STR_OUTPUTS..(t + 1) * b * STR_OUTPUTS];
                str_step(str, p_t, params, &s[..b * STR_INPUTS])?;
            }
            Ok(())
        };
        pipeline::run(parallel, ofc_loop, str_loop)
    }

    /// OFC outputs `q` of every step so far, time-major ((T·B) × 4).
    pub fn q(&self) -> &[T] {
        &self.q[..self.steps() * self.batch * OFC_OUTPUTS]
    }

    /// STR outputs `p` of every step so far, time-major ((T·B) × 6).
    pub fn p(&self) -> &[T] {
        &self.p[..self.steps() * self.batch * STR_OUTPUTS]
    }

    /// Returns the state after step `t` of the window (`t = 0` is the initial state), as slices
    /// `[h_ofc, c_ofc, h_str, c_str]`, each B × H. Used to record trajectories without copying.
    pub fn state_after(&self, t: usize) -> [&[T]; 4] {
        [self.ofc.h(t), self.ofc.c(t), self.str.h(t), self.str.c(t)]
    }

    /// Returns the state after the last step (the next window's initial state).
    pub fn final_state(&self) -> TwoRegionState<T> {
        let t = self.steps();
        TwoRegionState {
            batch: self.batch,
            h_ofc: self.ofc.h(t).to_vec(),
            c_ofc: self.ofc.c(t).to_vec(),
            h_str: self.str.h(t).to_vec(),
            c_str: self.str.c(t).to_vec(),
        }
    }

    /// Backpropagates the window once and adds the parameter gradients to `grads`.
    ///
    /// `dq` ((T·B) × 4) and `dp` ((T·B) × 6), time-major, are the loss gradients with respect to
    /// each step's outputs. `d_final` is the gradient with respect to the last state (`None`
    /// for zero). The gradient with respect to the window's initial state is available
    /// afterwards from [`initial_state_grad`](Self::initial_state_grad).
    pub fn backward(
        &mut self,
        params: &TwoRegionParams<T>,
        dq: &[T],
        dp: &[T],
        d_final: Option<&TwoRegionState<T>>,
        grads: &mut TwoRegionParams<T>,
    ) -> Result<()> {
        self.check_params(params)?;
        self.check_params(grads)?;
        let rows = self.steps() * self.batch;
        let (h1, h2) = (self.h1, self.h2);
        check_len("dq ((T·B) × 4)", dq.len(), rows * OFC_OUTPUTS)?;
        check_len("dp ((T·B) × 6)", dp.len(), rows * STR_OUTPUTS)?;
        if let Some(d) = d_final {
            if d.batch != self.batch {
                return Err(Error::invalid("final-state gradient", format!("has batch {}, expected {}", d.batch, self.batch)));
            }
        }

        // STR head for all steps at once.
        matmul_a_w(rows, STR_OUTPUTS, h2, dp, &params.linear2.weight, T::ZERO, &mut self.dh_str[..rows * h2]);
        accumulate_at_b(rows, STR_OUTPUTS, h2, dp, self.str.h_outputs(), &mut grads.linear2.weight);
        accumulate_column_sums(rows, STR_OUTPUTS, dp, &mut grads.linear2.bias);

        let state2 = self.batch * h2;
        let (dh2, dc2) = match d_final {
            Some(d) => (d.h_str.as_slice(), d.c_str.as_slice()),
            None => (&self.zeros2[..state2], &self.zeros2[..state2]),
        };
        self.str.begin_backward(&params.rnn2, &grads.rnn2, dh2, dc2)?;
        let state1 = self.batch * h1;
        let (dh1, dc1) = match d_final {
            Some(d) => (d.h_ofc.as_slice(), d.c_ofc.as_slice()),
            None => (&self.zeros1[..state1], &self.zeros1[..state1]),
        };
        self.ofc.begin_backward(&params.rnn1, &grads.rnn1, dh1, dc1)?;

        // The OFC's step t needs the STR's input gradient at step t (through q) and nothing else
        // from the STR, so when the steps are large the two regions' loops run as two rayon
        // tasks, the OFC trailing the STR. Each loop is one region's sequential steps, so the
        // bytes do not depend on the thread count.
        let (b, n) = (self.batch, self.steps());
        let parallel = self.pipelined();
        let TwoRegionTape { ofc, str, dq_total, dh_ofc, dh_str, ds, .. } = self;
        let ds_rows = StepRows::new(&mut ds[..n * b * STR_INPUTS], b * STR_INPUTS);
        let (grads_ofc, grads_str) = (&mut grads.rnn1, &mut grads.rnn2);
        let progress = Progress::new();
        let str_loop = || {
            let sequential = SequentialScope::enter();
            let guard = progress.guard();
            for (done, t) in (0..n).rev().enumerate() {
                // SAFETY: step t is not published yet, and only this loop writes `ds`.
                let ds_t = unsafe { ds_rows.step_mut(t) };
                str.backward_step(&params.rnn2, t, &dh_str[t * state2..(t + 1) * state2], Some(ds_t));
                progress.publish(done + 1);
            }
            guard.finish();

            // Every step is published, so the weight products may use rayon again.
            drop(sequential);
            str.finish_backward(grads_str);
            Ok(())
        };
        let ofc_loop = || {
            let sequential = SequentialScope::enter();
            for (done, t) in (0..n).rev().enumerate() {
                if !progress.wait_for(done + 1) {
                    return Ok(());
                }
                // SAFETY: step t is published, so the STR loop no longer writes it.
                let ds_t = unsafe { ds_rows.step(t) };
                let dq_total_t = &mut dq_total[t * b * OFC_OUTPUTS..(t + 1) * b * OFC_OUTPUTS];
                ofc_head_grad(&dq[t * b * OFC_OUTPUTS..(t + 1) * b * OFC_OUTPUTS], ds_t, &params.linear1.weight, dq_total_t, &mut dh_ofc[..state1]);
                ofc.backward_step(&params.rnn1, t, &dh_ofc[..state1], None);
            }
            drop(sequential);
            ofc.finish_backward(grads_ofc);
            Ok(())
        };
        pipeline::run(parallel, str_loop, ofc_loop)?;

        // OFC head weights, over all steps at once.
        let dq_total = &self.dq_total[..rows * OFC_OUTPUTS];
        accumulate_at_b(rows, OFC_OUTPUTS, h1, dq_total, self.ofc.h_outputs(), &mut grads.linear1.weight);
        accumulate_column_sums(rows, OFC_OUTPUTS, dq_total, &mut grads.linear1.bias);
        Ok(())
    }

    /// Returns whether a window's steps are large enough for the two regions to run as
    /// parallel rayon tasks.
    fn pipelined(&self) -> bool {
        let largest = self.h1.max(self.h2);
        self.batch * 4 * largest * largest >= PIPELINE_MIN_WORK
    }

    /// `∂L/∂(initial state)` left by the last backward pass.
    pub fn initial_state_grad(&self) -> TwoRegionState<T> {
        let (h_ofc, c_ofc) = self.ofc.initial_state_grad();
        let (h_str, c_str) = self.str.initial_state_grad();
        TwoRegionState { batch: self.batch, h_ofc: h_ofc.to_vec(), c_ofc: c_ofc.to_vec(), h_str: h_str.to_vec(), c_str: c_str.to_vec() }
    }

    fn check_params(&self, params: &TwoRegionParams<T>) -> Result<()> {
        if params.ofc_hidden() != self.h1 || params.str_hidden() != self.h2 {
            return Err(Error::invalid(
                "two-region parameters",
                format!(
                    "have {} OFC and {} STR units, expected {} and {}",
                    params.ofc_hidden(),
                    params.str_hidden(),
                    self.h1,
                    self.h2
                ),
            ));
        }
        Ok(())
    }
}

/// Multiply–adds of one region's recurrent product per step (B · 4H · H) from which the two
/// regions run as parallel rayon tasks. Below it (batch 1 at 64 units: 16 384) a step takes
/// a few microseconds, and the spinning consumer would take a core from other work for little
/// gain.
// NOTE: an estimate; RL windows at batch 1 below 128 units were not timed with the pipeline.
const PIPELINE_MIN_WORK: usize = 1 << 16;

/// Writes the OFC's total output gradient at one step, `dq_total = dq + ∂L/∂s[2..5]` (the STR
/// reads `q[0..3]` at input columns 2..5), and its head's gradient with respect to `h¹`,
/// `dh_ofc = dq_total · W_linear1`. Every argument contains the B rows of that step.
fn ofc_head_grad<T: Real>(dq: &[T], ds: &[T], w_linear1: &[T], dq_total: &mut [T], dh_ofc: &mut [T]) {
    let b = dq.len() / OFC_OUTPUTS;
    let h1 = w_linear1.len() / OFC_OUTPUTS;
    for r in 0..b {
        for k in 0..OFC_OUTPUTS {
            let from_str = if k < 3 { ds[r * STR_INPUTS + 2 + k] } else { T::ZERO };
            dq_total[r * OFC_OUTPUTS + k] = dq[r * OFC_OUTPUTS + k] + from_str;
        }
    }
    matmul_a_w(b, OFC_OUTPUTS, h1, dq_total, w_linear1, T::ZERO, dh_ofc);
}

/// Takes the OFC's next step on input `x` (B × 4) and writes its head output into `q_t`.
fn ofc_step<T: Real>(ofc: &mut LstmTape<T>, q_t: &mut [T], params: &TwoRegionParams<T>, x: &[T]) -> Result<()> {
    let b = ofc.batch();
    let h = ofc.step(&params.rnn1, x)?;
    head_forward(b, h, &params.linear1, q_t);
    Ok(())
}

/// Takes the STR's next step on input `s` (B × 5) and writes its head output into `p_t`.
fn str_step<T: Real>(str: &mut LstmTape<T>, p_t: &mut [T], params: &TwoRegionParams<T>, s: &[T]) -> Result<()> {
    let b = str.batch();
    let h = str.step(&params.rnn2, s)?;
    head_forward(b, h, &params.linear2, p_t);
    Ok(())
}

/// Writes one row of STR input: the task channels 0–1, then the OFC block logits `q[0..3]`.
fn fill_str_row<T: Real>(task_channels: &[T], q_row: &[T], s_row: &mut [T]) {
    s_row[..2].copy_from_slice(&task_channels[..2]);
    s_row[2..5].copy_from_slice(&q_row[..3]);
}

/// Copies step `t` of the batch-major B × T × 4 `inputs` into `x_t` (B × 4).
fn gather_step<T: Real>(inputs: &[T], b: usize, steps: usize, t: usize, x_t: &mut [T]) {
    for r in 0..b {
        let from = (r * steps + t) * TASK_INPUTS;
        x_t[r * TASK_INPUTS..(r + 1) * TASK_INPUTS].copy_from_slice(&inputs[from..from + TASK_INPUTS]);
    }
}

/// Writes `y = h Wᵀ + b` for `b` rows.
fn head_forward<T: Real>(rows: usize, h: &[T], head: &super::params::LinearParams<T>, y: &mut [T]) {
    for row in y.chunks_exact_mut(head.output).take(rows) {
        row.copy_from_slice(&head.bias);
    }
    matmul_a_wt(rows, head.input, head.output, h, &head.weight, T::ONE, y);
}

/// Reorders a time-major (T·B) × K array into batch-major B × T × K.
pub fn time_to_batch_major<T: Real>(time_major: &[T], batch: usize, steps: usize, width: usize, out: &mut [T]) {
    for t in 0..steps {
        for b in 0..batch {
            let from = (t * batch + b) * width;
            let to = (b * steps + t) * width;
            out[to..to + width].copy_from_slice(&time_major[from..from + width]);
        }
    }
}

/// Reorders a batch-major B × T × K array into time-major (T·B) × K.
pub fn batch_to_time_major<T: Real>(batch_major: &[T], batch: usize, steps: usize, width: usize, out: &mut [T]) {
    for t in 0..steps {
        for b in 0..batch {
            let from = (b * steps + t) * width;
            let to = (t * batch + b) * width;
            out[to..to + width].copy_from_slice(&batch_major[from..from + width]);
        }
    }
}
