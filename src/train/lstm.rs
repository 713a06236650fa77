//! LSTM forward and exact backward through time, batched, with a tape of per-step caches.
//!
//! Forward, per step t and batch row: `a = W_ih x_t + b_ih + W_hh h_t + b_hh` (one fused
//! product for the four gate blocks), `i, f, o = σ(a_i, a_f, a_o)`, `g = tanh(a_g)`,
//! `c_{t+1} = f c_t + i g`, `h_{t+1} = o tanh(c_{t+1})`.
//!
//! Backward, with `dh` and `dc` the gradients arriving at `h_{t+1}` and `c_{t+1}`:
//! `dc += dh o (1 − tanh²c_{t+1})`, then `da_i = dc g i(1−i)`, `da_f = dc c_t f(1−f)`,
//! `da_g = dc i (1−g²)`, `da_o = dh tanh(c_{t+1}) o(1−o)`, and the carries
//! `dc_t = dc f`, `dh_t = W_hhᵀ da`. The weight gradients of all steps are summed at the end as
//! one product `daᵀ [x | h]` over every (step, row).

use rayon::prelude::*;

use super::linalg::{accumulate_at_b, accumulate_column_sums, axpy, matmul_a_w, matmul_a_wt, parallel_allowed};
use super::params::{CellKind, CellParams};
use super::real::Real;
use crate::error::{Error, Result};

/// Per-step caches of an LSTM layer over one window of up to `capacity` steps for `batch`
/// sequences. Buffers are allocated in [`reset`](Self::reset) and reused, so stepping and the
/// backward pass allocate nothing.
///
/// Layouts are time-major: step t, batch row b, unit j is at `(t·B + b)·H + j`. `h` and `c`
/// hold `steps + 1` states, the window's initial state first.
#[derive(Debug, Clone, Default)]
pub struct LstmTape<T> {
    input: usize,
    hidden: usize,
    batch: usize,
    capacity: usize,
    steps: usize,
    consumed: bool,
    x: Vec<T>,
    h: Vec<T>,
    c: Vec<T>,
    /// Gate activations (i, f, g, o) per step; the backward pass overwrites them with the
    /// gradients of the pre-activations.
    gates: Vec<T>,
    tanh_c: Vec<T>,
    bias: Vec<T>,
    /// `weight_ihᵀ` (I × 4H) and `weight_hhᵀ` (H × 4H), copied at the first step of a batched
    /// window so the per-step product reads the weights contiguously (see `step`).
    w_ih_t: Vec<T>,
    w_hh_t: Vec<T>,
    /// Column sums of the gate gradients over all steps and rows (4H), the bias gradient.
    bias_grad: Vec<T>,
    dh: Vec<T>,
    dc: Vec<T>,
}

impl<T: Real> LstmTape<T> {
    /// Creates an empty tape for a layer with `input` inputs and `hidden` units.
    pub fn new(input: usize, hidden: usize) -> Self {
        LstmTape { input, hidden, ..Default::default() }
    }

    /// Starts a window of at most `capacity` steps for `batch` sequences from the constant state
    /// `(h0, c0)` (each B × H). The window's graph starts here: no gradient flows further back.
    pub fn reset(&mut self, batch: usize, capacity: usize, h0: &[T], c0: &[T]) -> Result<()> {
        let state = batch * self.hidden;
        if batch == 0 {
            return Err(Error::invalid("batch size", "is 0, expected at least 1"));
        }
        if h0.len() != state || c0.len() != state {
            return Err(Error::invalid(
                "initial LSTM state",
                format!("h has {} and c has {} values, expected batch × hidden = {state} each", h0.len(), c0.len()),
            ));
        }

        self.batch = batch;
        self.capacity = capacity;
        self.steps = 0;
        self.consumed = false;
        grow(&mut self.x, capacity * batch * self.input);
        grow(&mut self.h, (capacity + 1) * state);
        grow(&mut self.c, (capacity + 1) * state);
        grow(&mut self.gates, capacity * batch * 4 * self.hidden);
        grow(&mut self.tanh_c, capacity * state);
        grow(&mut self.bias, 4 * self.hidden);
        grow(&mut self.bias_grad, 4 * self.hidden);
        grow(&mut self.dh, state);
        grow(&mut self.dc, state);
        self.h[..state].copy_from_slice(h0);
        self.c[..state].copy_from_slice(c0);
        Ok(())
    }

    /// Number of steps taken since the last reset.
    pub fn steps(&self) -> usize {
        self.steps
    }

    /// Batch size of the current window.
    pub fn batch(&self) -> usize {
        self.batch
    }

    /// Hidden state after `t` steps (t = 0 is the initial state), B × H.
    pub fn h(&self, t: usize) -> &[T] {
        let state = self.batch * self.hidden;
        &self.h[t * state..(t + 1) * state]
    }

    /// Cell state after `t` steps (t = 0 is the initial state), B × H.
    pub fn c(&self, t: usize) -> &[T] {
        let state = self.batch * self.hidden;
        &self.c[t * state..(t + 1) * state]
    }

    /// Hidden states after steps 1..=steps, (steps·B) × H, for a head applied to all steps.
    pub fn h_outputs(&self) -> &[T] {
        let state = self.batch * self.hidden;
        &self.h[state..(self.steps + 1) * state]
    }

    /// Takes one step with input `x` (B × I) and returns the new hidden state (B × H).
    ///
    /// The parameters must be the same for every step of a window: with B > 1 the weights are
    /// transposed once, at the first step, because faer's product ran 5–29 % faster with `Wᵀ`
    /// stored row-major than with a transposed view of `W` (one-thread microbenchmark, 100 and
    /// 1000 rows, 256 units).
    pub fn step(&mut self, params: &CellParams<T>, x: &[T]) -> Result<&[T]> {
        self.check_params(params)?;
        let (b, n_in, n_h) = (self.batch, self.input, self.hidden);
        let rows = 4 * n_h;
        let t = self.steps;
        if t >= self.capacity {
            return Err(Error::invalid("LSTM step", format!("window is full at {} steps; reset it first", self.capacity)));
        }
        if x.len() != b * n_in {
            return Err(Error::invalid("LSTM input", format!("has {} values, expected batch × inputs = {}", x.len(), b * n_in)));
        }

        let x_t = &mut self.x[t * b * n_in..(t + 1) * b * n_in];
        x_t.copy_from_slice(x);

        // Fused gate pre-activations: the input and recurrent products overwrite the step's
        // gate rows, and the activation loop adds the bias, which saves one pass over them.
        for (sum, (&bi, &bh)) in self.bias.iter_mut().zip(params.b_ih.iter().zip(&params.b_hh)) {
            *sum = bi + bh;
        }
        let gates_t = &mut self.gates[t * b * rows..(t + 1) * b * rows];
        let state = b * n_h;
        let h_prev = &self.h[t * state..(t + 1) * state];
        if b == 1 {
            matmul_a_wt(b, n_in, rows, x_t, &params.w_ih, T::ZERO, gates_t);
            matmul_a_wt(b, n_h, rows, h_prev, &params.w_hh, T::ONE, gates_t);
        } else {
            if t == 0 {
                transpose_into(&params.w_ih, rows, n_in, &mut self.w_ih_t);
                transpose_into(&params.w_hh, rows, n_h, &mut self.w_hh_t);
            }
            matmul_a_w(b, n_in, rows, x_t, &self.w_ih_t, T::ZERO, gates_t);
            matmul_a_w(b, n_h, rows, h_prev, &self.w_hh_t, T::ONE, gates_t);
        }

        // Activations and the state update.
        let (c_before, c_after) = self.c.split_at_mut((t + 1) * state);
        let c_prev = &c_before[t * state..];
        let c_next = &mut c_after[..state];
        let h_next = &mut self.h[(t + 1) * state..(t + 2) * state];
        let tanh_c = &mut self.tanh_c[t * state..(t + 1) * state];
        let bias = &self.bias[..rows];
        let activate = |(((g_row, c_prev), c_next), (tanh_c, h_next))| activate_row(g_row, bias, c_prev, c_next, tanh_c, h_next);
        if b < 2 * ROWS_PER_TASK || state < PARALLEL_MIN_ELEMENTS || !parallel_allowed() {
            // A rayon call from outside the pool costs a cross-thread hand-off; not worth it here.
            gates_t
                .chunks_mut(rows)
                .zip(c_prev.chunks(n_h))
                .zip(c_next.chunks_mut(n_h))
                .zip(tanh_c.chunks_mut(n_h).zip(h_next.chunks_mut(n_h)))
                .for_each(activate);
        } else {
            gates_t
                .par_chunks_mut(rows)
                .zip(c_prev.par_chunks(n_h))
                .zip(c_next.par_chunks_mut(n_h))
                .zip(tanh_c.par_chunks_mut(n_h).zip(h_next.par_chunks_mut(n_h)))
                .with_min_len(ROWS_PER_TASK)
                .for_each(activate);
        }

        self.steps += 1;
        Ok(&self.h[(t + 1) * state..(t + 2) * state])
    }

    /// Backpropagates through every step of the window once.
    ///
    /// `dh_out` ((steps·B) × H) is the loss gradient with respect to each step's output
    /// `h_{t+1}` from outside the recurrence (heads, losses). `dh_final` and `dc_final` (B × H)
    /// are the gradients with respect to the last state. Parameter gradients are added to
    /// `grads`, and `dx`, when given ((steps·B) × I), receives the gradient with respect to
    /// each input. Afterwards [`initial_state_grad`](Self::initial_state_grad) returns
    /// `∂L/∂(h_0, c_0)`.
    pub fn backward(
        &mut self,
        params: &CellParams<T>,
        dh_out: &[T],
        dh_final: &[T],
        dc_final: &[T],
        grads: &mut CellParams<T>,
        mut dx: Option<&mut [T]>,
    ) -> Result<()> {
        let (b, n_in, n) = (self.batch, self.input, self.steps);
        let state = b * self.hidden;
        check_len("dh_out", dh_out.len(), n * state)?;
        if let Some(dx) = dx.as_deref() {
            check_len("dx", dx.len(), n * b * n_in)?;
        }
        self.begin_backward(params, grads, dh_final, dc_final)?;
        for t in (0..n).rev() {
            let dx_t = dx.as_deref_mut().map(|dx| &mut dx[t * b * n_in..(t + 1) * b * n_in]);
            self.backward_step(params, t, &dh_out[t * state..(t + 1) * state], dx_t);
        }
        self.finish_backward(grads);
        Ok(())
    }

    /// Checks the shapes for a backward pass and loads the gradients `dh_final` and `dc_final`
    /// (B × H) with respect to the last state. Callers then run
    /// [`backward_step`](Self::backward_step) for t = steps − 1 down to 0, and
    /// [`finish_backward`](Self::finish_backward).
    pub(crate) fn begin_backward(&mut self, params: &CellParams<T>, grads: &CellParams<T>, dh_final: &[T], dc_final: &[T]) -> Result<()> {
        self.check_params(params)?;
        if grads.kind != CellKind::Lstm || grads.input != self.input || grads.hidden != self.hidden {
            return Err(Error::invalid("LSTM gradient", "has a different shape from the layer"));
        }
        if self.consumed {
            return Err(Error::invalid("LSTM backward", "already ran on this window; run the forward pass again"));
        }
        let state = self.batch * self.hidden;
        check_len("dh_final", dh_final.len(), state)?;
        check_len("dc_final", dc_final.len(), state)?;
        self.consumed = true;
        self.dh[..state].copy_from_slice(dh_final);
        self.dc[..state].copy_from_slice(dc_final);
        Ok(())
    }

    /// Backpropagates through step `t`, given `dh_step` (B × H), the gradient with respect to
    /// `h_{t+1}` from outside the recurrence. Writes the input gradient into `dx_t` (B × I)
    /// when given. Steps must run from the last one down to 0 after
    /// [`begin_backward`](Self::begin_backward).
    pub(crate) fn backward_step(&mut self, params: &CellParams<T>, t: usize, dh_step: &[T], dx_t: Option<&mut [T]>) {
        let (b, n_in, n_h) = (self.batch, self.input, self.hidden);
        let rows = 4 * n_h;
        let state = b * n_h;
        let gates_t = &mut self.gates[t * b * rows..(t + 1) * b * rows];
        let tanh_c = &self.tanh_c[t * state..(t + 1) * state];
        let c_prev = &self.c[t * state..(t + 1) * state];

        // Gate pre-activation gradients, written over the activations.
        let backprop = |(((g_row, (tanh_c, c_prev)), (dh_carry, dh_step)), dc)| backprop_row(g_row, tanh_c, c_prev, dh_carry, dh_step, dc);
        if b < 2 * ROWS_PER_TASK || state < PARALLEL_MIN_ELEMENTS || !parallel_allowed() {
            gates_t
                .chunks_mut(rows)
                .zip(tanh_c.chunks(n_h).zip(c_prev.chunks(n_h)))
                .zip(self.dh[..state].chunks(n_h).zip(dh_step.chunks(n_h)))
                .zip(self.dc[..state].chunks_mut(n_h))
                .for_each(backprop);
        } else {
            let rows_iter = gates_t
                .par_chunks_mut(rows)
                .zip(tanh_c.par_chunks(n_h).zip(c_prev.par_chunks(n_h)))
                .zip(self.dh[..state].par_chunks(n_h).zip(dh_step.par_chunks(n_h)))
                .zip(self.dc[..state].par_chunks_mut(n_h));
            rows_iter.with_min_len(ROWS_PER_TASK).for_each(backprop);
        }

        // Carries to the previous step.
        matmul_a_w(b, rows, n_h, gates_t, &params.w_hh, T::ZERO, &mut self.dh[..state]);
        if let Some(dx_t) = dx_t {
            matmul_a_w(b, rows, n_in, gates_t, &params.w_ih, T::ZERO, dx_t);
        }
    }

    /// Adds the weight and bias gradients of all steps to `grads`, as one product over every
    /// (step, row), after the last [`backward_step`](Self::backward_step).
    pub(crate) fn finish_backward(&mut self, grads: &mut CellParams<T>) {
        let (b, n_in, n_h, n) = (self.batch, self.input, self.hidden, self.steps);
        let rows = 4 * n_h;
        let da = &self.gates[..n * b * rows];
        accumulate_at_b(n * b, rows, n_in, da, &self.x[..n * b * n_in], &mut grads.w_ih);
        accumulate_at_b(n * b, rows, n_h, da, &self.h[..n * b * n_h], &mut grads.w_hh);

        // Both biases get the same gradient, the column sums of `da`: sum once, add twice.
        let sums = &mut self.bias_grad[..rows];
        sums.fill(T::ZERO);
        accumulate_column_sums(n * b, rows, da, sums);
        axpy(T::ONE, sums, &mut grads.b_ih);
        axpy(T::ONE, sums, &mut grads.b_hh);
    }

    /// Gradients `(∂L/∂h_0, ∂L/∂c_0)` (B × H each) left by the last backward pass.
    pub fn initial_state_grad(&self) -> (&[T], &[T]) {
        let state = self.batch * self.hidden;
        (&self.dh[..state], &self.dc[..state])
    }

    fn check_params(&self, params: &CellParams<T>) -> Result<()> {
        if params.kind != CellKind::Lstm || params.input != self.input || params.hidden != self.hidden {
            return Err(Error::invalid(
                "LSTM parameters",
                format!(
                    "are a {:?} cell with {} inputs and {} units, expected an LSTM with {} inputs and {} units",
                    params.kind, params.input, params.hidden, self.input, self.hidden
                ),
            ));
        }
        Ok(())
    }
}

/// Batch rows per rayon task in the elementwise loops.
const ROWS_PER_TASK: usize = 16;
/// Elementwise loops over fewer state entries (B × H) than this run on the calling thread.
const PARALLEL_MIN_ELEMENTS: usize = 8192;

/// Adds the fused bias (4H) to one batch row of gate pre-activations, applies the gate
/// nonlinearities (in place) and updates the row's cell and hidden state.
fn activate_row<T: Real>(g_row: &mut [T], bias: &[T], c_prev: &[T], c_next: &mut [T], tanh_c: &mut [T], h_next: &mut [T]) {
    #[cfg(target_arch = "x86_64")]
    if has_avx2_fma() {
        // SAFETY: the CPU supports AVX2 and FMA (checked at run time just above).
        unsafe { activate_row_avx2(g_row, bias, c_prev, c_next, tanh_c, h_next) };
        return;
    }
    activate_row_portable(g_row, bias, c_prev, c_next, tanh_c, h_next);
}

/// Replaces one batch row of gate activations by the gradients of their pre-activations, and
/// `dc` (the gradient at c_{t+1}) by the carry `∂L/∂c_t`.
fn backprop_row<T: Real>(g_row: &mut [T], tanh_c: &[T], c_prev: &[T], dh_carry: &[T], dh_step: &[T], dc: &mut [T]) {
    #[cfg(target_arch = "x86_64")]
    if has_avx2_fma() {
        // SAFETY: the CPU supports AVX2 and FMA (checked at run time just above).
        unsafe { backprop_row_avx2(g_row, tanh_c, c_prev, dh_carry, dh_step, dc) };
        return;
    }
    backprop_row_portable(g_row, tanh_c, c_prev, dh_carry, dh_step, dc);
}

/// Returns whether the row loops may use their AVX2 copies. The copies run the same operations in the
/// same order as the portable loops, with no fused multiply–adds because Rust never contracts
/// `a * b + c`, so they give the same bytes. They are faster because they run 8 lanes wide.
#[cfg(target_arch = "x86_64")]
fn has_avx2_fma() -> bool {
    std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma")
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn activate_row_avx2<T: Real>(g_row: &mut [T], bias: &[T], c_prev: &[T], c_next: &mut [T], tanh_c: &mut [T], h_next: &mut [T]) {
    activate_row_portable(g_row, bias, c_prev, c_next, tanh_c, h_next);
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn backprop_row_avx2<T: Real>(g_row: &mut [T], tanh_c: &[T], c_prev: &[T], dh_carry: &[T], dh_step: &[T], dc: &mut [T]) {
    backprop_row_portable(g_row, tanh_c, c_prev, dh_carry, dh_step, dc);
}

#[inline(always)]
fn activate_row_portable<T: Real>(g_row: &mut [T], bias: &[T], c_prev: &[T], c_next: &mut [T], tanh_c: &mut [T], h_next: &mut [T]) {
    let n_h = c_prev.len();
    let (gi, rest) = g_row[..4 * n_h].split_at_mut(n_h);
    let (gf, rest) = rest.split_at_mut(n_h);
    let (gg, go) = rest.split_at_mut(n_h);
    let (bi, rest) = bias[..4 * n_h].split_at(n_h);
    let (bf, rest) = rest.split_at(n_h);
    let (bg, bo) = rest.split_at(n_h);
    let (c_next, tanh_c, h_next) = (&mut c_next[..n_h], &mut tanh_c[..n_h], &mut h_next[..n_h]);
    for j in 0..n_h {
        let i = (gi[j] + bi[j]).sigmoid();
        let f = (gf[j] + bf[j]).sigmoid();
        let g = (gg[j] + bg[j]).tanh();
        let o = (go[j] + bo[j]).sigmoid();
        gi[j] = i;
        gf[j] = f;
        gg[j] = g;
        go[j] = o;

        let c = f * c_prev[j] + i * g;
        let tc = c.tanh();
        c_next[j] = c;
        tanh_c[j] = tc;
        h_next[j] = o * tc;
    }
}

#[inline(always)]
fn backprop_row_portable<T: Real>(g_row: &mut [T], tanh_c: &[T], c_prev: &[T], dh_carry: &[T], dh_step: &[T], dc: &mut [T]) {
    let n_h = c_prev.len();
    let (gi, rest) = g_row[..4 * n_h].split_at_mut(n_h);
    let (gf, rest) = rest.split_at_mut(n_h);
    let (gg, go) = rest.split_at_mut(n_h);
    let (tanh_c, dh_carry, dh_step, dc) = (&tanh_c[..n_h], &dh_carry[..n_h], &dh_step[..n_h], &mut dc[..n_h]);
    for j in 0..n_h {
        let (i, f, g, o) = (gi[j], gf[j], gg[j], go[j]);
        let tc = tanh_c[j];
        let dh = dh_carry[j] + dh_step[j];
        let dc_total = dc[j] + dh * o * (T::ONE - tc * tc);

        gi[j] = dc_total * g * i * (T::ONE - i);
        gf[j] = dc_total * c_prev[j] * f * (T::ONE - f);
        gg[j] = dc_total * i * (T::ONE - g * g);
        go[j] = dh * tc * o * (T::ONE - o);
        dc[j] = dc_total * f;
    }
}

/// Writes the transpose of the row-major `rows × cols` matrix `m` into `out` (cols × rows).
fn transpose_into<T: Real>(m: &[T], rows: usize, cols: usize, out: &mut Vec<T>) {
    grow(out, rows * cols);
    for r in 0..rows {
        for c in 0..cols {
            out[c * rows + r] = m[r * cols + c];
        }
    }
}

/// Grows `buffer` to at least `len` elements; never shrinks, so a smaller window reuses it.
pub(crate) fn grow<T: Real>(buffer: &mut Vec<T>, len: usize) {
    if buffer.len() < len {
        buffer.resize(len, T::ZERO);
    }
}

pub(crate) fn check_len(what: &str, got: usize, expected: usize) -> Result<()> {
    if got != expected {
        return Err(Error::invalid(what, format!("has {got} values, expected {expected}")));
    }
    Ok(())
}
