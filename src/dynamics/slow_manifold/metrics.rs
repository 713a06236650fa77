//! Per-network slow-dynamics metrics, the inputs of group comparisons.

use serde::{Deserialize, Serialize};

use crate::behavior::records::SimulationDir;
use crate::error::Result;
use crate::model::TwoRegion;

/// Slow-dynamics summary of one region analysed in one block context.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RegionMetrics {
    /// `ofc` or `str`.
    pub region: String,
    /// Block context of the clamped input: `mixed`, `high` or `low`.
    pub context: String,
    /// Dynamical features: DBSCAN clusters of slow points plus isolated fixed points.
    pub n_features: usize,
    pub n_fixed_points: usize,
    pub n_slow_points: usize,
    /// Principal components needed for 90 % of the wait-epoch state variance (a count, ≥ 1).
    pub components_90: usize,
    /// Slowest finite time constant over all features, seconds; `None` without features.
    pub slowest_tau_s: Option<f64>,
    /// Whether any feature is a line attractor (an eigenvalue modulus within 1e-3 of 1).
    pub has_line_attractor: bool,
    /// OFC only: cross-validated accuracy of decoding the block from positions along the slow
    /// manifold; `None` for the STR or when undefined.
    pub block_decodability: Option<f64>,
}

/// Slow-dynamics summary of one network: the OFC in the mixed context and the STR in each
/// block context.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SlowDynamicsMetrics {
    pub ofc: RegionMetrics,
    pub str_contexts: Vec<RegionMetrics>,
}

/// Settings of the slow-manifold analysis (defaults documented on each field).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SlowManifoldOptions {
    /// Number of slow-point searches per region and context.
    pub starts: usize,
    /// Seed of the starts.
    pub seed: u64,
}

impl Default for SlowManifoldOptions {
    fn default() -> Self {
        SlowManifoldOptions { starts: 256, seed: 0 }
    }
}

/// Computes the slow-dynamics metrics of `network` from the simulation `sim`.
pub fn slow_dynamics_metrics(network: &TwoRegion, sim: &SimulationDir, opts: &SlowManifoldOptions) -> Result<SlowDynamicsMetrics> {
    // TODO: placeholder interface; the slow-manifold analysis replaces this body.
    let _ = (network, sim, opts);
    Err(crate::error::Error::Numerical("slow-manifold metrics are not implemented yet".into()))
}
