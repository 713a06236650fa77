//! The search from one start.
//!
//! 1. L-BFGS on `q`, in windows of `stall_window` iterations, until `q < newton_threshold`.
//! 2. Damped Newton towards `q <` [`POLISH_TARGET`]. Near attractors with `|λ|` close to 1
//!    L-BFGS crawls, while Newton converges quadratically once close enough.
//! 3. If the fixed-point tolerance is still not met, L-BFGS resumes until `q` is
//!    [`RETRY_FACTOR`] times lower, and Newton is tried again.
//!
//! A start ends when it reaches the fixed-point tolerance or spends its iteration budget. It
//! also ends when a window leaves `q` above the slow-point tolerance and less than halved (a
//! stall), or when L-BFGS stops for another reason: argmin's own tolerances, a failed line
//! search or a non-finite value.
//!
//! A short L-BFGS run with zero tolerances in place of step 2 was tried: on the flip-flop
//! RNN-64 and GRU-64 fixtures it cost more CPU time than the Newton steps it saved. Newton
//! from `q` up to 1 or 100 cost more CPU time on the random GRU-256 fixture and found fewer
//! fixed points than from 1e-2.

use argmin::core::{Executor, State, TerminationReason};
use argmin::solver::linesearch::MoreThuenteLineSearch;
use argmin::solver::quasinewton::LBFGS;
use nalgebra::DVector;

use super::known_roots::KnownRoots;
use super::newton;
use super::options::FixedPointOptions;
use super::problem::ResidualProblem;
use super::report::{StartOutcome, StartRecord};
use crate::model::RecurrentMap;

/// `q` at which Newton polishing stops: a residual `‖F(x) − x‖` of about 1.4e-10, far below
/// the fixed-point tolerance. The error in `x` is this residual divided by the smallest
/// singular value of `J − I`, so it is larger near attractors with `|λ|` close to 1.
pub const POLISH_TARGET: f64 = 1e-20;

/// After a Newton attempt that ends above the fixed-point tolerance, the next attempt waits
/// until L-BFGS has brought `q` below this fraction of the `q` that attempt left.
const RETRY_FACTOR: f64 = 1e-3;

/// A start stops as stalled when, over one window of L-BFGS iterations, `q` stayed above the
/// slow-point tolerance and fell by less than this factor.
const STALL_FACTOR: f64 = 0.5;

/// The stall factor once a Newton attempt has failed. Such a start sits where `q` is small but
/// no root is near, as at a ghost of a fixed point. On 256 starts of the random GRU-256
/// fixture this stopped 10% of the L-BFGS iterations and lost no start that reaches a fixed
/// point.
const STALL_FACTOR_AFTER_NEWTON: f64 = 0.1;

/// Stopping rules of one L-BFGS run.
#[derive(Clone, Copy)]
struct LbfgsStop {
    max_iterations: u64,
    /// Stop once `q` is below this.
    target: f64,
}

/// End state of one L-BFGS run.
struct LbfgsOutcome {
    x: Vec<f64>,
    q: f64,
    iterations: u64,
    reason: Option<TerminationReason>,
    termination: String,
}

/// Runs L-BFGS with More–Thuente line search from `x0`, with argmin's default gradient and
/// cost tolerances. A non-finite cost or gradient ends the run: the best point seen so far is
/// returned with the reason.
fn run_lbfgs(
    map: &dyn RecurrentMap,
    input: &[f64],
    x0: &[f64],
    q0: f64,
    stop: LbfgsStop,
    memory: usize,
) -> LbfgsOutcome {
    let problem = ResidualProblem::new(map, input);
    let solver = LBFGS::new(MoreThuenteLineSearch::new(), memory);
    let run = Executor::new(problem, solver)
        .configure(|state| {
            state
                .param(DVector::from_column_slice(x0))
                .max_iters(stop.max_iterations)
                .target_cost(stop.target)
        })
        .ctrlc(false)
        .timer(false)
        .run();

    match run {
        Ok(result) => {
            let state = result.state();
            let (x, q) = match state.get_best_param() {
                Some(best) if state.get_best_cost().is_finite() => {
                    (best.as_slice().to_vec(), state.get_best_cost())
                }
                _ => (x0.to_vec(), q0),
            };
            let reason = state.get_termination_reason().cloned();
            let termination = match &reason {
                Some(r) => r.text().to_string(),
                None => "not terminated".to_string(),
            };
            LbfgsOutcome { x, q, iterations: state.get_iter(), reason, termination }
        }
        // argmin returns an error when the first cost or gradient evaluation fails.
        Err(error) => LbfgsOutcome {
            x: x0.to_vec(),
            q: q0,
            iterations: 0,
            reason: None,
            termination: format!("L-BFGS failed: {error}"),
        },
    }
}

/// Most chord steps per polishing attempt. Chord steps are O(n²) and stop at the first one
/// that does not contract, so this only bounds a slow linear convergence.
const CHORD_STEPS: usize = 50;

/// Searches from one start and returns its record (with `point` unset) and end point.
/// Polishing first tries chord steps with the factorisation at the nearest of `roots`, then
/// full Newton steps if `q` is still above [`POLISH_TARGET`].
pub fn search_start(
    map: &dyn RecurrentMap,
    input: &[f64],
    index: usize,
    start: &[f64],
    opts: &FixedPointOptions,
    roots: &KnownRoots,
) -> (StartRecord, Vec<f64>) {
    let problem = ResidualProblem::new(map, input);
    let mut residual = vec![0.0; start.len()];
    let initial_q = problem.residual(start, &mut residual);

    let mut record = StartRecord {
        index,
        initial_q: initial_q.is_finite().then_some(initial_q),
        final_q: None,
        iterations: 0,
        newton_steps: 0,
        // Every L-BFGS run overwrites this text, so it stays only when none ran.
        termination: "no L-BFGS run: q started below the Newton threshold".to_string(),
        outcome: StartOutcome::Failed,
        point: None,
    };
    if !initial_q.is_finite() {
        record.termination = format!("q is not finite at the start ({initial_q})");
        return (record, start.to_vec());
    }

    let mut x = start.to_vec();
    let mut q = initial_q;
    let newton_enabled = opts.newton_steps > 0;

    // Newton is tried once `q` falls below this ceiling. After an attempt that did not reach
    // the fixed-point tolerance, the ceiling drops to `RETRY_FACTOR` times the `q` it left,
    // so L-BFGS must first make real progress before the next attempt.
    let mut newton_ceiling = if newton_enabled { opts.newton_threshold } else { 0.0 };
    let try_newton = |x: &mut Vec<f64>, q: &mut f64, record: &mut StartRecord, ceiling: &mut f64| {
        if *q < *ceiling && *q >= POLISH_TARGET {
            // Chord steps with the nearest known root count only when they reach the
            // fixed-point tolerance. Otherwise their end point is dropped, because near
            // attractors with |λ| close to 1 they can slide along a slow manifold to a lower
            // `q` that is a worse start for Newton than the point L-BFGS left.
            if let Some(root) = roots.nearest(x) {
                let mut trial = x.clone();
                let chord = newton::chord(map, input, &mut trial, *q, root, CHORD_STEPS, POLISH_TARGET);
                if chord.q < opts.fixed_tol {
                    record.newton_steps += chord.steps;
                    *q = chord.q;
                    x.copy_from_slice(&trial);
                }
            }
            if *q >= POLISH_TARGET {
                let polished = newton::polish(map, input, x, *q, opts.newton_steps, POLISH_TARGET);
                record.newton_steps += polished.steps;
                *q = polished.q;
            }
            *ceiling = *q * RETRY_FACTOR;
        }
    };

    let window = if opts.stall_window == 0 { u64::MAX } else { opts.stall_window };
    loop {
        try_newton(&mut x, &mut q, &mut record, &mut newton_ceiling);
        let budget_left = opts.max_iterations.saturating_sub(record.iterations);
        if q < opts.fixed_tol || budget_left == 0 {
            break;
        }

        let before = q;
        let newton_failed = newton_enabled && newton_ceiling < opts.newton_threshold;
        let target = if newton_enabled { newton_ceiling } else { POLISH_TARGET };
        let stop = LbfgsStop { max_iterations: window.min(budget_left), target };
        let outcome = run_lbfgs(map, input, &x, q, stop, opts.lbfgs_memory);
        record.iterations += outcome.iterations;
        record.termination = outcome.termination;
        x = outcome.x;
        q = outcome.q;

        match outcome.reason {
            Some(TerminationReason::TargetCostReached) => {}
            Some(TerminationReason::MaxItersReached) => {
                let factor = if newton_failed { STALL_FACTOR_AFTER_NEWTON } else { STALL_FACTOR };
                if q >= opts.slow_tol && q > factor * before {
                    record.termination =
                        format!("stalled: q fell only from {before:.3e} to {q:.3e} in {window} iterations");
                    break;
                }
            }
            // Another L-BFGS run from the same point would stop the same way.
            _ => {
                try_newton(&mut x, &mut q, &mut record, &mut newton_ceiling);
                break;
            }
        }
    }

    record.final_q = Some(q);
    record.outcome = if q < opts.fixed_tol {
        StartOutcome::Fixed
    } else if q < opts.slow_tol {
        StartOutcome::Slow
    } else {
        StartOutcome::NotConverged
    };
    (record, x)
}
