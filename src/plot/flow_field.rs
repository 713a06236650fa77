//! Figure: flow field of the one-step map on a plane: a heatmap of log10 speed (or a
//! categorical background), arrows for the direction of motion, optional speed contours, and
//! fixed and slow points on top.

use std::collections::BTreeSet;
use std::ops::Range;
use std::path::Path;

use plotters::prelude::*;

use crate::error::{Error, Result};
use crate::plot::axes::{self, is_drawable, Chart};
use crate::plot::block::category_colour;
use crate::plot::colour_bar::{self, COLOUR_BAR_WIDTH};
use crate::plot::contour;
use crate::plot::markers::{self, PointKind, Stability};
use crate::plot::render::{self, Area, DrawResult, PlotOptions};
use crate::plot::theme;

/// Background of the flow field.
#[derive(Debug, Clone, Default, PartialEq)]
pub enum FlowBackground {
    /// Heatmap of log10 speed with a colour bar.
    #[default]
    Speed,
    /// One category per grid node (such as the argmax of the block belief), indexing `names`;
    /// `None` leaves the cell blank.
    Category { names: Vec<String>, labels: Vec<Option<usize>> },
}

/// A fixed or slow point on the flow-field plane.
#[derive(Debug, Clone, PartialEq)]
pub struct PlanePoint {
    /// Coordinates on the plane's two axes.
    pub xy: [f64; 2],
    /// Linear stability of the point.
    pub stability: Stability,
    /// Whether the point met the fixed-point or only the slow-point threshold.
    pub kind: PointKind,
}

/// Input of [`draw_flow_field`]. Grid values are stored row by row: the node at `xs[i]`,
/// `ys[j]` has index `j * xs.len() + i`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FlowFieldData {
    /// Description of the horizontal axis, such as "PC1 (42.0 % var.)".
    pub x_label: String,
    /// Description of the vertical axis.
    pub y_label: String,
    /// Horizontal grid coordinates, strictly increasing (at least two).
    pub xs: Vec<f64>,
    /// Vertical grid coordinates, strictly increasing (at least two).
    pub ys: Vec<f64>,
    /// Speed ‖F(x) − x‖ at each node, in state units per step.
    pub speed: Vec<f64>,
    /// Displacement F(x) − x at each node, projected on the plane; only its direction is drawn.
    pub direction: Vec<[f64; 2]>,
    /// Heatmap or categorical background.
    pub background: FlowBackground,
    /// Draw contour lines of log10 speed at every integer value (each decade of speed).
    pub speed_contours: bool,
    /// Points drawn on top.
    pub points: Vec<PlanePoint>,
}

/// Maximum number of arrows along each axis. Denser grids are subsampled evenly.
const MAX_ARROWS_PER_AXIS: usize = 24;

/// Draws the flow field and writes the SVG to `path`. Nodes with a non-finite speed are
/// left blank and nodes with a zero or non-finite direction get no arrow. Both are counted in
/// a note. A zero speed is drawn as the smallest positive speed.
///
/// Errors: fewer than two or non-increasing grid coordinates, per-node vectors whose length
/// is not `xs.len() * ys.len()`, a category index out of range, an invalid figure size, or a
/// failed write. An empty grid without points gives a "no data" figure.
pub fn draw_flow_field(path: &Path, data: &FlowFieldData, opts: &PlotOptions) -> Result<()> {
    if data.xs.is_empty() && data.ys.is_empty() && data.points.is_empty() {
        return render::render_svg(path, opts, "Flow field", |area| {
            render::draw_no_data(area, "no grid and no point was given")
        });
    }
    check_grid(data)?;

    let log_speed = log_speeds(&data.speed);
    let speed_range = axes::padded_range(log_speed.iter().flatten().copied()).map(|r| {
        // Undo the 5 % margin: the colour scale spans the data exactly.
        let margin = (r.end - r.start) / 1.1 * 0.05;
        r.start + margin..r.end - margin
    });

    render::render_svg(path, opts, "Flow field", |area| {
        let notes = notes(data, &log_speed);
        render::with_notes(area, &notes, |body| match (&data.background, speed_range.clone()) {
            (FlowBackground::Speed, Some(range)) => {
                let (width, _) = body.dim_in_pixel();
                let (plane, bar) = body.split_horizontally(width.saturating_sub(COLOUR_BAR_WIDTH));
                draw_plane(&plane, data, &log_speed, Some(&range))?;
                colour_bar::draw_colour_bar(&bar, range, "log10 speed (state units / step)")
            }
            _ => draw_plane(body, data, &log_speed, None),
        })
    })
}

fn check_grid(data: &FlowFieldData) -> Result<()> {
    for (name, axis) in [("flow-field x grid", &data.xs), ("flow-field y grid", &data.ys)] {
        if axis.len() < 2 {
            return Err(Error::invalid(
                name,
                format!("{} coordinates given, expected at least 2", axis.len()),
            ));
        }
        let increasing =
            |i: usize| is_drawable(axis[i - 1]) && is_drawable(axis[i]) && axis[i] > axis[i - 1];
        if let Some(i) = (1..axis.len()).find(|&i| !increasing(i)) {
            return Err(Error::invalid(
                name,
                format!(
                    "coordinates {} and {} at {} and {i} are not finite and strictly increasing",
                    axis[i - 1],
                    axis[i],
                    i - 1
                ),
            ));
        }
    }

    let nodes = data.xs.len() * data.ys.len();
    let mut lengths = vec![("speed", data.speed.len()), ("direction", data.direction.len())];
    if let FlowBackground::Category { names, labels } = &data.background {
        lengths.push(("category labels", labels.len()));
        if let Some(bad) = labels.iter().flatten().find(|l| **l >= names.len()) {
            return Err(Error::invalid(
                "flow-field category",
                format!("index {bad} given, but only {} category names", names.len()),
            ));
        }
    }
    for (name, length) in lengths {
        if length != nodes {
            return Err(Error::invalid(
                format!("flow-field {name}"),
                format!(
                    "{length} values for a {} × {} grid, expected {nodes}",
                    data.xs.len(),
                    data.ys.len()
                ),
            ));
        }
    }
    Ok(())
}

/// Returns log10 of each speed; zero maps to the log of the smallest positive speed and a
/// negative or non-finite speed to `None`.
fn log_speeds(speed: &[f64]) -> Vec<Option<f64>> {
    let smallest =
        speed.iter().copied().filter(|s| s.is_finite() && *s > 0.0).fold(f64::INFINITY, f64::min);
    speed
        .iter()
        .map(|&s| match s {
            s if s.is_finite() && s > 0.0 => Some(s.log10()),
            s if s == 0.0 && smallest.is_finite() => Some(smallest.log10()),
            _ => None,
        })
        .collect()
}

fn notes(data: &FlowFieldData, log_speed: &[Option<f64>]) -> Vec<String> {
    let mut notes = Vec::new();
    let blank = log_speed.iter().filter(|s| s.is_none()).count();
    if blank > 0 && data.background == FlowBackground::Speed {
        notes.push(format!("{blank} node(s) with a negative or non-finite speed left blank"));
    }
    let no_arrow =
        data.direction.iter().filter(|d| unit_direction(**d, 1.0, 1.0).is_none()).count();
    if no_arrow > 0 {
        notes.push(format!("{no_arrow} node(s) with a zero or non-finite direction have no arrow"));
    }
    let hidden = data.points.iter().filter(|p| !p.xy.iter().all(|v| is_drawable(*v))).count();
    if hidden > 0 {
        notes.push(format!("{hidden} point(s) with non-finite coordinates not shown"));
    }
    notes
}

/// Returns the direction `(dx, dy)` as a unit vector in axis-normalised units (each axis
/// divided by its span), or `None` when it is zero or not finite.
fn unit_direction([dx, dy]: [f64; 2], x_span: f64, y_span: f64) -> Option<(f64, f64)> {
    let (u, v) = (dx / x_span, dy / y_span);
    let norm = u.hypot(v);
    (norm.is_finite() && norm > 0.0).then(|| (u / norm, v / norm))
}

/// Returns the cell edges around each grid coordinate: midpoints between neighbours, and half
/// a spacing beyond the first and last coordinate.
fn cell_edges(axis: &[f64]) -> Vec<f64> {
    let n = axis.len();
    let mut edges = Vec::with_capacity(n + 1);
    edges.push(axis[0] - 0.5 * (axis[1] - axis[0]));
    edges.extend(axis.windows(2).map(|w| 0.5 * (w[0] + w[1])));
    edges.push(axis[n - 1] + 0.5 * (axis[n - 1] - axis[n - 2]));
    edges
}

fn draw_plane(
    area: &Area<'_>,
    data: &FlowFieldData,
    log_speed: &[Option<f64>],
    speed_range: Option<&Range<f64>>,
) -> DrawResult {
    let x_edges = cell_edges(&data.xs);
    let y_edges = cell_edges(&data.ys);
    let point_xs = data.points.iter().map(|p| p.xy[0]);
    let point_ys = data.points.iter().map(|p| p.xy[1]);
    let x = axes::padded_range(point_xs.chain([x_edges[0], x_edges[x_edges.len() - 1]]))
        .unwrap_or(-1.0..1.0);
    let y = axes::padded_range(point_ys.chain([y_edges[0], y_edges[y_edges.len() - 1]]))
        .unwrap_or(-1.0..1.0);
    let mut chart = axes::linear_chart(area, None, x, y)?;
    axes::draw_axes(
        &mut chart,
        &data.x_label,
        &data.y_label,
        &axes::format_tick,
        &axes::format_tick,
    )?;

    draw_background(&mut chart, data, log_speed, speed_range, &x_edges, &y_edges)?;
    if data.speed_contours {
        draw_contours(&mut chart, data, log_speed)?;
    }
    draw_arrows(&mut chart, data)?;
    draw_points(&mut chart, &data.points)?;
    axes::draw_legend(&mut chart, SeriesLabelPosition::UpperRight)
}

fn draw_background(
    chart: &mut Chart<'_, '_>,
    data: &FlowFieldData,
    log_speed: &[Option<f64>],
    speed_range: Option<&Range<f64>>,
    x_edges: &[f64],
    y_edges: &[f64],
) -> DrawResult {
    let nx = data.xs.len();
    let cell = |index: usize| {
        let (i, j) = (index % nx, index / nx);
        [(x_edges[i], y_edges[j]), (x_edges[i + 1], y_edges[j + 1])]
    };

    // NOTE: every node is one SVG rectangle of about 90 bytes, so a 1000 × 1000 grid gives a
    // file of about 90 MB. Grids of up to a few hundred nodes per side stay practical.
    match &data.background {
        FlowBackground::Speed => {
            let Some(range) = speed_range else { return Ok(()) };
            chart.draw_series(log_speed.iter().enumerate().filter_map(|(index, s)| {
                let s = (*s)?;
                Some(Rectangle::new(cell(index), colour_bar::viridis(s, range).filled()))
            }))?;
        }
        FlowBackground::Category { names, labels } => {
            chart.draw_series(labels.iter().enumerate().filter_map(|(index, label)| {
                let label = (*label)?;
                Some(Rectangle::new(
                    cell(index),
                    category_colour(label, &names[label]).mix(0.3).filled(),
                ))
            }))?;
            let used: BTreeSet<usize> = labels.iter().flatten().copied().collect();
            for label in used {
                let colour = category_colour(label, &names[label]).mix(0.3).filled();
                chart
                    .draw_series(std::iter::empty::<Rectangle<(f64, f64)>>())?
                    .label(names[label].clone())
                    .legend(move |(x, y)| Rectangle::new([(x, y - 6), (x + 16, y + 6)], colour));
            }
        }
    }
    Ok(())
}

fn draw_contours(
    chart: &mut Chart<'_, '_>,
    data: &FlowFieldData,
    log_speed: &[Option<f64>],
) -> DrawResult {
    let values: Vec<f64> = log_speed.iter().map(|s| s.unwrap_or(f64::NAN)).collect();
    let drawable = values.iter().copied().filter(|v| v.is_finite());
    let (low, high) =
        drawable.fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| (lo.min(v), hi.max(v)));
    if low >= high {
        return Ok(());
    }

    let style = theme::INK.mix(0.8).stroke_width(1);
    let mut labelled = false;
    for level in (low.ceil() as i64)..=(high.floor() as i64) {
        let segments = contour::segments(&data.xs, &data.ys, &values, level as f64);
        let anno = chart
            .draw_series(segments.into_iter().map(|s| PathElement::new(vec![s.0, s.1], style)))?;
        if !labelled {
            anno.label("speed contour (each decade)")
                .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], style));
            labelled = true;
        }
    }
    Ok(())
}

/// Draws one arrow per subsampled node: a shaft along the direction of motion through the
/// node and a head at its end, all arrows of equal on-screen length.
fn draw_arrows(chart: &mut Chart<'_, '_>, data: &FlowFieldData) -> DrawResult {
    let x_span = chart.x_range().end - chart.x_range().start;
    let y_span = chart.y_range().end - chart.y_range().start;
    let (nx, ny) = (data.xs.len(), data.ys.len());
    let x_stride = nx.div_ceil(MAX_ARROWS_PER_AXIS).max(1);
    let y_stride = ny.div_ceil(MAX_ARROWS_PER_AXIS).max(1);

    // Arrow length: 70 % of the spacing between drawn arrows, in axis-normalised units.
    let spacing_x = (data.xs[nx - 1] - data.xs[0]) / x_span * x_stride as f64 / (nx - 1) as f64;
    let spacing_y = (data.ys[ny - 1] - data.ys[0]) / y_span * y_stride as f64 / (ny - 1) as f64;
    let half = 0.35 * spacing_x.min(spacing_y);
    let head = 0.45 * half;

    let style = WHITE.mix(0.9).stroke_width(1);
    let mut arrows = Vec::new();
    for j in (0..ny).step_by(y_stride) {
        for i in (0..nx).step_by(x_stride) {
            let Some((u, v)) = unit_direction(data.direction[j * nx + i], x_span, y_span) else {
                continue;
            };
            let to_data = |a: f64, b: f64| (data.xs[i] + a * x_span, data.ys[j] + b * y_span);
            let tip = (u * half, v * half);
            let tail = (-u * half, -v * half);

            // Head: two strokes back from the tip, rotated ±30° from the shaft.
            let (cos, sin) = (30f64.to_radians().cos(), 30f64.to_radians().sin());
            let left = (tip.0 - head * (u * cos - v * sin), tip.1 - head * (v * cos + u * sin));
            let right = (tip.0 - head * (u * cos + v * sin), tip.1 - head * (v * cos - u * sin));
            arrows.push(vec![to_data(tail.0, tail.1), to_data(tip.0, tip.1)]);
            arrows.push(vec![
                to_data(left.0, left.1),
                to_data(tip.0, tip.1),
                to_data(right.0, right.1),
            ]);
        }
    }
    let outline = theme::INK.mix(0.9).stroke_width(3);
    chart.draw_series(arrows.iter().map(|a| PathElement::new(a.clone(), outline)))?;
    chart.draw_series(arrows.into_iter().map(|a| PathElement::new(a, style)))?;
    Ok(())
}

fn draw_points(chart: &mut Chart<'_, '_>, points: &[PlanePoint]) -> DrawResult {
    // A white disc behind each marker keeps it visible on any background colour.
    let halo = ShapeStyle::from(&WHITE.mix(0.85)).filled();
    let drawable = points.iter().filter(|p| p.xy.iter().all(|v| is_drawable(*v)));
    chart.draw_series(
        drawable.map(|p| Circle::new((p.xy[0], p.xy[1]), markers::POINT_SIZE + 3, halo)),
    )?;

    for kind in [PointKind::Slow, PointKind::Fixed] {
        for stability in [Stability::Stable, Stability::Marginal, Stability::Unstable] {
            let coords: Vec<(f64, f64)> = points
                .iter()
                .filter(|p| p.kind == kind && p.stability == stability)
                .map(|p| (p.xy[0], p.xy[1]))
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
            markers::draw_marker_series(
                chart,
                &coords,
                stability.shape(),
                colour,
                size,
                Some(&label),
            )?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cell_edges_are_midpoints() {
        assert_eq!(cell_edges(&[0.0, 1.0, 3.0]), vec![-0.5, 0.5, 2.0, 4.0]);
    }

    #[test]
    fn log_speeds_handle_zero_and_nan() {
        let logs = log_speeds(&[0.0, 0.01, 10.0, f64::NAN, -1.0]);
        assert_eq!(logs, vec![Some(-2.0), Some(-2.0), Some(1.0), None, None]);
    }
}
