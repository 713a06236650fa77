//! The cell of PyTorch's `nn.LSTM`, gate rows (i, f, g, o), with state `[h; c]`:
//!
//! ```text
//! i = σ(a_i)  f = σ(a_f)  g = tanh(a_g)  o = σ(a_o),   a = W_ih u + b_ih + W_hh h + b_hh
//! c' = f ⊙ c + i ⊙ g
//! h' = o ⊙ tanh(c')
//! ```
//!
//! The cell state is part of the map's state, so the Jacobian is 2H × 2H with blocks
//! `[[∂h'/∂h, ∂h'/∂c], [∂c'/∂h, ∂c'/∂c]]`. Analysing `h` alone would miss the slow modes
//! carried by `c`.

use nalgebra::DMatrix;

use super::cell::{
    check_len, impl_recurrent_map_for_cell, CellDerivatives, CellParams, CellWeights,
};
use super::dense::{sigmoid, with_scratch, write_scaled_block_sum};
use crate::error::Result;

/// One `nn.LSTM` layer. Its state is `[h; c]` (length 2H).
#[derive(Debug, Clone)]
pub struct LstmCell {
    pub(crate) weights: CellWeights,
}

impl LstmCell {
    /// Builds the layer, checking that the parameters have PyTorch's shapes for 4 gate blocks.
    pub fn new(params: CellParams) -> Result<Self> {
        Ok(LstmCell {
            weights: CellWeights::new(params, 4)?,
        })
    }

    /// Returns the layer's parameters in PyTorch layout.
    pub fn params(&self) -> &CellParams {
        &self.weights.params
    }

    fn state_len(&self) -> usize {
        2 * self.weights.hidden
    }

    /// Writes the gate values (i, f, g, o) at (`x`, `u`) into `gates` (4H).
    fn gates(&self, x: &[f64], u: &[f64], gates: &mut [f64]) {
        let h = self.weights.hidden;
        self.weights.preactivation(u, &x[..h], gates);
        for (k, a) in gates.iter_mut().enumerate() {
            *a = if (2 * h..3 * h).contains(&k) {
                a.tanh()
            } else {
                sigmoid(*a)
            };
        }
    }

    fn step_unchecked(&self, x: &[f64], u: &[f64], out: &mut [f64]) {
        let h = self.weights.hidden;
        with_scratch(4 * h, |gates| {
            self.gates(x, u, gates);
            self.write_next(x, gates, out);
        });
    }

    /// Writes `[h'; c']` from the gate values into `out`.
    fn write_next(&self, x: &[f64], gates: &[f64], out: &mut [f64]) {
        let h = self.weights.hidden;
        for k in 0..h {
            let c_new = gates[h + k] * x[h + k] + gates[k] * gates[2 * h + k];
            out[k] = gates[3 * h + k] * c_new.tanh();
            out[h + k] = c_new;
        }
    }

    /// Writes `Jᵀ v` from the gate values into `out_x` and, when given, `(∂x'/∂u)ᵀ v` into
    /// `out_u`. `d` (4H) is scratch.
    fn pull_back(
        &self,
        x: &[f64],
        gates: &[f64],
        v: &[f64],
        d: &mut [f64],
        out_x: &mut [f64],
        out_u: Option<&mut [f64]>,
    ) {
        let h = self.weights.hidden;
        let (out_h, out_c) = out_x.split_at_mut(h);
        self.coefficients(x, gates, &v[..h], &v[h..], d, out_c);
        out_h.fill(0.0);
        self.weights.w_hh.gemv_t_add(d, out_h);
        if let Some(out_u) = out_u {
            check_len("input cotangent", out_u.len(), self.weights.input);
            out_u.fill(0.0);
            self.weights.w_ih.gemv_t_add(d, out_u);
        }
    }

    /// [`RecurrentMap::residual_vjp`] with one gate computation for both results.
    fn residual_vjp_unchecked(&self, x: &[f64], u: &[f64], residual: &mut [f64], out: &mut [f64]) {
        let h = self.weights.hidden;
        with_scratch(8 * h, |buf| {
            let (gates, d) = buf.split_at_mut(4 * h);
            self.gates(x, u, gates);
            self.write_next(x, gates, residual);
            for (r, xk) in residual.iter_mut().zip(x) {
                *r -= xk;
            }
            self.pull_back(x, gates, residual, d, out, None);
        });
    }

    /// Writes the pre-activation cotangents `d` (4H, one per row of both weight matrices) for
    /// the output cotangents `v_h` and `v_c`, and the cotangent of `c` through the direct path
    /// `c → c'` into `direct_c`.
    ///
    /// With `γ = v_c + v_h o (1 − tanh² c')` (the total cotangent of `c'`):
    /// `d_i = γ g i (1 − i)`, `d_f = γ c f (1 − f)`, `d_g = γ i (1 − g²)`,
    /// `d_o = v_h tanh(c') o (1 − o)` and `direct_c = γ f`.
    fn coefficients(
        &self,
        x: &[f64],
        gates: &[f64],
        v_h: &[f64],
        v_c: &[f64],
        d: &mut [f64],
        direct_c: &mut [f64],
    ) {
        let h = self.weights.hidden;
        for k in 0..h {
            let (i, f, g, o) = (gates[k], gates[h + k], gates[2 * h + k], gates[3 * h + k]);
            let c = x[h + k];
            let c_new = f * c + i * g;
            let tc = c_new.tanh();
            let gamma = v_c[k] + v_h[k] * o * (1.0 - tc * tc);

            d[k] = gamma * g * i * (1.0 - i);
            d[h + k] = gamma * c * f * (1.0 - f);
            d[2 * h + k] = gamma * i * (1.0 - g * g);
            d[3 * h + k] = v_h[k] * tc * o * (1.0 - o);
            direct_c[k] = gamma * f;
        }
    }

    fn check(&self, x: &[f64], u: &[f64]) {
        check_len("state x", x.len(), self.state_len());
        check_len("input u", u.len(), self.weights.input);
    }
}

impl CellDerivatives for LstmCell {
    /// Builds the rows for `h'` from the coefficients with (v_h, v_c) = (1, 0) and the rows for
    /// `c'` with (0, 1), both as diagonal scalings of the weight row blocks. The columns for
    /// `c` hold only the direct path `c → c'`, a diagonal.
    fn jacobians_into(
        &self,
        x: &[f64],
        u: &[f64],
        jx: &mut DMatrix<f64>,
        mut ju: Option<&mut DMatrix<f64>>,
    ) {
        self.check(x, u);
        let h = self.weights.hidden;

        with_scratch(11 * h, |buf| {
            let (gates, rest) = buf.split_at_mut(4 * h);
            let (d, rest) = rest.split_at_mut(4 * h);
            let (direct_c, rest) = rest.split_at_mut(h);
            let (ones, zeros) = rest.split_at_mut(h);
            ones.fill(1.0);

            self.gates(x, u, gates);
            for (row0, v_h, v_c) in [(0, &*ones, &*zeros), (h, &*zeros, &*ones)] {
                self.coefficients(x, gates, v_h, v_c, d, direct_c);
                write_scaled_block_sum(&self.weights.params.weight_hh, d, h, jx, (row0, 0));
                if let Some(ju) = ju.as_deref_mut() {
                    write_scaled_block_sum(&self.weights.params.weight_ih, d, h, ju, (row0, 0));
                }
                for k in 0..h {
                    jx[(row0 + k, h + k)] += direct_c[k];
                }
            }
        });
    }

    fn vjp_full(
        &self,
        x: &[f64],
        u: &[f64],
        v: &[f64],
        out_x: &mut [f64],
        out_u: Option<&mut [f64]>,
    ) {
        self.check(x, u);
        check_len("cotangent v", v.len(), self.state_len());
        check_len("output", out_x.len(), self.state_len());
        let h = self.weights.hidden;

        with_scratch(8 * h, |buf| {
            let (gates, d) = buf.split_at_mut(4 * h);
            self.gates(x, u, gates);
            self.pull_back(x, gates, v, d, out_x, out_u);
        });
    }
}

impl_recurrent_map_for_cell!(LstmCell);
