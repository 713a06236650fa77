//! Shared look of every figure: fonts, line widths and a colour-blind-friendly palette.
//!
//! Text is written as SVG `<text font-family="sans-serif">`, so the viewer picks the font and
//! no font file is needed.

use plotters::style::RGBColor;

/// Font family written into every SVG `<text>` element.
pub const FONT: &str = "sans-serif";

// Font sizes are in plotters' units: its SVG backend writes `font-size` at about 0.8 of the
// value given (plotters 0.3.7), so 16 renders as a 13 px font.

/// Font size of a figure title.
pub const TITLE_SIZE: u32 = 26;

/// Font size of a panel caption.
pub const CAPTION_SIZE: u32 = 20;

/// Font size of axis descriptions ("PC1 (42.0 % var.)").
pub const AXIS_LABEL_SIZE: u32 = 20;

/// Font size of tick labels, legend entries and notes.
pub const TICK_SIZE: u32 = 16;

/// Width of data lines, in pixels.
pub const LINE_WIDTH: u32 = 2;

/// Okabe & Ito (2008, "Color Universal Design") colours, distinguishable under the common
/// colour-vision deficiencies. Yellow comes last because it is hard to see on white.
pub const PALETTE: [RGBColor; 7] = [
    RGBColor(0x00, 0x72, 0xB2), // blue
    RGBColor(0xD5, 0x5E, 0x00), // vermillion
    RGBColor(0x00, 0x9E, 0x73), // bluish green
    RGBColor(0xE6, 0x9F, 0x00), // orange
    RGBColor(0xCC, 0x79, 0xA7), // reddish purple
    RGBColor(0x56, 0xB4, 0xE9), // sky blue
    RGBColor(0xF0, 0xE4, 0x42), // yellow
];

/// Near-black used for axes, text and the "mixed" block.
pub const INK: RGBColor = RGBColor(0x22, 0x22, 0x22);

/// Grey of background trajectories and slow points.
pub const GREY: RGBColor = RGBColor(0x99, 0x99, 0x99);

/// Light grey of grid lines and the unit circle.
pub const LIGHT_GREY: RGBColor = RGBColor(0xCC, 0xCC, 0xCC);

/// Colour of stable points.
pub const STABLE: RGBColor = PALETTE[0];

/// Colour of unstable points and their unstable modes.
pub const UNSTABLE: RGBColor = PALETTE[1];

/// Colour of marginal points (|λ| within the band around 1).
pub const MARGINAL: RGBColor = PALETTE[2];

/// Returns the palette colour of series `index`, cycling after the seventh.
pub fn series_colour(index: usize) -> RGBColor {
    PALETTE[index % PALETTE.len()]
}
