//! Slow-point search on any map and the grouping of its results into dynamical features.
//!
//! The search is [`find_fixed_points`]: L-BFGS on q(x) = ½‖F(x) − x‖², Newton polish, and
//! merging of end points within the duplicate radius. DBSCAN then runs on one candidate per
//! converged start, placed at the unique point that start reached. Counting starts rather than
//! unique points lets a slow point that many starts reach form a cluster of its own, as a
//! density-based method expects. An isolated fixed point reached by fewer than `min_points`
//! starts is still a feature, reported once.

use std::collections::BTreeMap;

use nalgebra::DMatrix;
use serde::{Deserialize, Serialize};

use crate::dynamics::cluster::{dynamical_features, CandidatePoint, FeatureKind, FeatureOptions};
use crate::dynamics::fixed_points::{find_fixed_points, FixedPointOptions, FixedPointReport, PointKind};
use crate::error::{Error, Result};
use crate::model::RecurrentMap;

/// Settings of [`find_slow_features`].
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct SlowSearchOptions {
    /// Fixed-point search settings (tolerances in per-step units, `dt` in seconds).
    pub search: FixedPointOptions,
    /// DBSCAN radius (inclusive), in the units of the searched coordinates.
    pub eps: f64,
    /// DBSCAN core size in converged starts, the start itself included.
    pub min_points: usize,
    /// Band ||λ| − 1| < line_band that types a feature as a line attractor.
    pub line_band: f64,
}

/// One dynamical feature: a DBSCAN cluster of slow points or an isolated fixed point.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SlowFeature {
    /// DBSCAN cluster id, or `None` for an isolated fixed point.
    pub cluster: Option<usize>,
    pub kind: FeatureKind,
    /// Unique points of the feature (indices into the report's points), increasing.
    pub points: Vec<usize>,
    /// Converged starts that ended in the feature.
    pub n_starts: usize,
    pub n_fixed_points: usize,
    pub n_slow_points: usize,
    /// Unique point with the smallest q, whose eigenvalue moduli give `kind` (see
    /// [`dynamical_features`]).
    pub representative: usize,
    /// Number of principal components of the member points that reach 90 % of their variance
    /// (0 for a single point).
    pub local_dimension: usize,
    /// Largest distance between two member points, in the searched coordinates.
    pub extent: f64,
    /// Mean of the member points.
    pub centroid: Vec<f64>,
    /// Largest eigenvalue modulus at the representative.
    pub leading_modulus: f64,
    /// Slowest finite decay time −dt/ln|λ| over the representative's stable modes, seconds;
    /// `None` when no mode is stable.
    pub slowest_tau_s: Option<f64>,
    /// Unit first principal direction of the member points, or `None` for a single point.
    pub main_direction: Option<Vec<f64>>,
    /// |cos| of the angle between `main_direction` and the representative's eigenvector of
    /// largest |λ|, with the complex inner product for a complex eigenvector. `None` without
    /// a main direction.
    pub alignment: Option<f64>,
}

/// Result of [`find_slow_features`].
#[derive(Debug, Clone, PartialEq)]
pub struct SlowPointSearch {
    pub options: SlowSearchOptions,
    pub report: FixedPointReport,
    pub features: Vec<SlowFeature>,
    /// Feature of each unique point, `None` for a slow point DBSCAN calls noise.
    pub point_feature: Vec<Option<usize>>,
    /// Unique slow points that belong to no feature.
    pub n_unassigned_slow: usize,
}

impl SlowPointSearch {
    /// Number of unique points of `kind`.
    pub fn count(&self, kind: PointKind) -> usize {
        self.report.count(kind)
    }
}

/// Searches fixed and slow points of `map` under `input` from `starts`, then groups them into
/// dynamical features. Errors on invalid options or inputs (see [`find_fixed_points`]).
pub fn find_slow_features(
    map: &dyn RecurrentMap,
    input: &[f64],
    starts: &[Vec<f64>],
    options: &SlowSearchOptions,
) -> Result<SlowPointSearch> {
    let report = find_fixed_points(map, input, starts, &options.search, None)?;
    let mut feature_options = FeatureOptions::new(options.eps, options.min_points);
    feature_options.stability_tolerance = options.search.stability_band;
    feature_options.line_band = options.line_band;

    // One candidate per converged start, at the unique point it reached.
    let reached: Vec<usize> = report.starts.iter().filter_map(|record| record.point).collect();
    if reached.is_empty() {
        // Validate the clustering options anyway, so bad options never pass silently.
        if !(options.eps.is_finite() && options.eps > 0.0) || options.min_points == 0 {
            return Err(Error::invalid("DBSCAN settings", format!("eps {} and min_points {}, expected eps > 0 and min_points ≥ 1", options.eps, options.min_points)));
        }
        return Ok(SlowPointSearch {
            options: *options,
            point_feature: vec![None; report.points.len()],
            n_unassigned_slow: 0,
            report,
            features: Vec::new(),
        });
    }
    let candidates: Vec<CandidatePoint> = reached
        .iter()
        .map(|&p| {
            let point = &report.points[p];
            CandidatePoint {
                coords: point.x.clone(),
                q: point.q,
                is_fixed: point.kind == PointKind::Fixed,
                eigen_moduli: point.spectrum.modes.iter().map(|m| m.modulus).collect(),
            }
        })
        .collect();
    let set = dynamical_features(&candidates, &feature_options)?;

    // An isolated fixed point reached by several starts comes back once per start: merge them.
    let mut grouped: Vec<(Option<usize>, FeatureKind, Vec<usize>)> = Vec::new();
    let mut isolated_slot: BTreeMap<usize, usize> = BTreeMap::new();
    for feature in &set.features {
        let starts_in: Vec<usize> = feature.members.clone();
        match feature.cluster {
            Some(_) => grouped.push((feature.cluster, feature.kind, starts_in)),
            None => {
                let point = reached[starts_in[0]];
                match isolated_slot.get(&point) {
                    Some(&slot) => grouped[slot].2.extend(starts_in),
                    None => {
                        isolated_slot.insert(point, grouped.len());
                        grouped.push((None, feature.kind, starts_in));
                    }
                }
            }
        }
    }

    let mut point_feature = vec![None; report.points.len()];
    let mut features = Vec::with_capacity(grouped.len());
    for (index, (cluster, kind, members)) in grouped.into_iter().enumerate() {
        let feature = describe_feature(&report, &reached, cluster, kind, &members, &feature_options, options.search.dt);
        for &p in &feature.points {
            point_feature[p] = Some(index);
        }
        features.push(feature);
    }
    let n_unassigned_slow = report
        .points
        .iter()
        .zip(&point_feature)
        .filter(|(point, feature)| point.kind == PointKind::Slow && feature.is_none())
        .count();

    Ok(SlowPointSearch { options: *options, report, features, point_feature, n_unassigned_slow })
}

/// Builds the feature whose members are the converged starts `members` (indices into
/// `reached`, the unique point of each converged start).
fn describe_feature(
    report: &FixedPointReport,
    reached: &[usize],
    cluster: Option<usize>,
    kind: FeatureKind,
    members: &[usize],
    options: &FeatureOptions,
    dt: f64,
) -> SlowFeature {
    let mut points: Vec<usize> = members.iter().map(|&m| reached[m]).collect();
    points.sort_unstable();
    points.dedup();

    let representative = points
        .iter()
        .copied()
        .min_by(|&a, &b| report.points[a].q.total_cmp(&report.points[b].q))
        .expect("a feature has at least one point");
    let spectrum = &report.points[representative].spectrum;
    let leading_modulus = spectrum.modes.first().map_or(0.0, |m| m.modulus);

    let coords: Vec<&[f64]> = points.iter().map(|&p| report.points[p].x.as_slice()).collect();
    let dim = coords[0].len();
    let mut centroid = vec![0.0; dim];
    for x in &coords {
        for (c, v) in centroid.iter_mut().zip(x.iter()) {
            *c += v / coords.len() as f64;
        }
    }
    let mut extent = 0.0f64;
    for (i, a) in coords.iter().enumerate() {
        for b in &coords[i + 1..] {
            extent = extent.max(distance(a, b));
        }
    }
    let (local_dimension, main_direction) = principal_directions(&coords, &centroid, options.dimension_fraction);

    let alignment = match (&main_direction, spectrum.modes.first().and_then(|m| m.eigenvector.as_ref())) {
        (Some(direction), Some(eigenvector)) => Some(abs_cosine(direction, eigenvector)),
        _ => None,
    };
    let slowest_tau_s = spectrum
        .modes
        .iter()
        .filter_map(|m| m.tau_steps)
        .fold(None, |slowest: Option<f64>, tau| Some(slowest.map_or(tau, |s| s.max(tau))))
        .map(|tau| tau * dt);

    let n_fixed_points = points.iter().filter(|&&p| report.points[p].kind == PointKind::Fixed).count();
    SlowFeature {
        cluster,
        kind,
        n_starts: members.len(),
        n_fixed_points,
        n_slow_points: points.len() - n_fixed_points,
        representative,
        local_dimension,
        extent,
        centroid,
        leading_modulus,
        slowest_tau_s,
        main_direction,
        alignment,
        points,
    }
}

fn distance(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| (x - y) * (x - y)).sum::<f64>().sqrt()
}

/// Returns the number of principal components of `coords` that reach `fraction` of their
/// variance, and the unit first component (sign: largest entry positive). A single point or
/// coincident points give (0, None).
fn principal_directions(coords: &[&[f64]], centroid: &[f64], fraction: f64) -> (usize, Option<Vec<f64>>) {
    if coords.len() < 2 {
        return (0, None);
    }
    let dim = centroid.len();
    let centred = DMatrix::from_fn(coords.len(), dim, |row, column| coords[row][column] - centroid[column]);
    let scatter = centred.transpose() * &centred;
    let eigen = scatter.symmetric_eigen();

    let mut order: Vec<usize> = (0..dim).collect();
    order.sort_by(|&a, &b| eigen.eigenvalues[b].total_cmp(&eigen.eigenvalues[a]));
    let values: Vec<f64> = order.iter().map(|&k| eigen.eigenvalues[k].max(0.0)).collect();
    let total: f64 = values.iter().sum();
    if total <= 0.0 {
        return (0, None);
    }

    let mut dimension = values.len();
    let mut cumulative = 0.0;
    for (index, value) in values.iter().enumerate() {
        cumulative += value;
        if cumulative >= fraction * total * (1.0 - 1e-12) {
            dimension = index + 1;
            break;
        }
    }
    let mut direction: Vec<f64> = eigen.eigenvectors.column(order[0]).iter().copied().collect();
    let largest = direction.iter().copied().fold(0.0f64, |best, v| if v.abs() > best.abs() { v } else { best });
    if largest < 0.0 {
        direction.iter_mut().for_each(|v| *v = -*v);
    }
    (dimension, Some(direction))
}

/// |⟨d, v⟩| / (‖d‖‖v‖) for a real d and a complex v given as `[re, im]` pairs.
fn abs_cosine(direction: &[f64], eigenvector: &[[f64; 2]]) -> f64 {
    let (mut re, mut im) = (0.0, 0.0);
    for (d, v) in direction.iter().zip(eigenvector) {
        re += d * v[0];
        im += d * v[1];
    }
    let norm_d = direction.iter().map(|d| d * d).sum::<f64>().sqrt();
    let norm_v = eigenvector.iter().map(|v| v[0] * v[0] + v[1] * v[1]).sum::<f64>().sqrt();
    if norm_d == 0.0 || norm_v == 0.0 {
        return 0.0;
    }
    (re * re + im * im).sqrt() / (norm_d * norm_v)
}
