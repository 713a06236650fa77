//! Principal component analysis of network states, with a checked linfa fit.
//!
//! The fit runs linfa-reduction 0.8.1 (`Pca`, no whitening), whose truncated SVD (LOBPCG from
//! linfa-linalg) returns a partial result as success when it stops early. Each fit is
//! therefore checked against the centred data before it is used:
//! - the components are orthonormal (|VVᵀ − I| ≤ 1e-8 entrywise);
//! - each component's reported variance equals its Rayleigh quotient vᵀCv within 1e-8 relative;
//! - each component is an eigenvector of C: ‖Cv − (vᵀCv)v‖ ≤ 1e-6·λ₁.
//!
//! C = XcᵀXc/(n − 1) is the sample covariance. The last check catches the partial results
//! that the first two let through, because a Ritz vector always matches its own Rayleigh
//! quotient. Where a check fails, the exact eigendecomposition of C (nalgebra
//! `symmetric_eigen`) replaces the fit, with a warning in the log.
//!
//! Explained variance is a fraction of the total variance trace(C) of the data, not of the
//! kept components (linfa's `explained_variance_ratio` sums to 1 over the kept ones).

use linfa::traits::Fit;
use linfa::DatasetBase;
use linfa_reduction::Pca as LinfaPca;
use nalgebra::DMatrix;
use ndarray::{Array1, Array2, ArrayView2, Axis};
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// Tolerance of the orthonormality and Rayleigh-quotient checks.
const CHECK_TOLERANCE: f64 = 1e-8;

/// Tolerance of the eigenvector residual, relative to the largest kept variance.
const RESIDUAL_TOLERANCE: f64 = 1e-6;

/// Solver that produced the components.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PcaSolver {
    /// linfa-reduction's truncated SVD, which passed every check.
    Linfa,
    /// Exact eigendecomposition of the covariance, used after a failed check.
    ExactCovariance,
}

/// A fitted PCA: mean, k components (rows, unit length) and their variances.
#[derive(Debug, Clone, PartialEq)]
pub struct Pca {
    /// Sample mean, one entry per input dimension.
    pub mean: Array1<f64>,
    /// Components as rows [k × dim], sorted by decreasing variance. Each row's entry of
    /// largest magnitude is positive.
    pub components: Array2<f64>,
    /// Variance along each component (divisor n − 1).
    pub variances: Vec<f64>,
    /// Total variance of the data, trace of the covariance (divisor n − 1).
    pub total_variance: f64,
    pub n_samples: usize,
    pub solver: PcaSolver,
}

/// Serialisable summary of a fit, for the JSON results.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PcaSummary {
    pub n_samples: usize,
    pub dim: usize,
    pub n_components: usize,
    pub solver: PcaSolver,
    pub total_variance: f64,
    pub variances: Vec<f64>,
    /// Variance of each component as a fraction of the total variance of the data.
    pub explained_variance_ratio: Vec<f64>,
    /// Number of leading components (1-based count) whose cumulative fraction reaches 0.9;
    /// `None` when the kept components stay below it.
    pub components_for_90_percent: Option<usize>,
}

impl Pca {
    /// Fits `k` components to `data` [n_samples × dim] (rows are samples). Needs at least
    /// two samples, finite values, 1 ≤ k ≤ dim and non-zero total variance.
    pub fn fit(data: ArrayView2<f64>, k: usize) -> Result<Pca> {
        let (n_samples, dim) = data.dim();
        validate(data, k)?;

        let mean = data.mean_axis(Axis(0)).expect("data has at least two rows");
        let centred = &data - &mean;
        let total_variance = centred.iter().map(|v| v * v).sum::<f64>() / (n_samples - 1) as f64;
        if total_variance <= 0.0 {
            return Err(Error::invalid("pca data", format!("all {n_samples} samples are identical (total variance 0), so there are no principal components")));
        }

        // A linfa failure is logged at info level, not as a warning: the exact fallback gives the
        // same components, and `PcaSummary::solver` records which one ran.
        let (components, variances, solver) = match fit_linfa(data, k) {
            Ok((components, variances)) => {
                match check_fit(centred.view(), &components, &variances, k) {
                    Ok(()) => (components, variances, PcaSolver::Linfa),
                    Err(reason) => {
                        tracing::info!(n_samples, dim, k, %reason, "pca: linfa fit failed its check, using the exact covariance eigendecomposition");
                        let (components, variances) = exact_components(centred.view(), k);
                        (components, variances, PcaSolver::ExactCovariance)
                    }
                }
            }
            Err(reason) => {
                tracing::info!(n_samples, dim, k, %reason, "pca: linfa fit failed, using the exact covariance eigendecomposition");
                let (components, variances) = exact_components(centred.view(), k);
                (components, variances, PcaSolver::ExactCovariance)
            }
        };

        let mut components = components;
        fix_signs(&mut components);
        Ok(Pca {
            mean,
            components,
            variances,
            total_variance,
            n_samples,
            solver,
        })
    }

    /// Number of kept components.
    pub fn n_components(&self) -> usize {
        self.components.nrows()
    }

    /// Variance of each component as a fraction of the total variance of the data.
    pub fn explained_variance_ratio(&self) -> Vec<f64> {
        self.variances
            .iter()
            .map(|v| v / self.total_variance)
            .collect()
    }

    /// Returns the smallest number of leading components (1-based count) whose cumulative
    /// explained fraction is at least `fraction`, or `None` if all kept components stay below.
    pub fn components_for(&self, fraction: f64) -> Option<usize> {
        let mut cumulative = 0.0;
        for (index, ratio) in self.explained_variance_ratio().iter().enumerate() {
            cumulative += ratio;
            // A relative slack of 1e-12 keeps an exact 0.9 from failing on rounding.
            if cumulative >= fraction * (1.0 - 1e-12) {
                return Some(index + 1);
            }
        }
        None
    }

    /// Projects samples [n × dim] onto the components: scores [n × k] = (x − mean)Vᵀ.
    pub fn project(&self, data: ArrayView2<f64>) -> Result<Array2<f64>> {
        if data.ncols() != self.mean.len() {
            return Err(Error::invalid(
                "pca data",
                format!(
                    "{} columns, expected {} (the fitted dimension)",
                    data.ncols(),
                    self.mean.len()
                ),
            ));
        }
        Ok((&data - &self.mean).dot(&self.components.t()))
    }

    /// Maps scores [n × k] back to the data space: x̂ = scores·V + mean.
    pub fn reconstruct(&self, scores: ArrayView2<f64>) -> Result<Array2<f64>> {
        if scores.ncols() != self.n_components() {
            return Err(Error::invalid(
                "pca scores",
                format!(
                    "{} columns, expected {} (the number of components)",
                    scores.ncols(),
                    self.n_components()
                ),
            ));
        }
        Ok(scores.dot(&self.components) + &self.mean)
    }

    /// Returns the serialisable summary of the fit.
    pub fn summary(&self) -> PcaSummary {
        PcaSummary {
            n_samples: self.n_samples,
            dim: self.mean.len(),
            n_components: self.n_components(),
            solver: self.solver,
            total_variance: self.total_variance,
            variances: self.variances.clone(),
            explained_variance_ratio: self.explained_variance_ratio(),
            components_for_90_percent: self.components_for(0.9),
        }
    }
}

fn validate(data: ArrayView2<f64>, k: usize) -> Result<()> {
    let (n_samples, dim) = data.dim();
    if n_samples < 2 {
        return Err(Error::invalid(
            "pca data",
            format!("{n_samples} samples, expected at least 2"),
        ));
    }
    if dim == 0 {
        return Err(Error::invalid("pca data", "samples have 0 dimensions"));
    }
    if k == 0 || k > dim {
        return Err(Error::invalid(
            "pca components",
            format!("{k} requested, expected 1 to {dim} (the data dimension)"),
        ));
    }
    if let Some(((row, column), value)) = data.indexed_iter().find(|(_, v)| !v.is_finite()) {
        return Err(Error::invalid(
            "pca data",
            format!("value {value} at sample {row}, dimension {column} is not finite"),
        ));
    }
    Ok(())
}

thread_local! {
    /// True while this thread runs linfa's fit, whose panics are caught and must not print.
    static IN_LINFA_FIT: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Installs (once) a panic hook that stays silent for panics inside linfa's fit on this
/// thread and defers to the previous hook for every other panic.
fn silence_caught_panics() {
    static INSTALL: std::sync::Once = std::sync::Once::new();
    INSTALL.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if !IN_LINFA_FIT.with(|flag| flag.get()) {
                previous(info);
            }
        }));
    });
}

/// Runs linfa's PCA and returns its components [k × dim] and variances σ²/(n − 1).
fn fit_linfa(
    data: ArrayView2<f64>,
    k: usize,
) -> std::result::Result<(Array2<f64>, Vec<f64>), String> {
    let dataset = DatasetBase::from(data.to_owned());
    // linfa-linalg 0.2.1's LOBPCG panics ("NaN values in array") on some rank-deficient
    // data instead of returning an error, so a panic is caught here and treated as a failed
    // fit, which sends the caller to the exact solver.
    silence_caught_panics();
    IN_LINFA_FIT.with(|flag| flag.set(true));
    let attempt = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| LinfaPca::params(k).fit(&dataset)));
    IN_LINFA_FIT.with(|flag| flag.set(false));
    let fitted = match attempt {
        Ok(result) => result.map_err(|e| e.to_string())?,
        Err(_) => return Err("linfa's LOBPCG solver hit NaN in its iteration".to_string()),
    };

    // linfa's explained_variance() divides by (k − 1), so derive the variance from σ.
    let n_samples = data.nrows() as f64;
    let variances = fitted
        .singular_values()
        .iter()
        .map(|s| s * s / (n_samples - 1.0))
        .collect();
    Ok((fitted.components().to_owned(), variances))
}

/// Checks a fit against the centred data; the error names the first failed check.
fn check_fit(
    centred: ArrayView2<f64>,
    components: &Array2<f64>,
    variances: &[f64],
    k: usize,
) -> std::result::Result<(), String> {
    if components.nrows() != k || variances.len() != k || components.ncols() != centred.ncols() {
        return Err(format!(
            "returned {} components of length {}, expected {k} of length {}",
            components.nrows(),
            components.ncols(),
            centred.ncols()
        ));
    }
    if components.iter().chain(variances).any(|v| !v.is_finite()) {
        return Err("returned non-finite values".to_string());
    }

    let gram = components.dot(&components.t());
    for ((row, column), value) in gram.indexed_iter() {
        let expected = if row == column { 1.0 } else { 0.0 };
        if (value - expected).abs() > CHECK_TOLERANCE {
            return Err(format!(
                "components {row} and {column} are not orthonormal (dot product {value})"
            ));
        }
    }

    // C·v = Xcᵀ(Xc·v)/(n − 1), without forming C.
    let denominator = (centred.nrows() - 1) as f64;
    let scores = centred.dot(&components.t());
    let covariance_times_components = centred.t().dot(&scores) / denominator;
    let largest = variances.iter().cloned().fold(0.0, f64::max);
    for (index, &variance) in variances.iter().enumerate() {
        let component = components.row(index);
        let image = covariance_times_components.column(index);
        let rayleigh = component.dot(&image);
        if (rayleigh - variance).abs() > CHECK_TOLERANCE * variance.abs().max(f64::MIN_POSITIVE) {
            return Err(format!("component {index}: variance {variance} differs from its Rayleigh quotient {rayleigh}"));
        }

        let residual = (&image - &(&component * rayleigh))
            .mapv(|v| v * v)
            .sum()
            .sqrt();
        if residual > RESIDUAL_TOLERANCE * largest {
            return Err(format!("component {index} is not an eigenvector of the covariance (residual {residual:.3e}, largest variance {largest:.3e})"));
        }
    }
    Ok(())
}

/// Returns the top `k` eigenvectors (rows) and eigenvalues of the covariance, exactly.
fn exact_components(centred: ArrayView2<f64>, k: usize) -> (Array2<f64>, Vec<f64>) {
    let (n_samples, dim) = centred.dim();
    let covariance = centred.t().dot(&centred) / (n_samples - 1) as f64;
    let matrix = DMatrix::from_fn(dim, dim, |row, column| covariance[(row, column)]);
    let eigen = matrix.symmetric_eigen();

    let mut order: Vec<usize> = (0..dim).collect();
    order.sort_by(|&a, &b| eigen.eigenvalues[b].total_cmp(&eigen.eigenvalues[a]));

    let mut components = Array2::zeros((k, dim));
    let mut variances = Vec::with_capacity(k);
    for (row, &index) in order.iter().take(k).enumerate() {
        for column in 0..dim {
            components[(row, column)] = eigen.eigenvectors[(column, index)];
        }
        // Round-off can give a tiny negative eigenvalue for rank-deficient data.
        variances.push(eigen.eigenvalues[index].max(0.0));
    }
    (components, variances)
}

/// Flips each component so that its entry of largest magnitude (the first on ties) is positive.
fn fix_signs(components: &mut Array2<f64>) {
    for mut row in components.rows_mut() {
        let mut largest_index = 0;
        for (index, value) in row.iter().enumerate() {
            if value.abs() > row[largest_index].abs() {
                largest_index = index;
            }
        }
        if row[largest_index] < 0.0 {
            row.mapv_inplace(|v| -v);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand_distr::{Distribution, StandardNormal};

    /// Gaussian samples with standard deviations `scales` along a random orthonormal basis.
    fn data_with_spectrum(n_samples: usize, scales: &[f64], seed: u64) -> Array2<f64> {
        let dim = scales.len();
        let mut stream = crate::rng::stream(seed, "pca_test");
        let mut draw = || -> f64 { StandardNormal.sample(&mut stream) };
        let random = DMatrix::from_fn(dim, dim, |_, _| draw());
        let basis = random.qr().q();
        let latent = Array2::from_shape_fn((n_samples, dim), |(_, column)| draw() * scales[column]);
        let basis = Array2::from_shape_fn((dim, dim), |(row, column)| basis[(row, column)]);
        latent.dot(&basis.t()) + 3.0
    }

    /// Exact covariance eigenvalues, largest first.
    fn exact_eigenvalues(data: &Array2<f64>) -> Vec<f64> {
        let mean = data.mean_axis(Axis(0)).unwrap();
        let (_, variances) = exact_components((data - &mean).view(), data.ncols());
        variances
    }

    #[test]
    fn pca_matches_exact_eigendecomposition() {
        let data = data_with_spectrum(500, &[10.0, 5.0, 2.0, 1.0, 0.5, 0.2, 0.1, 0.05], 1);
        let pca = Pca::fit(data.view(), 4).unwrap();
        assert_eq!(pca.solver, PcaSolver::Linfa);
        let exact = exact_eigenvalues(&data);
        for (index, variance) in pca.variances.iter().enumerate() {
            assert!(
                (variance - exact[index]).abs() <= 1e-8 * exact[index],
                "component {index}: {variance} vs {}",
                exact[index]
            );
        }

        let total: f64 = exact.iter().sum();
        assert!((pca.total_variance - total).abs() <= 1e-10 * total);
        let ratio = pca.explained_variance_ratio();
        assert!((ratio[0] - exact[0] / total).abs() < 1e-10);

        // Orthonormal rows with the largest-|loading| entry positive.
        let gram = pca.components.dot(&pca.components.t());
        for ((row, column), value) in gram.indexed_iter() {
            let expected = if row == column { 1.0 } else { 0.0 };
            assert!((value - expected).abs() < 1e-8);
        }
        for row in pca.components.rows() {
            let largest = row
                .iter()
                .cloned()
                .fold(0.0f64, |a, b| if b.abs() > a.abs() { b } else { a });
            assert!(largest > 0.0);
        }
    }

    #[test]
    fn pca_components_for_90_percent_is_a_count() {
        // Variances 100, 25, 4, 1 (scale²): fractions 0.769, 0.962, … so two components reach 90 %.
        let data = data_with_spectrum(4000, &[10.0, 5.0, 2.0, 1.0], 2);
        let pca = Pca::fit(data.view(), 4).unwrap();
        assert_eq!(pca.components_for(0.9), Some(2));
        assert_eq!(pca.summary().components_for_90_percent, Some(2));
        assert_eq!(pca.components_for(0.5), Some(1));
        let cumulative: f64 = pca.explained_variance_ratio().iter().sum();
        assert!((cumulative - 1.0).abs() < 1e-10);
    }

    #[test]
    fn pca_inaccurate_lobpcg_falls_back() {
        // Isotropic 2000 × 64 data with k = 60: linfa-linalg's LOBPCG stops early here.
        let data = data_with_spectrum(2000, &[1.0; 64], 3);
        let (components, variances) =
            fit_linfa(data.view(), 60).expect("linfa reports success on this case");
        let mean = data.mean_axis(Axis(0)).unwrap();
        let centred = &data - &mean;

        // The Ritz vectors match their own Rayleigh quotients, so only the residual check fails.
        let reason = check_fit(centred.view(), &components, &variances, 60).unwrap_err();
        assert!(reason.contains("not an eigenvector"), "{reason}");

        let pca = Pca::fit(data.view(), 60).unwrap();
        assert_eq!(pca.solver, PcaSolver::ExactCovariance);
        let exact = exact_eigenvalues(&data);
        for (index, variance) in pca.variances.iter().enumerate() {
            assert!((variance - exact[index]).abs() <= 1e-10 * exact[index]);
        }
    }

    #[test]
    fn pca_isotropic_fraction_is_small() {
        // 64 equal directions: 10 components hold about 10/64 of the variance, not 100 %.
        let data = data_with_spectrum(3000, &[1.0; 64], 4);
        let pca = Pca::fit(data.view(), 10).unwrap();
        assert_eq!(pca.solver, PcaSolver::Linfa);
        let fraction: f64 = pca.explained_variance_ratio().iter().sum();
        assert!(fraction > 0.15, "{fraction}");
        assert!(fraction < 0.22, "{fraction}");
        assert_eq!(pca.components_for(0.9), None);
    }

    #[test]
    fn pca_single_component_works() {
        let data = data_with_spectrum(300, &[4.0, 1.0, 0.5], 5);
        let pca = Pca::fit(data.view(), 1).unwrap();
        assert_eq!(pca.n_components(), 1);
        let exact = exact_eigenvalues(&data);
        assert!((pca.variances[0] - exact[0]).abs() <= 1e-8 * exact[0]);
        assert!(pca.explained_variance_ratio()[0].is_finite());
        assert!(!serde_json::to_string(&pca.summary())
            .unwrap()
            .contains("null,"));
    }

    #[test]
    fn pca_project_reconstruct_round_trip() {
        let data = data_with_spectrum(200, &[3.0, 2.0, 1.0], 6);
        let full = Pca::fit(data.view(), 3).unwrap();
        let scores = full.project(data.view()).unwrap();
        let back = full.reconstruct(scores.view()).unwrap();
        let error = (&back - &data)
            .mapv(f64::abs)
            .fold(0.0f64, |a, &b| a.max(b));
        assert!(error < 1e-10, "{error}");

        // Scores are centred, with the component variances.
        let column_variance = scores.column(0).mapv(|v| v * v).sum() / 199.0;
        assert!((column_variance - full.variances[0]).abs() < 1e-9 * full.variances[0]);
    }

    #[test]
    fn pca_rejects_bad_input() {
        let data = data_with_spectrum(10, &[1.0, 1.0], 7);
        assert!(Pca::fit(data.view(), 0).is_err());
        assert!(Pca::fit(data.view(), 3).is_err());
        assert!(Pca::fit(data.slice(ndarray::s![..1, ..]), 1).is_err());
        let constant = Array2::from_elem((5, 2), 1.5);
        assert!(Pca::fit(constant.view(), 1).is_err());
        let mut with_nan = data.clone();
        with_nan[(3, 1)] = f64::NAN;
        let err = Pca::fit(with_nan.view(), 1).unwrap_err().to_string();
        assert!(err.contains("sample 3"), "{err}");

        let pca = Pca::fit(data.view(), 1).unwrap();
        assert!(pca.project(Array2::zeros((2, 3)).view()).is_err());
        assert!(pca.reconstruct(Array2::zeros((2, 2)).view()).is_err());
    }
}
