//! Continuous colour scale (viridis) and its colour bar.

use std::ops::Range;

use plotters::prelude::*;

use crate::plot::axes;
use crate::plot::render::{Area, DrawResult};
use crate::plot::theme;

/// Width of the strip that contains a colour bar and its labels, in pixels.
pub(crate) const COLOUR_BAR_WIDTH: u32 = 110;

/// Number of colour levels drawn in a colour bar and used to group line segments by colour.
pub(crate) const LEVELS: usize = 64;

/// Returns the viridis colour of `value` on `range` (perceptually uniform and readable in
/// grey scale and under colour-vision deficiencies). Values outside the range are clamped.
pub(crate) fn viridis(value: f64, range: &Range<f64>) -> RGBColor {
    let t = if range.end > range.start {
        (value - range.start) / (range.end - range.start)
    } else {
        0.5
    };
    ViridisRGB::get_color(t.clamp(0.0, 1.0))
}

/// Returns the index, in 0..[`LEVELS`], of the colour level of `value` on `range`.
pub(crate) fn level(value: f64, range: &Range<f64>) -> usize {
    let t = if range.end > range.start {
        (value - range.start) / (range.end - range.start)
    } else {
        0.5
    };
    ((t.clamp(0.0, 1.0) * LEVELS as f64) as usize).min(LEVELS - 1)
}

/// Returns the value at the centre of colour level `index` on `range`.
pub(crate) fn level_value(index: usize, range: &Range<f64>) -> f64 {
    range.start + (index as f64 + 0.5) / LEVELS as f64 * (range.end - range.start)
}

/// Draws a vertical colour bar for `range` on `area`, with tick labels and the description
/// `label` on its right.
pub(crate) fn draw_colour_bar(area: &Area<'_>, range: Range<f64>, label: &str) -> DrawResult {
    let mut chart = ChartBuilder::on(area)
        .margin_top(20)
        .margin_bottom(56)
        .margin_left(6)
        .right_y_label_area_size(78)
        .build_cartesian_2d(0.0..1.0, range.clone())?
        .set_secondary_coord(0.0..1.0, range.clone());

    let step = (range.end - range.start) / LEVELS as f64;
    chart.draw_series((0..LEVELS).map(|i| {
        let low = range.start + i as f64 * step;
        Rectangle::new([(0.0, low), (1.0, low + step)], viridis(low + 0.5 * step, &range).filled())
    }))?;

    chart
        .configure_secondary_axes()
        .x_labels(0)
        .y_labels(10)
        .y_label_formatter(&axes::format_tick)
        .label_style((theme::FONT, theme::TICK_SIZE).into_font().color(&theme::INK))
        .axis_desc_style((theme::FONT, theme::AXIS_LABEL_SIZE).into_font().color(&theme::INK))
        .y_desc(label)
        .draw()?;
    Ok(())
}
