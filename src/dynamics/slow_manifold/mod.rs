//! Slow manifolds of the two-region network: speed along trajectories, slow-point searches in
//! the full state space and in the top principal subspace, and their grouping into dynamical
//! features.

pub mod analysis;
pub mod features;
pub mod metrics;
pub mod samples;
pub mod subspace;

pub use analysis::{analyze_region, block_belief, context_logits, region_map, RegionAnalysis, RegionMap, RegionResult};
pub use features::{find_slow_features, SlowFeature, SlowPointSearch, SlowSearchOptions};
pub use metrics::{slow_dynamics_metrics, RegionMetrics, SlowDynamicsMetrics, SlowManifoldOptions};
pub use samples::{epoch_samples, keep_trial, Epoch, EpochSamples, Region};
pub use subspace::SubspaceMap;
