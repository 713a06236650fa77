//! Ridge regression with the penalty chosen on seeded 80/20 splits.
//!
//! The fit minimises ‖y − b0 − Xb‖² + α‖b‖² with the intercept b0 unpenalised (X and y
//! are centred first), as scikit-learn's `Ridge` does. Each candidate α is scored on its own
//! random split (80 % train, 20 % test) by the test R²; the best α is refitted on all data.

use nalgebra::{DMatrix, DVector};
use rand::seq::SliceRandom;
use serde::{Deserialize, Serialize};

use super::ols::design_matrix;
use crate::error::{Error, Result};
use crate::rng;

/// Candidate penalties of the history and block regressions of the temporal-wagering study.
pub const RIDGE_ALPHAS: [f64; 11] = [1e-4, 5e-4, 1e-3, 5e-3, 0.01, 0.05, 0.1, 0.5, 1.0, 5.0, 10.0];

/// Ridge coefficients for one α.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RidgeFit {
    pub alpha: f64,
    pub intercept: f64,
    pub coefficients: Vec<f64>,
}

/// Outcome of the α search and the refit on all data.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RidgeSelection {
    pub fit: RidgeFit,
    /// Test R² of each candidate α on its split, in the order of `alphas`; `None` where the
    /// test responses are constant.
    pub test_r_squared: Vec<Option<f64>>,
    pub alphas: Vec<f64>,
    pub seed: u64,
}

/// Fits ridge regression with penalty `alpha` ≥ 0 on rows `x` (equal lengths) and `y`.
pub fn ridge_fit(x: &[Vec<f64>], y: &[f64], alpha: f64) -> Result<RidgeFit> {
    if !(alpha >= 0.0 && alpha.is_finite()) {
        return Err(Error::invalid(
            "ridge alpha",
            format!("{alpha} is not a finite value ≥ 0"),
        ));
    }
    let design = design_matrix(x, y)?;
    let (n, columns) = design.shape();
    let p = columns - 1;

    // Centre the regressors and the response so that the intercept drops out of the penalty.
    let regressors = design.columns(1, p).into_owned();
    let column_means: Vec<f64> = (0..p).map(|k| regressors.column(k).mean()).collect();
    let centred = DMatrix::from_fn(n, p, |row, k| regressors[(row, k)] - column_means[k]);
    let y_mean = y.iter().sum::<f64>() / n as f64;
    let response = DVector::from_iterator(n, y.iter().map(|v| v - y_mean));

    let mut gram = centred.transpose() * &centred;
    for k in 0..p {
        gram[(k, k)] += alpha;
    }
    let coefficients = gram
        .cholesky()
        .ok_or_else(|| Error::invalid("regression data", format!("ridge system is singular at alpha = {alpha}; regressors are collinear or constant")))?
        .solve(&(centred.transpose() * response));
    let intercept = y_mean
        - (0..p)
            .map(|k| column_means[k] * coefficients[k])
            .sum::<f64>();

    Ok(RidgeFit {
        alpha,
        intercept,
        coefficients: coefficients.iter().copied().collect(),
    })
}

/// Chooses α from `alphas` by the test R² of a seeded 80/20 split per α (the first best α
/// wins ties), then refits on all data. Split k uses RNG stream "ridge_split/k" of `seed`.
/// Needs at least 5 observations so that each test set contains at least one.
pub fn ridge_select(
    x: &[Vec<f64>],
    y: &[f64],
    alphas: &[f64],
    seed: u64,
) -> Result<RidgeSelection> {
    design_matrix(x, y)?;
    if alphas.is_empty() {
        return Err(Error::invalid(
            "ridge alphas",
            "no candidate penalties given",
        ));
    }
    let n = y.len();
    if n < 5 {
        return Err(Error::invalid(
            "regression data",
            format!("{n} observations, expected at least 5 for an 80/20 split"),
        ));
    }

    let test_size = ((n as f64) * 0.2).round().max(1.0) as usize;
    let mut test_r_squared = Vec::with_capacity(alphas.len());
    for (k, &alpha) in alphas.iter().enumerate() {
        let mut order: Vec<usize> = (0..n).collect();
        order.shuffle(&mut rng::indexed_stream(seed, "ridge_split", k as u64));
        let (test, train) = order.split_at(test_size);

        let train_x: Vec<Vec<f64>> = train.iter().map(|&i| x[i].clone()).collect();
        let train_y: Vec<f64> = train.iter().map(|&i| y[i]).collect();
        let fit = ridge_fit(&train_x, &train_y, alpha)?;
        test_r_squared.push(r_squared(&fit, test.iter().map(|&i| (&x[i], y[i]))));
    }

    // Compare only defined scores; with none defined the first α is kept.
    let mut best = 0;
    for (k, score) in test_r_squared.iter().enumerate() {
        if let Some(value) = score {
            if test_r_squared[best].is_none_or(|current| *value > current) {
                best = k;
            }
        }
    }

    Ok(RidgeSelection {
        fit: ridge_fit(x, y, alphas[best])?,
        test_r_squared,
        alphas: alphas.to_vec(),
        seed,
    })
}

/// R² of `fit` on held-out pairs; `None` when the responses are constant.
fn r_squared<'a>(fit: &RidgeFit, pairs: impl Iterator<Item = (&'a Vec<f64>, f64)>) -> Option<f64> {
    let pairs: Vec<(&Vec<f64>, f64)> = pairs.collect();
    let y_mean = pairs.iter().map(|p| p.1).sum::<f64>() / pairs.len() as f64;
    let mut rss = 0.0;
    let mut tss = 0.0;
    for (row, y) in &pairs {
        let prediction = fit.intercept
            + row
                .iter()
                .zip(&fit.coefficients)
                .map(|(a, b)| a * b)
                .sum::<f64>();
        rss += (y - prediction).powi(2);
        tss += (y - y_mean).powi(2);
    }
    (tss > 0.0).then(|| 1.0 - rss / tss)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::compare::ols_multiple;

    fn data() -> (Vec<Vec<f64>>, Vec<f64>) {
        let x: Vec<Vec<f64>> = (0..40)
            .map(|k| vec![(k as f64 * 0.37).sin(), (k as f64 * 0.91).cos()])
            .collect();
        let y: Vec<f64> = x
            .iter()
            .enumerate()
            .map(|(k, r)| 1.0 + 2.0 * r[0] - r[1] + 0.05 * (k as f64 * 2.3).sin())
            .collect();
        (x, y)
    }

    #[test]
    fn ridge_zero_alpha_equals_ols() {
        let (x, y) = data();
        let ridge = ridge_fit(&x, &y, 0.0).unwrap();
        let ols = ols_multiple(&x, &y).unwrap();
        assert!((ridge.intercept - ols.intercept).abs() < 1e-10);
        for (a, b) in ridge.coefficients.iter().zip(&ols.coefficients) {
            assert!((a - b).abs() < 1e-10);
        }
    }

    #[test]
    fn ridge_shrinks_with_alpha() {
        let (x, y) = data();
        let small = ridge_fit(&x, &y, 0.01).unwrap();
        let large = ridge_fit(&x, &y, 1000.0).unwrap();
        let norm = |f: &RidgeFit| f.coefficients.iter().map(|c| c * c).sum::<f64>();
        assert!(norm(&large) < 0.1 * norm(&small));
    }

    #[test]
    fn ridge_selection_is_seeded() {
        let (x, y) = data();
        let a = ridge_select(&x, &y, &RIDGE_ALPHAS, 11).unwrap();
        let b = ridge_select(&x, &y, &RIDGE_ALPHAS, 11).unwrap();
        assert_eq!(a, b);
        assert_eq!(a.test_r_squared.len(), RIDGE_ALPHAS.len());
        // Low noise: a small penalty wins and the fit is close to the generating coefficients.
        assert!(a.fit.alpha <= 1.0, "{}", a.fit.alpha);
        assert!((a.fit.coefficients[0] - 2.0).abs() < 0.1);
    }

    #[test]
    fn ridge_rejects_bad_input() {
        let (x, y) = data();
        assert!(ridge_fit(&x, &y, -1.0).is_err());
        assert!(ridge_select(&x, &y, &[], 0).is_err());
        assert!(ridge_select(&x[..4], &y[..4], &RIDGE_ALPHAS, 0).is_err());
    }
}
