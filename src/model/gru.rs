//! The cell of PyTorch's `nn.GRU`, gate rows (r, z, n):
//!
//! ```text
//! r = σ(W_ir u + b_ir + W_hr h + b_hr)
//! z = σ(W_iz u + b_iz + W_hz h + b_hz)
//! n = tanh(W_in u + b_in + r ⊙ (W_hn h + b_hn))
//! h' = (1 − z) ⊙ n + z ⊙ h
//! ```
//!
//! The reset gate multiplies `W_hn h + b_hn` after the product and includes `b_hn`, so the two
//! biases of the n block cannot be summed.

use nalgebra::DMatrix;

use super::cell::{
    check_len, impl_recurrent_map_for_cell, CellDerivatives, CellParams, CellWeights,
};
use super::dense::{sigmoid, with_scratch, write_scaled_block_sum};
use crate::error::Result;

/// One `nn.GRU` layer. Its state is `h` (length H).
#[derive(Debug, Clone)]
pub struct GruCell {
    pub(crate) weights: CellWeights,
}

impl GruCell {
    /// Builds the layer, checking that the parameters have PyTorch's shapes for 3 gate blocks.
    pub fn new(params: CellParams) -> Result<Self> {
        Ok(GruCell {
            weights: CellWeights::new(params, 3)?,
        })
    }

    /// Returns the layer's parameters in PyTorch layout.
    pub fn params(&self) -> &CellParams {
        &self.weights.params
    }

    fn state_len(&self) -> usize {
        self.weights.hidden
    }

    /// Writes the gate values (r, z, n) at (`x`, `u`) into `gates` (3H), and `W_hh h + b_hh`
    /// into `hidden_part` (3H), whose n block the derivatives read.
    fn gates(&self, x: &[f64], u: &[f64], gates: &mut [f64], hidden_part: &mut [f64]) {
        let h = self.weights.hidden;
        self.weights.input_part(u, gates);
        self.weights.hidden_part(x, hidden_part);
        for k in 0..h {
            let r = sigmoid(gates[k] + hidden_part[k]);
            let z = sigmoid(gates[h + k] + hidden_part[h + k]);
            let n = (gates[2 * h + k] + r * hidden_part[2 * h + k]).tanh();
            gates[k] = r;
            gates[h + k] = z;
            gates[2 * h + k] = n;
        }
    }

    fn step_unchecked(&self, x: &[f64], u: &[f64], out: &mut [f64]) {
        let h = self.weights.hidden;
        with_scratch(6 * h, |buf| {
            let (gates, hidden_part) = buf.split_at_mut(3 * h);
            self.gates(x, u, gates, hidden_part);
            self.write_next(x, gates, out);
        });
    }

    /// Writes `h' = (1 − z) ⊙ n + z ⊙ h` from the gate values into `out`.
    fn write_next(&self, x: &[f64], gates: &[f64], out: &mut [f64]) {
        let h = self.weights.hidden;
        for k in 0..h {
            let z = gates[h + k];
            let n = gates[2 * h + k];
            out[k] = (1.0 - z) * n + z * x[k];
        }
    }

    /// Writes `Jᵀ v` from the gate values into `out_x` and, when given, `(∂h'/∂u)ᵀ v` into
    /// `out_u`. `d_ih` and `d_hh` (3H each) are scratch.
    #[allow(clippy::too_many_arguments)]
    fn pull_back(
        &self,
        x: &[f64],
        gates: &[f64],
        hidden_part: &[f64],
        v: &[f64],
        d_ih: &mut [f64],
        d_hh: &mut [f64],
        out_x: &mut [f64],
        out_u: Option<&mut [f64]>,
    ) {
        let h = self.weights.hidden;
        self.coefficients(x, gates, hidden_part, v, d_ih, d_hh);
        for k in 0..h {
            out_x[k] = v[k] * gates[h + k];
        }
        self.weights.w_hh.gemv_t_add(d_hh, out_x);
        if let Some(out_u) = out_u {
            check_len("input cotangent", out_u.len(), self.weights.input);
            out_u.fill(0.0);
            self.weights.w_ih.gemv_t_add(d_ih, out_u);
        }
    }

    /// [`RecurrentMap::residual_vjp`] with one gate computation for both results.
    fn residual_vjp_unchecked(&self, x: &[f64], u: &[f64], residual: &mut [f64], out: &mut [f64]) {
        let h = self.weights.hidden;
        with_scratch(12 * h, |buf| {
            let (gates, rest) = buf.split_at_mut(3 * h);
            let (hidden_part, rest) = rest.split_at_mut(3 * h);
            let (d_ih, d_hh) = rest.split_at_mut(3 * h);

            self.gates(x, u, gates, hidden_part);
            self.write_next(x, gates, residual);
            for (r, xk) in residual.iter_mut().zip(x) {
                *r -= xk;
            }
            self.pull_back(x, gates, hidden_part, residual, d_ih, d_hh, out, None);
        });
    }

    /// Writes the pre-activation coefficients of `∂h'_k` for each gate row into `d_ih` (rows
    /// multiplying `W_ih`) and `d_hh` (rows multiplying `W_hh`), scaled by `v`:
    ///
    /// - n block: `d_ih = v (1 − z)(1 − n²)`, `d_hh = d_ih · r`;
    /// - r block: `v (1 − z)(1 − n²) (W_hn h + b_hn) r (1 − r)`, the same for both;
    /// - z block: `v (h − n) z (1 − z)`, the same for both.
    ///
    /// The direct term `∂h'/∂h ∋ diag(z)` is left to the caller.
    fn coefficients(
        &self,
        x: &[f64],
        gates: &[f64],
        hidden_part: &[f64],
        v: &[f64],
        d_ih: &mut [f64],
        d_hh: &mut [f64],
    ) {
        let h = self.weights.hidden;
        for k in 0..h {
            let r = gates[k];
            let z = gates[h + k];
            let n = gates[2 * h + k];
            let dn = v[k] * (1.0 - z) * (1.0 - n * n);
            let dr = dn * hidden_part[2 * h + k] * r * (1.0 - r);
            let dz = v[k] * (x[k] - n) * z * (1.0 - z);

            d_ih[k] = dr;
            d_hh[k] = dr;
            d_ih[h + k] = dz;
            d_hh[h + k] = dz;
            d_ih[2 * h + k] = dn;
            d_hh[2 * h + k] = dn * r;
        }
    }

    fn check(&self, x: &[f64], u: &[f64]) {
        check_len("state x", x.len(), self.state_len());
        check_len("input u", u.len(), self.weights.input);
    }
}

impl CellDerivatives for GruCell {
    fn jacobians_into(
        &self,
        x: &[f64],
        u: &[f64],
        jx: &mut DMatrix<f64>,
        ju: Option<&mut DMatrix<f64>>,
    ) {
        self.check(x, u);
        let h = self.weights.hidden;

        with_scratch(13 * h, |buf| {
            let (gates, rest) = buf.split_at_mut(3 * h);
            let (hidden_part, rest) = rest.split_at_mut(3 * h);
            let (d_ih, rest) = rest.split_at_mut(3 * h);
            let (d_hh, ones) = rest.split_at_mut(3 * h);
            ones.fill(1.0);

            self.gates(x, u, gates, hidden_part);
            self.coefficients(x, gates, hidden_part, ones, d_ih, d_hh);

            write_scaled_block_sum(&self.weights.params.weight_hh, d_hh, h, jx, (0, 0));
            for k in 0..h {
                jx[(k, k)] += gates[h + k];
            }
            if let Some(ju) = ju {
                write_scaled_block_sum(&self.weights.params.weight_ih, d_ih, h, ju, (0, 0));
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

        with_scratch(12 * h, |buf| {
            let (gates, rest) = buf.split_at_mut(3 * h);
            let (hidden_part, rest) = rest.split_at_mut(3 * h);
            let (d_ih, d_hh) = rest.split_at_mut(3 * h);

            self.gates(x, u, gates, hidden_part);
            self.pull_back(x, gates, hidden_part, v, d_ih, d_hh, out_x, out_u);
        });
    }
}

impl_recurrent_map_for_cell!(GruCell);
