//! Ordinary least squares: simple (one regressor) and multiple regression with an intercept.
//!
//! Coefficient p-values are two-sided t tests with n − p − 1 degrees of freedom (p regressors
//! plus the intercept), from the coefficient covariance σ̂²(XᵀX)⁻¹ with σ̂² = RSS/(n − p − 1).

use nalgebra::{DMatrix, DVector};
use serde::{Deserialize, Serialize};
use statrs::distribution::{ContinuousCDF, StudentsT};

use crate::error::{Error, Result};

/// Fit of y = intercept + slope·x.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SimpleOls {
    pub n: usize,
    pub slope: f64,
    pub intercept: f64,
    /// Coefficient of determination; `None` when y is constant.
    pub r_squared: Option<f64>,
    pub slope_std_error: f64,
    /// Two-sided p-value of the slope (H0: slope = 0).
    pub p_slope: f64,
}

/// Fit of y = b0 + Σ b_k x_k.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MultipleOls {
    pub n: usize,
    pub intercept: f64,
    /// One coefficient per regressor column, in column order.
    pub coefficients: Vec<f64>,
    /// Standard errors, intercept first, then one per regressor.
    pub std_errors: Vec<f64>,
    /// Two-sided p-values, intercept first, then one per regressor.
    pub p_values: Vec<f64>,
    /// Coefficient of determination; `None` when y is constant.
    pub r_squared: Option<f64>,
}

/// Fits y on one regressor. Needs at least 3 paired finite values and a non-constant x.
pub fn ols_simple(x: &[f64], y: &[f64]) -> Result<SimpleOls> {
    let fit = ols_multiple(&x.iter().map(|&v| vec![v]).collect::<Vec<_>>(), y)?;
    Ok(SimpleOls {
        n: fit.n,
        slope: fit.coefficients[0],
        intercept: fit.intercept,
        r_squared: fit.r_squared,
        slope_std_error: fit.std_errors[1],
        p_slope: fit.p_values[1],
    })
}

/// Fits y on the rows of `x` (one row per observation, equal lengths) plus an intercept.
/// Errors when the rows are ragged or non-finite, when there are not more observations than
/// coefficients, or when the columns are collinear (XᵀX not positive definite).
pub fn ols_multiple(x: &[Vec<f64>], y: &[f64]) -> Result<MultipleOls> {
    let design = design_matrix(x, y)?;
    let (n, columns) = design.shape();
    if n <= columns {
        return Err(Error::invalid(
            "regression data",
            format!("{n} observations for {columns} coefficients (with intercept), expected more observations than coefficients"),
        ));
    }
    // A constant response has no slope to test. Solving would leave round-off slopes near
    // 1e-16 with even smaller standard errors, so t tests would report p near 1e-58, as when
    // every catch trial times out at 30.1 s. The exact fit is intercept = y, slopes 0, p = 1.
    if y.iter().all(|&v| v == y[0]) {
        return Ok(constant_response_fit(n, columns, y[0]));
    }

    let response = DVector::from_column_slice(y);

    // Normal equations: small (≤ a dozen coefficients), so Cholesky of XᵀX is accurate enough.
    let gram = design.transpose() * &design;
    let cholesky = gram.clone().cholesky().ok_or_else(|| {
        Error::invalid("regression data", "regressors are collinear or constant (XᵀX is singular), so coefficients are not identifiable")
    })?;
    let beta = cholesky.solve(&(design.transpose() * &response));
    let gram_inverse = cholesky.inverse();

    let residuals = &response - &design * &beta;
    let rss = residuals.norm_squared();
    let degrees_of_freedom = (n - columns) as f64;
    let sigma2 = rss / degrees_of_freedom;

    let y_mean = response.mean();
    let tss: f64 = response.iter().map(|v| (v - y_mean) * (v - y_mean)).sum();
    let r_squared = (tss > 0.0).then(|| 1.0 - rss / tss);

    let t_distribution = StudentsT::new(0.0, 1.0, degrees_of_freedom)
        .map_err(|e| Error::Numerical(format!("t distribution: {e}")))?;
    let mut std_errors = Vec::with_capacity(columns);
    let mut p_values = Vec::with_capacity(columns);
    for k in 0..columns {
        let std_error = (sigma2 * gram_inverse[(k, k)]).max(0.0).sqrt();
        std_errors.push(std_error);
        p_values.push(two_sided_p(beta[k], std_error, &t_distribution));
    }

    Ok(MultipleOls {
        n,
        intercept: beta[0],
        coefficients: beta.iter().skip(1).copied().collect(),
        std_errors,
        p_values,
        r_squared,
    })
}

/// Returns the exact fit of a constant response `y0`: intercept `y0` (p = 0 unless it is 0), every
/// slope 0 with p = 1, standard errors 0, and no R².
fn constant_response_fit(n: usize, columns: usize, y0: f64) -> MultipleOls {
    let mut p_values = vec![1.0; columns];
    p_values[0] = if y0 != 0.0 { 0.0 } else { 1.0 };
    MultipleOls {
        n,
        intercept: y0,
        coefficients: vec![0.0; columns - 1],
        std_errors: vec![0.0; columns],
        p_values,
        r_squared: None,
    }
}

/// Two-sided t-test p-value. A zero standard error (perfect fit) gives p = 0 for a non-zero
/// coefficient and p = 1 for a zero one, instead of NaN.
fn two_sided_p(estimate: f64, std_error: f64, t_distribution: &StudentsT) -> f64 {
    if std_error == 0.0 {
        return if estimate.abs() > 0.0 { 0.0 } else { 1.0 };
    }
    let t = (estimate / std_error).abs();
    (2.0 * t_distribution.sf(t)).min(1.0)
}

/// Builds [1, x_1, …, x_p] rows after checking shapes and finiteness.
pub(crate) fn design_matrix(x: &[Vec<f64>], y: &[f64]) -> Result<DMatrix<f64>> {
    if x.len() != y.len() {
        return Err(Error::invalid(
            "regression data",
            format!(
                "{} regressor rows but {} responses, expected equal counts",
                x.len(),
                y.len()
            ),
        ));
    }
    if x.is_empty() {
        return Err(Error::invalid("regression data", "no observations"));
    }
    let p = x[0].len();
    if p == 0 {
        return Err(Error::invalid("regression data", "no regressor columns"));
    }
    for (row, values) in x.iter().enumerate() {
        if values.len() != p {
            return Err(Error::invalid(
                "regression data",
                format!("row {row} has {} regressors, expected {p}", values.len()),
            ));
        }
        if values.iter().any(|v| !v.is_finite()) || !y[row].is_finite() {
            return Err(Error::invalid(
                "regression data",
                format!("row {row} has a non-finite value"),
            ));
        }
    }
    Ok(DMatrix::from_fn(x.len(), p + 1, |row, column| {
        if column == 0 {
            1.0
        } else {
            x[row][column - 1]
        }
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn constant_response_has_zero_slope_and_p_one() {
        // Every catch trial timing out: wait time 30.1 s at every offer. Solving the normal
        // equations here gives a round-off slope near 1e-16 with p near 1e-58.
        let x: Vec<f64> = (0..400).map(|i| [5.0f64, 10.0, 20.0, 40.0, 80.0][i % 5].log2()).collect();
        let y = vec![30.1; x.len()];
        let fit = ols_simple(&x, &y).unwrap();
        assert_eq!(fit.slope, 0.0);
        assert_eq!(fit.p_slope, 1.0);
        assert_eq!(fit.intercept, 30.1);
        assert_eq!(fit.r_squared, None);
    }

    #[test]
    fn simple_ols_known_fit() {
        // y = 1 + 2x + e with e = [0.1, −0.1, 0.1, −0.1, 0]: slope and p from the textbook formulas.
        let x = [0.0, 1.0, 2.0, 3.0, 4.0];
        let y = [1.1, 2.9, 5.1, 6.9, 9.0];
        let fit = ols_simple(&x, &y).unwrap();
        let x_mean = 2.0;
        let y_mean = y.iter().sum::<f64>() / 5.0;
        let sxx: f64 = x.iter().map(|v| (v - x_mean) * (v - x_mean)).sum();
        let sxy: f64 = x
            .iter()
            .zip(&y)
            .map(|(a, b)| (a - x_mean) * (b - y_mean))
            .sum();
        let slope = sxy / sxx;
        assert!((fit.slope - slope).abs() < 1e-12);
        assert!((fit.intercept - (y_mean - slope * x_mean)).abs() < 1e-12);

        let rss: f64 = x
            .iter()
            .zip(&y)
            .map(|(a, b)| (b - fit.intercept - fit.slope * a).powi(2))
            .sum();
        let se = (rss / 3.0 / sxx).sqrt();
        assert!((fit.slope_std_error - se).abs() < 1e-12);
        let t = StudentsT::new(0.0, 1.0, 3.0).unwrap();
        assert!((fit.p_slope - 2.0 * t.sf(slope / se)).abs() < 1e-12);
        assert!(fit.p_slope < 1e-4);
        assert!(fit.r_squared.unwrap() > 0.99);
    }

    #[test]
    fn simple_ols_reference_p_value() {
        // t = 2.5 with 3 degrees of freedom: two-sided p = 0.08771 (t tables).
        let x = [-1.0, -1.0, 0.0, 1.0, 1.0];
        // Residuals ±r give slope 1 and se = sqrt(RSS/3/4); choose RSS so that t = 2.5.
        let r = (3.0f64 * 4.0 / 6.25 / 4.0).sqrt();
        let y = [-1.0 + r, -1.0 - r, 0.0, 1.0 + r, 1.0 - r];
        let fit = ols_simple(&x, &y).unwrap();
        assert!((fit.slope - 1.0).abs() < 1e-12);
        assert!((fit.slope / fit.slope_std_error - 2.5).abs() < 1e-9);
        assert!((fit.p_slope - 0.087_71).abs() < 1e-4, "{}", fit.p_slope);
    }

    #[test]
    fn multiple_ols_recovers_exact_plane() {
        let x: Vec<Vec<f64>> = (0..8)
            .map(|k| vec![k as f64, ((k * 3) % 5) as f64])
            .collect();
        let y: Vec<f64> = x.iter().map(|r| 0.5 + 2.0 * r[0] - 3.0 * r[1]).collect();
        let fit = ols_multiple(&x, &y).unwrap();
        assert!((fit.intercept - 0.5).abs() < 1e-9);
        assert!((fit.coefficients[0] - 2.0).abs() < 1e-9);
        assert!((fit.coefficients[1] + 3.0).abs() < 1e-9);
        assert!(fit.p_values[1] < 1e-6);
        assert!(fit.p_values[2] < 1e-6);
    }

    #[test]
    fn constant_response_is_not_nan() {
        let fit = ols_simple(&[1.0, 2.0, 3.0, 4.0], &[5.0; 4]).unwrap();
        assert!(fit.slope.abs() < 1e-12);
        assert_eq!(fit.r_squared, None);
        assert!(fit.p_slope.is_finite());
        assert!(!serde_json::to_string(&fit).unwrap().contains("NaN"));
    }

    #[test]
    fn degenerate_designs_are_rejected() {
        assert!(ols_simple(&[1.0, 1.0, 1.0], &[1.0, 2.0, 3.0]).is_err());
        assert!(ols_simple(&[1.0, 2.0], &[1.0, 2.0]).is_err());
        assert!(ols_simple(&[1.0, 2.0, 3.0], &[1.0, 2.0]).is_err());
        assert!(ols_simple(&[1.0, f64::NAN, 3.0, 4.0], &[1.0, 2.0, 3.0, 4.0]).is_err());
        let ragged = vec![vec![1.0, 2.0], vec![1.0]];
        assert!(ols_multiple(&ragged, &[1.0, 2.0]).is_err());
    }
}
