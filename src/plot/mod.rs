//! SVG figures drawn with plotters. Each function draws data it is given; none computes an
//! analysis.
