//! Figure: empirical cumulative distribution function of one metric per group.

use std::path::Path;

use plotters::prelude::*;

use crate::error::Result;
use crate::plot::axes;
use crate::plot::block::category_colour;
use crate::plot::group::{self, GroupSample};
use crate::plot::render::{self, Area, DrawResult, PlotOptions};
use crate::plot::theme;

/// Input of [`draw_ecdf`].
#[derive(Debug, Clone, Default, PartialEq)]
pub struct EcdfData {
    /// Description of the metric with its unit, such as "number of dynamical features".
    pub metric_label: String,
    /// One sample per group, drawn in this order.
    pub groups: Vec<GroupSample>,
}

/// Draws one step function per group: the fraction of the group's values ≤ x. The legend
/// gives each group's size n. Non-finite values are left out and counted in a note. Writes
/// the SVG to `path`.
///
/// Errors: an invalid figure size or a failed write. No drawable value gives a "no data"
/// figure.
pub fn draw_ecdf(path: &Path, data: &EcdfData, opts: &PlotOptions) -> Result<()> {
    render::render_svg(path, opts, "Empirical CDF", |area| {
        let notes: Vec<String> = group::skipped_note(&data.groups).into_iter().collect();
        render::with_notes(area, &notes, |body| draw_chart(body, data))
    })
}

/// Returns the corners of the ECDF step function of `sorted` values, from (`start`, 0) to
/// (`end`, 1).
fn steps(sorted: &[f64], start: f64, end: f64) -> Vec<(f64, f64)> {
    let n = sorted.len() as f64;
    let mut corners = vec![(start, 0.0)];
    for (i, &value) in sorted.iter().enumerate() {
        corners.push((value, i as f64 / n));
        corners.push((value, (i + 1) as f64 / n));
    }
    corners.push((end, 1.0));
    corners
}

fn draw_chart(area: &Area<'_>, data: &EcdfData) -> DrawResult {
    let all: Vec<f64> = data.groups.iter().flat_map(GroupSample::drawable).collect();
    let Some(x) = axes::padded_range(all) else {
        return render::draw_no_data(area, "no finite value was given");
    };

    let mut chart = axes::linear_chart(area, None, x.clone(), 0.0..1.05)?;
    axes::draw_axes(
        &mut chart,
        &data.metric_label,
        "cumulative fraction",
        &axes::format_tick,
        &axes::format_tick,
    )?;

    for (index, sample) in data.groups.iter().enumerate() {
        let mut values = sample.drawable();
        if values.is_empty() {
            continue;
        }
        values.sort_by(f64::total_cmp);

        let style = category_colour(index, &sample.name).stroke_width(theme::LINE_WIDTH);
        chart
            .draw_series(LineSeries::new(steps(&values, x.start, x.end), style))?
            .label(format!("{} (n = {})", sample.name, values.len()))
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], style));
    }
    axes::draw_legend(&mut chart, SeriesLabelPosition::LowerRight)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn steps_rise_by_one_over_n() {
        let corners = steps(&[1.0, 2.0], 0.0, 3.0);
        assert_eq!(
            corners,
            vec![(0.0, 0.0), (1.0, 0.0), (1.0, 0.5), (2.0, 0.5), (2.0, 1.0), (3.0, 1.0)]
        );
    }
}
