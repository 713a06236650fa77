//! Dynamical-systems analyses of a [`RecurrentMap`](crate::model::RecurrentMap): fixed and
//! slow points, Jacobian spectra, PCA, slow manifolds and flow fields.

pub mod fixed_points;
pub mod spectrum;
