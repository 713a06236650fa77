//! Slow manifolds of the two-region network: speed along trajectories, slow-point searches in
//! the full state space and in the top principal subspace, and their grouping into dynamical
//! features.

pub mod metrics;

pub use metrics::{slow_dynamics_metrics, RegionMetrics, SlowDynamicsMetrics, SlowManifoldOptions};
