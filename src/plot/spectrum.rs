//! Figure: eigenvalues of each point's Jacobian in the complex plane, one small panel per
//! point, with the unit circle.

use std::path::Path;

use num_complex::Complex64;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use crate::error::Result;
use crate::plot::axes::{self, is_drawable};
use crate::plot::markers::Stability;
use crate::plot::render::{self, Area, DrawResult, PlotOptions};
use crate::plot::theme;

/// Eigenvalues of the Jacobian at one point.
#[derive(Debug, Clone, PartialEq)]
pub struct PointSpectrum {
    /// Panel caption, such as "point 3".
    pub label: String,
    /// Linear stability of the point, added to the caption.
    pub stability: Stability,
    /// Eigenvalues λ of the one-step map's Jacobian.
    pub eigenvalues: Vec<Complex64>,
}

/// Input of [`draw_spectra`].
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SpectrumData {
    /// One entry per point, drawn in this order.
    pub points: Vec<PointSpectrum>,
}

/// Maximum number of panels in one figure. Later points are left out and counted in a note,
/// because smaller panels would no longer be readable at 800 × 600 pixels.
pub const MAX_SPECTRUM_PANELS: usize = 30;

/// Width of the strips that hold the shared axis descriptions, in pixels.
const AXIS_STRIP: u32 = 24;

/// Draws one complex-plane panel per point (up to [`MAX_SPECTRUM_PANELS`]) with the unit
/// circle, eigenvalues inside it in blue and outside it (|λ| > 1) in vermillion, and a caption
/// with the point's label and stability. Writes the SVG to `path`.
///
/// Errors: an invalid figure size or a failed write. No points gives a "no data" figure.
pub fn draw_spectra(path: &Path, data: &SpectrumData, opts: &PlotOptions) -> Result<()> {
    render::render_svg(path, opts, "Jacobian eigenvalues", |area| {
        if data.points.is_empty() {
            return render::draw_no_data(area, "no point was given");
        }
        render::with_notes(area, &notes(data), |body| draw_grid(body, data))
    })
}

fn notes(data: &SpectrumData) -> Vec<String> {
    let mut notes = vec!["blue: |λ| ≤ 1, vermillion: |λ| > 1; grey circle: |λ| = 1".to_string()];
    if data.points.len() > MAX_SPECTRUM_PANELS {
        notes.push(format!(
            "showing the first {MAX_SPECTRUM_PANELS} of {} points",
            data.points.len()
        ));
    }
    let skipped: usize =
        data.points.iter().map(|p| p.eigenvalues.iter().filter(|l| !drawable(l)).count()).sum();
    if skipped > 0 {
        notes.push(format!("{skipped} non-finite eigenvalue(s) not shown"));
    }
    notes
}

fn drawable(lambda: &Complex64) -> bool {
    is_drawable(lambda.re) && is_drawable(lambda.im)
}

/// Returns (rows, columns) of a grid for `count` panels on a landscape figure.
fn grid_shape(count: usize) -> (usize, usize) {
    let columns = ((count as f64 * 4.0 / 3.0).sqrt().ceil() as usize).clamp(1, count.max(1));
    let rows = count.div_ceil(columns);
    (rows, columns)
}

fn draw_grid(area: &Area<'_>, data: &SpectrumData) -> DrawResult {
    let shown_points = &data.points[..data.points.len().min(MAX_SPECTRUM_PANELS)];
    let (rows, columns) = grid_shape(shown_points.len());

    // Shared axis descriptions in a left and a bottom strip, so small panels keep their space
    // for data.
    let (width, height) = area.dim_in_pixel();
    let (left, rest) = area.split_horizontally(AXIS_STRIP);
    let (grid, bottom) = rest.split_vertically(height - AXIS_STRIP);
    let desc = (theme::FONT, theme::AXIS_LABEL_SIZE).into_font().color(&theme::INK);
    let centre = Pos::new(HPos::Center, VPos::Center);
    bottom.draw(&Text::new(
        "Re λ",
        ((width - AXIS_STRIP) as i32 / 2, AXIS_STRIP as i32 / 2),
        desc.pos(centre),
    ))?;
    left.draw(&Text::new(
        "Im λ",
        (AXIS_STRIP as i32 / 2, height as i32 / 2),
        desc.pos(centre).transform(FontTransform::Rotate270),
    ))?;

    let panels = grid.split_evenly((rows, columns));
    for (panel, point) in panels.iter().zip(shown_points) {
        draw_panel(panel, point, rows * columns)?;
    }
    Ok(())
}

fn draw_panel(panel: &Area<'_>, point: &PointSpectrum, panel_count: usize) -> DrawResult {
    let finite: Vec<Complex64> = point.eigenvalues.iter().copied().filter(drawable).collect();

    // A square window around the origin that contains the unit circle and every eigenvalue.
    let extent = finite.iter().fold(1.0_f64, |m, l| m.max(l.re.abs()).max(l.im.abs())) * 1.12;
    let small = panel_count > 4;
    let caption_size = match panel_count {
        0..=4 => theme::CAPTION_SIZE,
        5..=12 => theme::TICK_SIZE,
        _ => theme::TICK_SIZE - 4,
    };
    let caption = format!("{} ({})", point.label, point.stability.label());

    // Stretch one axis so a unit of Re λ and of Im λ have the same length on screen and the
    // unit circle stays round. The plotting area is the panel less margins, label areas and
    // caption (estimated from the font size).
    let (x_labels, y_labels) = if small { (20, 34) } else { (30, 46) };
    let (width, height) = panel.dim_in_pixel();
    let plot_width = (width as f64 - y_labels as f64 - 14.0).max(1.0);
    let plot_height = (height as f64 - x_labels as f64 - 8.0 - 1.2 * caption_size as f64).max(1.0);
    let aspect = plot_width / plot_height;
    let (x_extent, y_extent) =
        if aspect > 1.0 { (extent * aspect, extent) } else { (extent, extent / aspect) };

    let mut chart = ChartBuilder::on(panel)
        .margin(4)
        .margin_right(10)
        .caption(caption, (theme::FONT, caption_size).into_font().color(&point.stability.colour()))
        .x_label_area_size(x_labels)
        .y_label_area_size(y_labels)
        .build_cartesian_2d(-x_extent..x_extent, -y_extent..y_extent)?;

    let ticks = if small { 3 } else { 5 };
    chart
        .configure_mesh()
        .bold_line_style(theme::LIGHT_GREY.mix(0.5))
        .light_line_style(TRANSPARENT)
        .axis_style(theme::INK.stroke_width(1))
        .x_labels(ticks)
        .y_labels(ticks)
        .x_label_formatter(&axes::format_tick)
        .y_label_formatter(&axes::format_tick)
        .label_style((theme::FONT, theme::TICK_SIZE - 2).into_font().color(&theme::INK))
        .draw()?;

    let circle: Vec<(f64, f64)> = (0..=120)
        .map(|i| {
            let angle = i as f64 / 120.0 * std::f64::consts::TAU;
            (angle.cos(), angle.sin())
        })
        .collect();
    chart.draw_series(std::iter::once(PathElement::new(circle, theme::GREY.stroke_width(1))))?;

    let radius = if small { 3 } else { 4 };
    chart.draw_series(finite.iter().map(|l| {
        let colour = if l.norm() > 1.0 { theme::UNSTABLE } else { theme::STABLE };
        Circle::new((l.re, l.im), radius, colour.mix(0.8).filled())
    }))?;

    if finite.is_empty() {
        let style = (theme::FONT, caption_size)
            .into_font()
            .color(&theme::GREY)
            .pos(Pos::new(HPos::Center, VPos::Center));
        chart.draw_series(std::iter::once(Text::new("no finite λ", (0.0, 0.0), style)))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grid_shape_fits_count() {
        for count in 1..=MAX_SPECTRUM_PANELS {
            let (rows, columns) = grid_shape(count);
            assert!(rows * columns >= count, "{count}: {rows} x {columns}");
            assert!(rows <= columns, "{count}: landscape grid expected");
        }
        assert_eq!(grid_shape(1), (1, 1));
        assert_eq!(grid_shape(30), (5, 7));
    }
}
