//! Cliff's delta, a rank-based effect size.

use super::check_sample;
use crate::error::Result;

/// Returns Cliff's delta, (#{x_i > y_j} − #{x_i < y_j}) / (n1·n2), in [−1, 1]. Positive means
/// `x` tends to be larger. It equals 2·U1/(n1·n2) − 1 for the Mann–Whitney U1 of `x`.
pub fn cliffs_delta(x: &[f64], y: &[f64]) -> Result<f64> {
    check_sample("cliffs delta x", x)?;
    check_sample("cliffs delta y", y)?;

    let mut balance: i64 = 0;
    for &a in x {
        for &b in y {
            if a > b {
                balance += 1;
            } else if a < b {
                balance -= 1;
            }
        }
    }
    Ok(balance as f64 / (x.len() as f64 * y.len() as f64))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::compare::mann_whitney;

    #[test]
    fn cliffs_delta_extremes_and_ties() {
        assert_eq!(cliffs_delta(&[5.0, 6.0], &[1.0, 2.0]).unwrap(), 1.0);
        assert_eq!(cliffs_delta(&[1.0], &[2.0, 3.0]).unwrap(), -1.0);
        assert_eq!(cliffs_delta(&[2.0, 2.0], &[2.0]).unwrap(), 0.0);
        // Pairs: (1,2) <, (1,1) =, (3,2) >, (3,1) > → (2 − 1)/4.
        assert_eq!(cliffs_delta(&[1.0, 3.0], &[2.0, 1.0]).unwrap(), 0.25);
    }

    #[test]
    fn cliffs_delta_agrees_with_u() {
        let x = [1.0, 2.0, 2.0, 7.0];
        let y = [2.0, 3.0, 3.0, 4.0, 0.5];
        let u = mann_whitney(&x, &y).unwrap();
        let expected = 2.0 * u.u1 / 20.0 - 1.0;
        assert!((cliffs_delta(&x, &y).unwrap() - expected).abs() < 1e-15);
    }

    #[test]
    fn cliffs_delta_rejects_empty() {
        assert!(cliffs_delta(&[], &[1.0]).is_err());
    }
}
