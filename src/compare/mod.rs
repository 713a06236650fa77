//! Group comparisons: per-network metrics and nonparametric statistics.
