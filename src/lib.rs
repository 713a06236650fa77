//! rnn-dynamics: train small recurrent networks on cognitive tasks, then analyse them as
//! dynamical systems (fixed and slow points, spectra, slow manifolds, PCA, flow fields,
//! behaviour) and draw SVG figures.

pub mod batch;
pub mod behavior;
pub mod cli;
pub mod compare;
pub mod dynamics;
pub mod error;
pub mod io;
pub mod model;
pub mod plot;
pub mod rng;
pub mod tasks;
pub mod train;

pub use error::{Error, Result};
