//! Fixed and slow points of a recurrent map with its input held constant.
//!
//! Each start minimises `q(x) = ½‖F_u(x) − x‖²` with L-BFGS (gradient `(J − I)ᵀ r` from one
//! vector–Jacobian product) and finishes with Newton steps on `F_u(x) − x = 0` once `q` is
//! small. Starts run in parallel with rayon: a pilot subset, chosen by index, first, then the
//! others, which polish with chord steps from the pilot's fixed points (see [`known_roots`]).
//! The result does not depend on the thread count because every search depends only on its
//! start and the pilot's results, and results are gathered in start order. End points are
//! classified by `q`, merged into unique points (see [`dedup`]), and each unique point gets
//! one Jacobian and one eigendecomposition.

pub mod dedup;
pub mod known_roots;
pub mod newton;
pub mod options;
pub mod problem;
pub mod report;
pub mod search;
pub mod starts;

use rayon::prelude::*;

pub use options::FixedPointOptions;
pub use report::{FixedPoint, FixedPointReport, PointKind, StartOutcome, StartRecord, REPORT_FORMAT};
pub use starts::{random_starts, starts_from_pulses, starts_from_states, PulseSettings};

use crate::dynamics::spectrum::{spectrum, SpectrumOptions};
use crate::error::{Error, Result};
use crate::model::RecurrentMap;
use known_roots::KnownRoots;

/// Finds the fixed and slow points of `map` under the constant `input`, one search per
/// start, and returns every unique point with its spectrum plus one record per start.
///
/// `progress`, when given, advances by one per finished start. Errors on invalid options, an
/// input or start of the wrong length or with a non-finite value, no starts, or a failed
/// eigendecomposition. A start whose `q` is not finite is recorded as failed, not an error.
pub fn find_fixed_points(
    map: &dyn RecurrentMap,
    input: &[f64],
    starts: &[Vec<f64>],
    opts: &FixedPointOptions,
    progress: Option<&indicatif::ProgressBar>,
) -> Result<FixedPointReport> {
    opts.validate()?;
    check_inputs(map, input, starts)?;

    // Pilot starts (every stride-th, by index) run first. Their fixed points let the other
    // starts polish with chord steps (see `known_roots`).
    let stride = starts.len().div_ceil(known_roots::PILOT_STARTS).max(1);
    let is_pilot = |index: usize| index % stride == 0;
    let search = |index: usize, roots: &KnownRoots| {
        let result = search::search_start(map, input, index, &starts[index], opts, roots);
        if let Some(bar) = progress {
            bar.inc(1);
        }
        result
    };

    let no_roots = KnownRoots::default();
    let pilot: Vec<usize> = (0..starts.len()).filter(|&i| is_pilot(i)).collect();
    let pilot_results: Vec<(StartRecord, Vec<f64>)> = pilot.par_iter().map(|&i| search(i, &no_roots)).collect();
    let roots = KnownRoots::from_points(
        map,
        input,
        &pilot_results.iter().map(|(_, x)| x.clone()).collect::<Vec<_>>(),
        &pilot_results.iter().map(|(r, _)| r.final_q.unwrap_or(f64::INFINITY)).collect::<Vec<_>>(),
        opts.fixed_tol,
        opts.duplicate_radius,
    );
    let others: Vec<usize> = (0..starts.len()).filter(|&i| !is_pilot(i)).collect();
    let other_results: Vec<(StartRecord, Vec<f64>)> = others.par_iter().map(|&i| search(i, &roots)).collect();

    // Both lists are in index order, so one merge puts the results back in start order.
    let mut pilot_results = pilot_results.into_iter();
    let mut other_results = other_results.into_iter();
    let (mut records, end_points): (Vec<StartRecord>, Vec<Vec<f64>>) = (0..starts.len())
        .filter_map(|i| if is_pilot(i) { pilot_results.next() } else { other_results.next() })
        .unzip();

    // Only fixed and slow end points become candidates for unique points.
    let candidates: Vec<usize> = records
        .iter()
        .filter(|r| matches!(r.outcome, StartOutcome::Fixed | StartOutcome::Slow))
        .map(|r| r.index)
        .collect();
    let candidate_points: Vec<Vec<f64>> = candidates.iter().map(|&i| end_points[i].clone()).collect();
    let candidate_q: Vec<f64> = candidates.iter().map(|&i| records[i].final_q.unwrap_or(f64::INFINITY)).collect();
    let groups = dedup::deduplicate(&candidate_points, &candidate_q, opts.duplicate_radius);

    let spectrum_opts = SpectrumOptions {
        stability_band: opts.stability_band,
        dt: opts.dt,
        n_eigenvectors: opts.n_eigenvectors,
    };
    let points: Vec<FixedPoint> = groups
        .par_iter()
        .map(|group| {
            let start_of = |member: usize| candidates[member];
            let x = candidate_points[group.representative].clone();
            let q = candidate_q[group.representative];
            let jacobian = map.jacobian(&x, input);
            let spectrum = spectrum(&jacobian, &spectrum_opts).map_err(|e| {
                Error::Numerical(format!("spectrum at the point of start {}: {e}", start_of(group.representative)))
            })?;

            let speed = (2.0 * q).sqrt();
            Ok(FixedPoint {
                x,
                q,
                speed_per_step: speed,
                speed_per_second: speed / opts.dt,
                kind: if q < opts.fixed_tol { PointKind::Fixed } else { PointKind::Slow },
                spectrum,
                starts: group.members.iter().map(|&m| start_of(m)).collect(),
            })
        })
        .collect::<Result<_>>()?;

    for (p, point) in points.iter().enumerate() {
        for &start in &point.starts {
            records[start].point = Some(p);
        }
    }

    tracing::info!(
        starts = starts.len(),
        fixed = points.iter().filter(|p| p.kind == PointKind::Fixed).count(),
        slow = points.iter().filter(|p| p.kind == PointKind::Slow).count(),
        not_converged = records.iter().filter(|r| r.outcome == StartOutcome::NotConverged).count(),
        failed = records.iter().filter(|r| r.outcome == StartOutcome::Failed).count(),
        "fixed-point search finished"
    );

    Ok(FixedPointReport {
        format: REPORT_FORMAT.to_string(),
        options: *opts,
        input: input.to_vec(),
        points,
        starts: records,
    })
}

/// Checks dimensions and finiteness of the input and of every start.
fn check_inputs(map: &dyn RecurrentMap, input: &[f64], starts: &[Vec<f64>]) -> Result<()> {
    let dim = map.state_dim();
    if dim == 0 {
        return Err(Error::invalid("state dimension", "0 (the map has no state)"));
    }
    if input.len() != map.input_dim() {
        return Err(Error::invalid(
            "input",
            format!("length {} (expected {}, the map's input dimension)", input.len(), map.input_dim()),
        ));
    }
    if let Some(bad) = input.iter().find(|v| !v.is_finite()) {
        return Err(Error::invalid("input", format!("contains {bad} (expected finite values)")));
    }
    if starts.is_empty() {
        return Err(Error::invalid("starts", "none given (expected at least 1)"));
    }
    for (index, start) in starts.iter().enumerate() {
        if start.len() != dim {
            return Err(Error::invalid(
                format!("start {index}"),
                format!("length {} (expected {dim}, the map's state dimension)", start.len()),
            ));
        }
        if let Some(bad) = start.iter().find(|v| !v.is_finite()) {
            return Err(Error::invalid(format!("start {index}"), format!("contains {bad} (expected finite values)")));
        }
    }
    Ok(())
}
