//! Mann–Whitney U (Wilcoxon rank-sum) test with midranks.
//!
//! U1 counts the pairs (x_i, y_j) with x_i > y_j, plus one half for each tie, so
//! U1 = R1 − n1(n1 + 1)/2 with R1 the midrank sum of `x`, and U1 + U2 = n1·n2.
//! "greater" is the alternative that `x` tends to be larger than `y` (large U1).
//!
//! The normal approximation uses the tie-corrected variance
//! n1·n2/12 · ((N + 1) − Σ(t³ − t)/(N(N − 1))) and a continuity correction of 0.5.
//! The exact p-value is conditional on the observed ties: it enumerates, by dynamic
//! programming over doubled midranks, the rank sum of every one of the C(N, n1) ways to
//! label n1 of the pooled values as `x`.

use serde::{Deserialize, Serialize};
use statrs::distribution::{ContinuousCDF, Normal};

use super::check_sample;
use crate::error::{Error, Result};

/// Largest pooled sample size N = n1 + n2 for which `PValueMethod::Auto` is exact.
/// Path counts stay below C(50, 25) ≈ 1.3e14, exact in f64 (2^53 ≈ 9e15).
pub const EXACT_MAX_TOTAL: usize = 50;

/// Method of the p-value computation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PValueMethod {
    /// Exact when n1 + n2 ≤ [`EXACT_MAX_TOTAL`], otherwise the normal approximation.
    Auto,
    Exact,
    Asymptotic,
}

/// Result of a Mann–Whitney U test.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MannWhitney {
    pub n1: usize,
    pub n2: usize,
    /// U statistic of `x`: pairs with x > y plus half the tied pairs.
    pub u1: f64,
    /// U statistic of `y`, n1·n2 − U1.
    pub u2: f64,
    /// Tie-corrected variance of U under the null hypothesis.
    pub variance: f64,
    /// Two-sided p-value.
    pub p_two_sided: f64,
    /// p-value for the alternative "x tends to be smaller than y".
    pub p_less: f64,
    /// p-value for the alternative "x tends to be larger than y".
    pub p_greater: f64,
    /// True when the p-values come from the exact permutation distribution.
    pub exact: bool,
    /// True when every pooled value is equal: the test is undefined and all p-values are 1.
    pub undefined: bool,
}

/// Runs the test with [`PValueMethod::Auto`].
pub fn mann_whitney(x: &[f64], y: &[f64]) -> Result<MannWhitney> {
    mann_whitney_with(x, y, PValueMethod::Auto)
}

/// Runs the test with the chosen p-value method. Errors on an empty or non-finite sample,
/// and on `Exact` with more than [`EXACT_MAX_TOTAL`] pooled values.
pub fn mann_whitney_with(x: &[f64], y: &[f64], method: PValueMethod) -> Result<MannWhitney> {
    check_sample("mann-whitney x", x)?;
    check_sample("mann-whitney y", y)?;
    let (n1, n2) = (x.len(), y.len());
    let total = n1 + n2;
    if method == PValueMethod::Exact && total > EXACT_MAX_TOTAL {
        return Err(Error::invalid(
            "mann-whitney method",
            format!("exact p-values support at most {EXACT_MAX_TOTAL} pooled values, got {total}; use auto or asymptotic"),
        ));
    }

    // Midranks of the pooled sample, doubled so that they are integers.
    let pooled: Vec<f64> = x.iter().chain(y).copied().collect();
    let (doubled_ranks, tie_sizes) = doubled_midranks(&pooled);
    let doubled_r1: u64 = doubled_ranks[..n1].iter().sum();

    let (n1f, n2f, nf) = (n1 as f64, n2 as f64, total as f64);
    let u1 = doubled_r1 as f64 / 2.0 - n1f * (n1f + 1.0) / 2.0;
    let u2 = n1f * n2f - u1;

    let tie_term: f64 = tie_sizes.iter().map(|&t| (t * t * t - t) as f64).sum();
    let variance = if total > 1 {
        (n1f * n2f / 12.0) * ((nf + 1.0) - tie_term / (nf * (nf - 1.0)))
    } else {
        0.0
    };

    // Guard on the tie structure, not on the float variance, which can round to a tiny
    // positive number.
    let undefined = tie_sizes.len() == 1;
    if undefined {
        tracing::warn!(
            n1,
            n2,
            "mann-whitney: all values are tied, so the test is undefined; reporting p = 1"
        );
        return Ok(MannWhitney {
            n1,
            n2,
            u1,
            u2,
            variance: 0.0,
            p_two_sided: 1.0,
            p_less: 1.0,
            p_greater: 1.0,
            exact: false,
            undefined,
        });
    }

    let exact = match method {
        PValueMethod::Exact => true,
        PValueMethod::Asymptotic => false,
        PValueMethod::Auto => total <= EXACT_MAX_TOTAL,
    };
    let (p_two_sided, p_less, p_greater) = if exact {
        exact_p_values(&doubled_ranks, n1, doubled_r1)
    } else {
        asymptotic_p_values(u1, n1f * n2f / 2.0, variance)
    };

    Ok(MannWhitney {
        n1,
        n2,
        u1,
        u2,
        variance,
        p_two_sided,
        p_less,
        p_greater,
        exact,
        undefined,
    })
}

/// Returns twice the midrank of each value (1-based ranks, ties share the mean rank) and the
/// size of each tie group, including groups of one.
fn doubled_midranks(values: &[f64]) -> (Vec<u64>, Vec<u64>) {
    let mut order: Vec<usize> = (0..values.len()).collect();
    order.sort_by(|&a, &b| values[a].total_cmp(&values[b]));

    let mut doubled = vec![0u64; values.len()];
    let mut tie_sizes = Vec::new();
    let mut start = 0;
    while start < order.len() {
        let mut end = start + 1;
        while end < order.len() && values[order[end]] == values[order[start]] {
            end += 1;
        }

        // Positions start..end hold 1-based ranks start+1 ..= end; twice their mean is start+1+end.
        let doubled_rank = (start + 1 + end) as u64;
        for &index in &order[start..end] {
            doubled[index] = doubled_rank;
        }
        tie_sizes.push((end - start) as u64);
        start = end;
    }
    (doubled, tie_sizes)
}

/// Normal approximation with continuity correction. Returns (two-sided, less, greater).
fn asymptotic_p_values(u1: f64, mean_u: f64, variance: f64) -> (f64, f64, f64) {
    let normal = Normal::new(0.0, 1.0).expect("standard normal parameters are valid");
    let sd = variance.sqrt();
    let deviation = u1 - mean_u;

    let z_two = ((deviation.abs() - 0.5).max(0.0)) / sd;
    let p_two_sided = (2.0 * normal.sf(z_two)).min(1.0);
    let p_greater = normal.sf((deviation - 0.5) / sd);
    let p_less = normal.cdf((deviation + 0.5) / sd);
    (p_two_sided, p_less, p_greater)
}

/// Exact conditional p-values from the permutation distribution of the doubled rank sum of
/// `x`. Returns (two-sided, less, greater); two-sided counts sums at least as far from the
/// null mean as the observed one, in either direction.
fn exact_p_values(doubled_ranks: &[u64], n1: usize, observed: u64) -> (f64, f64, f64) {
    let max_sum: usize = doubled_ranks.iter().map(|&r| r as usize).sum();

    // ways[j][s]: number of ways to choose j of the values seen so far with doubled rank sum s.
    let mut ways = vec![vec![0.0f64; max_sum + 1]; n1 + 1];
    ways[0][0] = 1.0;
    for &rank in doubled_ranks {
        let rank = rank as usize;
        for j in (1..=n1).rev() {
            let (lower, upper) = ways.split_at_mut(j);
            let previous = &lower[j - 1];
            let current = &mut upper[0];
            for s in (rank..=max_sum).rev() {
                current[s] += previous[s - rank];
            }
        }
    }

    let distribution = &ways[n1];
    let total: f64 = distribution.iter().sum();

    // The null mean of the doubled sum is n1·(N + 1), an integer, so the comparisons are exact.
    let doubled_mean = (n1 * (doubled_ranks.len() + 1)) as i64;
    let observed_distance = (observed as i64 - doubled_mean).abs();
    let (mut less, mut greater, mut two_sided) = (0.0, 0.0, 0.0);
    for (s, &count) in distribution.iter().enumerate() {
        if count == 0.0 {
            continue;
        }
        if s as u64 <= observed {
            less += count;
        }
        if s as u64 >= observed {
            greater += count;
        }
        if (s as i64 - doubled_mean).abs() >= observed_distance {
            two_sided += count;
        }
    }
    // U1 grows with the rank sum of x, so "x greater" is the upper tail.
    (
        (two_sided / total).min(1.0),
        (less / total).min(1.0),
        (greater / total).min(1.0),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64, tol: f64) -> bool {
        (a - b).abs() <= tol
    }

    #[test]
    fn shifted_overlap_u_and_variance() {
        let r = mann_whitney_with(
            &[1., 2., 3., 4., 5.],
            &[3., 4., 5., 6., 7.],
            PValueMethod::Asymptotic,
        )
        .unwrap();
        assert_eq!(r.u1, 4.5);
        assert_eq!(r.u2, 20.5);
        assert!(close(r.variance, 22.5, 1e-12), "{}", r.variance);
        assert!(close(r.p_two_sided, 0.113846, 1e-6), "{}", r.p_two_sided);
        assert!(!r.exact);
    }

    #[test]
    fn shifted_overlap_exact_two_sided() {
        let r = mann_whitney(&[1., 2., 3., 4., 5.], &[3., 4., 5., 6., 7.]).unwrap();
        assert!(r.exact);
        assert!(
            close(r.p_two_sided, 32.0 / 252.0, 1e-12),
            "{}",
            r.p_two_sided
        );
    }

    #[test]
    fn direction_of_one_sided_tests() {
        let x = [5., 6., 7., 8., 9.];
        let y = [1., 2., 3., 4., 5.];
        let asymptotic = mann_whitney_with(&x, &y, PValueMethod::Asymptotic).unwrap();
        assert!(
            close(asymptotic.p_greater, 0.007985, 1e-6),
            "{}",
            asymptotic.p_greater
        );
        assert!(
            close(asymptotic.p_less, 0.995592, 1e-6),
            "{}",
            asymptotic.p_less
        );

        let exact = mann_whitney(&x, &y).unwrap();
        assert!(
            close(exact.p_greater, 2.0 / 252.0, 1e-12),
            "{}",
            exact.p_greater
        );
        assert!(exact.p_less > 0.99);
    }

    #[test]
    fn separated_groups_exact() {
        let r = mann_whitney(&[1., 2., 3., 4., 5.], &[6., 7., 8., 9., 10.]).unwrap();
        assert_eq!(r.u1, 0.0);
        assert!(
            close(r.p_two_sided, 2.0 / 252.0, 1e-12),
            "{}",
            r.p_two_sided
        );
        assert!(close(r.p_less, 1.0 / 252.0, 1e-12), "{}", r.p_less);
    }

    #[test]
    fn identical_samples_give_p_one() {
        let v = [1., 2., 3., 4., 5.];
        for method in [PValueMethod::Exact, PValueMethod::Asymptotic] {
            let r = mann_whitney_with(&v, &v, method).unwrap();
            assert_eq!(r.u1, 12.5);
            assert!(
                close(r.p_two_sided, 1.0, 1e-12),
                "{method:?}: {}",
                r.p_two_sided
            );
        }
    }

    #[test]
    fn all_tied_is_undefined_not_nan() {
        for method in [PValueMethod::Auto, PValueMethod::Asymptotic] {
            let r = mann_whitney_with(&[2., 2., 2.], &[2., 2., 2.], method).unwrap();
            assert!(r.undefined);
            assert_eq!(r.p_two_sided, 1.0);
            assert_eq!(r.p_less, 1.0);
            assert_eq!(r.p_greater, 1.0);
            assert_eq!(r.variance, 0.0);
            assert!(serde_json::to_string(&r)
                .unwrap()
                .contains("\"undefined\":true"));
        }
    }

    #[test]
    fn unequal_sizes_with_ties_match_coin() {
        let x: Vec<f64> = (1..=10).map(f64::from).collect();
        let y: Vec<f64> = (1..=12).map(|k| f64::from(2 * k)).collect();
        let r = mann_whitney(&x, &y).unwrap();
        assert!(r.exact);
        assert!(
            close(r.p_two_sided, 0.0118890398, 1e-9),
            "{}",
            r.p_two_sided
        );
        assert!(close(r.p_less, 0.0060017382, 1e-9), "{}", r.p_less);
        assert!(close(r.p_greater, 0.9949199, 1e-6), "{}", r.p_greater);
    }

    #[test]
    fn exact_matches_brute_force_with_ties() {
        // Enumerate all C(7, 3) labelings by hand and compare the upper tail.
        let x = [1., 2., 2.];
        let y = [2., 3., 3., 4.];
        let r = mann_whitney(&x, &y).unwrap();
        let pooled: Vec<f64> = x.iter().chain(&y).copied().collect();
        let u_of = |mask: u32| -> f64 {
            let (mut u, mut count) = (0.0, 0);
            for i in 0..7 {
                if mask & (1 << i) == 0 {
                    continue;
                }
                count += 1;
                for j in 0..7 {
                    if mask & (1 << j) != 0 {
                        continue;
                    }
                    u += if pooled[i] > pooled[j] {
                        1.0
                    } else if pooled[i] == pooled[j] {
                        0.5
                    } else {
                        0.0
                    };
                }
            }
            assert_eq!(count, 3);
            u
        };
        let masks: Vec<u32> = (0u32..128).filter(|m| m.count_ones() == 3).collect();
        let greater =
            masks.iter().filter(|&&m| u_of(m) >= r.u1 - 1e-12).count() as f64 / masks.len() as f64;
        let less =
            masks.iter().filter(|&&m| u_of(m) <= r.u1 + 1e-12).count() as f64 / masks.len() as f64;
        assert!(close(r.p_greater, greater, 1e-12));
        assert!(close(r.p_less, less, 1e-12));
    }

    #[test]
    fn bad_input_is_rejected() {
        assert!(mann_whitney(&[], &[1.0]).is_err());
        assert!(mann_whitney(&[1.0, f64::INFINITY], &[1.0]).is_err());
        let big: Vec<f64> = (0..30).map(f64::from).collect();
        let err = mann_whitney_with(&big, &big, PValueMethod::Exact)
            .unwrap_err()
            .to_string();
        assert!(err.contains("60"), "{err}");
    }
}
