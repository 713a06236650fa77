//! SVG figures drawn with plotters. Each function draws data it is given; none computes an
//! analysis.
//!
//! Every `draw_*` function renders the whole figure into memory and then writes it with
//! [`crate::io::write_atomic`], so an error leaves no file behind. Non-finite values are
//! skipped (and counted in a note on the figure), and input with nothing drawable gives a
//! "no data" figure rather than an error. Invalid input (mismatched lengths, an index out of
//! range, explained variance given in percent) returns [`crate::Error::Invalid`].
//!
//! Figures: [`draw_fixed_points`], [`draw_spectra`], [`draw_q_values`], [`draw_wait_time`],
//! [`draw_learning_curves`], [`draw_ecdf`], [`draw_strip`], [`draw_trajectories`],
//! [`draw_flow_field`] and [`draw_features`]. Each takes a plain input struct and
//! [`PlotOptions`] (title and size, 800 × 600 pixels by default).

mod axes;
mod block;
mod colour_bar;
mod contour;
mod ecdf;
mod features;
mod fixed_points;
mod flow_field;
mod group;
mod learning_curves;
mod markers;
mod pc_planes;
mod q_values;
mod render;
mod spectrum;
mod strip;
pub mod theme;
mod trajectories;
mod wait_time;

pub use block::Block;
pub use ecdf::{draw_ecdf, EcdfData};
pub use features::{draw_features, FeaturePoint, FeaturesData};
pub use fixed_points::{draw_fixed_points, FixedPointsData, ProjectedPoint};
pub use flow_field::{draw_flow_field, FlowBackground, FlowFieldData, PlanePoint};
pub use group::GroupSample;
pub use learning_curves::{draw_learning_curves, GroupCurve, LearningCurvesData, StageBoundary};
pub use markers::{PointKind, Stability};
pub use pc_planes::PcCoords;
pub use q_values::{draw_q_values, QValuesData};
pub use render::PlotOptions;
pub use spectrum::{draw_spectra, PointSpectrum, SpectrumData, MAX_SPECTRUM_PANELS};
pub use strip::{draw_strip, StripData};
pub use trajectories::{draw_trajectories, TrajectoriesData, TrajectoryColour};
pub use wait_time::{draw_wait_time, WaitTimeCurve, WaitTimeData, OFFER_TICKS_UL};
