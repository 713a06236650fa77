//! Task generators: the temporal-wagering environment, the kindergarten curriculum's
//! supervised tasks, block inference, and the N-bit flip-flop.
//!
//! The wagering, kindergarten and inference tasks follow Hocker, Constantinople & Savin,
//! "Compositional pretraining improves computational efficiency and matches animal behaviour
//! on complex tasks", Nature Machine Intelligence (2025). "The original code" in this module
//! means that study's published Python code, whose known defects are fixed here where noted.
//!
//! Every generator is seeded through [`crate::rng::stream`] with one named stream per purpose,
//! so the same seed gives the same values on every machine and thread count. Supervised data
//! are f32. The environment's rewards and delays are f64, so a trial's reward slices sum to
//! its offer to rounding.

pub mod batch;
pub mod flipflop;
pub mod inference;
pub mod kindergarten;
pub mod optimal;
pub mod wait_time;

pub use batch::SupervisedBatch;
pub use flipflop::{flipflop_task, FlipFlopConfig};
pub use inference::{inference_task, InferenceBatch, InferenceConfig};
pub use kindergarten::{
    intermediate_task, simple_task, INTERMEDIATE_LENGTHS, REGULARIZER_LENGTHS, SIMPLE_STEPS,
};
pub use optimal::{expected_value_of_waiting, optimal_wait_time, WaitingCosts};
pub use wait_time::{
    named_input, Action, Block, EnvConfig, Epoch, Outcome, StepOutcome, TrialRecord, WaitTimeEnv,
    NAMED_INPUTS,
};
