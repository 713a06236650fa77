//! Task generators: the temporal-wagering environment, the kindergarten curriculum's
//! supervised tasks, block inference, and the 3-bit flip-flop.
//!
//! Every generator is seeded through [`crate::rng::stream`] with one named stream per purpose,
//! so the same seed gives the same bytes on every machine and thread count. Training data are
//! f32; quantities that are summed or compared in tests (rewards, delays) stay f64.

pub mod batch;
pub mod flipflop;
pub mod inference;
pub mod kindergarten;
pub mod optimal;
pub mod wait_time;

pub use batch::SupervisedBatch;



pub use wait_time::{
    named_input, Action, Block, EnvConfig, Epoch, Outcome, StepOutcome, TrialRecord,
    WaitTimeEnv, NAMED_INPUTS,
};
