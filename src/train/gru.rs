//! GRU forward and exact backward through time, batched, in PyTorch's form:
//! `r = σ(W_ir x + b_ir + W_hr h + b_hr)`, `z = σ(W_iz x + b_iz + W_hz h + b_hz)`,
//! `n = tanh(W_in x + b_in + r ⊙ (W_hn h + b_hn))`, `h' = (1 − z) ⊙ n + z ⊙ h`.
//!
//! Backward, with `dh` arriving at `h'`: `dn = dh (1 − z)`, `dz = dh (h − n)`,
//! `da_n = dn (1 − n²)`, `da_r = da_n ⊙ (W_hn h + b_hn) ⊙ r(1 − r)`, `da_z = dz z(1 − z)`. The
//! input product gets `[da_r, da_z, da_n]`, the recurrent product `[da_r, da_z, r ⊙ da_n]`, and
//! `dh_prev = dh z + W_hhᵀ (recurrent gradient)`.

use super::linalg::{accumulate_at_b, accumulate_column_sums, matmul_a_w, matmul_a_wt};
use super::lstm::{check_len, grow};
use super::params::{CellKind, CellParams};
use super::real::Real;
use crate::error::{Error, Result};

/// Per-step caches of a GRU layer over one window, time-major as in [`super::LstmTape`].
#[derive(Debug, Clone, Default)]
pub struct GruTape<T> {
    input: usize,
    hidden: usize,
    batch: usize,
    capacity: usize,
    steps: usize,
    x: Vec<T>,
    h: Vec<T>,
    /// Activations (r, z, n) per step.
    acts: Vec<T>,
    /// `W_hn h + b_hn` per step.
    hn: Vec<T>,
    gi: Vec<T>,
    gh: Vec<T>,
    da_input: Vec<T>,
    da_hidden: Vec<T>,
    dh: Vec<T>,
    dh_carry: Vec<T>,
}

impl<T: Real> GruTape<T> {
    /// Creates an empty tape for a layer with `input` inputs and `hidden` units.
    pub fn new(input: usize, hidden: usize) -> Self {
        GruTape { input, hidden, ..Default::default() }
    }

    /// Starts a window of at most `capacity` steps for `batch` sequences from the constant `h0`.
    pub fn reset(&mut self, batch: usize, capacity: usize, h0: &[T]) -> Result<()> {
        let state = batch * self.hidden;
        if batch == 0 {
            return Err(Error::invalid("batch size", "is 0, expected at least 1"));
        }
        check_len("initial GRU state", h0.len(), state)?;
        self.batch = batch;
        self.capacity = capacity;
        self.steps = 0;
        let rows = 3 * self.hidden;
        grow(&mut self.x, capacity * batch * self.input);
        grow(&mut self.h, (capacity + 1) * state);
        grow(&mut self.acts, capacity * batch * rows);
        grow(&mut self.hn, capacity * state);
        grow(&mut self.gi, batch * rows);
        grow(&mut self.gh, batch * rows);
        grow(&mut self.da_input, capacity * batch * rows);
        grow(&mut self.da_hidden, capacity * batch * rows);
        grow(&mut self.dh, state);
        grow(&mut self.dh_carry, state);
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
        check_cell(params, CellKind::Gru, self.input, self.hidden)?;
        let (b, n_in, n_h) = (self.batch, self.input, self.hidden);
        let (rows, state, t) = (3 * n_h, b * n_h, self.steps);
        if t >= self.capacity {
            return Err(Error::invalid("GRU step", format!("window is full at {} steps; reset it first", self.capacity)));
        }
        check_len("GRU input", x.len(), b * n_in)?;
        self.x[t * b * n_in..(t + 1) * b * n_in].copy_from_slice(x);

        for r in 0..b {
            self.gi[r * rows..(r + 1) * rows].copy_from_slice(&params.b_ih);
            self.gh[r * rows..(r + 1) * rows].copy_from_slice(&params.b_hh);
        }
        let (h_before, h_after) = self.h.split_at_mut((t + 1) * state);
        let h_prev = &h_before[t * state..];
        matmul_a_wt(b, n_in, rows, x, &params.w_ih, T::ONE, &mut self.gi[..b * rows]);
        matmul_a_wt(b, n_h, rows, h_prev, &params.w_hh, T::ONE, &mut self.gh[..b * rows]);

        let acts = &mut self.acts[t * b * rows..(t + 1) * b * rows];
        let hn = &mut self.hn[t * state..(t + 1) * state];
        let h_next = &mut h_after[..state];
        for r in 0..b {
            for j in 0..n_h {
                let base = r * rows;
                let reset = (self.gi[base + j] + self.gh[base + j]).sigmoid();
                let update = (self.gi[base + n_h + j] + self.gh[base + n_h + j]).sigmoid();
                let hidden_n = self.gh[base + 2 * n_h + j];
                let candidate = (self.gi[base + 2 * n_h + j] + reset * hidden_n).tanh();
                acts[base + j] = reset;
                acts[base + n_h + j] = update;
                acts[base + 2 * n_h + j] = candidate;
                hn[r * n_h + j] = hidden_n;
                let idx = r * n_h + j;
                h_next[idx] = (T::ONE - update) * candidate + update * h_prev[idx];
            }
        }
        self.steps += 1;
        Ok(&self.h[(t + 1) * state..(t + 2) * state])
    }

    /// Backpropagates through the window, with the arguments of [`super::LstmTape::backward`]
    /// less the cell state. Afterwards [`initial_state_grad`](Self::initial_state_grad)
    /// returns `∂L/∂h_0`.
    pub fn backward(&mut self, params: &CellParams<T>, dh_out: &[T], dh_final: &[T], grads: &mut CellParams<T>, mut dx: Option<&mut [T]>) -> Result<()> {
        check_cell(params, CellKind::Gru, self.input, self.hidden)?;
        check_cell(grads, CellKind::Gru, self.input, self.hidden)?;
        let (b, n_in, n_h, n) = (self.batch, self.input, self.hidden, self.steps);
        let (rows, state) = (3 * n_h, b * n_h);
        check_len("dh_out", dh_out.len(), n * state)?;
        check_len("dh_final", dh_final.len(), state)?;
        if let Some(dx) = dx.as_deref() {
            check_len("dx", dx.len(), n * b * n_in)?;
        }

        self.dh[..state].copy_from_slice(dh_final);
        for t in (0..n).rev() {
            let acts = &self.acts[t * b * rows..(t + 1) * b * rows];
            let hn = &self.hn[t * state..(t + 1) * state];
            let h_prev = &self.h[t * state..(t + 1) * state];
            let da_in = &mut self.da_input[t * b * rows..(t + 1) * b * rows];
            let da_h = &mut self.da_hidden[t * b * rows..(t + 1) * b * rows];
            for r in 0..b {
                for j in 0..n_h {
                    let (base, idx) = (r * rows, r * n_h + j);
                    let (reset, update, candidate) = (acts[base + j], acts[base + n_h + j], acts[base + 2 * n_h + j]);
                    let dh = self.dh[idx] + dh_out[t * state + idx];
                    let da_n = dh * (T::ONE - update) * (T::ONE - candidate * candidate);
                    let da_z = dh * (h_prev[idx] - candidate) * update * (T::ONE - update);
                    let da_r = da_n * hn[idx] * reset * (T::ONE - reset);
                    da_in[base + j] = da_r;
                    da_in[base + n_h + j] = da_z;
                    da_in[base + 2 * n_h + j] = da_n;
                    da_h[base + j] = da_r;
                    da_h[base + n_h + j] = da_z;
                    da_h[base + 2 * n_h + j] = reset * da_n;
                    self.dh_carry[idx] = dh * update;
                }
            }
            matmul_a_w(b, rows, n_h, da_h, &params.w_hh, T::ZERO, &mut self.dh[..state]);
            for (d, &carry) in self.dh[..state].iter_mut().zip(&self.dh_carry[..state]) {
                *d += carry;
            }
            if let Some(dx) = dx.as_deref_mut() {
                matmul_a_w(b, rows, n_in, da_in, &params.w_ih, T::ZERO, &mut dx[t * b * n_in..(t + 1) * b * n_in]);
            }
        }

        let total = n * b;
        accumulate_at_b(total, rows, n_in, &self.da_input[..total * rows], &self.x[..total * n_in], &mut grads.w_ih);
        accumulate_at_b(total, rows, n_h, &self.da_hidden[..total * rows], &self.h[..n * state], &mut grads.w_hh);
        accumulate_column_sums(total, rows, &self.da_input[..total * rows], &mut grads.b_ih);
        accumulate_column_sums(total, rows, &self.da_hidden[..total * rows], &mut grads.b_hh);
        Ok(())
    }

    /// `∂L/∂h_0` (B × H) left by the last backward pass.
    pub fn initial_state_grad(&self) -> &[T] {
        &self.dh[..self.batch * self.hidden]
    }
}

pub(crate) fn check_cell<T: Real>(params: &CellParams<T>, kind: CellKind, input: usize, hidden: usize) -> Result<()> {
    if params.kind != kind || params.input != input || params.hidden != hidden {
        return Err(Error::invalid(
            "cell parameters",
            format!(
                "are a {:?} cell with {} inputs and {} units, expected a {kind:?} cell with {input} inputs and {hidden} units",
                params.kind, params.input, params.hidden
            ),
        ));
    }
    Ok(())
}
