//! Fixed points found early in a search, with `J − I` factorised at each, so that the other
//! starts can polish with chord steps instead of full Newton steps.
//!
//! Most starts of a search end at a handful of fixed points. Full Newton polishing forms a
//! Jacobian and an LU factorisation (O(n³)) per step and per start. A chord step with the
//! factorisation taken at the root itself costs one residual and two triangular solves
//! (O(n²)) and contracts fast in the root's basin. The roots come from a pilot subset of the
//! starts chosen by index, never by timing, so the search stays deterministic whatever the
//! thread count.

use rayon::prelude::*;

use super::dedup::deduplicate;
use super::newton::Factorisation;
use crate::model::RecurrentMap;

/// Number of pilot starts: every `⌈N / PILOT_STARTS⌉`-th start runs first with full Newton
/// polishing, and its fixed points seed the chord steps of the others.
pub const PILOT_STARTS: usize = 64;

/// The fixed points of the pilot starts and the factorisation of `J − I` at each.
#[derive(Default)]
pub struct KnownRoots {
    roots: Vec<(Vec<f64>, Factorisation)>,
}

impl KnownRoots {
    /// Keeps the end points with `q < fixed_tol`, merges those within `radius` (lowest `q`
    /// first, as the final duplicate removal does), and factorises `J − I` at each.
    pub fn from_points(
        map: &dyn RecurrentMap,
        input: &[f64],
        points: &[Vec<f64>],
        q: &[f64],
        fixed_tol: f64,
        radius: f64,
    ) -> Self {
        let fixed: Vec<usize> = (0..points.len()).filter(|&i| q[i] < fixed_tol).collect();
        let fixed_points: Vec<Vec<f64>> = fixed.iter().map(|&i| points[i].clone()).collect();
        let fixed_q: Vec<f64> = fixed.iter().map(|&i| q[i]).collect();
        let groups = deduplicate(&fixed_points, &fixed_q, radius);

        let roots = groups
            .par_iter()
            .map(|group| {
                let x = fixed_points[group.representative].clone();
                let lu = Factorisation::at(map, &x, input);
                (x, lu)
            })
            .collect();
        KnownRoots { roots }
    }

    /// Returns the factorisation at the root nearest to `x` (Euclidean distance; the first
    /// one on ties), or `None` when no root is known.
    pub fn nearest(&self, x: &[f64]) -> Option<&Factorisation> {
        let mut best: Option<(f64, &Factorisation)> = None;
        for (root, lu) in &self.roots {
            let d: f64 = root.iter().zip(x).map(|(a, b)| (a - b) * (a - b)).sum();
            if best.is_none_or(|(b, _)| d < b) {
                best = Some((d, lu));
            }
        }
        best.map(|(_, lu)| lu)
    }
}
