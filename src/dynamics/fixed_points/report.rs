//! Result types of the fixed-point search, written as `fixed_points.json`.

use serde::{Deserialize, Serialize};

use super::options::FixedPointOptions;
use crate::dynamics::spectrum::Spectrum;

/// Format tag of a serialised [`FixedPointReport`].
pub const REPORT_FORMAT: &str = "rnn-dynamics/fixed-points/1";

/// Kind of a reported point.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PointKind {
    /// `q < fixed_tol`.
    Fixed,
    /// `fixed_tol ≤ q < slow_tol`.
    Slow,
}

/// Outcome of one start.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StartOutcome {
    /// Ended with `q < fixed_tol`.
    Fixed,
    /// Ended with `fixed_tol ≤ q < slow_tol`.
    Slow,
    /// Ended with a finite `q ≥ slow_tol`, so it gives no point.
    NotConverged,
    /// `q` was not finite at the start, so it gives no point.
    Failed,
}

/// One fixed or slow point after duplicate removal.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FixedPoint {
    /// State coordinates, exactly as the best of its starts found them (never averaged).
    pub x: Vec<f64>,
    /// `q(x) = ½‖F_u(x) − x‖²`.
    pub q: f64,
    /// `‖F_u(x) − x‖ = √(2q)`, state units per step.
    pub speed_per_step: f64,
    /// `√(2q)/dt`, state units per second.
    pub speed_per_second: f64,
    /// Fixed or slow.
    pub kind: PointKind,
    /// Eigenvalues, modes and stability of the Jacobian at `x`.
    pub spectrum: Spectrum,
    /// Indices of every start that ended at this point, ascending.
    pub starts: Vec<usize>,
}

/// Record of one start.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StartRecord {
    /// Index of the start in the input list.
    pub index: usize,
    /// `q` at the start, or `None` when it is not finite.
    pub initial_q: Option<f64>,
    /// `q` at the end, or `None` when it is not finite.
    pub final_q: Option<f64>,
    /// L-BFGS iterations, summed over both phases.
    pub iterations: u64,
    /// Accepted Newton and chord steps, summed over every polishing attempt.
    pub newton_steps: usize,
    /// Reason the last L-BFGS run stopped, in argmin's words, or the reason the start failed
    /// or stalled.
    pub termination: String,
    /// Class of the end point.
    pub outcome: StartOutcome,
    /// Index into [`FixedPointReport::points`] of the point this start ended at.
    pub point: Option<usize>,
}

/// Everything the search found, with the settings that define "fixed", "slow" and "unique".
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FixedPointReport {
    /// Always [`REPORT_FORMAT`].
    pub format: String,
    /// The settings used, including the duplicate radius.
    pub options: FixedPointOptions,
    /// The constant input `u`.
    pub input: Vec<f64>,
    /// Unique points, sorted by `q` ascending.
    pub points: Vec<FixedPoint>,
    /// One record per start, in input order.
    pub starts: Vec<StartRecord>,
}

impl FixedPointReport {
    /// Number of points of the given kind.
    pub fn count(&self, kind: PointKind) -> usize {
        self.points.iter().filter(|p| p.kind == kind).count()
    }

    /// Number of starts with the given outcome.
    pub fn count_starts(&self, outcome: StartOutcome) -> usize {
        self.starts.iter().filter(|s| s.outcome == outcome).count()
    }
}
