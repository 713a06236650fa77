//! Renders every figure kind to SVG and checks its text, its guards against empty and
//! non-finite input, and its atomic write.
//!
//! Set `RNN_DYNAMICS_PLOT_DIR` to a folder to keep the figures there for viewing.

use std::path::{Path, PathBuf};

use rnn_dynamics::plot::*;

/// Folder the figures go to: `RNN_DYNAMICS_PLOT_DIR` when set, otherwise a temporary folder
/// removed when the returned guard drops.
fn output_dir() -> (PathBuf, Option<tempfile::TempDir>) {
    match std::env::var_os("RNN_DYNAMICS_PLOT_DIR") {
        Some(dir) => {
            std::fs::create_dir_all(&dir).unwrap();
            (PathBuf::from(dir), None)
        }
        None => {
            let dir = tempfile::tempdir().unwrap();
            (dir.path().to_path_buf(), Some(dir))
        }
    }
}

/// Reads an SVG and checks that it is one complete `<svg>` document.
fn read_svg(path: &Path) -> String {
    let text = std::fs::read_to_string(path).unwrap();
    assert!(text.starts_with("<svg"), "{} does not start with <svg", path.display());
    assert!(text.trim_end().ends_with("</svg>"), "{} is not closed", path.display());
    text
}

/// Asserts that the SVG contains each of `needles`.
fn assert_contains(svg: &str, needles: &[&str]) {
    for needle in needles {
        assert!(svg.contains(needle), "SVG has no text {needle:?}");
    }
}

/// Asserts that `draw` fails for a path in a missing folder and leaves no file there.
fn assert_write_fails_cleanly(draw: impl Fn(&Path) -> rnn_dynamics::Result<()>) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("missing").join("figure.svg");
    let err = draw(&path).unwrap_err();
    assert!(err.to_string().contains("missing"), "{err}");
    assert!(!path.exists());
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0, "nothing may be written");
}

/// A spiral trajectory on PC1..PC3 that decays towards `centre`.
fn spiral(centre: [f64; 3], phase: f64, steps: usize) -> Vec<PcCoords> {
    (0..steps)
        .map(|t| {
            let r = 2.0 * (-(t as f64) / 60.0).exp();
            let angle = phase + t as f64 * 0.15;
            [centre[0] + r * angle.cos(), centre[1] + r * angle.sin(), centre[2] + 0.3 * r]
        })
        .collect()
}

fn fixed_points_data() -> FixedPointsData {
    FixedPointsData {
        explained_variance: vec![0.52, 0.23, 0.11],
        trajectories: (0..6).map(|i| spiral([0.0, 0.0, 0.0], i as f64, 200)).collect(),
        points: vec![
            ProjectedPoint {
                pcs: [0.0, 0.0, 0.0],
                stability: Stability::Stable,
                kind: PointKind::Fixed,
                unstable_modes: vec![],
            },
            ProjectedPoint {
                pcs: [1.2, -0.8, 0.4],
                stability: Stability::Unstable,
                kind: PointKind::Fixed,
                unstable_modes: vec![[3.0, 1.0, -0.5]],
            },
            ProjectedPoint {
                pcs: [-1.0, 1.0, 0.2],
                stability: Stability::Marginal,
                kind: PointKind::Fixed,
                unstable_modes: vec![],
            },
            ProjectedPoint {
                pcs: [0.6, 1.3, -0.1],
                stability: Stability::Stable,
                kind: PointKind::Slow,
                unstable_modes: vec![],
            },
            ProjectedPoint {
                pcs: [f64::NAN, 0.0, 0.0],
                stability: Stability::Stable,
                kind: PointKind::Fixed,
                unstable_modes: vec![],
            },
        ],
    }
}

#[test]
fn fixed_points_renders_labels() {
    let (dir, _guard) = output_dir();
    let path = dir.join("fixed_points.svg");
    draw_fixed_points(&path, &fixed_points_data(), &PlotOptions::default()).unwrap();
    let svg = read_svg(&path);
    assert_contains(
        &svg,
        &[
            "PC1 (52.0 % var.)",
            "PC2 (23.0 % var.)",
            "PC3 (11.0 % var.)",
            "stable fixed point",
            "unstable fixed point",
            "marginal fixed point",
            "stable slow point",
            "unstable mode",
            "trajectory",
            "1 point(s) with non-finite coordinates not shown",
        ],
    );
}

#[test]
fn fixed_points_empty_is_no_data() {
    let (dir, _guard) = output_dir();
    let path = dir.join("fixed_points_empty.svg");
    draw_fixed_points(&path, &FixedPointsData::default(), &PlotOptions::default()).unwrap();
    assert_contains(&read_svg(&path), &["no data"]);

    let all_nan = FixedPointsData {
        explained_variance: vec![0.5, 0.2],
        trajectories: vec![vec![[f64::NAN; 3]; 4]],
        points: vec![],
    };
    draw_fixed_points(&path, &all_nan, &PlotOptions::default()).unwrap();
    assert_contains(&read_svg(&path), &["no data"]);
}

#[test]
fn fixed_points_rejects_percent_variance() {
    let (dir, _guard) = output_dir();
    let mut data = fixed_points_data();
    data.explained_variance = vec![52.0, 23.0];
    let err = draw_fixed_points(&dir.join("bad.svg"), &data, &PlotOptions::default()).unwrap_err();
    assert!(err.to_string().contains("explained variance"), "{err}");
    assert!(!dir.join("bad.svg").exists());
}

#[test]
fn fixed_points_write_is_atomic() {
    let data = fixed_points_data();
    assert_write_fails_cleanly(|path| draw_fixed_points(path, &data, &PlotOptions::default()));
}

#[test]
fn options_reject_tiny_size() {
    let (dir, _guard) = output_dir();
    let opts = PlotOptions { width: 10, ..PlotOptions::default() };
    let err = draw_fixed_points(&dir.join("tiny.svg"), &fixed_points_data(), &opts).unwrap_err();
    assert!(err.to_string().contains("figure width"), "{err}");
}
