//! Axis ranges, chart frames and tick labels shared by the figures.

use std::ops::Range;

use plotters::coord::ranged1d::{KeyPointHint, NoDefaultFormatting, ValueFormatter};
use plotters::coord::types::RangedCoordf64;
use plotters::prelude::*;

use crate::plot::render::{Area, DrawResult};
use crate::plot::theme;

/// Chart with two linear f64 axes drawn into an SVG string.
pub(crate) type Chart<'a, 'b> =
    ChartContext<'a, SVGBackend<'b>, Cartesian2d<RangedCoordf64, RangedCoordf64>>;

/// Largest magnitude drawn. Larger values are skipped like non-finite ones, because an axis
/// that spans them would overflow to infinity when its width is computed.
pub(crate) const MAX_MAGNITUDE: f64 = 1e100;

/// Checks whether `value` can be placed on an axis: finite and within ±[`MAX_MAGNITUDE`].
pub(crate) fn is_drawable(value: f64) -> bool {
    value.is_finite() && value.abs() <= MAX_MAGNITUDE
}

/// Largest magnitude an axis limit may cover. It is far above [`MAX_MAGNITUDE`], so derived
/// values such as mean + SEM of drawable inputs stay on the axis, and far below `f64::MAX`, so
/// the axis width stays finite.
const MAX_AXIS_MAGNITUDE: f64 = 1e300;

/// Returns axis limits that cover the finite `values` with a 5 % margin on each side, or
/// `None` when no value is finite. A single distinct value gets a range of ±10 % of its
/// magnitude (±1 around zero). Values beyond ±1e300 are ignored.
pub(crate) fn padded_range(values: impl IntoIterator<Item = f64>) -> Option<Range<f64>> {
    let mut low = f64::INFINITY;
    let mut high = f64::NEG_INFINITY;
    for value in values.into_iter().filter(|v| v.is_finite() && v.abs() <= MAX_AXIS_MAGNITUDE) {
        low = low.min(value);
        high = high.max(value);
    }
    if low > high {
        return None;
    }

    if high - low <= f64::EPSILON * high.abs().max(low.abs()) {
        let half_width = if low == 0.0 { 1.0 } else { 0.1 * low.abs() };
        return Some(low - half_width..high + half_width);
    }

    let margin = 0.05 * (high - low);
    Some(low - margin..high + margin)
}

/// Widens `range` so that it includes `low..high` (used to keep reference lines in view).
pub(crate) fn include(range: Range<f64>, low: f64, high: f64) -> Range<f64> {
    range.start.min(low)..range.end.max(high)
}

/// Formats a tick value with at most four significant digits and no trailing zeros, in
/// scientific notation outside 1e-3..1e5.
pub(crate) fn format_tick(value: &f64) -> String {
    let value = *value;
    if value == 0.0 || !value.is_finite() {
        return if value.is_finite() { "0".to_string() } else { value.to_string() };
    }

    let magnitude = value.abs();
    if !(1e-3..1e5).contains(&magnitude) {
        return format!("{value:.1e}");
    }

    let decimals = (3 - magnitude.log10().floor() as i32).clamp(0, 6) as usize;
    let text = format!("{value:.decimals$}");
    let text =
        if text.contains('.') { text.trim_end_matches('0').trim_end_matches('.') } else { &text };
    if text == "-0" {
        "0".to_string()
    } else {
        text.to_string()
    }
}

/// Starts a chart on `area` with the theme's margins and label areas and an optional caption
/// above the plotting area.
pub(crate) fn chart_builder<'a, 'b, 'c>(
    area: &'a Area<'c>,
    caption: Option<&str>,
) -> ChartBuilder<'a, 'b, SVGBackend<'c>> {
    let mut builder = ChartBuilder::on(area);
    builder.margin(8).margin_right(16).x_label_area_size(48).y_label_area_size(68);
    if let Some(caption) = caption {
        builder.caption(caption, (theme::FONT, theme::CAPTION_SIZE).into_font().color(&theme::INK));
    }
    builder
}

/// Builds a chart with two linear axes over `x` and `y`.
pub(crate) fn linear_chart<'a, 'c>(
    area: &'a Area<'c>,
    caption: Option<&str>,
    x: Range<f64>,
    y: Range<f64>,
) -> DrawResult<Chart<'a, 'c>> {
    chart_builder(area, caption).build_cartesian_2d(x, y)
}

/// Draws grid, axes, tick labels and axis descriptions in the theme's style.
/// `x_format` and `y_format` format tick labels; pass [`format_tick`] for plain numbers.
pub(crate) fn draw_axes<X, Y>(
    chart: &mut ChartContext<'_, SVGBackend<'_>, Cartesian2d<X, Y>>,
    x_desc: &str,
    y_desc: &str,
    x_format: &dyn Fn(&f64) -> String,
    y_format: &dyn Fn(&f64) -> String,
) -> DrawResult
where
    X: Ranged<ValueType = f64> + ValueFormatter<f64>,
    Y: Ranged<ValueType = f64> + ValueFormatter<f64>,
{
    chart
        .configure_mesh()
        .bold_line_style(theme::LIGHT_GREY.mix(0.6))
        .light_line_style(TRANSPARENT)
        .axis_style(theme::INK.stroke_width(1))
        .x_labels(7)
        .y_labels(7)
        .x_label_formatter(x_format)
        .y_label_formatter(y_format)
        .label_style((theme::FONT, theme::TICK_SIZE).into_font().color(&theme::INK))
        .axis_desc_style((theme::FONT, theme::AXIS_LABEL_SIZE).into_font().color(&theme::INK))
        .x_desc(x_desc)
        .y_desc(y_desc)
        .draw()
}

/// Draws the legend of every labelled series in the corner `position`, on a translucent
/// white box so that data behind it stays visible.
pub(crate) fn draw_legend<'a, 'b: 'a, X: Ranged, Y: Ranged>(
    chart: &mut ChartContext<'a, SVGBackend<'b>, Cartesian2d<X, Y>>,
    position: SeriesLabelPosition,
) -> DrawResult {
    chart
        .configure_series_labels()
        .position(position)
        .background_style(WHITE.mix(0.85))
        .border_style(theme::LIGHT_GREY)
        .label_font((theme::FONT, theme::TICK_SIZE).into_font().color(&theme::INK))
        .margin(10)
        .draw()
}

/// Linear f64 axis whose ticks sit at given values (decades of a log10 axis, the offers of a
/// log2 axis, the indices of categories). Tick labels come from the formatter passed to
/// [`draw_axes`].
pub(crate) struct FixedTicks {
    inner: RangedCoordf64,
    ticks: Vec<f64>,
}

impl FixedTicks {
    /// Axis over `range` with ticks at those of `ticks` that lie inside it.
    pub(crate) fn new(range: Range<f64>, ticks: Vec<f64>) -> Self {
        let ticks = ticks.into_iter().filter(|t| range.contains(t) || *t == range.end).collect();
        FixedTicks { inner: range.into(), ticks }
    }
}

impl Ranged for FixedTicks {
    type FormatOption = NoDefaultFormatting;
    type ValueType = f64;

    fn map(&self, value: &f64, limit: (i32, i32)) -> i32 {
        self.inner.map(value, limit)
    }

    fn key_points<Hint: KeyPointHint>(&self, _hint: Hint) -> Vec<f64> {
        self.ticks.clone()
    }

    fn range(&self) -> Range<f64> {
        self.inner.range()
    }
}

impl ValueFormatter<f64> for FixedTicks {
    fn format(value: &f64) -> String {
        format_tick(value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn padded_range_skips_non_finite() {
        let range = padded_range([1.0, f64::NAN, 3.0, f64::INFINITY, 1e301]).unwrap();
        assert!((range.start - 0.9).abs() < 1e-12);
        assert!((range.end - 3.1).abs() < 1e-12);
    }

    #[test]
    fn padded_range_empty_is_none() {
        assert!(padded_range([f64::NAN, f64::NEG_INFINITY]).is_none());
        assert!(padded_range(std::iter::empty()).is_none());
    }

    #[test]
    fn padded_range_single_value_widens() {
        assert_eq!(padded_range([0.0, 0.0]).unwrap(), -1.0..1.0);
        let range = padded_range([5.0]).unwrap();
        assert!((range.start - 4.5).abs() < 1e-12, "{range:?}");
        assert!((range.end - 5.5).abs() < 1e-12, "{range:?}");
    }

    #[test]
    fn format_tick_trims_zeros() {
        assert_eq!(format_tick(&0.0), "0");
        assert_eq!(format_tick(&0.5), "0.5");
        assert_eq!(format_tick(&20.0), "20");
        assert_eq!(format_tick(&-0.125), "-0.125");
        assert_eq!(format_tick(&0.30000000000000004), "0.3");
        assert_eq!(format_tick(&1.5e-7), "1.5e-7");
        assert_eq!(format_tick(&-0.00001), "-1.0e-5");
    }
}
