//! Figure: a training metric against session, one mean curve with an SEM band per group, and
//! the curriculum's stage boundaries.

use std::path::Path;

use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use crate::error::{Error, Result};
use crate::plot::axes::{self, is_drawable};
use crate::plot::block::category_colour;
use crate::plot::render::{self, Area, DrawResult, PlotOptions};
use crate::plot::theme;

/// Mean learning curve of one group of networks.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct GroupCurve {
    /// Group name shown in the legend.
    pub name: String,
    /// Training session of each point.
    pub sessions: Vec<f64>,
    /// Mean of the metric over the group's networks at each session.
    pub mean: Vec<f64>,
    /// Standard error of that mean at each session.
    pub sem: Vec<f64>,
}

/// Session at which a curriculum stage starts.
#[derive(Debug, Clone, PartialEq)]
pub struct StageBoundary {
    /// Session of the first step of the stage.
    pub session: f64,
    /// Stage name, such as "simple kindergarten".
    pub label: String,
}

/// Input of [`draw_learning_curves`].
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LearningCurvesData {
    /// Description of the metric with its unit, such as "reward rate (reward units per s)".
    pub metric_label: String,
    /// One curve per group, drawn in this order.
    pub groups: Vec<GroupCurve>,
    /// Stage boundaries drawn as dashed vertical lines with their labels.
    pub stage_boundaries: Vec<StageBoundary>,
}

/// Draws, per group, the mean metric against session as a line over a translucent ±1 SEM
/// band, and each stage boundary as a labelled dashed vertical line. A non-finite session or
/// mean breaks the line; a non-finite SEM breaks the band. Writes the SVG to `path`.
///
/// Errors: a group whose three vectors differ in length, an invalid figure size, or a failed
/// write. No drawable point gives a "no data" figure.
pub fn draw_learning_curves(
    path: &Path,
    data: &LearningCurvesData,
    opts: &PlotOptions,
) -> Result<()> {
    for curve in &data.groups {
        let n = curve.sessions.len();
        if curve.mean.len() != n || curve.sem.len() != n {
            return Err(Error::invalid(
                format!("learning curve of group {:?}", curve.name),
                format!(
                    "{} sessions, {} means and {} SEMs, expected equal lengths",
                    n,
                    curve.mean.len(),
                    curve.sem.len()
                ),
            ));
        }
    }
    render::render_svg(path, opts, "Learning curves", |area| draw_chart(area, data))
}

/// Splits `curve` into runs of consecutive points whose session, mean and (when `with_sem`)
/// SEM are drawable. Each point is (session, mean, SEM or 0).
fn runs(curve: &GroupCurve, with_sem: bool) -> Vec<Vec<(f64, f64, f64)>> {
    let mut runs = Vec::new();
    let mut current = Vec::new();
    for ((&session, &mean), &sem) in curve.sessions.iter().zip(&curve.mean).zip(&curve.sem) {
        let sem_ok = is_drawable(sem) && sem >= 0.0;
        if is_drawable(session) && is_drawable(mean) && (sem_ok || !with_sem) {
            current.push((session, mean, if sem_ok { sem } else { 0.0 }));
        } else if !current.is_empty() {
            runs.push(std::mem::take(&mut current));
        }
    }
    if !current.is_empty() {
        runs.push(current);
    }
    runs
}

fn draw_chart(area: &Area<'_>, data: &LearningCurvesData) -> DrawResult {
    let points: Vec<(f64, f64, f64)> =
        data.groups.iter().flat_map(|c| runs(c, false)).flatten().collect();
    let Some(x) = axes::padded_range(points.iter().map(|p| p.0)) else {
        return render::draw_no_data(area, "no finite session and mean pair was given");
    };
    let boundaries: Vec<&StageBoundary> =
        data.stage_boundaries.iter().filter(|b| is_drawable(b.session)).collect();
    let x = axes::include(
        x,
        boundaries.iter().map(|b| b.session).fold(f64::INFINITY, f64::min),
        boundaries.iter().map(|b| b.session).fold(f64::NEG_INFINITY, f64::max),
    );
    let y_values = points.iter().flat_map(|&(_, mean, sem)| [mean - sem, mean + sem]);
    let y = axes::padded_range(y_values).unwrap_or(0.0..1.0);

    // Headroom above the data for the stage labels.
    let y = y.start..y.end + 0.12 * (y.end - y.start);
    let mut chart = axes::linear_chart(area, None, x, y.clone())?;
    axes::draw_axes(
        &mut chart,
        "session",
        &data.metric_label,
        &axes::format_tick,
        &axes::format_tick,
    )?;

    for (index, curve) in data.groups.iter().enumerate() {
        let colour = category_colour(index, &curve.name);
        for run in runs(curve, true) {
            let upper = run.iter().map(|&(s, m, e)| (s, m + e));
            let lower = run.iter().rev().map(|&(s, m, e)| (s, m - e));
            chart.draw_series(std::iter::once(Polygon::new(
                upper.chain(lower).collect::<Vec<_>>(),
                colour.mix(0.2).filled(),
            )))?;
        }

        let line = colour.stroke_width(theme::LINE_WIDTH);
        let mut labelled = false;
        for run in runs(curve, false) {
            let anno =
                chart.draw_series(LineSeries::new(run.iter().map(|&(s, m, _)| (s, m)), line))?;
            if !labelled {
                anno.label(curve.name.clone())
                    .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], line));
                labelled = true;
            }
        }
    }

    draw_boundaries(&mut chart, &boundaries, y)?;
    axes::draw_legend(&mut chart, SeriesLabelPosition::LowerRight)
}

fn draw_boundaries(
    chart: &mut axes::Chart<'_, '_>,
    boundaries: &[&StageBoundary],
    y: std::ops::Range<f64>,
) -> DrawResult {
    let style = theme::GREY.stroke_width(1);
    let text = (theme::FONT, theme::TICK_SIZE)
        .into_font()
        .color(&theme::INK)
        .pos(Pos::new(HPos::Left, VPos::Top));
    let height = y.end - y.start;

    let mut sorted = boundaries.to_vec();
    sorted.sort_by(|a, b| a.session.total_cmp(&b.session));
    for (i, boundary) in sorted.iter().enumerate() {
        chart.draw_series(DashedLineSeries::new(
            vec![(boundary.session, y.start), (boundary.session, y.end)],
            6,
            4,
            style,
        ))?;

        // Alternate two label rows, so labels of close boundaries do not overlap.
        let row = if i % 2 == 0 { 0.01 } else { 0.06 };
        let label_y = y.end - row * height;
        chart.draw_series(std::iter::once(Text::new(
            format!(" {}", boundary.label),
            (boundary.session, label_y),
            text.clone(),
        )))?;
    }
    Ok(())
}
