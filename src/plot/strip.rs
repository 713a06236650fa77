//! Figure: strip plot of one metric, one column of jittered points per group, with the mean
//! and its 95 % confidence interval.

use std::path::Path;

use plotters::prelude::*;
use rand::Rng;
use statrs::distribution::{ContinuousCDF, StudentsT};

use crate::error::Result;
use crate::plot::axes::{self, FixedTicks};
use crate::plot::block::category_colour;
use crate::plot::group::{self, GroupSample};
use crate::plot::render::{self, Area, DrawResult, PlotOptions};
use crate::plot::theme;

/// Input of [`draw_strip`].
#[derive(Debug, Clone, Default, PartialEq)]
pub struct StripData {
    /// Description of the metric with its unit, such as "slowest time constant (s)".
    pub metric_label: String,
    /// One column per group, drawn left to right in this order.
    pub groups: Vec<GroupSample>,
}

/// Half-width of the horizontal jitter, in column widths.
const JITTER: f64 = 0.18;

/// Seed of the jitter streams: a constant, so the same data gives the same figure bytes.
const JITTER_SEED: u64 = 0;

/// Mean and two-sided 95 % confidence interval of the mean (Student's t with n − 1 degrees
/// of freedom). The interval is `None` for fewer than two values.
pub(crate) fn mean_ci95(values: &[f64]) -> Option<(f64, Option<(f64, f64)>)> {
    if values.is_empty() {
        return None;
    }
    let n = values.len() as f64;
    let mean = values.iter().sum::<f64>() / n;
    if values.len() < 2 {
        return Some((mean, None));
    }

    let variance = values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1.0);
    let sem = (variance / n).sqrt();
    let t = StudentsT::new(0.0, 1.0, n - 1.0).ok()?.inverse_cdf(0.975);
    Some((mean, Some((mean - t * sem, mean + t * sem))))
}

/// Draws one column per group with its values as jittered points (deterministic jitter), a
/// black bar at the mean and a vertical bar for its 95 % confidence interval (Student's t).
/// Non-finite values are left out and counted in a note. Writes the SVG to `path`.
///
/// Errors: an invalid figure size or a failed write. No drawable value gives a "no data"
/// figure.
pub fn draw_strip(path: &Path, data: &StripData, opts: &PlotOptions) -> Result<()> {
    render::render_svg(path, opts, "Comparison of groups", |area| {
        let notes: Vec<String> = group::skipped_note(&data.groups).into_iter().collect();
        render::with_notes(area, &notes, |body| draw_chart(body, data))
    })
}

fn draw_chart(area: &Area<'_>, data: &StripData) -> DrawResult {
    // The axis covers every value and every confidence interval, which for two or three
    // values can reach far beyond them (t(0.975, 1) = 12.7).
    let mut all: Vec<f64> = data.groups.iter().flat_map(GroupSample::drawable).collect();
    for sample in &data.groups {
        if let Some((_, Some((low, high)))) = mean_ci95(&sample.drawable()) {
            all.extend([low, high]);
        }
    }
    let Some(y) = axes::padded_range(all) else {
        return render::draw_no_data(area, "no finite value was given");
    };

    let count = data.groups.len();
    let ticks: Vec<f64> = (0..count).map(|i| i as f64).collect();
    let x = FixedTicks::new(-0.6..count as f64 - 0.4, ticks);
    let mut chart = axes::chart_builder(area, None).build_cartesian_2d(x, y)?;
    let group_name = |v: &f64| {
        let index = v.round();
        let known = index >= 0.0 && (index as usize) < count;
        if known {
            data.groups[index as usize].name.clone()
        } else {
            String::new()
        }
    };
    axes::draw_axes(&mut chart, "group", &data.metric_label, &group_name, &axes::format_tick)?;

    for (index, sample) in data.groups.iter().enumerate() {
        let values = sample.drawable();
        let colour = category_colour(index, &sample.name);
        let centre = index as f64;

        let mut rng = crate::rng::indexed_stream(JITTER_SEED, "plot/strip jitter", index as u64);
        chart.draw_series(values.iter().map(|&v| {
            let offset = rng.gen_range(-JITTER..=JITTER);
            Circle::new((centre + offset, v), 4, colour.mix(0.7).filled())
        }))?;

        let Some((mean, interval)) = mean_ci95(&values) else { continue };
        let bar = theme::INK.stroke_width(3);
        chart.draw_series(std::iter::once(PathElement::new(
            vec![(centre - 0.28, mean), (centre + 0.28, mean)],
            bar,
        )))?;
        if let Some((low, high)) = interval {
            let whisker = theme::INK.stroke_width(2);
            let cap = 0.07;
            let lines = [
                vec![(centre, low), (centre, high)],
                vec![(centre - cap, low), (centre + cap, low)],
                vec![(centre - cap, high), (centre + cap, high)],
            ];
            chart.draw_series(lines.into_iter().map(|line| PathElement::new(line, whisker)))?;
        }
    }

    let legend_style = theme::INK.stroke_width(3);
    chart
        .draw_series(std::iter::empty::<PathElement<(f64, f64)>>())?
        .label("mean and 95 % CI of the mean")
        .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], legend_style));
    axes::draw_legend(&mut chart, SeriesLabelPosition::UpperRight)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mean_ci95_matches_t_table() {
        // n = 5, mean 3, sample SD √2.5, t(0.975, 4) = 2.776 (standard t table).
        let (mean, interval) = mean_ci95(&[1.0, 2.0, 3.0, 4.0, 5.0]).unwrap();
        let (low, high) = interval.unwrap();
        let half_width = 2.776 * (2.5_f64 / 5.0).sqrt();
        assert!((mean - 3.0).abs() < 1e-12);
        assert!((high - 3.0 - half_width).abs() < 1e-3, "{high}");
        assert!((3.0 - low - half_width).abs() < 1e-3, "{low}");
    }

    #[test]
    fn mean_ci95_small_samples() {
        assert!(mean_ci95(&[]).is_none());
        assert_eq!(mean_ci95(&[2.5]), Some((2.5, None)));
    }
}
