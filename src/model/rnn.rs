//! The Elman cell of PyTorch's `nn.RNN`: `h' = φ(W_ih u + b_ih + W_hh h + b_hh)` with
//! φ = tanh or relu.

use nalgebra::DMatrix;

use super::cell::{
    check_len, impl_recurrent_map_for_cell, CellDerivatives, CellParams, CellWeights,
};
use super::dense::{with_scratch, write_scaled_block_sum};
use crate::error::Result;

/// The nonlinearity of an `nn.RNN` layer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Nonlinearity {
    Tanh,
    Relu,
}

/// One `nn.RNN` layer. Its state is `h` (length H).
#[derive(Debug, Clone)]
pub struct RnnCell {
    pub(crate) weights: CellWeights,
    nonlinearity: Nonlinearity,
}

impl RnnCell {
    /// Builds the layer, checking that the parameters have PyTorch's shapes for one gate block.
    pub fn new(params: CellParams, nonlinearity: Nonlinearity) -> Result<Self> {
        Ok(RnnCell {
            weights: CellWeights::new(params, 1)?,
            nonlinearity,
        })
    }

    /// Returns the layer's parameters in PyTorch layout.
    pub fn params(&self) -> &CellParams {
        &self.weights.params
    }

    /// Returns the nonlinearity φ.
    pub fn nonlinearity(&self) -> Nonlinearity {
        self.nonlinearity
    }

    fn state_len(&self) -> usize {
        self.weights.hidden
    }

    fn activate(&self, a: f64) -> f64 {
        match self.nonlinearity {
            Nonlinearity::Tanh => a.tanh(),
            Nonlinearity::Relu => a.max(0.0),
        }
    }

    /// φ'(a). For relu the derivative at exactly 0 is taken as 0, as PyTorch's autograd does.
    fn derivative(&self, a: f64) -> f64 {
        match self.nonlinearity {
            Nonlinearity::Tanh => {
                let t = a.tanh();
                1.0 - t * t
            }
            Nonlinearity::Relu => {
                if a > 0.0 {
                    1.0
                } else {
                    0.0
                }
            }
        }
    }

    fn step_unchecked(&self, x: &[f64], u: &[f64], out: &mut [f64]) {
        self.weights.preactivation(u, x, out);
        for o in out.iter_mut() {
            *o = self.activate(*o);
        }
    }

    /// [`RecurrentMap::residual_vjp`] with one pre-activation for both results. For tanh the
    /// derivative reuses `h' = tanh(a)` as `1 − h'²`, which is bitwise what
    /// [`derivative`](RnnCell::derivative) computes.
    fn residual_vjp_unchecked(&self, x: &[f64], u: &[f64], residual: &mut [f64], out: &mut [f64]) {
        with_scratch(self.weights.hidden, |d| {
            self.weights.preactivation(u, x, d);
            for ((dk, rk), xk) in d.iter_mut().zip(residual.iter_mut()).zip(x) {
                let next = self.activate(*dk);
                let slope = match self.nonlinearity {
                    Nonlinearity::Tanh => 1.0 - next * next,
                    Nonlinearity::Relu => self.derivative(*dk),
                };
                *rk = next - xk;
                *dk = slope * *rk;
            }

            out.fill(0.0);
            self.weights.w_hh.gemv_t_add(d, out);
        });
    }

    fn check(&self, x: &[f64], u: &[f64]) {
        check_len("state x", x.len(), self.state_len());
        check_len("input u", u.len(), self.weights.input);
    }
}

impl CellDerivatives for RnnCell {
    /// `∂h'/∂h = diag(φ'(a)) W_hh` and `∂h'/∂u = diag(φ'(a)) W_ih`.
    fn jacobians_into(
        &self,
        x: &[f64],
        u: &[f64],
        jx: &mut DMatrix<f64>,
        ju: Option<&mut DMatrix<f64>>,
    ) {
        self.check(x, u);
        let h = self.weights.hidden;

        with_scratch(h, |coef| {
            self.weights.preactivation(u, x, coef);
            for c in coef.iter_mut() {
                *c = self.derivative(*c);
            }
            write_scaled_block_sum(&self.weights.params.weight_hh, coef, h, jx, (0, 0));
            if let Some(ju) = ju {
                write_scaled_block_sum(&self.weights.params.weight_ih, coef, h, ju, (0, 0));
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

        with_scratch(self.weights.hidden, |d| {
            self.weights.preactivation(u, x, d);
            for (dk, vk) in d.iter_mut().zip(v) {
                *dk = self.derivative(*dk) * vk;
            }

            out_x.fill(0.0);
            self.weights.w_hh.gemv_t_add(d, out_x);
            if let Some(out_u) = out_u {
                check_len("input cotangent", out_u.len(), self.weights.input);
                out_u.fill(0.0);
                self.weights.w_ih.gemv_t_add(d, out_u);
            }
        });
    }
}

impl_recurrent_map_for_cell!(RnnCell);
