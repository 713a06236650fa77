//! A linear readout `y = W h + b`, as PyTorch's `nn.Linear` stores it.

use nalgebra::{DMatrix, DVector};

use crate::error::{Error, Result};

/// A linear map `y = weight · x + bias` with `weight` of shape [out, in] (PyTorch layout).
#[derive(Debug, Clone, PartialEq)]
pub struct Linear {
    pub weight: DMatrix<f64>,
    pub bias: DVector<f64>,
}

impl Linear {
    /// Builds the map, checking that `bias` has one entry per row of `weight`.
    pub fn new(weight: DMatrix<f64>, bias: DVector<f64>) -> Result<Self> {
        if bias.len() != weight.nrows() {
            return Err(Error::invalid(
                "linear bias",
                format!(
                    "has length {} but the weight has {} rows",
                    bias.len(),
                    weight.nrows()
                ),
            ));
        }
        Ok(Linear { weight, bias })
    }

    /// Input dimension (columns of `weight`).
    pub fn in_dim(&self) -> usize {
        self.weight.ncols()
    }

    /// Output dimension (rows of `weight`).
    pub fn out_dim(&self) -> usize {
        self.weight.nrows()
    }

    /// Returns `weight · x + bias`.
    ///
    /// # Panics
    /// When `x.len()` differs from [`in_dim`](Linear::in_dim).
    pub fn apply(&self, x: &[f64]) -> DVector<f64> {
        let mut out = vec![0.0; self.out_dim()];
        self.apply_into(x, &mut out);
        DVector::from_vec(out)
    }

    /// Writes `weight · x + bias` into `out` (length [`out_dim`](Linear::out_dim)).
    ///
    /// # Panics
    /// When `x` or `out` has the wrong length.
    pub fn apply_into(&self, x: &[f64], out: &mut [f64]) {
        assert_eq!(x.len(), self.in_dim(), "linear input has the wrong length");
        assert_eq!(
            out.len(),
            self.out_dim(),
            "linear output has the wrong length"
        );
        for (r, o) in out.iter_mut().enumerate() {
            let mut sum = self.bias[r];
            for (c, xc) in x.iter().enumerate() {
                sum += self.weight[(r, c)] * xc;
            }
            *o = sum;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn linear_apply_matches_formula() {
        let lin = Linear::new(
            DMatrix::from_row_slice(2, 3, &[1.0, 0.0, -1.0, 0.5, 2.0, 0.0]),
            DVector::from_vec(vec![0.25, -1.0]),
        )
        .unwrap();
        let y = lin.apply(&[2.0, 1.0, 3.0]);
        assert_eq!(y.as_slice(), &[2.0 - 3.0 + 0.25, 1.0 + 2.0 - 1.0]);
    }

    #[test]
    fn linear_bias_length_mismatch_is_rejected() {
        let err = Linear::new(DMatrix::zeros(2, 3), DVector::zeros(3)).unwrap_err();
        assert!(
            err.to_string()
                .contains("has length 3 but the weight has 2 rows"),
            "{err}"
        );
    }
}
