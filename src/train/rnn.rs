//! Elman tanh RNN forward and exact backward through time, batched:
//! `h' = tanh(W_ih x + b_ih + W_hh h + b_hh)`; backward `da = dh (1 − h'²)`,
//! `dh_prev = W_hhᵀ da`.

use super::gru::check_cell;
use super::linalg::{accumulate_at_b, accumulate_column_sums, matmul_a_w, matmul_a_wt};
use super::lstm::{check_len, grow};
use super::params::{CellKind, CellParams};
use super::real::Real;
use crate::error::{Error, Result};

/// Per-step caches of a tanh RNN layer over one window, time-major as in [`super::LstmTape`].
#[derive(Debug, Clone, Default)]
pub struct RnnTape<T> {
    input: usize,
    hidden: usize,
    batch: usize,
    capacity: usize,
    steps: usize,
    x: Vec<T>,
    h: Vec<T>,
    /// Pre-activation gradients per step, filled by the backward pass.
    da: Vec<T>,
    bias: Vec<T>,
    dh: Vec<T>,
}

impl<T: Real> RnnTape<T> {
    /// Creates an empty tape for a layer with `input` inputs and `hidden` units.
    pub fn new(input: usize, hidden: usize) -> Self {
        RnnTape { input, hidden, ..Default::default() }
    }

    /// Starts a window of at most `capacity` steps for `batch` sequences from the constant `h0`.
    pub fn reset(&mut self, batch: usize, capacity: usize, h0: &[T]) -> Result<()> {
        let state = batch * self.hidden;
        if batch == 0 {
            return Err(Error::invalid("batch size", "is 0, expected at least 1"));
        }
        check_len("initial RNN state", h0.len(), state)?;
        self.batch = batch;
        self.capacity = capacity;
        self.steps = 0;
        grow(&mut self.x, capacity * batch * self.input);
        grow(&mut self.h, (capacity + 1) * state);
        grow(&mut self.da, capacity * state);
        grow(&mut self.bias, self.hidden);
        grow(&mut self.dh, state);
        self.h[..state].copy_from_slice(h0);
        Ok(())
    }

    /// Hidden state after `t` steps (t = 0 is the initial state), B × H.
    pub fn h(&self, t: usize) -> &[T] {
        let state = self.batch * self.hidden;
        &self.h[t * state..(t + 1) * state]
    }

    /// Takes one step with input `x` (B × I) and returns the new hidden state.
    pub fn step(&mut self, params: &CellParams<T>, x: &[T]) -> Result<&[T]> {
        check_cell(params, CellKind::RnnTanh, self.input, self.hidden)?;
        let (b, n_in, n_h, t) = (self.batch, self.input, self.hidden, self.steps);
        let state = b * n_h;
        if t >= self.capacity {
            return Err(Error::invalid("RNN step", format!("window is full at {} steps; reset it first", self.capacity)));
        }
        check_len("RNN input", x.len(), b * n_in)?;
        self.x[t * b * n_in..(t + 1) * b * n_in].copy_from_slice(x);

        for (sum, (&bi, &bh)) in self.bias.iter_mut().zip(params.b_ih.iter().zip(&params.b_hh)) {
            *sum = bi + bh;
        }
        let (h_before, h_after) = self.h.split_at_mut((t + 1) * state);
        let h_next = &mut h_after[..state];
        for row in h_next.chunks_exact_mut(n_h) {
            row.copy_from_slice(&self.bias[..n_h]);
        }
        matmul_a_wt(b, n_in, n_h, x, &params.w_ih, T::ONE, h_next);
        matmul_a_wt(b, n_h, n_h, &h_before[t * state..], &params.w_hh, T::ONE, h_next);
        h_next.iter_mut().for_each(|v| *v = v.tanh());
        self.steps += 1;
        Ok(&self.h[(t + 1) * state..(t + 2) * state])
    }

    /// Backpropagates through the window; arguments as in [`super::GruTape::backward`].
    pub fn backward(&mut self, params: &CellParams<T>, dh_out: &[T], dh_final: &[T], grads: &mut CellParams<T>, mut dx: Option<&mut [T]>) -> Result<()> {
        check_cell(params, CellKind::RnnTanh, self.input, self.hidden)?;
        check_cell(grads, CellKind::RnnTanh, self.input, self.hidden)?;
        let (b, n_in, n_h, n) = (self.batch, self.input, self.hidden, self.steps);
        let state = b * n_h;
        check_len("dh_out", dh_out.len(), n * state)?;
        check_len("dh_final", dh_final.len(), state)?;
        if let Some(dx) = dx.as_deref() {
            check_len("dx", dx.len(), n * b * n_in)?;
        }

        self.dh[..state].copy_from_slice(dh_final);
        for t in (0..n).rev() {
            let h_next = &self.h[(t + 1) * state..(t + 2) * state];
            let da = &mut self.da[t * state..(t + 1) * state];
            for idx in 0..state {
                let dh = self.dh[idx] + dh_out[t * state + idx];
                da[idx] = dh * (T::ONE - h_next[idx] * h_next[idx]);
            }
            matmul_a_w(b, n_h, n_h, da, &params.w_hh, T::ZERO, &mut self.dh[..state]);
            if let Some(dx) = dx.as_deref_mut() {
                matmul_a_w(b, n_h, n_in, da, &params.w_ih, T::ZERO, &mut dx[t * b * n_in..(t + 1) * b * n_in]);
            }
        }

        let total = n * b;
        accumulate_at_b(total, n_h, n_in, &self.da[..total * n_h], &self.x[..total * n_in], &mut grads.w_ih);
        accumulate_at_b(total, n_h, n_h, &self.da[..total * n_h], &self.h[..n * state], &mut grads.w_hh);
        accumulate_column_sums(total, n_h, &self.da[..total * n_h], &mut grads.b_ih);
        accumulate_column_sums(total, n_h, &self.da[..total * n_h], &mut grads.b_hh);
        Ok(())
    }

    /// `∂L/∂h_0` (B × H) left by the last backward pass.
    pub fn initial_state_grad(&self) -> &[T] {
        &self.dh[..self.batch * self.hidden]
    }
}
