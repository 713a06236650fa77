//! Settings of the fixed-point search, with their defaults.

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// Settings of [`find_fixed_points`](super::find_fixed_points). All `q` values are in state
/// units squared per step, where `q(x) = ½‖F_u(x) − x‖²`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct FixedPointOptions {
    /// A point is a fixed point when `q < fixed_tol` (default 1e-12).
    pub fixed_tol: f64,
    /// A point is a slow point when `fixed_tol ≤ q < slow_tol` (default 1e-6). Starts that
    /// end above it are recorded as not converged and give no point.
    pub slow_tol: f64,
    /// Half-width of the marginal band around `|λ| = 1` (default 1e-6).
    pub stability_band: f64,
    /// Two points closer than this Euclidean distance, in state units, are the same point
    /// (default 1e-3).
    pub duplicate_radius: f64,
    /// Maximum number of L-BFGS iterations per start, summed over all L-BFGS runs (default
    /// 200). L-BFGS only has to bring `q` below `newton_threshold`. On the random GRU-256
    /// fixture, no start that reached a fixed point needed more than 128 iterations.
    pub max_iterations: u64,
    /// L-BFGS runs in windows of this many iterations, and a start whose `q` is still at or
    /// above `slow_tol` and fell by less than half over a window stops as stalled (default
    /// 40). After a failed Newton attempt, `q` must fall tenfold per window instead. Each
    /// window restarts L-BFGS's memory. Zero disables windows and the stall test. On 256
    /// starts of the random GRU-256 fixture, windows of 20 kept 9 of the 46 starts that reach
    /// a fixed point with 40, and windows of 30 kept 37.
    pub stall_window: u64,
    /// Number of correction pairs L-BFGS keeps (default 10).
    pub lbfgs_memory: usize,
    /// L-BFGS stops once `q` falls below this value and damped Newton takes over (default
    /// 1e-2), because L-BFGS crawls near attractors with `|λ|` close to 1. On the flip-flop
    /// GRU-64 fixture, 1e-6 needed 106 081 L-BFGS iterations over 1024 starts and 1e-2
    /// needed 1873. Much larger values let Newton stop at slow points instead.
    pub newton_threshold: f64,
    /// Maximum number of Newton steps per polishing phase (default 20). Zero disables
    /// polishing.
    pub newton_steps: usize,
    /// Seconds per step, for speeds and time constants in seconds (default 1).
    pub dt: f64,
    /// Number of leading modes per point whose eigenvectors are reported (default 3).
    pub n_eigenvectors: usize,
}

impl Default for FixedPointOptions {
    fn default() -> Self {
        FixedPointOptions {
            fixed_tol: 1e-12,
            slow_tol: 1e-6,
            stability_band: 1e-6,
            duplicate_radius: 1e-3,
            max_iterations: 200,
            stall_window: 40,
            lbfgs_memory: 10,
            newton_threshold: 1e-2,
            newton_steps: 20,
            dt: 1.0,
            n_eigenvectors: 3,
        }
    }
}

fn check_positive(what: &str, value: f64) -> Result<()> {
    if value.is_finite() && value > 0.0 {
        Ok(())
    } else {
        Err(Error::invalid(what, format!("{value} (expected a finite number > 0)")))
    }
}

impl FixedPointOptions {
    /// Checks every field: tolerances finite and positive with `fixed_tol ≤ slow_tol`, a
    /// finite non-negative radius and band, and at least one iteration and one L-BFGS pair.
    pub fn validate(&self) -> Result<()> {
        check_positive("fixed-point tolerance", self.fixed_tol)?;
        check_positive("slow-point tolerance", self.slow_tol)?;
        check_positive("Newton threshold", self.newton_threshold)?;
        check_positive("dt", self.dt)?;
        if self.fixed_tol > self.slow_tol {
            return Err(Error::invalid(
                "fixed-point tolerance",
                format!("{} is above the slow-point tolerance {}", self.fixed_tol, self.slow_tol),
            ));
        }
        if !(self.duplicate_radius.is_finite() && self.duplicate_radius >= 0.0) {
            return Err(Error::invalid(
                "duplicate radius",
                format!("{} (expected a finite number >= 0)", self.duplicate_radius),
            ));
        }
        if !(self.stability_band.is_finite() && self.stability_band >= 0.0) {
            return Err(Error::invalid(
                "stability band",
                format!("{} (expected a finite number >= 0)", self.stability_band),
            ));
        }
        if self.max_iterations == 0 {
            return Err(Error::invalid("max iterations", "0 (expected at least 1)"));
        }
        if self.lbfgs_memory == 0 {
            return Err(Error::invalid("L-BFGS memory", "0 (expected at least 1)"));
        }
        Ok(())
    }
}
