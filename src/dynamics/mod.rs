//! Dynamical-systems analyses of a [`RecurrentMap`](crate::model::RecurrentMap): fixed and
//! slow points, Jacobian spectra, PCA, slow manifolds and flow fields.

pub mod cluster;
pub mod fixed_points;
pub mod flow_field;
pub mod pca;
pub mod slow_manifold;
pub mod spectrum;
