//! Figure: state trajectories on PC planes, coloured by a category (such as the block) or by a
//! continuous value (such as the block belief) with a colour bar.

use std::collections::BTreeSet;
use std::ops::Range;
use std::path::Path;

use plotters::prelude::*;

use crate::error::{Error, Result};
use crate::plot::axes::{self, is_drawable, Chart};
use crate::plot::block::category_colour;
use crate::plot::colour_bar::{self, COLOUR_BAR_WIDTH};
use crate::plot::pc_planes::{self, PcCoords};
use crate::plot::render::{self, Area, DrawResult, PlotOptions};
use crate::plot::theme;

/// Colouring of trajectory segments. Each segment takes the colour of the state it ends at.
#[derive(Debug, Clone, Default, PartialEq)]
pub enum TrajectoryColour {
    /// One colour per trajectory, from the palette.
    #[default]
    PerTrajectory,
    /// A category per state: `labels[i][t]` indexes `names` for state t of trajectory i.
    Category { names: Vec<String>, labels: Vec<Vec<usize>> },
    /// A value per state (`values[i][t]`), mapped through viridis over `range`, or over the
    /// drawable values when `range` is `None`. `label` describes the value and its unit.
    Value { label: String, values: Vec<Vec<f64>>, range: Option<(f64, f64)> },
}

/// Input of [`draw_trajectories`].
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TrajectoriesData {
    /// Fraction of the total variance explained by PC1, PC2 and optionally PC3 (a PC1–PC3
    /// panel is added when given).
    pub explained_variance: Vec<f64>,
    /// Trajectories, each a sequence of states on PC1..PC3.
    pub trajectories: Vec<Vec<PcCoords>>,
    /// Colouring of the segments.
    pub colour: TrajectoryColour,
}

/// Draws each trajectory as a line on the PC1–PC2 (and PC1–PC3) planes, coloured per
/// trajectory, per category with a legend, or per value with a colour bar. A non-finite state
/// breaks its line. Writes the SVG to `path`.
///
/// Errors: labels or values whose shape differs from the trajectories', a category index out
/// of range, an empty or non-finite value range, explained variances that are not fractions,
/// an invalid figure size, or a failed write. No drawable state gives a "no data" figure.
pub fn draw_trajectories(path: &Path, data: &TrajectoriesData, opts: &PlotOptions) -> Result<()> {
    let has_states = data.trajectories.iter().flatten().any(|p| p.iter().all(|v| is_drawable(*v)));
    if !has_states {
        return render::render_svg(path, opts, "State trajectories", |area| {
            render::draw_no_data(area, "no finite trajectory state was given")
        });
    }
    pc_planes::check_explained_variance(&data.explained_variance)?;
    check_colour(data)?;
    let value_range = value_range(&data.colour)?;

    render::render_svg(path, opts, "State trajectories", |area| {
        let notes: Vec<String> = uncoloured_note(data).into_iter().collect();
        render::with_notes(area, &notes, |body| match (&data.colour, value_range.clone()) {
            (TrajectoryColour::Value { label, .. }, Some(range)) => {
                let (width, _) = body.dim_in_pixel();
                let (planes, bar) = body.split_horizontally(width.saturating_sub(COLOUR_BAR_WIDTH));
                draw_planes(&planes, data, Some(&range))?;
                colour_bar::draw_colour_bar(&bar, range, label)
            }
            _ => draw_planes(body, data, None),
        })
    })
}

/// Returns a note counting the states whose colour value is not finite (their segments are
/// not drawn), if any.
fn uncoloured_note(data: &TrajectoriesData) -> Option<String> {
    let TrajectoryColour::Value { values, .. } = &data.colour else { return None };
    let uncoloured = values.iter().flatten().filter(|v| !is_drawable(**v)).count();
    (uncoloured > 0)
        .then(|| format!("{uncoloured} state(s) with a non-finite colour value not drawn"))
}

fn check_colour(data: &TrajectoriesData) -> Result<()> {
    let (what, lengths): (&str, Vec<usize>) = match &data.colour {
        TrajectoryColour::PerTrajectory => return Ok(()),
        TrajectoryColour::Category { names, labels } => {
            if let Some(bad) = labels.iter().flatten().find(|l| **l >= names.len()) {
                return Err(Error::invalid(
                    "trajectory category",
                    format!("index {bad} given, but only {} category names", names.len()),
                ));
            }
            ("trajectory category labels", labels.iter().map(Vec::len).collect())
        }
        TrajectoryColour::Value { values, .. } => {
            ("trajectory colour values", values.iter().map(Vec::len).collect())
        }
    };

    if lengths.len() != data.trajectories.len() {
        return Err(Error::invalid(
            what,
            format!(
                "{} sequences given for {} trajectories, expected one per trajectory",
                lengths.len(),
                data.trajectories.len()
            ),
        ));
    }
    for (i, (length, trajectory)) in lengths.iter().zip(&data.trajectories).enumerate() {
        if *length != trajectory.len() {
            return Err(Error::invalid(
                what,
                format!(
                    "trajectory {i} has {} states but {length} entries, expected one per state",
                    trajectory.len()
                ),
            ));
        }
    }
    Ok(())
}

/// Returns the colour range of a value colouring: the given one, or the span of the
/// drawable values. `None` for other colourings or when no value is drawable.
fn value_range(colour: &TrajectoryColour) -> Result<Option<Range<f64>>> {
    let TrajectoryColour::Value { values, range, .. } = colour else { return Ok(None) };
    if let Some((low, high)) = *range {
        if !(is_drawable(low) && is_drawable(high) && low < high) {
            return Err(Error::invalid(
                "colour range",
                format!("({low}, {high}), expected finite bounds with low < high"),
            ));
        }
        return Ok(Some(low..high));
    }

    let drawable = values.iter().flatten().copied().filter(|v| is_drawable(*v));
    let (low, high) =
        drawable.fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| (lo.min(v), hi.max(v)));
    if low > high {
        return Ok(None);
    }
    Ok(Some(if low < high { low..high } else { low - 0.5..high + 0.5 }))
}

fn draw_planes(area: &Area<'_>, data: &TrajectoriesData, range: Option<&Range<f64>>) -> DrawResult {
    let planes = pc_planes::pc_planes(&data.explained_variance);
    let panels = pc_planes::side_by_side(area, planes.len());
    for (index, (panel, plane)) in panels.iter().zip(planes.iter().copied()).enumerate() {
        let coords: Vec<(f64, f64)> = data
            .trajectories
            .iter()
            .flatten()
            .map(|s| pc_planes::project(s, plane))
            .filter(|(x, y)| is_drawable(*x) && is_drawable(*y))
            .collect();
        let x = axes::padded_range(coords.iter().map(|c| c.0)).unwrap_or(-1.0..1.0);
        let y = axes::padded_range(coords.iter().map(|c| c.1)).unwrap_or(-1.0..1.0);
        let mut chart = axes::linear_chart(panel, None, x, y)?;
        let x_desc = pc_planes::pc_label(plane.0, &data.explained_variance);
        let y_desc = pc_planes::pc_label(plane.1, &data.explained_variance);
        axes::draw_axes(&mut chart, &x_desc, &y_desc, &axes::format_tick, &axes::format_tick)?;

        draw_segments(&mut chart, data, plane, range)?;
        if index == 0 {
            draw_category_legend(&mut chart, data)?;
        }
    }
    Ok(())
}

/// Colour key of each state: a category index, a colour level, or the trajectory index.
fn colour_key(
    data: &TrajectoriesData,
    range: Option<&Range<f64>>,
    trajectory: usize,
    step: usize,
) -> Option<usize> {
    match &data.colour {
        TrajectoryColour::PerTrajectory => Some(trajectory),
        TrajectoryColour::Category { labels, .. } => Some(labels[trajectory][step]),
        TrajectoryColour::Value { values, .. } => {
            let value = values[trajectory][step];
            range.filter(|_| is_drawable(value)).map(|r| colour_bar::level(value, r))
        }
    }
}

fn key_colour(data: &TrajectoriesData, range: Option<&Range<f64>>, key: usize) -> RGBColor {
    match &data.colour {
        TrajectoryColour::PerTrajectory => theme::series_colour(key),
        TrajectoryColour::Category { names, .. } => category_colour(key, &names[key]),
        TrajectoryColour::Value { .. } => match range {
            Some(range) => colour_bar::viridis(colour_bar::level_value(key, range), range),
            None => theme::GREY,
        },
    }
}

/// Draws each trajectory as polylines of consecutive segments that share a colour key, so
/// the SVG contains one path per colour run rather than one per step. A state with a
/// non-finite coordinate or colour value breaks the line.
fn draw_segments(
    chart: &mut Chart<'_, '_>,
    data: &TrajectoriesData,
    plane: (usize, usize),
    range: Option<&Range<f64>>,
) -> DrawResult {
    for (i, trajectory) in data.trajectories.iter().enumerate() {
        let mut run: Vec<(f64, f64)> = Vec::new();
        let mut run_key: Option<usize> = None;
        let mut previous: Option<(f64, f64)> = None;

        for (t, state) in trajectory.iter().enumerate() {
            let (x, y) = pc_planes::project(state, plane);
            let key = colour_key(data, range, i, t);
            let drawable = is_drawable(x) && is_drawable(y) && key.is_some();
            if !drawable {
                flush(chart, data, range, &mut run, run_key)?;
                previous = None;
                continue;
            }

            if key != run_key {
                flush(chart, data, range, &mut run, run_key)?;
                run_key = key;
                // Start the new run at the previous state, so the line stays connected.
                run.extend(previous);
            }
            run.push((x, y));
            previous = Some((x, y));
        }
        flush(chart, data, range, &mut run, run_key)?;
    }
    Ok(())
}

fn flush(
    chart: &mut Chart<'_, '_>,
    data: &TrajectoriesData,
    range: Option<&Range<f64>>,
    run: &mut Vec<(f64, f64)>,
    key: Option<usize>,
) -> DrawResult {
    let points = std::mem::take(run);
    let Some(key) = key else { return Ok(()) };
    if points.len() < 2 {
        return Ok(());
    }
    let style = key_colour(data, range, key).mix(0.8).stroke_width(theme::LINE_WIDTH - 1);
    chart.draw_series(std::iter::once(PathElement::new(points, style)))?;
    Ok(())
}

fn draw_category_legend<'a, 'b: 'a>(
    chart: &mut Chart<'a, 'b>,
    data: &TrajectoriesData,
) -> DrawResult {
    let TrajectoryColour::Category { names, labels } = &data.colour else { return Ok(()) };
    let used: BTreeSet<usize> = labels.iter().flatten().copied().collect();
    for index in used {
        let style = category_colour(index, &names[index]).stroke_width(theme::LINE_WIDTH + 1);
        chart
            .draw_series(std::iter::empty::<PathElement<(f64, f64)>>())?
            .label(names[index].clone())
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], style));
    }
    axes::draw_legend(chart, SeriesLabelPosition::UpperRight)
}
