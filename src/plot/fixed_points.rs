//! Figure: fixed and slow points on the PC1–PC2 and PC1–PC3 planes, over faint trajectories.

use std::path::Path;

use plotters::prelude::*;

use crate::error::Result;
use crate::plot::axes::{self, is_drawable, Chart};
use crate::plot::markers::{self, PointKind, Stability};
use crate::plot::pc_planes::{self, PcCoords};
use crate::plot::render::{self, Area, DrawResult, PlotOptions};
use crate::plot::theme;

/// A fixed or slow point projected on the principal components.
#[derive(Debug, Clone, PartialEq)]
pub struct ProjectedPoint {
    /// Coordinates on PC1, PC2 and PC3 (state units).
    pub pcs: PcCoords,
    /// Linear stability of the point.
    pub stability: Stability,
    /// Whether the point met the fixed-point or only the slow-point threshold.
    pub kind: PointKind,
    /// Unstable eigenvectors (real parts) projected on PC1..PC3, at any scale. Each is drawn
    /// as a short segment through the point; segments have the same on-screen length.
    pub unstable_modes: Vec<PcCoords>,
}

/// Input of [`draw_fixed_points`].
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FixedPointsData {
    /// Fraction of the total variance explained by PC1, PC2 and optionally PC3. With three
    /// entries the figure has a PC1–PC3 panel beside the PC1–PC2 one.
    pub explained_variance: Vec<f64>,
    /// Trajectories drawn faintly behind the points, each a sequence of states on PC1..PC3.
    pub trajectories: Vec<Vec<PcCoords>>,
    /// Points to mark.
    pub points: Vec<ProjectedPoint>,
}

/// Half-length of an unstable-mode segment in axis-normalised units, where each axis span
/// has length 1.
const MODE_HALF_LENGTH: f64 = 0.05;

/// Draws fixed and slow points on PC planes and writes the SVG to `path`. Stable points are
/// filled circles, unstable ones crosses with their unstable modes as segments, and marginal
/// ones triangles. Slow points are smaller and grey.
///
/// Errors: an invalid figure size, explained variances that are not fractions in 0..=1 (or
/// fewer than two of them), or a failed write. Input with no drawable point or trajectory
/// gives a "no data" figure.
pub fn draw_fixed_points(path: &Path, data: &FixedPointsData, opts: &PlotOptions) -> Result<()> {
    let has_points = data.points.iter().any(|p| p.pcs.iter().all(|v| is_drawable(*v)));
    let has_trajectories =
        data.trajectories.iter().flatten().any(|p| p.iter().all(|v| is_drawable(*v)));
    if !has_points && !has_trajectories {
        return render::render_svg(path, opts, "Fixed points", |area| {
            render::draw_no_data(area, "no finite fixed point or trajectory state was given")
        });
    }
    pc_planes::check_explained_variance(&data.explained_variance)?;

    render::render_svg(path, opts, "Fixed points", |area| draw_panels(area, data))
}

fn draw_panels(area: &Area<'_>, data: &FixedPointsData) -> DrawResult {
    let skipped = data.points.iter().filter(|p| !p.pcs.iter().all(|v| is_drawable(*v))).count();
    let notes = if skipped > 0 {
        vec![format!("{skipped} point(s) with non-finite coordinates not shown")]
    } else {
        vec![]
    };
    render::with_notes(area, &notes, |body| draw_planes(body, data))
}

fn draw_planes(area: &Area<'_>, data: &FixedPointsData) -> DrawResult {
    let planes = pc_planes::pc_planes(&data.explained_variance);
    let panels = pc_planes::side_by_side(area, planes.len());

    for (index, (panel, plane)) in panels.iter().zip(planes.iter().copied()).enumerate() {
        let mut chart = plane_chart(panel, data, plane)?;
        let x_desc = pc_planes::pc_label(plane.0, &data.explained_variance);
        let y_desc = pc_planes::pc_label(plane.1, &data.explained_variance);
        axes::draw_axes(&mut chart, &x_desc, &y_desc, &axes::format_tick, &axes::format_tick)?;

        let with_legend = index == 0;
        draw_trajectories(&mut chart, &data.trajectories, plane, with_legend)?;
        draw_unstable_modes(&mut chart, &data.points, plane, with_legend)?;
        draw_points(&mut chart, &data.points, plane, with_legend)?;
        if with_legend {
            axes::draw_legend(&mut chart, SeriesLabelPosition::UpperRight)?;
        }
    }
    Ok(())
}

/// Builds the chart of one plane, with limits covering every drawable point and state.
fn plane_chart<'a, 'b>(
    panel: &'a Area<'b>,
    data: &FixedPointsData,
    plane: (usize, usize),
) -> DrawResult<Chart<'a, 'b>> {
    let states = data.trajectories.iter().flatten().chain(data.points.iter().map(|p| &p.pcs));
    let coords: Vec<(f64, f64)> = states
        .map(|s| pc_planes::project(s, plane))
        .filter(|(x, y)| is_drawable(*x) && is_drawable(*y))
        .collect();
    let x = axes::padded_range(coords.iter().map(|c| c.0)).unwrap_or(-1.0..1.0);
    let y = axes::padded_range(coords.iter().map(|c| c.1)).unwrap_or(-1.0..1.0);
    axes::linear_chart(panel, None, x, y)
}

/// Draws each trajectory as a thin translucent grey line.
pub(crate) fn draw_trajectories(
    chart: &mut Chart<'_, '_>,
    trajectories: &[Vec<PcCoords>],
    plane: (usize, usize),
    with_legend: bool,
) -> DrawResult {
    let style = theme::GREY.mix(0.35).stroke_width(1);
    for trajectory in trajectories {
        for run in pc_planes::drawable_runs(trajectory, plane) {
            chart.draw_series(std::iter::once(PathElement::new(run, style)))?;
        }
    }
    if with_legend && !trajectories.is_empty() {
        markers::legend_line(chart, "trajectory", theme::GREY.stroke_width(1))?;
    }
    Ok(())
}

fn draw_unstable_modes(
    chart: &mut Chart<'_, '_>,
    points: &[ProjectedPoint],
    plane: (usize, usize),
    with_legend: bool,
) -> DrawResult {
    let x_span = chart.x_range().end - chart.x_range().start;
    let y_span = chart.y_range().end - chart.y_range().start;
    let style = theme::UNSTABLE.stroke_width(theme::LINE_WIDTH);

    let mut segments = Vec::new();
    for point in points.iter().filter(|p| p.pcs.iter().all(|v| is_drawable(*v))) {
        let (x, y) = pc_planes::project(&point.pcs, plane);
        for mode in &point.unstable_modes {
            // Normalise the direction in axis units, so every segment has the same on-screen
            // length whatever the scale of the eigenvector and of each axis.
            let (dx, dy) = pc_planes::project(mode, plane);
            let (u, v) = (dx / x_span, dy / y_span);
            let norm = u.hypot(v);
            if !norm.is_finite() || norm < 1e-12 {
                continue;
            }
            let scale = MODE_HALF_LENGTH / norm;
            let (hx, hy) = (u * scale * x_span, v * scale * y_span);
            segments.push(vec![(x - hx, y - hy), (x + hx, y + hy)]);
        }
    }

    let has_segments = !segments.is_empty();
    chart.draw_series(segments.into_iter().map(|s| PathElement::new(s, style)))?;
    if with_legend && has_segments {
        markers::legend_line(chart, "unstable mode", style)?;
    }
    Ok(())
}

fn draw_points(
    chart: &mut Chart<'_, '_>,
    points: &[ProjectedPoint],
    plane: (usize, usize),
    with_legend: bool,
) -> DrawResult {
    // Slow points first, so fixed points are drawn on top of them.
    for kind in [PointKind::Slow, PointKind::Fixed] {
        for stability in [Stability::Stable, Stability::Marginal, Stability::Unstable] {
            let coords: Vec<(f64, f64)> = points
                .iter()
                .filter(|p| p.kind == kind && p.stability == stability)
                .map(|p| pc_planes::project(&p.pcs, plane))
                .collect();
            let (colour, size, label) = match kind {
                PointKind::Fixed => (
                    stability.colour(),
                    markers::POINT_SIZE,
                    format!("{} fixed point", stability.label()),
                ),
                PointKind::Slow => (
                    theme::GREY,
                    markers::SLOW_POINT_SIZE,
                    format!("{} slow point", stability.label()),
                ),
            };
            let label = with_legend.then_some(label.as_str());
            markers::draw_marker_series(chart, &coords, stability.shape(), colour, size, label)?;
        }
    }
    Ok(())
}
