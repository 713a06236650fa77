//! SVG figures drawn with plotters. Each function draws data it is given; none computes an
//! analysis.
//!
//! Every `draw_*` function renders the whole figure into memory and then writes it with
//! [`crate::io::write_atomic`], so an error leaves no file behind. Non-finite values are
//! skipped (and counted in a note on the figure), and input with nothing drawable gives a
//! "no data" figure rather than an error.

mod axes;
mod fixed_points;
mod markers;
mod pc_planes;
mod render;
pub mod theme;

pub use markers::{PointKind, Stability};
pub use render::PlotOptions;
pub use fixed_points::{draw_fixed_points, FixedPointsData, ProjectedPoint};
pub use pc_planes::PcCoords;
