//! Percentile bootstrap confidence intervals of the mean and the median.

use rand::Rng;
use serde::{Deserialize, Serialize};

use super::check_sample;
use super::summary::{mean, median};
use crate::error::{Error, Result};
use crate::rng;

/// Percentile bootstrap intervals of one sample.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BootstrapCi {
    pub n: usize,
    pub resamples: usize,
    /// Coverage of the interval, e.g. 0.95.
    pub level: f64,
    pub seed: u64,
    pub mean: f64,
    pub mean_ci: [f64; 2],
    pub median: f64,
    pub median_ci: [f64; 2],
}

/// Draws `resamples` resamples with replacement from the RNG stream "bootstrap" of `seed`,
/// and returns the (1 − level)/2 and (1 + level)/2 quantiles (linear interpolation) of the
/// resampled means and medians. The same seed gives the same bytes on any machine.
pub fn bootstrap_ci(
    values: &[f64],
    resamples: usize,
    level: f64,
    seed: u64,
) -> Result<BootstrapCi> {
    check_sample("bootstrap sample", values)?;
    if resamples < 2 {
        return Err(Error::invalid(
            "bootstrap resamples",
            format!("{resamples} is too few, expected at least 2 (e.g. 10000)"),
        ));
    }
    if !(level > 0.0 && level < 1.0) {
        return Err(Error::invalid(
            "bootstrap level",
            format!("{level} is not in (0, 1), expected e.g. 0.95"),
        ));
    }

    let n = values.len();
    let mut stream = rng::stream(seed, "bootstrap");
    let mut means = Vec::with_capacity(resamples);
    let mut medians = Vec::with_capacity(resamples);
    let mut resample = vec![0.0; n];
    for _ in 0..resamples {
        for slot in resample.iter_mut() {
            // Drawing a u64 index keeps the stream identical on 32- and 64-bit targets.
            *slot = values[stream.gen_range(0..n as u64) as usize];
        }
        means.push(mean(&resample));
        medians.push(median(&resample));
    }

    let tail = (1.0 - level) / 2.0;
    Ok(BootstrapCi {
        n,
        resamples,
        level,
        seed,
        mean: mean(values),
        mean_ci: [quantile(&mut means, tail), quantile(&mut means, 1.0 - tail)],
        median: median(values),
        median_ci: [
            quantile(&mut medians, tail),
            quantile(&mut medians, 1.0 - tail),
        ],
    })
}

/// Quantile with linear interpolation between order statistics (type 7, numpy's default).
fn quantile(values: &mut [f64], q: f64) -> f64 {
    values.sort_by(f64::total_cmp);
    let position = q * (values.len() - 1) as f64;
    let lower = position.floor() as usize;
    let upper = position.ceil() as usize;
    let weight = position - lower as f64;
    values[lower] + weight * (values[upper] - values[lower])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bootstrap_is_deterministic() {
        let v: Vec<f64> = (1..=20).map(|k| (k as f64).sqrt() * 1.7).collect();
        let a = bootstrap_ci(&v, 2000, 0.95, 3).unwrap();
        let b = bootstrap_ci(&v, 2000, 0.95, 3).unwrap();
        assert_eq!(
            serde_json::to_string(&a).unwrap(),
            serde_json::to_string(&b).unwrap()
        );
        let c = bootstrap_ci(&v, 2000, 0.95, 4).unwrap();
        assert_ne!(a.mean_ci, c.mean_ci);
    }

    #[test]
    fn bootstrap_interval_covers_normal_theory() {
        // 200 evenly spread values: the mean's 95 % interval is close to mean ± 1.96·SEM.
        let v: Vec<f64> = (0..200).map(|k| k as f64 / 10.0).collect();
        let r = bootstrap_ci(&v, 4000, 0.95, 1).unwrap();
        let sem = crate::compare::sem(&v).unwrap();
        let half_width = 0.5 * (r.mean_ci[1] - r.mean_ci[0]);
        assert!(
            (half_width - 1.96 * sem).abs() < 0.1 * 1.96 * sem,
            "{half_width} vs {}",
            1.96 * sem
        );
        assert!(r.mean_ci[0] < r.mean);
        assert!(r.mean < r.mean_ci[1]);
        assert!(r.median_ci[0] < r.median);
        assert!(r.median < r.median_ci[1]);
    }

    #[test]
    fn bootstrap_constant_sample_has_zero_width() {
        let r = bootstrap_ci(&[3.0; 5], 100, 0.95, 0).unwrap();
        assert_eq!(r.mean_ci, [3.0, 3.0]);
        assert_eq!(r.median_ci, [3.0, 3.0]);
    }

    #[test]
    fn bootstrap_rejects_bad_settings() {
        assert!(bootstrap_ci(&[1.0], 1, 0.95, 0).is_err());
        assert!(bootstrap_ci(&[1.0], 100, 1.5, 0).is_err());
        assert!(bootstrap_ci(&[], 100, 0.95, 0).is_err());
    }
}
