//! Rendering a figure: options, the SVG string backend, the "no data" figure and the atomic
//! write of the result.

use std::path::Path;

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use crate::error::{Error, Result};
use crate::io::write_atomic;
use crate::plot::theme;

/// Settings shared by every figure.
#[derive(Debug, Clone, PartialEq)]
pub struct PlotOptions {
    /// Figure title. `None` uses the figure's default title; an empty string draws none.
    pub title: Option<String>,
    /// Width of the SVG, in pixels.
    pub width: u32,
    /// Height of the SVG, in pixels.
    pub height: u32,
}

impl Default for PlotOptions {
    fn default() -> Self {
        PlotOptions { title: None, width: 800, height: 600 }
    }
}

/// Smallest accepted figure side, in pixels: below it the axis labels no longer fit.
pub const MIN_SIDE: u32 = 200;

/// Largest accepted figure side, in pixels.
pub const MAX_SIDE: u32 = 10_000;

impl PlotOptions {
    /// Returns a copy with `title` as the figure title.
    pub fn with_title(mut self, title: impl Into<String>) -> Self {
        self.title = Some(title.into());
        self
    }

    /// Checks that the figure size lies within [`MIN_SIDE`, `MAX_SIDE`] pixels.
    pub fn validate(&self) -> Result<()> {
        for (name, side) in [("width", self.width), ("height", self.height)] {
            if !(MIN_SIDE..=MAX_SIDE).contains(&side) {
                return Err(Error::invalid(
                    format!("figure {name}"),
                    format!("{side} px is outside {MIN_SIDE}..={MAX_SIDE} px"),
                ));
            }
        }
        Ok(())
    }
}

/// Drawing area of an SVG figure held in memory.
pub(crate) type Area<'a> = DrawingArea<SVGBackend<'a>, Shift>;

/// Error raised by plotters while drawing into an SVG string.
pub(crate) type DrawError = DrawingAreaErrorKind<std::io::Error>;

/// Result of a drawing step.
pub(crate) type DrawResult<T = ()> = std::result::Result<T, DrawError>;

/// Renders a figure with `draw` and writes it to `path` atomically.
///
/// The figure is drawn into a string first, so a drawing error leaves no file behind.
/// `default_title` is used unless `opts.title` is set; an empty title draws none.
pub(crate) fn render_svg(
    path: &Path,
    opts: &PlotOptions,
    default_title: &str,
    draw: impl FnOnce(&Area<'_>) -> DrawResult,
) -> Result<()> {
    opts.validate()?;

    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (opts.width, opts.height)).into_drawing_area();
        let drawn = draw_titled(&root, opts, default_title, draw).and_then(|()| root.present());
        drawn.map_err(|e| {
            Error::io(path, std::io::Error::other(format!("failed to draw figure: {e}")))
        })?;
    }

    write_atomic(path, svg.as_bytes())
}

fn draw_titled(
    root: &Area<'_>,
    opts: &PlotOptions,
    default_title: &str,
    draw: impl FnOnce(&Area<'_>) -> DrawResult,
) -> DrawResult {
    root.fill(&WHITE)?;

    let title = opts.title.as_deref().unwrap_or(default_title);
    if title.is_empty() {
        return draw(&root.margin(8, 8, 8, 8));
    }

    let body =
        root.titled(title, (theme::FONT, theme::TITLE_SIZE).into_font().color(&theme::INK))?;
    draw(&body.margin(0, 8, 8, 8))
}

/// Draws a framed "no data" panel with `reason` below it, in place of a figure or panel whose
/// input has nothing drawable.
pub(crate) fn draw_no_data(area: &Area<'_>, reason: &str) -> DrawResult {
    let (width, height) = area.dim_in_pixel();
    let (w, h) = (width as i32, height as i32);
    area.draw(&Rectangle::new([(4, 4), (w - 4, h - 4)], theme::LIGHT_GREY.stroke_width(1)))?;

    let centred = |size: u32| {
        (theme::FONT, size).into_font().color(&theme::INK).pos(Pos::new(HPos::Center, VPos::Center))
    };
    area.draw(&Text::new("no data", (w / 2, h / 2 - 14), centred(theme::CAPTION_SIZE)))?;
    area.draw(&Text::new(reason.to_string(), (w / 2, h / 2 + 12), centred(theme::TICK_SIZE)))?;
    Ok(())
}

/// Draws the figure body with `draw` above a strip of `notes`: lines of small grey text about
/// skipped values that the reader should know about. Without notes the body takes the whole
/// area.
pub(crate) fn with_notes(
    area: &Area<'_>,
    notes: &[String],
    draw: impl FnOnce(&Area<'_>) -> DrawResult,
) -> DrawResult {
    if notes.is_empty() {
        return draw(area);
    }

    let line_height = theme::TICK_SIZE as i32 + 4;
    let (_, height) = area.dim_in_pixel();
    let strip = line_height * notes.len() as i32 + 4;
    let (body, strip_area) = area.split_vertically(height as i32 - strip);
    draw(&body)?;

    let style = (theme::FONT, theme::TICK_SIZE).into_font().color(&theme::GREY);
    for (i, note) in notes.iter().enumerate() {
        strip_area.draw(&Text::new(
            note.clone(),
            (6, 2 + line_height * i as i32),
            style.clone(),
        ))?;
    }
    Ok(())
}
