//! Newton polishing of a point where `q` is already small.
//!
//! Each step solves `(J − I) δ = −r` with an LU factorisation and halves the step until `q`
//! decreases, so a step is accepted only when it improves `q`. Near an attractor with
//! `|λ|` close to 1 this converges quadratically where L-BFGS crawls.

use nalgebra::{DMatrix, DVector};

use super::problem::ResidualProblem;
use crate::model::RecurrentMap;

/// Maximum number of step halvings tried per Newton step.
const MAX_HALVINGS: usize = 10;

/// Below this `q` (residual about 1e-16, the f64 rounding level of states of order 1) further
/// steps cannot improve the point.
const Q_FLOOR: f64 = 1e-32;

/// Result of [`polish`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct NewtonOutcome {
    /// Accepted Newton steps.
    pub steps: usize,
    /// `q` at the final point.
    pub q: f64,
}

/// Runs at most `max_steps` Newton steps from `x` (updated in place) whose `q` is `q`.
/// Stops early when a step fails to decrease `q`, when `J − I` is singular, or when `q`
/// reaches the rounding floor.
pub fn polish(
    map: &dyn RecurrentMap,
    input: &[f64],
    x: &mut [f64],
    mut q: f64,
    max_steps: usize,
) -> NewtonOutcome {
    let problem = ResidualProblem::new(map, input);
    let n = x.len();
    let mut residual = vec![0.0; n];
    let mut trial = vec![0.0; n];
    let mut trial_residual = vec![0.0; n];
    let mut steps = 0;

    while steps < max_steps && q > Q_FLOOR {
        problem.residual(x, &mut residual);

        let mut system: DMatrix<f64> = map.jacobian(x, input);
        for i in 0..n {
            system[(i, i)] -= 1.0;
        }
        let rhs = -DVector::from_column_slice(&residual);
        let Some(delta) = system.lu().solve(&rhs) else {
            break;
        };
        if !delta.iter().all(|d| d.is_finite()) {
            break;
        }

        let mut accepted = false;
        let mut scale = 1.0;
        for _ in 0..=MAX_HALVINGS {
            for i in 0..n {
                trial[i] = x[i] + scale * delta[i];
            }
            let trial_q = problem.residual(&trial, &mut trial_residual);
            if trial_q < q {
                x.copy_from_slice(&trial);
                q = trial_q;
                accepted = true;
                break;
            }
            scale *= 0.5;
        }
        if !accepted {
            break;
        }
        steps += 1;
    }

    NewtonOutcome { steps, q }
}
