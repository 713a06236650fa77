//! Newton polishing of a point where `q` is already small.
//!
//! Each step solves `(J − I) δ = −r` with an LU factorisation. Step sizes come from
//! Deuflhard's restricted natural monotonicity test. A damped step `x + s δ` is accepted
//! when the simplified Newton correction at the new point, `δ̄ = −(J − I)⁻¹ r(x + s δ)` with
//! the same factorisation, satisfies `‖δ̄‖ ≤ (1 − s/4)‖δ‖`. Otherwise `s` is halved.
//!
//! Unlike a test on `q`, this test is invariant to rescaling the equations. It therefore
//! keeps full steps near attractors with `|λ|` close to 1, where `J − I` is nearly singular
//! and a curved slow manifold makes `q` rise along good steps. The point with the lowest `q`
//! seen is returned, so polishing never makes a point worse. Once steps contract fast, the
//! factorisation is reused for chord steps (see [`REUSE_CONTRACTION`]).

use std::cell::RefCell;

use faer::dyn_stack::{MemBuffer, MemStack, StackReq};
use faer::linalg::lu::partial_pivoting as lu;
use faer::perm::PermRef;
use faer::{Conj, Mat, Par};

use super::problem::ResidualProblem;
use crate::model::RecurrentMap;

/// Maximum number of step halvings per Newton step (smallest step scale 2⁻¹⁰).
const MAX_HALVINGS: usize = 10;

/// A full step whose simplified correction shrank below this fraction of the step is in the
/// fast-converging regime, so that correction becomes the next step with the same
/// factorisation (a chord step), saving a Jacobian and an LU factorisation.
pub const REUSE_CONTRACTION: f64 = 0.01;

/// Result of [`polish`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct NewtonOutcome {
    /// Accepted Newton steps.
    pub steps: usize,
    /// `q` at the returned point.
    pub q: f64,
}

/// Runs at most `max_steps` damped Newton steps from `x`, whose `q` is `q`, and leaves in `x`
/// the iterate with the lowest `q`. Stops early once `q ≤ target`, when no step scale passes
/// the monotonicity test, or when `J − I` is singular.
pub fn polish(
    map: &dyn RecurrentMap,
    input: &[f64],
    x: &mut [f64],
    q: f64,
    max_steps: usize,
    target: f64,
) -> NewtonOutcome {
    let problem = ResidualProblem::new(map, input);
    let n = x.len();
    let mut current = x.to_vec();
    let mut residual = vec![0.0; n];
    let mut trial = vec![0.0; n];
    let mut trial_residual = vec![0.0; n];
    let mut best_q = q;
    let mut steps = 0;

    problem.residual(&current, &mut residual);

    let mut lu = WORKSPACE.with(|cell| cell.take());

    // Whether `lu` contains a factorisation from this call and, after a fast-contracting full
    // step, the simplified correction to reuse as the next step instead of forming a new
    // Jacobian.
    let mut factorised = false;
    let mut reuse: Option<Vec<f64>> = None;

    while steps < max_steps && best_q > target {
        let reused = reuse.is_some() && factorised;
        let delta = match reuse.take() {
            Some(correction) if factorised => correction,
            _ => {
                lu.factorise(map, &current, input);
                factorised = true;
                let Some(delta) = lu.solve_negated(&residual) else {
                    break;
                };
                delta
            }
        };
        let delta_norm = norm(&delta);
        if !delta_norm.is_finite() {
            break;
        }

        let mut accepted = false;
        let mut scale = 1.0;
        for _ in 0..=MAX_HALVINGS {
            for i in 0..n {
                trial[i] = current[i] + scale * delta[i];
            }
            let trial_q = problem.residual(&trial, &mut trial_residual);
            let Some(correction) = lu.solve_negated(&trial_residual) else {
                break;
            };
            let contraction = norm(&correction) / delta_norm;
            if trial_q.is_finite() && contraction <= 1.0 - scale / 4.0 {
                current.copy_from_slice(&trial);
                residual.copy_from_slice(&trial_residual);
                if trial_q < best_q {
                    best_q = trial_q;
                    x.copy_from_slice(&current);
                }
                if scale == 1.0 && contraction <= REUSE_CONTRACTION {
                    reuse = Some(correction);
                }
                accepted = true;
                break;
            }
            scale *= 0.5;
        }
        if !accepted {
            // A step that reused the old factorisation gets one retry with a fresh Jacobian.
            if reused {
                factorised = false;
                continue;
            }
            break;
        }
        steps += 1;
    }

    WORKSPACE.with(|cell| cell.replace(lu));
    NewtonOutcome { steps, q: best_q }
}

/// LU factorisation of `J − I` with partial pivoting, packed in place (unit lower factor
/// below the diagonal, upper factor on and above it) as faer's `lu_in_place` leaves it.
///
/// faer (0.24, built without its rayon feature, so always sequential) is used through its
/// in-place routines, and every buffer is kept for the next factorisation. Fresh n × n
/// allocations per Newton step cost more than the factorisation itself at n = 64, because
/// the allocator hands the pages back to the system and takes page faults to get them again.
struct Factorisation {
    packed: Mat<f64>,
    perm: Vec<usize>,
    perm_inverse: Vec<usize>,
    scratch: MemBuffer,
    rhs: Mat<f64>,
}

impl Default for Factorisation {
    fn default() -> Self {
        Factorisation {
            packed: Mat::new(),
            perm: Vec::new(),
            perm_inverse: Vec::new(),
            scratch: MemBuffer::new(StackReq::EMPTY),
            rhs: Mat::new(),
        }
    }
}

impl Factorisation {
    /// Factorises `J − I` at `x`, reusing this workspace's buffers.
    fn factorise(&mut self, map: &dyn RecurrentMap, x: &[f64], input: &[f64]) {
        let jacobian = map.jacobian(x, input);
        let n = x.len();
        if self.packed.nrows() != n {
            self.packed = Mat::zeros(n, n);
            self.rhs = Mat::zeros(n, 1);
            self.perm = vec![0; n];
            self.perm_inverse = vec![0; n];
            let factor = lu::factor::lu_in_place_scratch::<usize, f64>(n, n, Par::Seq, Default::default());
            let solve = lu::solve::solve_in_place_scratch::<usize, f64>(n, 1, Par::Seq);
            self.scratch = MemBuffer::new(factor.or(solve));
        }
        for j in 0..n {
            for i in 0..n {
                self.packed[(i, j)] = jacobian[(i, j)] - if i == j { 1.0 } else { 0.0 };
            }
        }
        lu::factor::lu_in_place(
            self.packed.as_mut(),
            &mut self.perm,
            &mut self.perm_inverse,
            Par::Seq,
            MemStack::new(&mut self.scratch),
            Default::default(),
        );
    }

    /// Returns `δ = −(J − I)⁻¹ r`, or `None` when it is not finite (a singular `J − I`, since
    /// faer does not report singularity itself).
    fn solve_negated(&mut self, residual: &[f64]) -> Option<Vec<f64>> {
        let n = residual.len();
        for (i, r) in residual.iter().enumerate() {
            self.rhs[(i, 0)] = -r;
        }
        let perm = PermRef::new_checked(&self.perm, &self.perm_inverse, n);
        lu::solve::solve_in_place_with_conj(
            self.packed.as_ref(),
            self.packed.as_ref(),
            perm,
            Conj::No,
            self.rhs.as_mut(),
            Par::Seq,
            MemStack::new(&mut self.scratch),
        );
        let delta: Vec<f64> = (0..n).map(|i| self.rhs[(i, 0)]).collect();
        delta.iter().all(|d| d.is_finite()).then_some(delta)
    }
}

thread_local! {
    /// The Newton workspace of this thread, so that buffers outlive one `polish` call. A
    /// call takes it out while it runs, so a nested call would start from an empty one.
    static WORKSPACE: RefCell<Factorisation> = RefCell::new(Factorisation::default());
}

fn norm(v: &[f64]) -> f64 {
    v.iter().map(|x| x * x).sum::<f64>().sqrt()
}

#[cfg(test)]
mod tests {
    use nalgebra::DMatrix;

    use super::*;

    /// `h' = tanh(2h)`, with stable fixed points at ±0.9575040240772688 (λ = 0.16637).
    struct TanhTwo;

    impl RecurrentMap for TanhTwo {
        fn state_dim(&self) -> usize {
            1
        }
        fn input_dim(&self) -> usize {
            0
        }
        fn step(&self, x: &[f64], _u: &[f64], out: &mut [f64]) {
            out[0] = (2.0 * x[0]).tanh();
        }
        fn jacobian(&self, x: &[f64], _u: &[f64]) -> DMatrix<f64> {
            let h = (2.0 * x[0]).tanh();
            DMatrix::from_element(1, 1, 2.0 * (1.0 - h * h))
        }
        fn vjp(&self, x: &[f64], u: &[f64], v: &[f64], out: &mut [f64]) {
            out[0] = self.jacobian(x, u)[(0, 0)] * v[0];
        }
    }

    #[test]
    fn polish_reaches_target_quickly() {
        let mut x = [0.9];
        let q = 0.5 * ((1.8f64).tanh() - 0.9).powi(2);
        let outcome = polish(&TanhTwo, &[], &mut x, q, 8, 1e-20);

        assert!(outcome.q < 1e-20, "q = {}", outcome.q);
        assert!(outcome.steps <= 5, "{} steps", outcome.steps);
        assert!((x[0] - 0.9575040240772688).abs() < 1e-10);
    }

    #[test]
    fn polish_never_worsens_point() {
        // At the saddle's neighbour x = 0.3 the Newton step overshoots to the stable branch;
        // whatever it does, the returned q is at most the input q.
        for start in [0.3f64, -0.6, 2.0, 5.0] {
            let mut x = [start];
            let q = 0.5 * ((2.0 * start as f64).tanh() - start).powi(2);
            let outcome = polish(&TanhTwo, &[], &mut x, q, 8, 1e-20);
            assert!(outcome.q <= q, "start {start}: {} > {q}", outcome.q);
            let actual = 0.5 * ((2.0 * x[0]).tanh() - x[0]).powi(2);
            assert_eq!(actual, outcome.q);
        }
    }

    #[test]
    fn polish_respects_step_limit() {
        let mut x = [5.0];
        let q = 0.5 * ((10.0f64).tanh() - 5.0).powi(2);
        let outcome = polish(&TanhTwo, &[], &mut x, q, 0, 1e-20);
        assert_eq!(outcome.steps, 0);
        assert_eq!(x[0], 5.0);
    }
}
