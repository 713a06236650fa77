//! Mean, median and standard error of the mean.

use serde::{Deserialize, Serialize};

use super::check_sample;
use crate::error::Result;

/// Location and spread of one sample.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Summary {
    pub n: usize,
    pub mean: f64,
    pub median: f64,
    /// Sample standard deviation (divisor n − 1); `None` for a single value.
    pub std: Option<f64>,
    /// Standard error of the mean, std/√n; `None` for a single value.
    pub sem: Option<f64>,
}

impl Summary {
    /// Summarises a non-empty sample of finite values.
    pub fn of(values: &[f64]) -> Result<Self> {
        check_sample("sample", values)?;
        let n = values.len();
        let std = sample_std(values);
        Ok(Summary {
            n,
            mean: mean(values),
            median: median(values),
            std,
            sem: std.map(|s| s / (n as f64).sqrt()),
        })
    }
}

/// Arithmetic mean; NaN for an empty slice (callers check emptiness first).
pub fn mean(values: &[f64]) -> f64 {
    values.iter().sum::<f64>() / values.len() as f64
}

/// Median, the mean of the two middle values for an even count; NaN for an empty slice.
pub fn median(values: &[f64]) -> f64 {
    if values.is_empty() {
        return f64::NAN;
    }
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    let mid = sorted.len() / 2;
    if sorted.len() % 2 == 1 {
        sorted[mid]
    } else {
        0.5 * (sorted[mid - 1] + sorted[mid])
    }
}

/// Standard error of the mean with the n − 1 standard deviation; `None` below two values.
pub fn sem(values: &[f64]) -> Option<f64> {
    sample_std(values).map(|s| s / (values.len() as f64).sqrt())
}

/// Sample standard deviation (divisor n − 1); `None` below two values.
pub(crate) fn sample_std(values: &[f64]) -> Option<f64> {
    if values.len() < 2 {
        return None;
    }
    let m = mean(values);
    let ss: f64 = values.iter().map(|v| (v - m) * (v - m)).sum();
    Some((ss / (values.len() - 1) as f64).sqrt())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn summary_known_values() {
        let s = Summary::of(&[1.0, 2.0, 3.0, 4.0]).unwrap();
        assert_eq!(s.n, 4);
        assert!((s.mean - 2.5).abs() < 1e-15);
        assert!((s.median - 2.5).abs() < 1e-15);
        let std = (5.0f64 / 3.0).sqrt();
        assert!((s.std.unwrap() - std).abs() < 1e-15);
        assert!((s.sem.unwrap() - std / 2.0).abs() < 1e-15);
    }

    #[test]
    fn summary_single_value_has_no_sem() {
        let s = Summary::of(&[7.0]).unwrap();
        assert_eq!(s.median, 7.0);
        assert_eq!(s.sem, None);
    }

    #[test]
    fn summary_rejects_nan_and_empty() {
        assert!(Summary::of(&[]).is_err());
        let err = Summary::of(&[1.0, f64::NAN]).unwrap_err().to_string();
        assert!(err.contains("index 1"), "{err}");
    }
}
