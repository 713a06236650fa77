//! Renders every figure kind to SVG and checks its text, its guards against empty and
//! non-finite input, and its atomic write.
//!
//! Set `RNN_DYNAMICS_PLOT_DIR` to a folder to keep the figures there for viewing.

use std::path::{Path, PathBuf};

use num_complex::Complex64;
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

/// Builds a spiral trajectory on PC1..PC3 that decays towards `centre`.
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

fn spectrum_data(count: usize) -> SpectrumData {
    let points = (0..count)
        .map(|p| {
            let radius = 0.6 + 0.05 * p as f64;
            let mut eigenvalues: Vec<Complex64> = (0..12)
                .map(|k| Complex64::from_polar(radius * (1.0 - 0.04 * k as f64), 0.5 * k as f64))
                .collect();
            if p % 3 == 1 {
                eigenvalues.push(Complex64::new(1.3, 0.0));
            }
            PointSpectrum {
                label: format!("point {p}"),
                stability: if p % 3 == 1 { Stability::Unstable } else { Stability::Stable },
                eigenvalues,
            }
        })
        .collect();
    SpectrumData { points }
}

#[test]
fn spectra_render_panels() {
    let (dir, _guard) = output_dir();
    let path = dir.join("spectra.svg");
    draw_spectra(&path, &spectrum_data(6), &PlotOptions::default()).unwrap();
    let svg = read_svg(&path);
    assert_contains(
        &svg,
        &["Re λ", "Im λ", "point 0 (stable)", "point 4 (unstable)", "|λ| &gt; 1"],
    );
}

#[test]
fn spectra_cap_panel_count() {
    let (dir, _guard) = output_dir();
    let path = dir.join("spectra_many.svg");
    let mut data = spectrum_data(MAX_SPECTRUM_PANELS + 5);
    data.points[0].eigenvalues.push(Complex64::new(f64::NAN, 0.0));
    data.points[2].eigenvalues = vec![Complex64::new(f64::INFINITY, 1.0)];
    draw_spectra(&path, &data, &PlotOptions::default()).unwrap();
    let svg = read_svg(&path);
    assert_contains(
        &svg,
        &["showing the first 30 of 35 points", "2 non-finite eigenvalue(s) not shown"],
    );
    assert!(svg.contains("point 29 (stable)") || svg.contains("point 29 (unstable)"));
    assert!(!svg.contains("point 30 ("), "panels beyond the cap must be left out");
}

#[test]
fn spectra_empty_is_no_data() {
    let (dir, _guard) = output_dir();
    let path = dir.join("spectra_empty.svg");
    draw_spectra(&path, &SpectrumData::default(), &PlotOptions::default()).unwrap();
    assert_contains(&read_svg(&path), &["no data"]);
    assert_write_fails_cleanly(|p| draw_spectra(p, &spectrum_data(2), &PlotOptions::default()));
}

fn q_values_data() -> QValuesData {
    let mut q: Vec<f64> = (0..80).map(|i| 10f64.powf(-16.0 + 0.2 * i as f64)).collect();
    q.extend([0.0, f64::NAN, f64::INFINITY, -1.0]);
    QValuesData { q, ..QValuesData::default() }
}

#[test]
fn q_values_render_thresholds() {
    let (dir, _guard) = output_dir();
    let path = dir.join("q_values.svg");
    draw_q_values(&path, &q_values_data(), &PlotOptions::default()).unwrap();
    let svg = read_svg(&path);
    assert_contains(
        &svg,
        &[
            "start (sorted by final q)",
            "final q = ½‖F(x) − x‖²",
            "fixed-point threshold q = 1e-12",
            "slow-point threshold q = 1e-6",
            "3 start(s) with negative or non-finite q not shown",
            "1 start(s) with q = 0 drawn at the bottom edge",
            "1e-12",
        ],
    );
}

#[test]
fn q_values_guards() {
    let (dir, _guard) = output_dir();
    let path = dir.join("q_values_empty.svg");
    let nan_only = QValuesData { q: vec![f64::NAN, f64::NAN], ..QValuesData::default() };
    draw_q_values(&path, &nan_only, &PlotOptions::default()).unwrap();
    assert_contains(
        &read_svg(&path),
        &["no data", "2 start(s) with negative or non-finite q not shown"],
    );

    let swapped = QValuesData { fixed_threshold: 1e-3, slow_threshold: 1e-6, ..q_values_data() };
    let err = draw_q_values(&dir.join("bad.svg"), &swapped, &PlotOptions::default()).unwrap_err();
    assert!(err.to_string().contains("not below the slow-point threshold"), "{err}");
    let zero = QValuesData { fixed_threshold: 0.0, ..q_values_data() };
    assert!(draw_q_values(&dir.join("bad.svg"), &zero, &PlotOptions::default()).is_err());

    assert_write_fails_cleanly(|p| draw_q_values(p, &q_values_data(), &PlotOptions::default()));
}

fn wait_time_data() -> WaitTimeData {
    let offers = OFFER_TICKS_UL.to_vec();
    let curve = |block, base: f64| WaitTimeCurve {
        block,
        offers_ul: offers.clone(),
        mean_s: offers.iter().map(|o| base + 1.2 * o.log2()).collect(),
        sem_s: vec![0.4, 0.3, 0.35, 0.3, 0.5],
    };
    WaitTimeData {
        curves: vec![curve(Block::Mixed, 6.0), curve(Block::High, 4.5), curve(Block::Low, 7.5)],
    }
}

#[test]
fn wait_time_renders_blocks() {
    let (dir, _guard) = output_dir();
    let path = dir.join("wait_time.svg");
    let mut data = wait_time_data();
    data.curves[1].mean_s[0] = f64::NAN;
    data.curves[2].sem_s[4] = f64::INFINITY;
    draw_wait_time(&path, &data, &PlotOptions::default()).unwrap();
    let svg = read_svg(&path);
    assert_contains(
        &svg,
        &[
            "offer (µL, log2 scale)",
            "mean wait time (s)",
            "mixed",
            "high",
            "low",
            "\n5\n</text>",
            "\n80\n</text>",
            "1 point(s) with a non-finite mean not shown",
            "1 point(s) without a finite SEM drawn without an error bar",
        ],
    );
}

#[test]
fn wait_time_guards() {
    let (dir, _guard) = output_dir();
    let path = dir.join("wait_time_empty.svg");
    draw_wait_time(&path, &WaitTimeData::default(), &PlotOptions::default()).unwrap();
    assert_contains(&read_svg(&path), &["no data"]);

    let mut short = wait_time_data();
    short.curves[2].sem_s.pop();
    let err = draw_wait_time(&dir.join("bad.svg"), &short, &PlotOptions::default()).unwrap_err();
    assert!(err.to_string().contains("low block"), "{err}");

    let mut zero_offer = wait_time_data();
    zero_offer.curves[0].offers_ul[0] = 0.0;
    let err =
        draw_wait_time(&dir.join("bad.svg"), &zero_offer, &PlotOptions::default()).unwrap_err();
    assert!(err.to_string().contains("0 µL"), "{err}");

    assert_write_fails_cleanly(|p| draw_wait_time(p, &wait_time_data(), &PlotOptions::default()));
}

fn learning_curves_data() -> LearningCurvesData {
    let sessions: Vec<f64> = (0..60).map(f64::from).collect();
    let curve = |name: &str, rate: f64| GroupCurve {
        name: name.to_string(),
        sessions: sessions.clone(),
        mean: sessions.iter().map(|s| 1.0 - (-s / rate).exp()).collect(),
        sem: sessions.iter().map(|s| 0.05 + 0.05 * (-s / 20.0).exp()).collect(),
    };
    LearningCurvesData {
        metric_label: "reward rate (µL/s)".to_string(),
        groups: vec![curve("kindergarten", 8.0), curve("conventional", 20.0)],
        stage_boundaries: vec![
            StageBoundary { session: 10.0, label: "simple".to_string() },
            StageBoundary { session: 14.0, label: "intermediate".to_string() },
            StageBoundary { session: 30.0, label: "wagering task".to_string() },
        ],
    }
}

#[test]
fn learning_curves_render_stages() {
    let (dir, _guard) = output_dir();
    let path = dir.join("learning_curves.svg");
    let mut data = learning_curves_data();
    data.groups[0].mean[20] = f64::NAN;
    data.groups[1].sem[5] = f64::NAN;
    draw_learning_curves(&path, &data, &PlotOptions::default()).unwrap();
    let svg = read_svg(&path);
    assert_contains(
        &svg,
        &[
            "session",
            "reward rate (µL/s)",
            "kindergarten",
            "conventional",
            "simple",
            "intermediate",
            "wagering task",
        ],
    );
}

#[test]
fn learning_curves_guards() {
    let (dir, _guard) = output_dir();
    let path = dir.join("learning_curves_empty.svg");
    draw_learning_curves(&path, &LearningCurvesData::default(), &PlotOptions::default()).unwrap();
    assert_contains(&read_svg(&path), &["no data"]);

    let mut short = learning_curves_data();
    short.groups[1].mean.pop();
    let err =
        draw_learning_curves(&dir.join("bad.svg"), &short, &PlotOptions::default()).unwrap_err();
    assert!(err.to_string().contains("conventional"), "{err}");

    assert_write_fails_cleanly(|p| {
        draw_learning_curves(p, &learning_curves_data(), &PlotOptions::default())
    });
}

fn groups() -> Vec<GroupSample> {
    vec![
        GroupSample {
            name: "kindergarten".to_string(),
            values: vec![3.0, 4.0, 4.0, 5.0, 3.0, 6.0, 4.0, f64::NAN],
        },
        GroupSample {
            name: "conventional".to_string(),
            values: vec![1.0, 2.0, 2.0, 1.0, 3.0, 2.0, 1.0, 2.0],
        },
        GroupSample { name: "none".to_string(), values: vec![1.0] },
    ]
}

#[test]
fn ecdf_renders_groups() {
    let (dir, _guard) = output_dir();
    let path = dir.join("ecdf.svg");
    let data =
        EcdfData { metric_label: "number of dynamical features".to_string(), groups: groups() };
    draw_ecdf(&path, &data, &PlotOptions::default()).unwrap();
    let svg = read_svg(&path);
    assert_contains(
        &svg,
        &[
            "number of dynamical features",
            "cumulative fraction",
            "kindergarten (n = 7)",
            "conventional (n = 8)",
            "none (n = 1)",
            "1 non-finite value(s) not shown",
        ],
    );
}

#[test]
fn ecdf_guards() {
    let (dir, _guard) = output_dir();
    let path = dir.join("ecdf_empty.svg");
    let nan_only = EcdfData {
        metric_label: "x".to_string(),
        groups: vec![GroupSample { name: "a".to_string(), values: vec![f64::NAN] }],
    };
    draw_ecdf(&path, &nan_only, &PlotOptions::default()).unwrap();
    assert_contains(&read_svg(&path), &["no data"]);
    draw_ecdf(&path, &EcdfData::default(), &PlotOptions::default()).unwrap();
    assert_contains(&read_svg(&path), &["no data"]);
    let data = EcdfData { metric_label: "x".to_string(), groups: groups() };
    assert_write_fails_cleanly(|p| draw_ecdf(p, &data, &PlotOptions::default()));
}

#[test]
fn strip_renders_groups() {
    let (dir, _guard) = output_dir();
    let path = dir.join("strip.svg");
    let data =
        StripData { metric_label: "slowest time constant (s)".to_string(), groups: groups() };
    draw_strip(&path, &data, &PlotOptions::default()).unwrap();
    let svg = read_svg(&path);
    assert_contains(
        &svg,
        &[
            "slowest time constant (s)",
            "kindergarten",
            "conventional",
            "none",
            "mean and 95 % CI of the mean",
            "1 non-finite value(s) not shown",
        ],
    );

    // The jitter is seeded, so the same data gives the same bytes.
    let again = dir.join("strip_again.svg");
    draw_strip(&again, &data, &PlotOptions::default()).unwrap();
    assert_eq!(std::fs::read(&path).unwrap(), std::fs::read(&again).unwrap());
}

#[test]
fn strip_guards() {
    let (dir, _guard) = output_dir();
    let path = dir.join("strip_empty.svg");
    draw_strip(&path, &StripData::default(), &PlotOptions::default()).unwrap();
    assert_contains(&read_svg(&path), &["no data"]);
    let data = StripData { metric_label: "x".to_string(), groups: groups() };
    assert_write_fails_cleanly(|p| draw_strip(p, &data, &PlotOptions::default()));
}

fn trajectories_by_block() -> TrajectoriesData {
    let trajectories: Vec<Vec<PcCoords>> =
        (0..4).map(|i| spiral([i as f64 * 0.5, 0.0, 0.0], i as f64, 240)).collect();
    let labels =
        trajectories.iter().map(|t| (0..t.len()).map(|s| (s / 80) % 3).collect()).collect();
    TrajectoriesData {
        explained_variance: vec![0.4, 0.3, 0.1],
        trajectories,
        colour: TrajectoryColour::Category {
            names: vec!["mixed".into(), "high".into(), "low".into()],
            labels,
        },
    }
}

#[test]
fn trajectories_render_categories() {
    let (dir, _guard) = output_dir();
    let path = dir.join("trajectories_block.svg");
    let mut data = trajectories_by_block();
    data.trajectories[1][50] = [f64::NAN, 0.0, 0.0];
    draw_trajectories(&path, &data, &PlotOptions::default()).unwrap();
    let svg = read_svg(&path);
    assert_contains(
        &svg,
        &["PC1 (40.0 % var.)", "PC2 (30.0 % var.)", "PC3 (10.0 % var.)", "mixed", "high", "low"],
    );
}

#[test]
fn trajectories_render_colour_bar() {
    let (dir, _guard) = output_dir();
    let path = dir.join("trajectories_belief.svg");
    let mut data = trajectories_by_block();
    data.explained_variance.truncate(2);
    let values = data
        .trajectories
        .iter()
        .map(|t| (0..t.len()).map(|s| (s as f64 / 240.0).sin()).collect())
        .collect();
    data.colour = TrajectoryColour::Value {
        label: "belief in high block".to_string(),
        values,
        range: Some((0.0, 1.0)),
    };
    draw_trajectories(&path, &data, &PlotOptions::default()).unwrap();
    let svg = read_svg(&path);
    assert_contains(&svg, &["belief in high block", "PC2 (30.0 % var.)"]);
    assert!(!svg.contains("PC3"), "two components give one panel");
}

#[test]
fn trajectories_guards() {
    let (dir, _guard) = output_dir();
    let path = dir.join("trajectories_empty.svg");
    draw_trajectories(&path, &TrajectoriesData::default(), &PlotOptions::default()).unwrap();
    assert_contains(&read_svg(&path), &["no data"]);

    let mut short = trajectories_by_block();
    if let TrajectoryColour::Category { labels, .. } = &mut short.colour {
        labels[2].pop();
    }
    let err = draw_trajectories(&dir.join("bad.svg"), &short, &PlotOptions::default()).unwrap_err();
    assert!(err.to_string().contains("trajectory 2 has 240 states but 239 entries"), "{err}");

    let mut out_of_range = trajectories_by_block();
    if let TrajectoryColour::Category { labels, .. } = &mut out_of_range.colour {
        labels[0][0] = 7;
    }
    let err = draw_trajectories(&dir.join("bad.svg"), &out_of_range, &PlotOptions::default())
        .unwrap_err();
    assert!(err.to_string().contains("index 7"), "{err}");

    let mut bad_range = trajectories_by_block();
    let values = bad_range.trajectories.iter().map(|t| vec![0.5; t.len()]).collect();
    bad_range.colour =
        TrajectoryColour::Value { label: "v".into(), values, range: Some((1.0, 1.0)) };
    assert!(draw_trajectories(&dir.join("bad.svg"), &bad_range, &PlotOptions::default()).is_err());

    let data = trajectories_by_block();
    assert_write_fails_cleanly(|p| draw_trajectories(p, &data, &PlotOptions::default()));
}

/// Flow of a 2-D linear map with a saddle at the origin and a stable node at (2, 0):
/// x' − x = x(x − 2)/4, y' − y = −y/3.
fn flow_field_data() -> FlowFieldData {
    let xs: Vec<f64> = (0..41).map(|i| -1.0 + 0.1 * i as f64).collect();
    let ys: Vec<f64> = (0..31).map(|j| -1.5 + 0.1 * j as f64).collect();
    let mut speed = Vec::new();
    let mut direction = Vec::new();
    for &y in &ys {
        for &x in &xs {
            let (dx, dy) = (x * (x - 2.0) / 4.0, -y / 3.0);
            speed.push(dx.hypot(dy));
            direction.push([dx, dy]);
        }
    }
    FlowFieldData {
        x_label: "PC1 (61.0 % var.)".to_string(),
        y_label: "PC2 (20.0 % var.)".to_string(),
        xs,
        ys,
        speed,
        direction,
        background: FlowBackground::Speed,
        speed_contours: true,
        points: vec![
            PlanePoint { xy: [0.0, 0.0], stability: Stability::Unstable, kind: PointKind::Fixed },
            PlanePoint { xy: [2.0, 0.0], stability: Stability::Stable, kind: PointKind::Fixed },
            PlanePoint { xy: [1.0, 0.8], stability: Stability::Stable, kind: PointKind::Slow },
        ],
    }
}

#[test]
fn flow_field_renders_speed() {
    let (dir, _guard) = output_dir();
    let path = dir.join("flow_field.svg");
    let mut data = flow_field_data();
    data.speed[5] = f64::NAN;
    data.direction[7] = [f64::NAN, 1.0];
    let no_arrow = data
        .direction
        .iter()
        .filter(|d| !(d[0].is_finite() && d[1].is_finite()) || (d[0] == 0.0 && d[1] == 0.0))
        .count();
    draw_flow_field(&path, &data, &PlotOptions::default()).unwrap();
    let svg = read_svg(&path);
    assert_contains(
        &svg,
        &[&format!("{no_arrow} node(s) with a zero or non-finite direction have no arrow")],
    );
    assert_contains(
        &svg,
        &[
            "PC1 (61.0 % var.)",
            "log10 speed (state units / step)",
            "speed contour (each decade)",
            "unstable fixed point",
            "stable fixed point",
            "stable slow point",
            "1 node(s) with a negative or non-finite speed left blank",
        ],
    );
}

#[test]
fn flow_field_renders_categories() {
    let (dir, _guard) = output_dir();
    let path = dir.join("flow_field_blocks.svg");
    let mut data = flow_field_data();
    let labels = data
        .xs
        .iter()
        .cycle()
        .take(data.speed.len())
        .map(|x| {
            Some(if *x < 0.0 {
                2
            } else if *x < 1.5 {
                0
            } else {
                1
            })
        })
        .collect();
    data.background = FlowBackground::Category {
        names: vec!["mixed".into(), "high".into(), "low".into()],
        labels,
    };
    data.speed_contours = false;
    draw_flow_field(&path, &data, &PlotOptions::default()).unwrap();
    let svg = read_svg(&path);
    assert_contains(&svg, &["mixed", "high", "low", "PC2 (20.0 % var.)"]);
    assert!(!svg.contains("log10 speed"), "a categorical background has no speed colour bar");
}

#[test]
fn flow_field_guards() {
    let (dir, _guard) = output_dir();
    let path = dir.join("flow_field_empty.svg");
    draw_flow_field(&path, &FlowFieldData::default(), &PlotOptions::default()).unwrap();
    assert_contains(&read_svg(&path), &["no data"]);

    let mut nan_speed = flow_field_data();
    nan_speed.speed.iter_mut().for_each(|s| *s = f64::NAN);
    nan_speed.direction.iter_mut().for_each(|d| *d = [f64::NAN, 0.0]);
    draw_flow_field(&path, &nan_speed, &PlotOptions::default()).unwrap();
    read_svg(&path);

    let mut short = flow_field_data();
    short.speed.pop();
    let err = draw_flow_field(&dir.join("bad.svg"), &short, &PlotOptions::default()).unwrap_err();
    assert!(err.to_string().contains("1270 values for a 41 × 31 grid, expected 1271"), "{err}");

    let mut unsorted = flow_field_data();
    unsorted.xs.swap(3, 4);
    let err =
        draw_flow_field(&dir.join("bad.svg"), &unsorted, &PlotOptions::default()).unwrap_err();
    assert!(err.to_string().contains("strictly increasing"), "{err}");

    let data = flow_field_data();
    assert_write_fails_cleanly(|p| draw_flow_field(p, &data, &PlotOptions::default()));
}

fn features_data() -> FeaturesData {
    let line: Vec<FeaturePoint> = (0..12)
        .map(|i| FeaturePoint {
            pcs: [-1.5 + 0.25 * i as f64, 0.5, 0.1],
            feature: Some(0),
            kind: if i % 4 == 0 { PointKind::Fixed } else { PointKind::Slow },
        })
        .collect();
    let mut points = line;
    points.push(FeaturePoint { pcs: [1.0, -1.0, 0.3], feature: Some(1), kind: PointKind::Fixed });
    points.push(FeaturePoint { pcs: [0.0, -1.5, 0.0], feature: None, kind: PointKind::Slow });
    points.push(FeaturePoint {
        pcs: [f64::INFINITY, 0.0, 0.0],
        feature: None,
        kind: PointKind::Slow,
    });
    FeaturesData {
        explained_variance: vec![0.5, 0.2, 0.1],
        trajectories: (0..4).map(|i| spiral([0.0, 0.0, 0.0], i as f64, 200)).collect(),
        feature_names: vec!["line attractor".to_string(), "point attractor".to_string()],
        points,
    }
}

#[test]
fn features_render_legend() {
    let (dir, _guard) = output_dir();
    let path = dir.join("features.svg");
    draw_features(&path, &features_data(), &PlotOptions::default()).unwrap();
    let svg = read_svg(&path);
    assert_contains(
        &svg,
        &[
            "PC1 (50.0 % var.)",
            "line attractor",
            "point attractor",
            "no feature",
            "fixed point (filled)",
            "slow point (open)",
            "1 point(s) with non-finite coordinates not shown",
        ],
    );
}

#[test]
fn features_guards() {
    let (dir, _guard) = output_dir();
    let path = dir.join("features_empty.svg");
    draw_features(&path, &FeaturesData::default(), &PlotOptions::default()).unwrap();
    assert_contains(&read_svg(&path), &["no data"]);

    let mut bad = features_data();
    bad.points[0].feature = Some(5);
    let err = draw_features(&dir.join("bad.svg"), &bad, &PlotOptions::default()).unwrap_err();
    assert!(err.to_string().contains("5 given, but only 2 feature names"), "{err}");

    let data = features_data();
    assert_write_fails_cleanly(|p| draw_features(p, &data, &PlotOptions::default()));
}

#[test]
fn custom_title_is_drawn() {
    let (dir, _guard) = output_dir();
    let path = dir.join("titled.svg");
    let opts = PlotOptions::default().with_title("Network 7 & seed <3>");
    draw_fixed_points(&path, &fixed_points_data(), &opts).unwrap();
    assert_contains(&read_svg(&path), &["Network 7 &amp; seed &lt;3&gt;"]);

    let untitled = PlotOptions::default().with_title("");
    draw_fixed_points(&path, &fixed_points_data(), &untitled).unwrap();
    assert!(!read_svg(&path).contains("Fixed points"));
}

#[test]
fn extreme_values_do_not_panic() {
    let (dir, _guard) = output_dir();
    let opts = PlotOptions::default();
    let cases: [(f64, f64); 5] =
        [(1e-300, 1e-300), (1e-310, 2e-310), (-1e100, 1e100), (1e99, 1e99 + 1e85), (0.0, 0.0)];
    for (i, (a, b)) in cases.into_iter().enumerate() {
        let path = dir.join(format!("extreme_{i}.svg"));

        let points = FixedPointsData {
            explained_variance: vec![0.5, 0.5],
            trajectories: vec![vec![[a, b, a], [b, a, b]]],
            points: vec![ProjectedPoint {
                pcs: [a, b, 0.0],
                stability: Stability::Unstable,
                kind: PointKind::Fixed,
                unstable_modes: vec![[a, b, 0.0]],
            }],
        };
        draw_fixed_points(&path, &points, &opts).unwrap();
        read_svg(&path);

        let strip = StripData {
            metric_label: "x".into(),
            groups: vec![GroupSample { name: "g".into(), values: vec![a, b] }],
        };
        draw_strip(&path, &strip, &opts).unwrap();
        read_svg(&path);

        let ecdf = EcdfData { metric_label: "x".into(), groups: strip.groups.clone() };
        draw_ecdf(&path, &ecdf, &opts).unwrap();
        read_svg(&path);

        let q = QValuesData { q: vec![a.abs(), b.abs(), f64::MAX], ..QValuesData::default() };
        draw_q_values(&path, &q, &opts).unwrap();
        read_svg(&path);

        let spectra = SpectrumData {
            points: vec![PointSpectrum {
                label: "p".into(),
                stability: Stability::Stable,
                eigenvalues: vec![Complex64::new(a, b)],
            }],
        };
        draw_spectra(&path, &spectra, &opts).unwrap();
        read_svg(&path);

        let curves = LearningCurvesData {
            metric_label: "m".into(),
            groups: vec![GroupCurve {
                name: "g".into(),
                sessions: vec![a, b],
                mean: vec![b, a],
                sem: vec![a.abs(), b.abs()],
            }],
            stage_boundaries: vec![StageBoundary { session: a, label: "s".into() }],
        };
        draw_learning_curves(&path, &curves, &opts).unwrap();
        read_svg(&path);
    }
}

#[test]
fn large_figure_size_renders() {
    let (dir, _guard) = output_dir();
    let path = dir.join("large.svg");
    let opts = PlotOptions { width: 2400, height: 1600, title: None };
    draw_spectra(&path, &spectrum_data(30), &opts).unwrap();
    assert!(read_svg(&path).contains("width=\"2400\""));
    let smallest = PlotOptions { width: 200, height: 200, title: None };
    draw_flow_field(&path, &flow_field_data(), &smallest).unwrap();
    read_svg(&path);
}

#[test]
fn trajectories_colour_per_trajectory() {
    let (dir, _guard) = output_dir();
    let path = dir.join("trajectories_plain.svg");
    let data =
        TrajectoriesData { colour: TrajectoryColour::PerTrajectory, ..trajectories_by_block() };
    draw_trajectories(&path, &data, &PlotOptions::default()).unwrap();
    let svg = read_svg(&path);
    assert_contains(&svg, &["PC1 (40.0 % var.)", "#0072B2", "#D55E00"]);
}

#[test]
fn trajectories_note_nan_colour_values() {
    let (dir, _guard) = output_dir();
    let path = dir.join("trajectories_nan_values.svg");
    let mut data = trajectories_by_block();
    let values = data.trajectories.iter().map(|t| vec![f64::NAN; t.len()]).collect();
    data.colour = TrajectoryColour::Value { label: "belief".into(), values, range: None };
    draw_trajectories(&path, &data, &PlotOptions::default()).unwrap();
    assert_contains(&read_svg(&path), &["960 state(s) with a non-finite colour value not drawn"]);
}
