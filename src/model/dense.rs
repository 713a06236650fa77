//! Row-major weight matrices, the activation functions and a reusable scratch buffer: the
//! small kernels every cell's step, Jacobian and vector–Jacobian product share.

use std::cell::RefCell;

use nalgebra::DMatrix;

/// A dense matrix stored row by row, so that `W x` is one dot product per contiguous row and
/// `Wᵀ d` is one contiguous axpy per row.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct RowMajor {
    pub rows: usize,
    pub cols: usize,
    pub data: Vec<f64>,
}

impl RowMajor {
    /// Copies a nalgebra matrix (column-major) into row-major order.
    pub fn from_dmatrix(m: &DMatrix<f64>) -> Self {
        let (rows, cols) = m.shape();
        let mut data = Vec::with_capacity(rows * cols);
        for r in 0..rows {
            for c in 0..cols {
                data.push(m[(r, c)]);
            }
        }
        RowMajor { rows, cols, data }
    }

    /// Returns row `r` as a slice of length `cols`.
    #[inline]
    pub fn row(&self, r: usize) -> &[f64] {
        &self.data[r * self.cols..(r + 1) * self.cols]
    }

    /// Adds `W x` to `out` (length `rows`).
    pub fn gemv_add(&self, x: &[f64], out: &mut [f64]) {
        debug_assert_eq!(x.len(), self.cols);
        debug_assert_eq!(out.len(), self.rows);
        for (r, o) in out.iter_mut().enumerate() {
            *o += dot(self.row(r), x);
        }
    }

    /// Adds `Wᵀ d` to `out` (length `cols`). Rows are taken four at a time so that `out` is
    /// loaded and stored once per four rows; the order of additions is fixed.
    pub fn gemv_t_add(&self, d: &[f64], out: &mut [f64]) {
        debug_assert_eq!(d.len(), self.rows);
        debug_assert_eq!(out.len(), self.cols);
        let n = self.cols;
        let blocks = self.rows / 4;

        for b in 0..blocks {
            let r = 4 * b;
            let rows = &self.data[r * n..(r + 4) * n];
            let (w0, rest) = rows.split_at(n);
            let (w1, rest) = rest.split_at(n);
            let (w2, w3) = rest.split_at(n);
            let (d0, d1, d2, d3) = (d[r], d[r + 1], d[r + 2], d[r + 3]);
            let columns = out.iter_mut().zip(w0).zip(w1).zip(w2).zip(w3);
            for ((((o, a0), a1), a2), a3) in columns {
                *o += (d0 * a0 + d1 * a1) + (d2 * a2 + d3 * a3);
            }
        }

        for (r, &dr) in d.iter().enumerate().skip(4 * blocks) {
            for (o, w) in out.iter_mut().zip(self.row(r)) {
                *o += dr * w;
            }
        }
    }

    /// Adds `diag(coef) · W[row0 .. row0 + coef.len(), :]` into the block of `target` whose
    /// top-left corner is (`out_row0`, `out_col0`). Jacobians are assembled from such blocks.
    pub fn add_scaled_rows(
        &self,
        row0: usize,
        coef: &[f64],
        target: &mut DMatrix<f64>,
        out_row0: usize,
        out_col0: usize,
    ) {
        for (k, &ck) in coef.iter().enumerate() {
            if ck == 0.0 {
                continue;
            }
            let row = self.row(row0 + k);
            for (c, w) in row.iter().enumerate() {
                target[(out_row0 + k, out_col0 + c)] += ck * w;
            }
        }
    }
}

/// Dot product with four independent partial sums, so that the compiler can use SIMD lanes
/// (a single running sum fixes the order of additions and forbids that). The order is fixed,
/// so the result is the same on every run.
#[inline]
fn dot(a: &[f64], b: &[f64]) -> f64 {
    let mut partial = [0.0; 4];
    let a_chunks = a.chunks_exact(4);
    let b_chunks = b.chunks_exact(4);
    let (a_rest, b_rest) = (a_chunks.remainder(), b_chunks.remainder());
    for (x, y) in a_chunks.zip(b_chunks) {
        for lane in 0..4 {
            partial[lane] += x[lane] * y[lane];
        }
    }
    let mut sum = (partial[0] + partial[1]) + (partial[2] + partial[3]);
    for (x, y) in a_rest.iter().zip(b_rest) {
        sum += x * y;
    }
    sum
}

/// The logistic function `1 / (1 + e^{−x})`. It saturates to exactly 0 or 1 without NaN.
#[inline]
pub(crate) fn sigmoid(x: f64) -> f64 {
    1.0 / (1.0 + (-x).exp())
}

thread_local! {
    /// Free buffers of this thread. A buffer is taken out while in use, so nested calls (a
    /// stacked network calling its layers) each get their own.
    static SCRATCH: RefCell<Vec<Vec<f64>>> = const { RefCell::new(Vec::new()) };
}

/// Runs `f` with a zeroed scratch buffer of length `len`, reusing this thread's buffers so that
/// a vector–Jacobian product inside an optimiser loop allocates nothing after the first call.
pub(crate) fn with_scratch<R>(len: usize, f: impl FnOnce(&mut [f64]) -> R) -> R {
    let mut buffer = SCRATCH
        .with(|pool| pool.borrow_mut().pop())
        .unwrap_or_default();
    buffer.clear();
    buffer.resize(len, 0.0);

    let result = f(&mut buffer);

    SCRATCH.with(|pool| pool.borrow_mut().push(buffer));
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn row_major_products_match_nalgebra() {
        let m = DMatrix::from_row_slice(2, 3, &[1.0, 2.0, 3.0, 4.0, 5.0, 6.0]);
        let w = RowMajor::from_dmatrix(&m);
        assert_eq!(w.row(1), &[4.0, 5.0, 6.0]);

        let mut out = vec![1.0, 1.0];
        w.gemv_add(&[1.0, 0.5, -1.0], &mut out);
        assert_eq!(out, vec![1.0 + 1.0 + 1.0 - 3.0, 1.0 + 4.0 + 2.5 - 6.0]);

        let mut out_t = vec![0.0; 3];
        w.gemv_t_add(&[2.0, -1.0], &mut out_t);
        assert_eq!(out_t, vec![2.0 - 4.0, 4.0 - 5.0, 6.0 - 6.0]);
    }

    #[test]
    fn transposed_product_blocks_and_remainder() {
        // 6 rows: one block of four and a remainder of two.
        let m = DMatrix::from_fn(6, 5, |r, c| (r * 5 + c) as f64 * 0.25 - 3.0);
        let d = nalgebra::DVector::from_fn(6, |r, _| r as f64 - 2.5);
        let mut out = vec![1.0; 5];
        RowMajor::from_dmatrix(&m).gemv_t_add(d.as_slice(), &mut out);

        let expected = m.transpose() * &d;
        for (o, e) in out.iter().zip(expected.iter()) {
            assert!((o - (1.0 + e)).abs() < 1e-12, "{o} vs {}", 1.0 + e);
        }
    }

    #[test]
    fn scratch_nested_buffers_are_distinct() {
        let total = with_scratch(3, |outer| {
            outer.fill(1.0);
            let inner_sum = with_scratch(2, |inner| {
                assert!(inner.iter().all(|&v| v == 0.0));
                inner.fill(5.0);
                inner.iter().sum::<f64>()
            });
            outer.iter().sum::<f64>() + inner_sum
        });
        assert_eq!(total, 13.0);

        with_scratch(4, |again| assert!(again.iter().all(|&v| v == 0.0)));
    }
}
