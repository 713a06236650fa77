//! Contour lines of a scalar field on a rectangular grid, by marching squares.

/// Returns the line segments where the field `values` (row by row: node `xs[i]`, `ys[j]` at
/// index `j * xs.len() + i`) crosses `level`, by linear interpolation along cell edges.
/// Cells with a non-finite corner are skipped. At a saddle cell (opposite corners on the same
/// side of the level) the two segments are chosen by the cell's mean value.
pub(crate) fn segments(
    xs: &[f64],
    ys: &[f64],
    values: &[f64],
    level: f64,
) -> Vec<((f64, f64), (f64, f64))> {
    let nx = xs.len();
    let mut out = Vec::new();
    for j in 0..ys.len().saturating_sub(1) {
        for i in 0..nx.saturating_sub(1) {
            // Corners counter-clockwise from the lower left.
            let corners = [
                (xs[i], ys[j], values[j * nx + i]),
                (xs[i + 1], ys[j], values[j * nx + i + 1]),
                (xs[i + 1], ys[j + 1], values[(j + 1) * nx + i + 1]),
                (xs[i], ys[j + 1], values[(j + 1) * nx + i]),
            ];
            if corners.iter().any(|c| !c.2.is_finite()) {
                continue;
            }
            out.extend(cell_segments(&corners, level));
        }
    }
    out
}

fn cell_segments(corners: &[(f64, f64, f64); 4], level: f64) -> Vec<((f64, f64), (f64, f64))> {
    // Crossing point on the edge from corner a to corner b, where one is above the level.
    let crossing = |a: usize, b: usize| {
        let (xa, ya, va) = corners[a];
        let (xb, yb, vb) = corners[b];
        let t = (level - va) / (vb - va);
        (xa + t * (xb - xa), ya + t * (yb - ya))
    };
    let above: Vec<bool> = corners.iter().map(|c| c.2 > level).collect();
    let crossed: Vec<usize> = (0..4).filter(|&e| above[e] != above[(e + 1) % 4]).collect();
    let points: Vec<(f64, f64)> = crossed.iter().map(|&e| crossing(e, (e + 1) % 4)).collect();

    match points.len() {
        2 => vec![(points[0], points[1])],
        4 => {
            // Saddle: join the crossings around the corners on the same side as the centre.
            let centre_above = corners.iter().map(|c| c.2).sum::<f64>() / 4.0 > level;
            if centre_above == above[0] {
                vec![(points[0], points[1]), (points[2], points[3])]
            } else {
                vec![(points[3], points[0]), (points[1], points[2])]
            }
        }
        _ => vec![],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn contour_of_plane_is_straight_line() {
        // f(x, y) = x on a 3 × 2 grid: the level 0.5 crosses at x = 0.5 on both rows.
        let xs = [0.0, 1.0, 2.0];
        let ys = [0.0, 1.0];
        let values = [0.0, 1.0, 2.0, 0.0, 1.0, 2.0];
        let segs = segments(&xs, &ys, &values, 0.5);
        assert_eq!(segs.len(), 1);
        let ((x0, y0), (x1, y1)) = segs[0];
        assert!((x0 - 0.5).abs() < 1e-12, "{x0}");
        assert!((x1 - 0.5).abs() < 1e-12, "{x1}");
        assert!((y0 - y1).abs() == 1.0);
    }

    #[test]
    fn contour_skips_nan_cells() {
        let values = [0.0, f64::NAN, 1.0, 1.0];
        assert!(segments(&[0.0, 1.0], &[0.0, 1.0], &values, 0.5).is_empty());
    }

    #[test]
    fn contour_saddle_gives_two_segments() {
        let values = [1.0, 0.0, 0.0, 1.0];
        assert_eq!(segments(&[0.0, 1.0], &[0.0, 1.0], &values, 0.5).len(), 2);
    }
}
