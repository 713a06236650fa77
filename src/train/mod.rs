//! The trainer: exact backpropagation through time for LSTM, GRU and tanh-RNN cells and the
//! two-region network, Adam, losses, and the curricula.
//!
//! Training runs in f32; every routine is generic over [`Real`] so the gradient tests run the
//! same code in f64 against central finite differences.

pub mod actor_critic;
pub mod curriculum;
pub mod adam;
#[cfg(test)]
mod gradient_tests;
pub mod gru;
pub mod linalg;
pub mod losses;
pub mod lstm;
pub mod params;
mod pipeline;
pub mod policy;
pub mod real;
pub mod rnn;
pub mod simulate;
pub mod two_region;
pub mod window;

pub use actor_critic::{actor_critic_window, ActorCriticConfig, ActorCriticLoss, StepRecord};
pub use adam::{global_norm, Adam};
pub use gru::GruTape;
pub use lstm::LstmTape;
pub use params::{CellKind, CellParams, LinearParams, TwoRegionParams};
pub use real::Real;
pub use rnn::RnnTape;
pub use two_region::{TwoRegionState, TwoRegionTape};
pub use window::{supervised_backward, RlWindow, StepOutputs};
