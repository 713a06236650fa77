//! Duplicate removal without chains, averaging or outlier removal.
//!
//! Candidates are visited in order of increasing `q`. Each one joins the nearest point kept
//! so far if that point lies within the radius, and otherwise becomes a new kept point. A
//! point is never dropped for being far from the others, and coordinates are never averaged.

/// A kept point and the candidates it absorbed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Group {
    /// Index of the candidate whose coordinates the point keeps (the one with the lowest `q`).
    pub representative: usize,
    /// Indices of every candidate in the group, the representative included, ascending.
    pub members: Vec<usize>,
}

/// Groups `points` (with their `q` values) into unique points within Euclidean distance
/// `radius`. Groups come out in order of their representative's `q`, and ties in `q` are
/// broken by index, so the result does not depend on thread scheduling.
pub fn deduplicate(points: &[Vec<f64>], q: &[f64], radius: f64) -> Vec<Group> {
    debug_assert_eq!(points.len(), q.len());
    let mut order: Vec<usize> = (0..points.len()).collect();
    order.sort_by(|&a, &b| q[a].total_cmp(&q[b]).then(a.cmp(&b)));

    let radius_sq = radius * radius;
    let mut groups: Vec<Group> = Vec::new();
    for candidate in order {
        let mut nearest: Option<(usize, f64)> = None;
        for (g, group) in groups.iter().enumerate() {
            let d = squared_distance(&points[candidate], &points[group.representative]);
            if d <= radius_sq && nearest.map_or(true, |(_, best)| d < best) {
                nearest = Some((g, d));
            }
        }

        match nearest {
            Some((g, _)) => groups[g].members.push(candidate),
            None => groups.push(Group { representative: candidate, members: vec![candidate] }),
        }
    }

    for group in &mut groups {
        group.members.sort_unstable();
    }
    groups
}

fn squared_distance(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| (x - y) * (x - y)).sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chain_keeps_far_end() {
        let tol = 1e-3;
        let points = vec![vec![0.0], vec![0.6 * tol], vec![1.2 * tol]];
        let groups = deduplicate(&points, &[1e-20, 2e-20, 3e-20], tol);

        assert_eq!(groups.len(), 2);
        assert_eq!(groups[0], Group { representative: 0, members: vec![0, 1] });
        assert_eq!(groups[1], Group { representative: 2, members: vec![2] });
    }

    #[test]
    fn isolated_points_all_kept() {
        let points = vec![vec![-1.0, 0.0], vec![0.0, 0.0], vec![1.0, 0.0]];
        let groups = deduplicate(&points, &[1e-20; 3], 1e-3);
        assert_eq!(groups.len(), 3);
        for (g, group) in groups.iter().enumerate() {
            assert_eq!(points[group.representative], points[g]);
        }
    }

    #[test]
    fn lowest_q_represents_group() {
        let points = vec![vec![0.0], vec![1e-4], vec![2e-4]];
        let groups = deduplicate(&points, &[3e-14, 1e-20, 2e-16], 1e-3);
        assert_eq!(groups, vec![Group { representative: 1, members: vec![0, 1, 2] }]);
    }

    #[test]
    fn candidate_joins_nearest_group() {
        // Kept points are at 0 and 1.5e-3. The candidate at 0.9e-3 is within the radius of both
        // and must join the nearer one (1.5e-3).
        let points = vec![vec![0.0], vec![1.5e-3], vec![0.9e-3]];
        let groups = deduplicate(&points, &[1e-20, 2e-20, 3e-20], 1e-3);
        assert_eq!(groups[0].members, vec![0]);
        assert_eq!(groups[1].members, vec![1, 2]);
    }

    #[test]
    fn zero_radius_merges_only_identical() {
        let points = vec![vec![0.5], vec![0.5], vec![0.5 + 1e-15]];
        let groups = deduplicate(&points, &[1e-20; 3], 0.0);
        assert_eq!(groups.len(), 2);
        assert_eq!(groups[0].members, vec![0, 1]);
    }
}
