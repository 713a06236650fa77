//! Figure: final q of every fixed-point search start, sorted, on a log axis, with the fixed-
//! and slow-point thresholds.

use std::path::Path;

use plotters::prelude::*;

use crate::error::{Error, Result};
use crate::plot::axes;
use crate::plot::render::{self, Area, DrawResult, PlotOptions};
use crate::plot::theme;

/// Input of [`draw_q_values`].
#[derive(Debug, Clone, PartialEq)]
pub struct QValuesData {
    /// Final q = ½‖F(x) − x‖² of each start (per-step units), in any order.
    pub q: Vec<f64>,
    /// q below which a point counts as fixed (default 1e-12).
    pub fixed_threshold: f64,
    /// q below which a point counts as slow (default 1e-6).
    pub slow_threshold: f64,
}

impl Default for QValuesData {
    fn default() -> Self {
        QValuesData { q: Vec::new(), fixed_threshold: 1e-12, slow_threshold: 1e-6 }
    }
}

/// Maximum number of tick labels on the log axis. Beyond it, decades are skipped evenly.
const MAX_DECADE_TICKS: usize = 9;

/// Draws the final q of each start, sorted ascending, on a log10 axis: points below the
/// fixed-point threshold in blue, below the slow-point threshold in orange, others grey, and
/// both thresholds as labelled dashed lines. q = 0 is drawn at the bottom edge; negative or
/// non-finite q is left out and counted in a note. Writes the SVG to `path`.
///
/// Errors: thresholds that are not positive and finite with fixed < slow, an invalid figure
/// size, or a failed write. No drawable q gives a "no data" figure.
pub fn draw_q_values(path: &Path, data: &QValuesData, opts: &PlotOptions) -> Result<()> {
    check_thresholds(data)?;
    render::render_svg(path, opts, "Final q of each start", |area| draw_figure(area, data))
}

fn check_thresholds(data: &QValuesData) -> Result<()> {
    for (name, value) in [
        ("fixed-point threshold", data.fixed_threshold),
        ("slow-point threshold", data.slow_threshold),
    ] {
        if !(value.is_finite() && value > 0.0) {
            return Err(Error::invalid(name, format!("{value}, expected a positive finite q")));
        }
    }
    if data.fixed_threshold >= data.slow_threshold {
        return Err(Error::invalid(
            "fixed-point threshold",
            format!(
                "{} is not below the slow-point threshold {}",
                data.fixed_threshold, data.slow_threshold
            ),
        ));
    }
    Ok(())
}

fn draw_figure(area: &Area<'_>, data: &QValuesData) -> DrawResult {
    let mut sorted: Vec<f64> =
        data.q.iter().copied().filter(|q| q.is_finite() && *q >= 0.0).collect();
    sorted.sort_by(f64::total_cmp);
    let invalid = data.q.len() - sorted.len();
    let zeros = sorted.iter().filter(|q| **q == 0.0).count();

    let mut notes = Vec::new();
    if invalid > 0 {
        notes.push(format!("{invalid} start(s) with negative or non-finite q not shown"));
    }
    if zeros > 0 {
        notes.push(format!("{zeros} start(s) with q = 0 drawn at the bottom edge"));
    }

    if sorted.is_empty() {
        return render::with_notes(area, &notes, |body| {
            render::draw_no_data(body, "no start with a finite q was given")
        });
    }
    render::with_notes(area, &notes, |body| draw_chart(body, data, &sorted))
}

fn draw_chart(area: &Area<'_>, data: &QValuesData, sorted: &[f64]) -> DrawResult {
    // The axis is log10 q on a linear scale, so tick labels can read "1e-12".
    let positive = sorted.iter().copied().filter(|q| *q > 0.0);
    let log_values: Vec<f64> = positive.map(f64::log10).collect();
    let (low, high) = log_values
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| (lo.min(*v), hi.max(*v)));
    let low = low.min(data.fixed_threshold.log10()) - 1.0;
    let high = high.max(data.slow_threshold.log10()) + 1.0;
    let high = if high.is_finite() { high } else { low + 2.0 };
    let floor = low.floor();
    let ceiling = high.ceil();

    let decades = (ceiling - floor) as usize;
    let stride = decades.div_ceil(MAX_DECADE_TICKS).max(1);
    let ticks: Vec<f64> = (0..=decades).step_by(stride).map(|k| floor + k as f64).collect();

    let count = sorted.len() as f64;
    let mut chart = axes::chart_builder(area, None).build_cartesian_2d(
        -0.02 * count..count * 1.02,
        axes::FixedTicks::new(floor..ceiling, ticks),
    )?;
    let decade_label = |v: &f64| format!("1e{}", v.round() as i64);
    axes::draw_axes(
        &mut chart,
        "start (sorted by final q)",
        "final q = ½‖F(x) − x‖²",
        &axes::format_tick,
        &decade_label,
    )?;

    let colour_of = |q: f64| {
        if q < data.fixed_threshold {
            theme::STABLE
        } else if q < data.slow_threshold {
            theme::PALETTE[3]
        } else {
            theme::GREY
        }
    };
    chart.draw_series(sorted.iter().enumerate().map(|(rank, &q)| {
        let y = if q > 0.0 { q.log10() } else { floor };
        Circle::new((rank as f64 + 0.5, y), 3, colour_of(q).filled())
    }))?;

    for (label, threshold, colour) in [
        ("fixed-point threshold", data.fixed_threshold, theme::STABLE),
        ("slow-point threshold", data.slow_threshold, theme::PALETTE[3]),
    ] {
        let y = threshold.log10();
        let style = colour.stroke_width(theme::LINE_WIDTH);
        chart
            .draw_series(DashedLineSeries::new(vec![(0.0, y), (count, y)], 8, 5, style))?
            .label(format!("{label} q = {threshold:e}"))
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], style));
    }
    axes::draw_legend(&mut chart, SeriesLabelPosition::UpperLeft)
}
