//! The search from one start: L-BFGS on `q`, Newton polishing, then a second L-BFGS and
//! Newton round if the first did not reach the fixed-point tolerance.

use argmin::core::{Executor, State, TerminationReason};
use argmin::solver::linesearch::MoreThuenteLineSearch;
use argmin::solver::quasinewton::LBFGS;
use nalgebra::DVector;

use super::newton;
use super::options::FixedPointOptions;
use super::problem::ResidualProblem;
use super::report::{StartOutcome, StartRecord};
use crate::model::RecurrentMap;

/// End state of one L-BFGS run.
struct LbfgsOutcome {
    x: Vec<f64>,
    q: f64,
    iterations: u64,
    reason: Option<TerminationReason>,
    termination: String,
}

/// Runs L-BFGS with More–Thuente line search from `x0` for at most `max_iterations`,
/// stopping early once `q < target`. A non-finite cost or gradient ends the run: the best
/// point seen so far is returned with the reason.
fn run_lbfgs(
    map: &dyn RecurrentMap,
    input: &[f64],
    x0: &[f64],
    q0: f64,
    max_iterations: u64,
    target: f64,
    memory: usize,
) -> LbfgsOutcome {
    let problem = ResidualProblem::new(map, input);
    let solver = LBFGS::new(MoreThuenteLineSearch::new(), memory);
    let run = Executor::new(problem, solver)
        .configure(|state| {
            state
                .param(DVector::from_column_slice(x0))
                .max_iters(max_iterations)
                .target_cost(target)
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

/// Searches from one start and returns its record (with `point` unset) and end point.
pub fn search_start(
    map: &dyn RecurrentMap,
    input: &[f64],
    index: usize,
    start: &[f64],
    opts: &FixedPointOptions,
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
        termination: String::new(),
        outcome: StartOutcome::Failed,
        point: None,
    };
    if !initial_q.is_finite() {
        record.termination = format!("q is not finite at the start ({initial_q})");
        return (record, start.to_vec());
    }

    let mut x = start.to_vec();
    let mut q = initial_q;
    for round in 0..2 {
        let remaining = opts.max_iterations.saturating_sub(record.iterations);
        if remaining == 0 || q < opts.fixed_tol {
            break;
        }

        // The first round hands over to Newton as soon as q is small. The second round runs
        // L-BFGS to its own tolerances, for points where Newton stalled.
        let target = if round == 0 { opts.newton_threshold } else { f64::NEG_INFINITY };
        let lbfgs = run_lbfgs(map, input, &x, q, remaining, target, opts.lbfgs_memory);
        record.iterations += lbfgs.iterations;
        record.termination = lbfgs.termination;
        x = lbfgs.x;
        q = lbfgs.q;

        if q < opts.slow_tol && opts.newton_steps > 0 {
            let polished = newton::polish(map, input, &mut x, q, opts.newton_steps);
            record.newton_steps += polished.steps;
            q = polished.q;
        }

        // Only a run that stopped early for Newton has more to give.
        if lbfgs.reason != Some(TerminationReason::TargetCostReached) {
            break;
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
