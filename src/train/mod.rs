//! The trainer: exact backpropagation through time for LSTM, GRU and tanh-RNN cells and the
//! two-region network, Adam, losses, and the curricula.
//!
//! Training runs in f32; every routine is generic over [`Real`] so the gradient tests run the
//! same code in f64 against central finite differences.

pub mod linalg;
pub mod lstm;
pub mod params;
pub mod real;
pub mod two_region;

pub use lstm::LstmTape;
pub use params::{CellKind, CellParams, LinearParams, TwoRegionParams};
pub use real::Real;
pub use two_region::{TwoRegionState, TwoRegionTape};
