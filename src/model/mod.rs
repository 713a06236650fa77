//! Recurrent networks as one-step maps `x' = F_u(x)` on their state.
//!
//! Every analysis speaks only to [`RecurrentMap`]. Cells follow PyTorch exactly (LSTM gate rows
//! i, f, g, o and state `[h; c]`; GRU rows r, z, n with the reset gate applied to
//! `W_hn h + b_hn`; two bias vectors summed). Files store f32; every map computes in f64.

pub mod cell;
mod dense;
pub mod gru;
mod kernels;
pub mod linear;
pub mod load;
pub mod lstm;
pub mod network;
pub mod rnn;
pub mod save;
pub mod stacked;
pub mod two_region;

#[cfg(test)]
mod fused_tests;

pub use cell::{Cell, CellKind, CellParams};
pub use gru::GruCell;
pub use linear::Linear;
pub use load::{load_model, LoadOptions, LoadedModel, TensorInfo};
pub use lstm::LstmCell;
pub use network::{Arch, Network};
pub use rnn::{Nonlinearity, RnnCell};
pub use save::save_model;
pub use stacked::Stacked;
pub use two_region::{OfcOnlyMap, StrOnlyMap, TwoRegion, BLOCK_LOGITS};

/// A discrete-time recurrent map with its input held constant.
///
/// `x` has length [`state_dim`](RecurrentMap::state_dim) and `u` length
/// [`input_dim`](RecurrentMap::input_dim). Implementations are analytic: `jacobian` returns
/// `∂F/∂x` (state_dim × state_dim) and `vjp` returns `Jᵀ v` without forming `J`.
pub trait RecurrentMap: Send + Sync {
    /// Dimension of the state `x`.
    fn state_dim(&self) -> usize;

    /// Dimension of the input `u`.
    fn input_dim(&self) -> usize;

    /// Writes `F_u(x)` into `out` (length `state_dim`).
    fn step(&self, x: &[f64], u: &[f64], out: &mut [f64]);

    /// Returns the Jacobian `∂F_u/∂x` at `x`.
    fn jacobian(&self, x: &[f64], u: &[f64]) -> nalgebra::DMatrix<f64>;

    /// Writes the vector–Jacobian product `(∂F_u/∂x)ᵀ v` into `out`.
    fn vjp(&self, x: &[f64], u: &[f64], v: &[f64], out: &mut [f64]);

    /// Writes the residual `r = F_u(x) − x` into `residual` and the vector–Jacobian product
    /// `(∂F_u/∂x)ᵀ r` into `out`. These are the two parts of the gradient `(J − I)ᵀ r` of
    /// `q = ½‖r‖²`, so the fixed-point search calls this once per point.
    ///
    /// The default calls [`step`](RecurrentMap::step) and then [`vjp`](RecurrentMap::vjp).
    /// The cells override it to compute their gates once for both, and the stacked and
    /// two-region networks to run their forward pass once. Every override returns the same
    /// bits as the default.
    fn residual_vjp(&self, x: &[f64], u: &[f64], residual: &mut [f64], out: &mut [f64]) {
        self.step(x, u, residual);
        for (r, xi) in residual.iter_mut().zip(x) {
            *r -= xi;
        }
        self.vjp(x, u, residual, out);
    }
}
