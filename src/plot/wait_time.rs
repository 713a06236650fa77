//! Figure: mean wait time against offer on a log2 axis, one curve per block, with SEM error
//! bars.

use std::path::Path;

use plotters::prelude::*;

use crate::error::{Error, Result};
use crate::plot::axes::{self, is_drawable, FixedTicks};
use crate::plot::block::Block;
use crate::plot::render::{self, Area, DrawResult, PlotOptions};
use crate::plot::theme;

/// Mean wait time per offer in one block.
#[derive(Debug, Clone, PartialEq)]
pub struct WaitTimeCurve {
    /// Block the trials come from.
    pub block: Block,
    /// Offered reward of each point, in µL (positive).
    pub offers_ul: Vec<f64>,
    /// Mean wait time on catch trials at each offer, in seconds.
    pub mean_s: Vec<f64>,
    /// Standard error of that mean, in seconds.
    pub sem_s: Vec<f64>,
}

/// Input of [`draw_wait_time`].
#[derive(Debug, Clone, Default, PartialEq)]
pub struct WaitTimeData {
    /// One curve per block, drawn in this order.
    pub curves: Vec<WaitTimeCurve>,
}

/// Offers of the wagering task in µL, used as tick positions.
pub const OFFER_TICKS_UL: [f64; 5] = [5.0, 10.0, 20.0, 40.0, 80.0];

/// Horizontal shift of each block's points on the log2 axis, so error bars at the same offer
/// do not hide each other.
fn dodge(block: Block) -> f64 {
    match block {
        Block::Mixed => 0.0,
        Block::High => 0.05,
        Block::Low => -0.05,
    }
}

/// Draws mean wait time (s) against offer (µL, log2 axis with ticks at 5, 10, 20, 40 and 80)
/// for each block, with ±1 SEM error bars. Points with a non-finite mean are left out and a
/// non-finite SEM draws no bar; both are counted in a note. Writes the SVG to `path`.
///
/// Errors: curves whose three vectors differ in length, an offer that is not positive and
/// finite, an invalid figure size, or a failed write. No drawable point gives a "no data"
/// figure.
pub fn draw_wait_time(path: &Path, data: &WaitTimeData, opts: &PlotOptions) -> Result<()> {
    for curve in &data.curves {
        check_curve(curve)?;
    }
    render::render_svg(path, opts, "Wait time vs offer", |area| draw_figure(area, data))
}

fn check_curve(curve: &WaitTimeCurve) -> Result<()> {
    let n = curve.offers_ul.len();
    if curve.mean_s.len() != n || curve.sem_s.len() != n {
        return Err(Error::invalid(
            format!("wait-time curve of the {} block", curve.block.name()),
            format!(
                "{} offers, {} means and {} SEMs, expected equal lengths",
                n,
                curve.mean_s.len(),
                curve.sem_s.len()
            ),
        ));
    }
    if let Some(offer) = curve.offers_ul.iter().find(|o| !(o.is_finite() && **o > 0.0)) {
        return Err(Error::invalid(
            format!("offer of the {} block", curve.block.name()),
            format!("{offer} µL, expected a positive finite volume"),
        ));
    }
    Ok(())
}

/// Returns the points of `curve` with a drawable mean, as (log2 offer, mean, SEM if finite).
fn points(curve: &WaitTimeCurve) -> Vec<(f64, f64, Option<f64>)> {
    curve
        .offers_ul
        .iter()
        .zip(&curve.mean_s)
        .zip(&curve.sem_s)
        .filter(|((_, mean), _)| is_drawable(**mean))
        .map(|((offer, mean), sem)| {
            (offer.log2(), *mean, (is_drawable(*sem) && *sem >= 0.0).then_some(*sem))
        })
        .collect()
}

fn draw_figure(area: &Area<'_>, data: &WaitTimeData) -> DrawResult {
    let all: Vec<(f64, f64, Option<f64>)> = data.curves.iter().flat_map(points).collect();
    let total: usize = data.curves.iter().map(|c| c.offers_ul.len()).sum();
    let mut notes = Vec::new();
    if all.len() < total {
        notes.push(format!("{} point(s) with a non-finite mean not shown", total - all.len()));
    }
    let without_bar = all.iter().filter(|p| p.2.is_none()).count();
    if without_bar > 0 {
        notes.push(format!(
            "{without_bar} point(s) without a finite SEM drawn without an error bar"
        ));
    }

    if all.is_empty() {
        return render::with_notes(area, &notes, |body| {
            render::draw_no_data(body, "no finite mean wait time was given")
        });
    }
    render::with_notes(area, &notes, |body| draw_chart(body, data, &all))
}

fn draw_chart(area: &Area<'_>, data: &WaitTimeData, all: &[(f64, f64, Option<f64>)]) -> DrawResult {
    let x_low = all.iter().map(|p| p.0).fold(f64::INFINITY, f64::min) - 0.35;
    let x_high = all.iter().map(|p| p.0).fold(f64::NEG_INFINITY, f64::max) + 0.35;
    let y_values = all.iter().flat_map(|&(_, mean, sem)| {
        let sem = sem.unwrap_or(0.0);
        [mean - sem, mean + sem]
    });
    let y = axes::padded_range(y_values.chain([0.0])).unwrap_or(0.0..1.0);

    let ticks: Vec<f64> = OFFER_TICKS_UL.iter().map(|o| o.log2()).collect();
    let mut chart = axes::chart_builder(area, None)
        .build_cartesian_2d(FixedTicks::new(x_low..x_high, ticks), y)?;
    let offer_label = |v: &f64| axes::format_tick(&v.exp2());
    axes::draw_axes(
        &mut chart,
        "offer (µL, log2 scale)",
        "mean wait time (s)",
        &offer_label,
        &axes::format_tick,
    )?;

    for curve in &data.curves {
        let colour = curve.block.colour();
        let shift = dodge(curve.block);
        let mut curve_points = points(curve);
        curve_points.sort_by(|a, b| a.0.total_cmp(&b.0));
        if curve_points.is_empty() {
            continue;
        }

        let line = colour.stroke_width(theme::LINE_WIDTH);
        chart
            .draw_series(LineSeries::new(curve_points.iter().map(|p| (p.0 + shift, p.1)), line))?
            .label(curve.block.name())
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], line));
        chart.draw_series(curve_points.iter().filter_map(|&(x, mean, sem)| {
            let sem = sem?;
            Some(ErrorBar::new_vertical(
                x + shift,
                mean - sem,
                mean,
                mean + sem,
                colour.stroke_width(1),
                8,
            ))
        }))?;
        chart.draw_series(
            curve_points
                .iter()
                .map(|&(x, mean, _)| Circle::new((x + shift, mean), 4, colour.filled())),
        )?;
    }
    axes::draw_legend(&mut chart, SeriesLabelPosition::UpperLeft)
}
