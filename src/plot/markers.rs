//! Point markers: the stability and kind of a fixed or slow point, and the marker that shows
//! them.

use plotters::prelude::*;

use crate::plot::axes::{is_drawable, Chart};
use crate::plot::render::DrawResult;
use crate::plot::theme;

/// Linear stability of a point, from the moduli |λ| of its Jacobian's eigenvalues.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Stability {
    /// Every |λ| lies below the band around 1.
    Stable,
    /// At least one |λ| lies above the band around 1.
    Unstable,
    /// No |λ| lies above the band, and at least one lies within it.
    Marginal,
}

impl Stability {
    /// Returns the lowercase word used in legends and captions.
    pub fn label(self) -> &'static str {
        match self {
            Stability::Stable => "stable",
            Stability::Unstable => "unstable",
            Stability::Marginal => "marginal",
        }
    }

    /// Returns the theme colour of this stability.
    pub fn colour(self) -> RGBColor {
        match self {
            Stability::Stable => theme::STABLE,
            Stability::Unstable => theme::UNSTABLE,
            Stability::Marginal => theme::MARGINAL,
        }
    }

    pub(crate) fn shape(self) -> Shape {
        match self {
            Stability::Stable => Shape::FilledCircle,
            Stability::Unstable => Shape::Cross,
            Stability::Marginal => Shape::Triangle,
        }
    }
}

/// Whether a point met the fixed-point or only the slow-point threshold on q.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PointKind {
    /// q below the fixed-point threshold.
    Fixed,
    /// q below the slow-point threshold but above the fixed-point one.
    Slow,
}

/// Marker shape.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Shape {
    FilledCircle,
    OpenCircle,
    Cross,
    Triangle,
}

/// Marker size (radius) of fixed points, in pixels.
pub(crate) const POINT_SIZE: i32 = 6;

/// Marker size of slow points, in pixels: smaller, so fixed points stand out.
pub(crate) const SLOW_POINT_SIZE: i32 = 4;

/// Draws one marker per drawable point of `points`, and a legend entry when `label` is given.
/// Points with a non-finite coordinate are skipped; an empty series adds no legend entry.
pub(crate) fn draw_marker_series(
    chart: &mut Chart<'_, '_>,
    points: &[(f64, f64)],
    shape: Shape,
    colour: RGBColor,
    size: i32,
    label: Option<&str>,
) -> DrawResult {
    let drawable: Vec<(f64, f64)> =
        points.iter().copied().filter(|(x, y)| is_drawable(*x) && is_drawable(*y)).collect();
    if drawable.is_empty() {
        return Ok(());
    }

    let filled = ShapeStyle::from(&colour).filled();
    let outline = colour.stroke_width(2);
    let annotation = match shape {
        Shape::FilledCircle => {
            chart.draw_series(drawable.iter().map(|&p| Circle::new(p, size, filled)))?
        }
        Shape::OpenCircle => {
            chart.draw_series(drawable.iter().map(|&p| Circle::new(p, size, outline)))?
        }
        Shape::Cross => {
            chart.draw_series(drawable.iter().map(|&p| Cross::new(p, size, outline)))?
        }
        Shape::Triangle => {
            chart.draw_series(drawable.iter().map(|&p| TriangleMarker::new(p, size + 1, filled)))?
        }
    };

    // plotters lists every series that has a legend glyph, so only labelled series get one.
    let Some(label) = label else { return Ok(()) };
    annotation.label(label);
    match shape {
        Shape::FilledCircle => {
            annotation.legend(move |(x, y)| Circle::new((x + 10, y), size, filled))
        }
        Shape::OpenCircle => {
            annotation.legend(move |(x, y)| Circle::new((x + 10, y), size, outline))
        }
        Shape::Cross => annotation.legend(move |(x, y)| Cross::new((x + 10, y), size, outline)),
        Shape::Triangle => {
            annotation.legend(move |(x, y)| TriangleMarker::new((x + 10, y), size + 1, filled))
        }
    };
    Ok(())
}

/// Registers a legend entry drawn as a short line of `style`, without drawing any data.
pub(crate) fn legend_line(chart: &mut Chart<'_, '_>, label: &str, style: ShapeStyle) -> DrawResult {
    chart
        .draw_series(std::iter::empty::<PathElement<(f64, f64)>>())?
        .label(label)
        .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], style));
    Ok(())
}
