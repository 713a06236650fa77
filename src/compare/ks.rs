//! Two-sample Kolmogorov–Smirnov test.
//!
//! D = max |F_x(t) − F_y(t)| over all t, with F the empirical CDFs. The exact two-sided
//! p-value P(D ≥ d) walks the lattice path of the pooled, sorted sample (a step right for an
//! `x`, up for a `y`), every one of the C(N, n1) paths being equally likely under the null.
//! The gap is only checked where the pooled value changes, so ties are handled exactly
//! (conditional on the tie pattern). All gaps are compared as integers |i·n2 − j·n1|.
//!
//! The asymptotic p-value is the Kolmogorov tail Q(λ) = 2 Σ (−1)^(k−1) exp(−2k²λ²) at
//! λ = (√m + 0.12 + 0.11/√m)·D with m = n1·n2/(n1 + n2) (Stephens' small-sample correction).
//! It is badly anticonservative for tiny groups (`[0]` against `[1]` gives 0.289, the truth is 1).

use serde::{Deserialize, Serialize};

use super::check_sample;
use crate::error::{Error, Result};

/// Largest n1·n2 for which `KsMethod::Auto` is exact (the lattice walk costs O(n1·n2)).
pub const EXACT_MAX_PRODUCT: usize = 1_000_000;

/// Method of the p-value computation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum KsMethod {
    /// Exact when n1·n2 ≤ [`EXACT_MAX_PRODUCT`], otherwise asymptotic.
    Auto,
    Exact,
    Asymptotic,
}

/// Result of a two-sample KS test.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct KsTest {
    pub n1: usize,
    pub n2: usize,
    /// Largest gap between the two empirical CDFs, in [0, 1].
    pub d: f64,
    /// Two-sided p-value P(D ≥ d) under the null hypothesis of equal distributions.
    pub p_value: f64,
    /// True when `p_value` comes from the exact lattice-path distribution.
    pub exact: bool,
}

/// Runs the test with [`KsMethod::Auto`].
pub fn ks_two_sample(x: &[f64], y: &[f64]) -> Result<KsTest> {
    ks_two_sample_with(x, y, KsMethod::Auto)
}

/// Runs the test with the chosen p-value method. Errors on an empty or non-finite sample.
pub fn ks_two_sample_with(x: &[f64], y: &[f64], method: KsMethod) -> Result<KsTest> {
    check_sample("ks x", x)?;
    check_sample("ks y", y)?;
    let (n1, n2) = (x.len(), y.len());
    if method == KsMethod::Exact && n1.saturating_mul(n2) > EXACT_MAX_PRODUCT {
        return Err(Error::invalid(
            "ks method",
            format!("exact p-values support n1·n2 ≤ {EXACT_MAX_PRODUCT}, got {n1}·{n2}; use auto or asymptotic"),
        ));
    }

    let path = pooled_path(x, y);
    let d_scaled = path
        .iter()
        .filter(|step| step.group_end)
        .map(|step| gap(step.i, step.j, n1, n2))
        .max()
        .unwrap_or(0);
    let d = d_scaled as f64 / (n1 as f64 * n2 as f64);

    let exact = match method {
        KsMethod::Exact => true,
        KsMethod::Asymptotic => false,
        KsMethod::Auto => n1 * n2 <= EXACT_MAX_PRODUCT,
    };
    let p_value = if exact {
        exact_p_value(&path, n1, n2, d_scaled)
    } else {
        tracing::debug!(n1, n2, "ks: asymptotic p-value");
        kolmogorov_tail(stephens_lambda(d, n1, n2))
    };
    Ok(KsTest {
        n1,
        n2,
        d,
        p_value: p_value.clamp(0.0, 1.0),
        exact,
    })
}

/// One position of the pooled sorted sample: counts of x and y up to and including it, and
/// whether the next pooled value differs (only there can an ECDF gap be observed).
struct PathStep {
    i: usize,
    j: usize,
    group_end: bool,
}

fn pooled_path(x: &[f64], y: &[f64]) -> Vec<PathStep> {
    let mut pooled: Vec<(f64, bool)> = x
        .iter()
        .map(|&v| (v, true))
        .chain(y.iter().map(|&v| (v, false)))
        .collect();
    pooled.sort_by(|a, b| a.0.total_cmp(&b.0));

    let (mut i, mut j) = (0, 0);
    let mut path = Vec::with_capacity(pooled.len());
    for (k, &(value, is_x)) in pooled.iter().enumerate() {
        if is_x {
            i += 1;
        } else {
            j += 1;
        }
        let group_end = k + 1 == pooled.len() || pooled[k + 1].0 != value;
        path.push(PathStep { i, j, group_end });
    }
    path
}

/// ECDF gap scaled by n1·n2.
fn gap(i: usize, j: usize, n1: usize, n2: usize) -> u64 {
    (i as i64 * n2 as i64 - j as i64 * n1 as i64).unsigned_abs()
}

/// Probability that a uniformly random labelling reaches a gap ≥ `d_scaled` at some tie-group
/// end. Mass is carried in probabilities (each step picks `x` with probability
/// (n1 − i)/(remaining)), so nothing overflows, and the exit mass is summed directly, so small
/// p-values suffer no cancellation.
fn exact_p_value(path: &[PathStep], n1: usize, n2: usize, d_scaled: u64) -> f64 {
    if d_scaled == 0 {
        return 1.0;
    }

    // alive[i]: probability of being at (i, k − i) after k steps without having hit the boundary.
    let mut alive = vec![0.0f64; n1 + 1];
    alive[0] = 1.0;
    let mut p_hit = 0.0;
    let total = n1 + n2;
    for (k, step) in path.iter().enumerate() {
        let remaining = (total - k) as f64;
        let mut next = vec![0.0f64; n1 + 1];
        for i in 0..=n1.min(k) {
            let mass = alive[i];
            if mass == 0.0 {
                continue;
            }
            let j = k - i;
            if i < n1 {
                next[i + 1] += mass * (n1 - i) as f64 / remaining;
            }
            if j < n2 {
                next[i] += mass * (n2 - j) as f64 / remaining;
            }
        }

        if step.group_end {
            let steps_taken = k + 1;
            for (i, mass) in next.iter_mut().enumerate() {
                if *mass > 0.0
                    && i <= steps_taken
                    && steps_taken - i <= n2
                    && gap(i, steps_taken - i, n1, n2) >= d_scaled
                {
                    p_hit += *mass;
                    *mass = 0.0;
                }
            }
        }
        alive = next;
    }
    p_hit
}

/// λ with Stephens' correction for the effective sample size.
fn stephens_lambda(d: f64, n1: usize, n2: usize) -> f64 {
    let m = (n1 as f64 * n2 as f64 / (n1 + n2) as f64).sqrt();
    (m + 0.12 + 0.11 / m) * d
}

/// Kolmogorov survival function Q(λ) = 2 Σ_{k≥1} (−1)^(k−1) exp(−2k²λ²), clamped to [0, 1].
pub fn kolmogorov_tail(lambda: f64) -> f64 {
    if lambda < 0.2 {
        // The series converges slowly here and the tail is 1 to double precision.
        return 1.0;
    }
    let mut sum = 0.0;
    for k in 1..=100 {
        let kf = k as f64;
        let term = (-2.0 * kf * kf * lambda * lambda).exp();
        sum += if k % 2 == 1 { term } else { -term };
        if term < 1e-17 {
            break;
        }
    }
    (2.0 * sum).clamp(0.0, 1.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64, tol: f64) -> bool {
        (a - b).abs() <= tol
    }

    #[test]
    fn tiny_samples_exact_p() {
        let range = |a: i32, b: i32| (a..=b).map(f64::from).collect::<Vec<_>>();
        let cases: [(Vec<f64>, Vec<f64>, f64); 5] = [
            (vec![0.0], vec![1.0], 1.0),
            (vec![0.0], vec![1.0, 2.0], 2.0 / 3.0),
            (vec![1.0, 2.0], range(3, 6), 2.0 / 15.0),
            (range(1, 3), range(4, 6), 0.1),
            (range(1, 5), range(6, 10), 1.0 / 126.0),
        ];
        for (x, y, expected) in cases {
            let r = ks_two_sample(&x, &y).unwrap();
            assert!(r.exact);
            assert_eq!(r.d, 1.0, "{x:?} {y:?}");
            assert!(
                close(r.p_value, expected, 1e-12),
                "{x:?} {y:?}: {} vs {expected}",
                r.p_value
            );
        }
    }

    #[test]
    fn asymptotic_reproduces_old_values() {
        let cases: [(Vec<f64>, Vec<f64>, f64); 3] = [
            (vec![0.0], vec![1.0], 0.2890),
            (vec![0.0], vec![1.0, 2.0], 0.2013),
            (vec![1.0, 2.0], vec![3.0, 4.0, 5.0, 6.0], 0.0469),
        ];
        for (x, y, expected) in cases {
            let r = ks_two_sample_with(&x, &y, KsMethod::Asymptotic).unwrap();
            assert!(!r.exact);
            assert!(
                close(r.p_value, expected, 1e-4),
                "{x:?} {y:?}: {}",
                r.p_value
            );
        }
    }

    #[test]
    fn d_with_partial_overlap() {
        // ECDF gap is largest after 2: F_x = 2/3, F_y = 0.
        let r = ks_two_sample(&[1.0, 2.0, 5.0], &[3.0, 4.0, 6.0]).unwrap();
        assert!(close(r.d, 2.0 / 3.0, 1e-15));
        assert!(r.p_value > 0.1);
        assert!(r.p_value < 1.0);
    }

    #[test]
    fn ties_across_groups_are_not_gaps() {
        // Identical samples: every gap closes at each tie-group end, so D = 0 and p = 1.
        let r = ks_two_sample(&[1.0, 1.0, 2.0], &[1.0, 1.0, 2.0]).unwrap();
        assert_eq!(r.d, 0.0);
        assert_eq!(r.p_value, 1.0);
    }

    #[test]
    fn exact_matches_brute_force_with_ties() {
        let x = [1.0, 2.0, 2.0];
        let y = [2.0, 3.0, 3.0, 4.0];
        let r = ks_two_sample(&x, &y).unwrap();
        let pooled: Vec<f64> = x.iter().chain(&y).copied().collect();
        let d_of = |mask: u32| -> f64 {
            let xs: Vec<f64> = (0..7)
                .filter(|i| mask & (1 << i) != 0)
                .map(|i| pooled[i])
                .collect();
            let ys: Vec<f64> = (0..7)
                .filter(|i| mask & (1 << i) == 0)
                .map(|i| pooled[i])
                .collect();
            pooled
                .iter()
                .map(|&t| {
                    let fx = xs.iter().filter(|&&v| v <= t).count() as f64 / 3.0;
                    let fy = ys.iter().filter(|&&v| v <= t).count() as f64 / 4.0;
                    (fx - fy).abs()
                })
                .fold(0.0, f64::max)
        };
        let masks: Vec<u32> = (0u32..128).filter(|m| m.count_ones() == 3).collect();
        let expected =
            masks.iter().filter(|&&m| d_of(m) >= r.d - 1e-12).count() as f64 / masks.len() as f64;
        assert!(
            close(r.p_value, expected, 1e-12),
            "{} vs {expected}",
            r.p_value
        );
    }

    #[test]
    fn large_samples_agree_with_asymptotic() {
        let x: Vec<f64> = (0..400).map(|k| (k as f64 * 0.618).fract()).collect();
        let y: Vec<f64> = (0..300).map(|k| (k as f64 * 0.414).fract() * 1.1).collect();
        let exact = ks_two_sample_with(&x, &y, KsMethod::Exact).unwrap();
        let asymptotic = ks_two_sample_with(&x, &y, KsMethod::Asymptotic).unwrap();
        assert!(
            close(exact.p_value, asymptotic.p_value, 0.02),
            "{} vs {}",
            exact.p_value,
            asymptotic.p_value
        );
    }

    #[test]
    fn bad_input_is_rejected() {
        assert!(ks_two_sample(&[], &[1.0]).is_err());
        assert!(ks_two_sample(&[f64::NAN], &[1.0]).is_err());
        let big = vec![0.0; 1001];
        assert!(ks_two_sample_with(&big, &big, KsMethod::Exact).is_err());
    }
}
