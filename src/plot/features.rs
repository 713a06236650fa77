//! Figure: slow points grouped into dynamical features (such as a line attractor), over
//! faint trajectories on PC planes.

use std::path::Path;

use plotters::prelude::*;

use crate::error::{Error, Result};
use crate::plot::axes::{self, is_drawable, Chart};
use crate::plot::fixed_points::draw_trajectories as draw_background_trajectories;
use crate::plot::markers::{self, PointKind, Shape};
use crate::plot::pc_planes::{self, PcCoords};
use crate::plot::render::{self, Area, DrawResult, PlotOptions};
use crate::plot::theme;

/// A fixed or slow point and the feature it belongs to.
#[derive(Debug, Clone, PartialEq)]
pub struct FeaturePoint {
    /// Coordinates on PC1, PC2 and PC3 (state units).
    pub pcs: PcCoords,
    /// Index into [`FeaturesData::feature_names`], or `None` for a point in no feature.
    pub feature: Option<usize>,
    /// Whether the point met the fixed-point or only the slow-point threshold.
    pub kind: PointKind,
}

/// Input of [`draw_features`].
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FeaturesData {
    /// Fraction of the total variance explained by PC1, PC2 and optionally PC3 (a PC1–PC3
    /// panel is added when given).
    pub explained_variance: Vec<f64>,
    /// Trajectories drawn faintly behind the points, each a sequence of states on PC1..PC3.
    pub trajectories: Vec<Vec<PcCoords>>,
    /// Name of each feature, such as "line attractor 1".
    pub feature_names: Vec<String>,
    /// Points to mark.
    pub points: Vec<FeaturePoint>,
}

/// Draws points coloured by feature (grey for none), fixed points as filled circles and slow
/// points as open circles, over faint trajectories on the PC1–PC2 (and PC1–PC3) planes.
/// Writes the SVG to `path`.
///
/// Errors: a feature index out of range, explained variances that are not fractions, an
/// invalid figure size, or a failed write. No drawable point or state gives a "no data"
/// figure.
pub fn draw_features(path: &Path, data: &FeaturesData, opts: &PlotOptions) -> Result<()> {
    let has_points = data.points.iter().any(|p| p.pcs.iter().all(|v| is_drawable(*v)));
    let has_trajectories =
        data.trajectories.iter().flatten().any(|p| p.iter().all(|v| is_drawable(*v)));
    if !has_points && !has_trajectories {
        return render::render_svg(path, opts, "Slow-point features", |area| {
            render::draw_no_data(area, "no finite point or trajectory state was given")
        });
    }
    pc_planes::check_explained_variance(&data.explained_variance)?;
    if let Some(bad) =
        data.points.iter().filter_map(|p| p.feature).find(|f| *f >= data.feature_names.len())
    {
        return Err(Error::invalid(
            "feature index",
            format!("{bad} given, but only {} feature names", data.feature_names.len()),
        ));
    }

    render::render_svg(path, opts, "Slow-point features", |area| {
        let hidden = data.points.iter().filter(|p| !p.pcs.iter().all(|v| is_drawable(*v))).count();
        let notes: Vec<String> = (hidden > 0)
            .then(|| format!("{hidden} point(s) with non-finite coordinates not shown"))
            .into_iter()
            .collect();
        render::with_notes(area, &notes, |body| draw_planes(body, data))
    })
}

fn draw_planes(area: &Area<'_>, data: &FeaturesData) -> DrawResult {
    let planes = pc_planes::pc_planes(&data.explained_variance);
    let panels = pc_planes::side_by_side(area, planes.len());
    for (index, (panel, plane)) in panels.iter().zip(planes.iter().copied()).enumerate() {
        let states = data.trajectories.iter().flatten().chain(data.points.iter().map(|p| &p.pcs));
        let coords: Vec<(f64, f64)> = states
            .map(|s| pc_planes::project(s, plane))
            .filter(|(x, y)| is_drawable(*x) && is_drawable(*y))
            .collect();
        let x = axes::padded_range(coords.iter().map(|c| c.0)).unwrap_or(-1.0..1.0);
        let y = axes::padded_range(coords.iter().map(|c| c.1)).unwrap_or(-1.0..1.0);
        let mut chart = axes::linear_chart(panel, None, x, y)?;
        let x_desc = pc_planes::pc_label(plane.0, &data.explained_variance);
        let y_desc = pc_planes::pc_label(plane.1, &data.explained_variance);
        axes::draw_axes(&mut chart, &x_desc, &y_desc, &axes::format_tick, &axes::format_tick)?;

        let with_legend = index == 0;
        draw_background_trajectories(&mut chart, &data.trajectories, plane, with_legend)?;
        draw_points(&mut chart, data, plane, with_legend)?;
        if with_legend {
            axes::draw_legend(&mut chart, SeriesLabelPosition::UpperRight)?;
        }
    }
    Ok(())
}

fn draw_points(
    chart: &mut Chart<'_, '_>,
    data: &FeaturesData,
    plane: (usize, usize),
    with_legend: bool,
) -> DrawResult {
    // Points in no feature first, so feature points are drawn on top of them.
    let groups = std::iter::once(None).chain((0..data.feature_names.len()).map(Some));
    for feature in groups {
        let colour = match feature {
            Some(index) => theme::series_colour(index),
            None => theme::GREY,
        };
        for kind in [PointKind::Slow, PointKind::Fixed] {
            let coords: Vec<(f64, f64)> = data
                .points
                .iter()
                .filter(|p| p.feature == feature && p.kind == kind)
                .map(|p| pc_planes::project(&p.pcs, plane))
                .collect();
            let shape = match kind {
                PointKind::Fixed => Shape::FilledCircle,
                PointKind::Slow => Shape::OpenCircle,
            };
            // One legend entry per feature, on its filled (fixed-point) marker.
            markers::draw_marker_series(chart, &coords, shape, colour, markers::POINT_SIZE, None)?;
        }
        let used = data.points.iter().any(|p| p.feature == feature);
        if with_legend && used {
            let name = feature.map_or("no feature", |i| data.feature_names[i].as_str());
            let style = ShapeStyle::from(&colour).filled();
            chart
                .draw_series(std::iter::empty::<Circle<(f64, f64), i32>>())?
                .label(name)
                .legend(move |(x, y)| Circle::new((x + 10, y), markers::POINT_SIZE, style));
        }
    }

    if with_legend {
        let fixed = ShapeStyle::from(&theme::INK).filled();
        let slow = theme::INK.stroke_width(2);
        chart
            .draw_series(std::iter::empty::<Circle<(f64, f64), i32>>())?
            .label("fixed point (filled)")
            .legend(move |(x, y)| Circle::new((x + 10, y), markers::POINT_SIZE, fixed));
        chart
            .draw_series(std::iter::empty::<Circle<(f64, f64), i32>>())?
            .label("slow point (open)")
            .legend(move |(x, y)| Circle::new((x + 10, y), markers::POINT_SIZE, slow));
    }
    Ok(())
}
