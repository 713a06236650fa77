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

/// A chord step is taken when the next correction is at most this fraction of the step.
/// Near the root the fraction is about `‖(A − I)⁻¹ (J(x) − A)‖`, with `A` the Jacobian at
/// the root, so it falls with the distance to the root.
pub const CHORD_CONTRACTION: f64 = 0.5;

/// Runs at most `max_steps` chord steps `x ← x − (A − I)⁻¹ r(x)` from `x`, whose `q` is `q`,
/// with `root`, the factorisation of `A − I` at a fixed point found earlier (see
/// `known_roots`), and leaves in `x` the iterate with the lowest `q`. It stops at the first
/// step whose next correction is not at most [`CHORD_CONTRACTION`] of the step.
///
/// A chord step costs one residual and two triangular solves (O(n²)) instead of a Jacobian
/// and an LU factorisation (O(n³)). In the root's basin the steps contract, faster the
/// closer they get, and reach the root to round-off.
pub fn chord(
    map: &dyn RecurrentMap,
    input: &[f64],
    x: &mut [f64],
    q: f64,
    root: &Factorisation,
    max_steps: usize,
    target: f64,
) -> NewtonOutcome {
    let problem = ResidualProblem::new(map, input);
    let n = x.len();
    let mut current = x.to_vec();
    let mut trial = vec![0.0; n];
    let mut residual = vec![0.0; n];
    let mut best_q = q;
    let mut steps = 0;
    let mut workspace = WORKSPACE.with(|cell| cell.take());

    problem.residual(&current, &mut residual);
    let mut delta = root.solve_negated_shared(&residual, &mut workspace);
    while let Some(step) = delta.take() {
        let step_norm = norm(&step);
        if steps >= max_steps || best_q <= target || !step_norm.is_finite() {
            break;
        }
        for ((t, c), d) in trial.iter_mut().zip(&current).zip(&step) {
            *t = c + d;
        }
        let trial_q = problem.residual(&trial, &mut residual);
        let Some(next) = root.solve_negated_shared(&residual, &mut workspace) else {
            break;
        };
        if !trial_q.is_finite() || norm(&next) > CHORD_CONTRACTION * step_norm {
            break;
        }
        current.copy_from_slice(&trial);
        if trial_q < best_q {
            best_q = trial_q;
            x.copy_from_slice(&current);
        }
        steps += 1;
        delta = Some(next);
    }

    WORKSPACE.with(|cell| cell.replace(workspace));
    NewtonOutcome { steps, q: best_q }
}

/// LU factorisation of `J − I` with partial pivoting, packed in place (unit lower factor
/// below the diagonal, upper factor on and above it) as faer's `lu_in_place` leaves it.
///
/// faer (0.24, built without its rayon feature, so always sequential) is used through its
/// in-place routines, and every buffer is kept for the next factorisation. Fresh n × n
/// allocations per Newton step cost more than the factorisation itself at n = 64, because
/// the allocator hands the pages back to the system and takes page faults to get them again.
pub struct Factorisation {
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
    /// Sizes every buffer for an `n`-dimensional state (a no-op when it already is).
    fn ensure_size(&mut self, n: usize) {
        if self.packed.nrows() != n {
            self.packed = Mat::zeros(n, n);
            self.rhs = Mat::zeros(n, 1);
            self.perm = vec![0; n];
            self.perm_inverse = vec![0; n];
            let factor = lu::factor::lu_in_place_scratch::<usize, f64>(n, n, Par::Seq, Default::default());
            let solve = lu::solve::solve_in_place_scratch::<usize, f64>(n, 1, Par::Seq);
            self.scratch = MemBuffer::new(factor.or(solve));
        }
    }

    /// Returns the factorisation of `J − I` at `x` in a new workspace.
    pub fn at(map: &dyn RecurrentMap, x: &[f64], input: &[f64]) -> Self {
        let mut lu = Factorisation::default();
        lu.factorise(map, x, input);
        lu
    }

    /// Factorises `J − I` at `x`, reusing this workspace's buffers.
    fn factorise(&mut self, map: &dyn RecurrentMap, x: &[f64], input: &[f64]) {
        let jacobian = map.jacobian(x, input);
        let n = x.len();
        self.ensure_size(n);
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
        let Factorisation { packed, perm, perm_inverse, scratch, rhs } = self;
        solve_negated_with(packed, perm, perm_inverse, residual, rhs, scratch)
    }

    /// As [`Factorisation::solve_negated`], with this (shared, read-only) factorisation and the
    /// right-hand side and scratch buffers of `workspace`.
    fn solve_negated_shared(&self, residual: &[f64], workspace: &mut Factorisation) -> Option<Vec<f64>> {
        workspace.ensure_size(residual.len());
        let Factorisation { rhs, scratch, .. } = workspace;
        solve_negated_with(&self.packed, &self.perm, &self.perm_inverse, residual, rhs, scratch)
    }
}

/// Solves `(L U) δ = −r` with the packed factors and row permutation of a factorisation.
fn solve_negated_with(
    packed: &Mat<f64>,
    perm: &[usize],
    perm_inverse: &[usize],
    residual: &[f64],
    rhs: &mut Mat<f64>,
    scratch: &mut MemBuffer,
) -> Option<Vec<f64>> {
    let n = residual.len();
    for (i, r) in residual.iter().enumerate() {
        rhs[(i, 0)] = -r;
    }
    let perm = PermRef::new_checked(perm, perm_inverse, n);
    lu::solve::solve_in_place_with_conj(
        packed.as_ref(),
        packed.as_ref(),
        perm,
        Conj::No,
        rhs.as_mut(),
        Par::Seq,
        MemStack::new(scratch),
    );
    let delta: Vec<f64> = (0..n).map(|i| rhs[(i, 0)]).collect();
    delta.iter().all(|d| d.is_finite()).then_some(delta)
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
    fn chord_converges_near_root_only() {
        let root_x = 0.9575040240772688;
        let root = Factorisation::at(&TanhTwo, &[root_x], &[]);

        // Near the root: linear convergence with a shrinking rate reaches round-off.
        let mut x = [0.9];
        let q = 0.5 * ((1.8f64).tanh() - 0.9).powi(2);
        let outcome = chord(&TanhTwo, &[], &mut x, q, &root, 50, 1e-20);
        assert!(outcome.q < 1e-20, "q = {}", outcome.q);
        assert!((x[0] - root_x).abs() < 1e-10);

        // The mirror attractor −0.9575 has the same Jacobian, so the chord reaches it too:
        // whatever root a contracting chord reaches is a genuine one.
        let mut x = [-0.9];
        let q = 0.5 * ((-1.8f64).tanh() + 0.9).powi(2);
        let outcome = chord(&TanhTwo, &[], &mut x, q, &root, 50, 1e-20);
        assert!(outcome.q < 1e-20, "q = {}", outcome.q);
        assert!((x[0] + root_x).abs() < 1e-10, "x = {}", x[0]);

        // Near the saddle at 0 (J − I = +1 there, −0.834 at the root) the first step moves
        // away and the next correction grows, so nothing is accepted.
        let mut x = [0.05];
        let q = 0.5 * ((0.1f64).tanh() - 0.05).powi(2);
        let outcome = chord(&TanhTwo, &[], &mut x, q, &root, 50, 1e-20);
        assert_eq!(outcome.steps, 0);
        assert_eq!(outcome.q, q);
        assert_eq!(x[0], 0.05);
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
