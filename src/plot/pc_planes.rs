//! Panels of principal-component planes (PC1–PC2, PC1–PC3) shared by the state-space figures.

use crate::error::{Error, Result};
use crate::plot::axes::is_drawable;
use crate::plot::render::Area;

/// A state projected on the first three principal components.
pub type PcCoords = [f64; 3];

/// Returns the PC index pairs to draw: PC1–PC2 and, when a third component is given, PC1–PC3.
pub(crate) fn pc_planes(explained_variance: &[f64]) -> Vec<(usize, usize)> {
    if explained_variance.len() >= 3 {
        vec![(0, 1), (0, 2)]
    } else {
        vec![(0, 1)]
    }
}

/// Checks that `explained_variance` has at least two entries, each a fraction in 0..=1.
pub(crate) fn check_explained_variance(explained_variance: &[f64]) -> Result<()> {
    if explained_variance.len() < 2 {
        return Err(Error::invalid(
            "explained variance",
            format!(
                "{} entries given, expected at least 2 (PC1 and PC2)",
                explained_variance.len()
            ),
        ));
    }
    for (i, fraction) in explained_variance.iter().enumerate() {
        if !(0.0..=1.0).contains(fraction) {
            return Err(Error::invalid(
                "explained variance",
                format!(
                    "PC{} has {fraction}, expected a fraction of the total variance in 0..=1",
                    i + 1
                ),
            ));
        }
    }
    Ok(())
}

/// Returns the axis description of component `index` (0-based), such as "PC1 (42.0 % var.)".
pub(crate) fn pc_label(index: usize, explained_variance: &[f64]) -> String {
    match explained_variance.get(index) {
        Some(fraction) => format!("PC{} ({:.1} % var.)", index + 1, 100.0 * fraction),
        None => format!("PC{}", index + 1),
    }
}

/// Splits `area` into `count` panels side by side.
pub(crate) fn side_by_side<'a>(area: &Area<'a>, count: usize) -> Vec<Area<'a>> {
    area.split_evenly((1, count.max(1)))
}

/// Returns the 2-D projection of `point` on the plane `(x, y)`.
pub(crate) fn project(point: &PcCoords, (x, y): (usize, usize)) -> (f64, f64) {
    (point[x], point[y])
}

/// Splits a trajectory, projected on the plane `(x, y)`, into runs of drawable points, so
/// that a non-finite state breaks the line instead of stopping the figure.
pub(crate) fn drawable_runs(
    trajectory: &[PcCoords],
    plane: (usize, usize),
) -> Vec<Vec<(f64, f64)>> {
    let mut runs = Vec::new();
    let mut current = Vec::new();
    for point in trajectory {
        let (x, y) = project(point, plane);
        if is_drawable(x) && is_drawable(y) {
            current.push((x, y));
        } else if !current.is_empty() {
            runs.push(std::mem::take(&mut current));
        }
    }
    if !current.is_empty() {
        runs.push(current);
    }
    runs
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn drawable_runs_break_at_nan() {
        let trajectory = [[0.0, 1.0, 2.0], [1.0, f64::NAN, 2.0], [2.0, 3.0, 4.0], [3.0, 4.0, 5.0]];
        let runs = drawable_runs(&trajectory, (0, 1));
        assert_eq!(runs, vec![vec![(0.0, 1.0)], vec![(2.0, 3.0), (3.0, 4.0)]]);
        let runs = drawable_runs(&trajectory, (0, 2));
        assert_eq!(runs.len(), 1);
    }

    #[test]
    fn explained_variance_rejects_percent() {
        let err = check_explained_variance(&[42.0, 10.0]).unwrap_err();
        assert!(err.to_string().contains("PC1 has 42"), "{err}");
        assert!(check_explained_variance(&[0.5]).is_err());
        assert!(check_explained_variance(&[0.5, f64::NAN]).is_err());
        assert!(check_explained_variance(&[0.5, 0.2, 0.1]).is_ok());
    }

    #[test]
    fn pc_label_has_percent() {
        assert_eq!(pc_label(0, &[0.4213, 0.2]), "PC1 (42.1 % var.)");
        assert_eq!(pc_label(2, &[0.4213, 0.2]), "PC3");
    }
}
