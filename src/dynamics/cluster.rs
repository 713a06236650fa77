//! DBSCAN clustering of fixed and slow points, and the dynamical features built from it.
//!
//! The neighbourhood rule is fixed here, whatever the point count or dimension:
//! - the ε-neighbourhood of p is every point q (p included) with ‖p − q‖₂ ≤ ε, the Euclidean
//!   distance computed in f64 as the square root of the summed squared differences;
//! - p is a core point when its neighbourhood contains at least `min_points` points, counting p;
//! - clusters grow from core points in index order, so cluster ids follow the lowest-index core
//!   point of each cluster, and a border point joins the first cluster that reaches it.
//!
//! linfa-clustering 0.8.1 is not used because its boundary depends on the neighbour index: its
//! default KdTree includes points at exactly ε, while LinearSearch and BallTree exclude them
//! (the test `linfa_boundary_depends_on_index` records this), and its default ε is 1e-4. Here ε
//! has no default and is reported with every result.

use nalgebra::DMatrix;
use ndarray::ArrayView2;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// DBSCAN labels with the parameters that produced them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DbscanLabels {
    /// Neighbourhood radius (inclusive), in the units of the points.
    pub eps: f64,
    /// Minimum neighbourhood size of a core point, the point itself included.
    pub min_points: usize,
    /// Cluster id of each point, `None` for noise.
    pub labels: Vec<Option<usize>>,
    pub n_clusters: usize,
}

/// Clusters the rows of `points` [n × dim]. Errors on non-finite coordinates, on ε that is
/// not finite and positive, and on `min_points` = 0.
pub fn dbscan(points: ArrayView2<f64>, eps: f64, min_points: usize) -> Result<DbscanLabels> {
    if !(eps.is_finite() && eps > 0.0) {
        return Err(Error::invalid(
            "dbscan eps",
            format!("{eps} is not a finite positive distance"),
        ));
    }
    if min_points == 0 {
        return Err(Error::invalid(
            "dbscan min_points",
            "0, expected at least 1 (the point itself counts)",
        ));
    }
    if let Some(((row, column), value)) = points.indexed_iter().find(|(_, v)| !v.is_finite()) {
        return Err(Error::invalid(
            "dbscan points",
            format!("value {value} at point {row}, coordinate {column} is not finite"),
        ));
    }

    let index = SortedIndex::new(points);
    let n = points.nrows();
    let mut labels: Vec<Option<usize>> = vec![None; n];
    let mut visited = vec![false; n];
    let mut n_clusters = 0;

    for start in 0..n {
        if visited[start] {
            continue;
        }
        visited[start] = true;
        let neighbours = index.within(points, start, eps);
        if neighbours.len() < min_points {
            // Noise for now; a later cluster may still claim it as a border point.
            continue;
        }

        // Breadth-first expansion through core points.
        let cluster = n_clusters;
        n_clusters += 1;
        labels[start] = Some(cluster);
        let mut queue = std::collections::VecDeque::from(neighbours);
        while let Some(point) = queue.pop_front() {
            if labels[point].is_none() {
                labels[point] = Some(cluster);
            }
            if visited[point] {
                continue;
            }
            visited[point] = true;
            let reach = index.within(points, point, eps);
            if reach.len() >= min_points {
                queue.extend(
                    reach
                        .into_iter()
                        .filter(|&q| labels[q].is_none() || !visited[q]),
                );
            }
        }
    }

    Ok(DbscanLabels {
        eps,
        min_points,
        labels,
        n_clusters,
    })
}

/// Points sorted by their first coordinate, so a range query only measures points whose first
/// coordinate lies within ε (a necessary condition for distance ≤ ε).
// NOTE: in high dimensions the first coordinate prunes little, so a query can cost O(n·dim)
// and the whole clustering O(n²·dim); fine for hundreds to a few thousand candidates.
struct SortedIndex {
    order: Vec<usize>,
    keys: Vec<f64>,
    /// Position of each point in `order`.
    slot_of: Vec<usize>,
}

impl SortedIndex {
    fn new(points: ArrayView2<f64>) -> Self {
        let mut order: Vec<usize> = (0..points.nrows()).collect();
        let key = |i: usize| {
            if points.ncols() == 0 {
                0.0
            } else {
                points[(i, 0)]
            }
        };
        order.sort_by(|&a, &b| key(a).total_cmp(&key(b)).then(a.cmp(&b)));
        let keys = order.iter().map(|&i| key(i)).collect();
        let mut slot_of = vec![0; order.len()];
        for (slot, &point) in order.iter().enumerate() {
            slot_of[point] = slot;
        }
        SortedIndex {
            order,
            keys,
            slot_of,
        }
    }

    /// Returns every point within ε of `point` (itself included), in increasing index order.
    fn within(&self, points: ArrayView2<f64>, point: usize, eps: f64) -> Vec<usize> {
        let key = self.keys[self.slot_of[point]];

        // The window is widened by a few ulps so that rounding in key ± ε never hides a point
        // whose distance rounds to exactly ε; the distance test below decides membership.
        let margin = 4.0 * f64::EPSILON * (key.abs() + eps);
        let (low, high) = (key - eps - margin, key + eps + margin);
        let first = self.keys.partition_point(|&k| k < low);
        let mut found = Vec::new();
        for slot in first..self.keys.len() {
            if self.keys[slot] > high {
                break;
            }
            let other = self.order[slot];
            if euclidean(points, point, other) <= eps {
                found.push(other);
            }
        }
        found.sort_unstable();
        found
    }
}

fn euclidean(points: ArrayView2<f64>, a: usize, b: usize) -> f64 {
    points
        .row(a)
        .iter()
        .zip(points.row(b))
        .map(|(x, y)| (x - y) * (x - y))
        .sum::<f64>()
        .sqrt()
}

/// One candidate from a fixed-point search.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CandidatePoint {
    /// Coordinates in the space that is clustered (state or PC space).
    pub coords: Vec<f64>,
    /// Speed q(x) = ½‖F(x) − x‖² (per-step units).
    pub q: f64,
    /// True when q is below the fixed-point threshold.
    pub is_fixed: bool,
    /// Moduli |λ| of the Jacobian eigenvalues at the point.
    pub eigen_moduli: Vec<f64>,
}

/// Stability type of a feature, from the eigenvalue moduli of its representative point.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FeatureKind {
    /// Every |λ| < 1 − stability tolerance.
    Attractor,
    /// Every |λ| > 1 + stability tolerance.
    Source,
    /// Some ||λ| − 1| < line band: a marginal direction, as along a line attractor.
    LineAttractor,
    /// Moduli on both sides of 1, none in the line band.
    Saddle,
}

/// Settings of [`dynamical_features`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FeatureOptions {
    /// DBSCAN radius (inclusive), in the units of the coordinates; no default.
    pub eps: f64,
    /// DBSCAN core-point size, the point itself included.
    pub min_points: usize,
    /// Band around |λ| = 1 inside which a mode is neither stable nor unstable (default 1e-6).
    pub stability_tolerance: f64,
    /// Band ||λ| − 1| < line_band that marks a line attractor (default 1e-3).
    pub line_band: f64,
    /// Variance fraction that the local dimension must reach (default 0.9).
    pub dimension_fraction: f64,
}

impl FeatureOptions {
    /// Options with the given DBSCAN parameters and the default bands.
    pub fn new(eps: f64, min_points: usize) -> Self {
        FeatureOptions {
            eps,
            min_points,
            stability_tolerance: 1e-6,
            line_band: 1e-3,
            dimension_fraction: 0.9,
        }
    }
}

/// A dynamical feature: one DBSCAN cluster, or one isolated fixed point.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Feature {
    /// DBSCAN cluster id; `None` for an isolated fixed point.
    pub cluster: Option<usize>,
    /// Indices of the member candidates, increasing.
    pub members: Vec<usize>,
    /// Member with the smallest q, whose eigenvalues give `kind`.
    pub representative: usize,
    pub kind: FeatureKind,
    /// Largest pairwise distance between members (0 for one member).
    pub extent: f64,
    /// Number of principal components of the members that reach the dimension fraction of
    /// their variance (0 for one member or coincident members).
    pub local_dimension: usize,
    pub n_fixed: usize,
}

/// Features found among a set of candidates.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FeatureSet {
    pub options: FeatureOptions,
    pub features: Vec<Feature>,
    /// DBSCAN label of each candidate, `None` for noise.
    pub labels: Vec<Option<usize>>,
    /// Noise candidates that are slow points, not fixed points, so belong to no feature.
    pub n_unassigned_slow: usize,
}

/// Groups candidates into features: each DBSCAN cluster is one feature, each fixed point that
/// DBSCAN calls noise is a feature of its own, and noise that is not a fixed point is dropped
/// (counted in `n_unassigned_slow`). Features list clusters by id, then isolated fixed points by
/// index. Errors on an empty candidate list, coordinates of unequal length, non-finite values,
/// no eigenvalue moduli, or invalid options.
pub fn dynamical_features(
    points: &[CandidatePoint],
    options: &FeatureOptions,
) -> Result<FeatureSet> {
    validate_candidates(points, options)?;
    let dim = points[0].coords.len();
    let coords = ndarray::Array2::from_shape_fn((points.len(), dim), |(row, column)| {
        points[row].coords[column]
    });
    let clustering = dbscan(coords.view(), options.eps, options.min_points)?;

    let mut groups: Vec<(Option<usize>, Vec<usize>)> = (0..clustering.n_clusters)
        .map(|id| (Some(id), Vec::new()))
        .collect();
    let mut n_unassigned_slow = 0;
    for (index, label) in clustering.labels.iter().enumerate() {
        match label {
            Some(id) => groups[*id].1.push(index),
            None if points[index].is_fixed => groups.push((None, vec![index])),
            None => n_unassigned_slow += 1,
        }
    }

    let features = groups
        .into_iter()
        .map(|(cluster, members)| build_feature(points, cluster, members, options))
        .collect();
    Ok(FeatureSet {
        options: options.clone(),
        features,
        labels: clustering.labels,
        n_unassigned_slow,
    })
}

fn build_feature(
    points: &[CandidatePoint],
    cluster: Option<usize>,
    members: Vec<usize>,
    options: &FeatureOptions,
) -> Feature {
    let representative = members
        .iter()
        .copied()
        .min_by(|&a, &b| points[a].q.total_cmp(&points[b].q))
        .expect("a feature has members");
    let kind = classify(&points[representative].eigen_moduli, options);

    let mut extent = 0.0f64;
    for (position, &a) in members.iter().enumerate() {
        for &b in &members[position + 1..] {
            let distance = points[a]
                .coords
                .iter()
                .zip(&points[b].coords)
                .map(|(x, y)| (x - y) * (x - y))
                .sum::<f64>()
                .sqrt();
            extent = extent.max(distance);
        }
    }

    Feature {
        cluster,
        n_fixed: members.iter().filter(|&&i| points[i].is_fixed).count(),
        local_dimension: local_dimension(points, &members, options.dimension_fraction),
        members,
        representative,
        kind,
        extent,
    }
}

/// Types a point from its eigenvalue moduli; the line band is checked first because one
/// marginal mode is what makes a continuum of fixed points.
fn classify(moduli: &[f64], options: &FeatureOptions) -> FeatureKind {
    if moduli.iter().any(|m| (m - 1.0).abs() < options.line_band) {
        FeatureKind::LineAttractor
    } else if moduli
        .iter()
        .all(|&m| m < 1.0 - options.stability_tolerance)
    {
        FeatureKind::Attractor
    } else if moduli
        .iter()
        .all(|&m| m > 1.0 + options.stability_tolerance)
    {
        FeatureKind::Source
    } else {
        FeatureKind::Saddle
    }
}

/// Counts the principal components of the members needed to reach `fraction` of their total
/// variance. Uses the smaller of the m × m and d × d scatter matrices, which share their
/// non-zero eigenvalues.
fn local_dimension(points: &[CandidatePoint], members: &[usize], fraction: f64) -> usize {
    let m = members.len();
    if m < 2 {
        return 0;
    }
    let d = points[members[0]].coords.len();
    let mut mean = vec![0.0; d];
    for &i in members {
        for (slot, value) in mean.iter_mut().zip(&points[i].coords) {
            *slot += value / m as f64;
        }
    }
    let centred = DMatrix::from_fn(m, d, |row, column| {
        points[members[row]].coords[column] - mean[column]
    });
    let scatter = if m <= d {
        &centred * centred.transpose()
    } else {
        centred.transpose() * &centred
    };

    let mut eigenvalues: Vec<f64> = scatter
        .symmetric_eigenvalues()
        .iter()
        .map(|v| v.max(0.0))
        .collect();
    eigenvalues.sort_by(|a, b| b.total_cmp(a));
    let total: f64 = eigenvalues.iter().sum();
    if total <= 0.0 {
        return 0;
    }

    let mut cumulative = 0.0;
    for (index, value) in eigenvalues.iter().enumerate() {
        cumulative += value;
        if cumulative >= fraction * total * (1.0 - 1e-12) {
            return index + 1;
        }
    }
    eigenvalues.len()
}

fn validate_candidates(points: &[CandidatePoint], options: &FeatureOptions) -> Result<()> {
    if points.is_empty() {
        return Err(Error::invalid("candidate points", "none given"));
    }
    if !(options.stability_tolerance >= 0.0 && options.line_band >= 0.0) {
        return Err(Error::invalid(
            "feature options",
            format!(
                "stability tolerance {} and line band {} must be ≥ 0",
                options.stability_tolerance, options.line_band
            ),
        ));
    }
    if !(options.dimension_fraction > 0.0 && options.dimension_fraction <= 1.0) {
        return Err(Error::invalid(
            "feature options",
            format!(
                "dimension fraction {} is not in (0, 1]",
                options.dimension_fraction
            ),
        ));
    }

    let dim = points[0].coords.len();
    if dim == 0 {
        return Err(Error::invalid(
            "candidate points",
            "coordinates are empty, expected at least one dimension",
        ));
    }
    for (index, point) in points.iter().enumerate() {
        if point.coords.len() != dim {
            return Err(Error::invalid(
                "candidate points",
                format!(
                    "point {index} has {} coordinates, expected {dim}",
                    point.coords.len()
                ),
            ));
        }
        if point.eigen_moduli.is_empty() {
            return Err(Error::invalid(
                "candidate points",
                format!("point {index} has no eigenvalue moduli"),
            ));
        }
        if !point.q.is_finite() || point.eigen_moduli.iter().any(|m| !m.is_finite()) {
            return Err(Error::invalid(
                "candidate points",
                format!("point {index} has a non-finite q or eigenvalue modulus"),
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::{array, Array2};

    fn line(xs: &[f64]) -> Array2<f64> {
        Array2::from_shape_fn(
            (xs.len(), 2),
            |(row, column)| if column == 0 { xs[row] } else { 0.0 },
        )
    }

    #[test]
    fn dbscan_boundary_is_inclusive() {
        let labels = dbscan(line(&[0.0, 1.0, 2.0, 3.0, 10.0]).view(), 1.0, 2).unwrap();
        assert_eq!(
            labels.labels,
            vec![Some(0), Some(0), Some(0), Some(0), None]
        );
        assert_eq!(labels.n_clusters, 1);
        assert_eq!(labels.eps, 1.0);
        assert_eq!(labels.min_points, 2);
    }

    #[test]
    fn linfa_boundary_depends_on_index() {
        use linfa::traits::Transformer;
        use linfa_clustering::Dbscan;
        use linfa_nn::{distance::L2Dist, CommonNearestNeighbour};

        // linfa-clustering 0.8.1: the same data and ε give different labels per index. If an
        // upstream release changes this, the wrapper above is unaffected.
        let points = line(&[0.0, 1.0, 2.0, 3.0, 10.0]);
        let run = |index: CommonNearestNeighbour| -> Vec<Option<usize>> {
            Dbscan::params_with(2, L2Dist, index)
                .tolerance(1.0)
                .transform(&points)
                .unwrap()
                .to_vec()
        };
        let ours = dbscan(points.view(), 1.0, 2).unwrap().labels;
        assert_eq!(run(CommonNearestNeighbour::KdTree), ours);
        assert_eq!(run(CommonNearestNeighbour::LinearSearch), vec![None; 5]);
        assert_eq!(run(CommonNearestNeighbour::BallTree), vec![None; 5]);
    }

    #[test]
    fn dbscan_f64_spacing_rounds_inside() {
        // In f64, 0.3 − 0.2 rounds to 0.09999999999999998 ≤ 0.1, so all four points join.
        let labels = dbscan(line(&[0.0, 0.1, 0.2, 0.3]).view(), 0.1, 2).unwrap();
        assert_eq!(labels.labels, vec![Some(0); 4]);

        // f32 inputs widened to f64 keep their f32 gaps: 0.3f32 − 0.2f32 > 0.1f32.
        let widened: Vec<f64> = [0.0f32, 0.1, 0.2, 0.3]
            .iter()
            .map(|&v| f64::from(v))
            .collect();
        let labels = dbscan(line(&widened).view(), f64::from(0.1f32), 2).unwrap();
        assert_eq!(labels.labels, vec![Some(0), Some(0), Some(0), None]);
    }

    #[test]
    fn dbscan_min_points_counts_self() {
        let points = line(&[0.0, 0.5]);
        assert_eq!(
            dbscan(points.view(), 1.0, 2).unwrap().labels,
            vec![Some(0), Some(0)]
        );
        assert_eq!(
            dbscan(points.view(), 1.0, 3).unwrap().labels,
            vec![None, None]
        );
        assert_eq!(dbscan(points.view(), 1.0, 1).unwrap().n_clusters, 1);
    }

    #[test]
    fn dbscan_small_eps_gives_noise() {
        // Points 1e-3 apart with linfa's default ε of 1e-4 are all noise, hence no default here.
        let xs: Vec<f64> = (0..10).map(|k| k as f64 * 1e-3).collect();
        let labels = dbscan(line(&xs).view(), 1e-4, 2).unwrap();
        assert_eq!(labels.n_clusters, 0);
        assert_eq!(
            dbscan(line(&xs).view(), 1e-3 * 1.000001, 2)
                .unwrap()
                .n_clusters,
            1
        );
    }

    #[test]
    fn dbscan_partition_ignores_order() {
        let points = array![
            [0.0, 0.0],
            [0.3, 0.1],
            [5.0, 5.0],
            [0.1, 0.4],
            [5.2, 5.1],
            [9.0, 0.0],
            [5.1, 4.8]
        ];
        let first = dbscan(points.view(), 0.6, 3).unwrap();
        let reversed_points =
            Array2::from_shape_fn((7, 2), |(row, column)| points[(6 - row, column)]);
        let second = dbscan(reversed_points.view(), 0.6, 3).unwrap();
        assert_eq!(first.n_clusters, 2);
        assert_eq!(second.n_clusters, 2);
        for a in 0..7 {
            for b in 0..7 {
                let together_first =
                    first.labels[a].is_some() && first.labels[a] == first.labels[b];
                let together_second =
                    second.labels[6 - a].is_some() && second.labels[6 - a] == second.labels[6 - b];
                assert_eq!(together_first, together_second, "points {a} and {b}");
            }
        }
    }

    #[test]
    fn dbscan_rejects_bad_parameters() {
        let points = line(&[0.0, 1.0]);
        assert!(dbscan(points.view(), 0.0, 2).is_err());
        assert!(dbscan(points.view(), f64::NAN, 2).is_err());
        assert!(dbscan(points.view(), 1.0, 0).is_err());
        let mut bad = points.clone();
        bad[(1, 1)] = f64::INFINITY;
        assert!(dbscan(bad.view(), 1.0, 2).is_err());
    }

    /// Jacobian eigenvalue moduli of the 2-unit linear map F(x) = (x₁, 0.5·x₂), whose fixed
    /// points are the whole x₁ axis.
    fn line_attractor_candidates(count: usize) -> Vec<CandidatePoint> {
        let jacobian = DMatrix::from_row_slice(2, 2, &[1.0, 0.0, 0.0, 0.5]);
        // The Jacobian is symmetric, so its eigenvalues are real.
        let moduli: Vec<f64> = jacobian
            .symmetric_eigenvalues()
            .iter()
            .map(|l: &f64| l.abs())
            .collect();
        (0..count)
            .map(|k| {
                let t = -1.0 + 2.0 * k as f64 / (count - 1) as f64;
                // A minimiser stops a little off the axis; q = ½(0.5·x₂)².
                let offset = 1e-9 * ((k as f64) * 1.3).sin();
                let step_residual = -0.5 * offset;
                CandidatePoint {
                    coords: vec![t, offset],
                    q: 0.5 * step_residual * step_residual,
                    is_fixed: true,
                    eigen_moduli: moduli.clone(),
                }
            })
            .collect()
    }

    #[test]
    fn line_attractor_is_one_feature() {
        let candidates = line_attractor_candidates(300);
        let set = dynamical_features(&candidates, &FeatureOptions::new(0.05, 5)).unwrap();
        assert_eq!(set.features.len(), 1);
        let feature = &set.features[0];
        assert_eq!(feature.kind, FeatureKind::LineAttractor);
        assert_eq!(feature.local_dimension, 1);
        assert_eq!(feature.members.len(), 300);
        assert!((feature.extent - 2.0).abs() < 1e-6, "{}", feature.extent);
        assert_eq!(set.n_unassigned_slow, 0);
    }

    fn isolated(coords: [f64; 2], moduli: Vec<f64>, is_fixed: bool) -> CandidatePoint {
        CandidatePoint {
            coords: coords.to_vec(),
            q: if is_fixed { 1e-14 } else { 1e-5 },
            is_fixed,
            eigen_moduli: moduli,
        }
    }

    #[test]
    fn isolated_fixed_points_stay_features() {
        let candidates = vec![
            isolated([0.0, 0.0], vec![0.5, 0.2], true),
            isolated([3.0, 0.0], vec![1.5, 0.2], true),
            isolated([0.0, 3.0], vec![1.5, 1.2], true),
            isolated([3.0, 3.0], vec![0.9, 0.2], false),
        ];
        let set = dynamical_features(&candidates, &FeatureOptions::new(0.5, 5)).unwrap();
        assert_eq!(set.features.len(), 3);
        assert_eq!(set.n_unassigned_slow, 1);
        let kinds: Vec<FeatureKind> = set.features.iter().map(|f| f.kind).collect();
        assert_eq!(
            kinds,
            vec![
                FeatureKind::Attractor,
                FeatureKind::Saddle,
                FeatureKind::Source
            ]
        );
        for feature in &set.features {
            assert_eq!(feature.cluster, None);
            assert_eq!(feature.local_dimension, 0);
            assert_eq!(feature.extent, 0.0);
            assert_eq!(feature.members.len(), 1);
        }
    }

    #[test]
    fn cluster_of_slow_points_is_a_feature() {
        // A tight blob of slow points forms a cluster; its type comes from the smallest-q member.
        let mut candidates: Vec<CandidatePoint> = (0..6)
            .map(|k| CandidatePoint {
                coords: vec![0.01 * k as f64, 0.0],
                q: 1e-5 + k as f64 * 1e-6,
                is_fixed: false,
                eigen_moduli: vec![1.2, 0.5],
            })
            .collect();
        candidates[3].q = 1e-7;
        candidates[3].eigen_moduli = vec![0.8, 0.5];
        let set = dynamical_features(&candidates, &FeatureOptions::new(0.02, 3)).unwrap();
        assert_eq!(set.features.len(), 1);
        assert_eq!(set.features[0].cluster, Some(0));
        assert_eq!(set.features[0].representative, 3);
        assert_eq!(set.features[0].kind, FeatureKind::Attractor);
        assert_eq!(set.features[0].n_fixed, 0);
    }

    #[test]
    fn features_reject_bad_candidates() {
        let good = isolated([0.0, 0.0], vec![0.5], true);
        let options = FeatureOptions::new(0.5, 2);
        assert!(dynamical_features(&[], &options).is_err());
        let short = CandidatePoint {
            coords: vec![1.0],
            ..good.clone()
        };
        assert!(dynamical_features(&[good.clone(), short], &options).is_err());
        let no_moduli = CandidatePoint {
            eigen_moduli: vec![],
            ..good.clone()
        };
        assert!(dynamical_features(&[no_moduli], &options).is_err());
        let mut bad_fraction = options.clone();
        bad_fraction.dimension_fraction = 1.5;
        assert!(dynamical_features(&[good], &bad_fraction).is_err());
    }
}
