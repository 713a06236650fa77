//! Batch runs from a declarative spec (`analyze figures`): train, simulate and measure every
//! network of every group, caching each product under a hash of its configuration, then
//! compare the groups and write one report folder.
//!
//! Jobs are independent and run in parallel; each is deterministic on its own, so the output
//! does not depend on the thread count. `--shard i/n` runs every n-th job for cluster job
//! arrays, and `--gather` builds the report from the shards' cached products.

pub mod html;
pub mod jobs;
pub mod products;
pub mod runner;
pub mod spec;

pub use jobs::{config_hash, list_jobs, Job, Shard};
pub use runner::{run_batch, BatchOptions, BatchOutcome, Mode};
pub use spec::{BatchSpec, ResolvedGroup};
