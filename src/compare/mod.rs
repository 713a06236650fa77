//! Group comparisons: per-network metrics and nonparametric statistics.
//!
//! Every function here is pure, works in f64 and returns a serde-serialisable result. Where a
//! quantity is undefined (zero variance, too few values) the result marks it with a flag or an
//! `Option`, so that no NaN reaches a JSON file.

pub mod bootstrap;
pub mod effect;
pub mod groups;
pub mod ks;
pub mod mann_whitney;
pub mod metrics;
pub mod ols;
pub mod report;
pub mod ridge;
pub mod summary;

pub use bootstrap::{bootstrap_ci, BootstrapCi};
pub use effect::cliffs_delta;
pub use groups::{compare_metric, compare_values, Group, GroupStats, MetricComparison, PairTest, StatsOptions};
pub use ks::{ks_two_sample, ks_two_sample_with, KsMethod, KsTest};
pub use metrics::{network_metrics, MetricDef, MetricsOptions, Missing, NetworkMetrics, METRICS};
pub use mann_whitney::{mann_whitney, mann_whitney_with, MannWhitney, PValueMethod};
pub use ols::{ols_multiple, ols_simple, MultipleOls, SimpleOls};
pub use report::{build_report, write_comparison, ComparisonReport, Figure};
pub use ridge::{ridge_fit, ridge_select, RidgeFit, RidgeSelection, RIDGE_ALPHAS};
pub use summary::{mean, median, sem, Summary};

use crate::error::{Error, Result};

/// Checks that a sample is non-empty and finite, naming it `what` in the error.
pub(crate) fn check_sample(what: &str, values: &[f64]) -> Result<()> {
    if values.is_empty() {
        return Err(Error::invalid(
            what,
            "sample is empty, expected at least one value",
        ));
    }
    if let Some((index, value)) = values.iter().enumerate().find(|(_, v)| !v.is_finite()) {
        return Err(Error::invalid(
            what,
            format!("value {value} at index {index} is not finite"),
        ));
    }
    Ok(())
}
