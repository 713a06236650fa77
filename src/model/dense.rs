//! Row-major weight matrices, Jacobian assembly from gate blocks, the activation functions and
//! a reusable scratch buffer: the parts every cell's step, Jacobian and vector–Jacobian
//! product share.

use std::cell::RefCell;

use nalgebra::DMatrix;

use super::kernels;

/// A dense matrix stored row by row, so that `W x` is one dot product per contiguous row and
/// `Wᵀ d` is one contiguous axpy per row.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct RowMajor {
    pub rows: usize,
    pub cols: usize,
    pub entries: Entries,
}

/// The entries of a [`RowMajor`] matrix, row after row.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Entries {
    /// Used when every entry is exactly an f32, as for weights read from a model file. The
    /// products widen them to f64 exactly, so they give the same bytes as [`Entries::F64`]
    /// with half the memory traffic.
    F32(Vec<f32>),
    F64(Vec<f64>),
}

impl RowMajor {
    /// Copies a nalgebra matrix (column-major) into row-major order, as f32 when every entry
    /// converts to f32 and back unchanged.
    pub fn from_dmatrix(m: &DMatrix<f64>) -> Self {
        let (rows, cols) = m.shape();
        let exact_f32 = m.iter().all(|&v| f64::from(v as f32) == v);
        let row_major = m.transpose();
        let entries = if exact_f32 {
            Entries::F32(row_major.iter().map(|&v| v as f32).collect())
        } else {
            Entries::F64(row_major.as_slice().to_vec())
        };
        RowMajor {
            rows,
            cols,
            entries,
        }
    }

    /// Adds `W x` to `out` (length `rows`). See [`kernels`] for the summation order, which is
    /// the same on every code path.
    pub fn gemv_add(&self, x: &[f64], out: &mut [f64]) {
        assert_eq!(x.len(), self.cols, "gemv_add: x has the wrong length");
        match &self.entries {
            Entries::F32(w) => kernels::gemv_add(w, x, out),
            Entries::F64(w) => kernels::gemv_add(w, x, out),
        }
    }

    /// Adds `Wᵀ d` to `out` (length `cols`). See [`kernels`] for the summation order, which
    /// is the same on every code path.
    pub fn gemv_t_add(&self, d: &[f64], out: &mut [f64]) {
        assert_eq!(d.len(), self.rows, "gemv_t_add: d has the wrong length");
        match &self.entries {
            Entries::F32(w) => kernels::gemv_t_add(w, d, out),
            Entries::F64(w) => kernels::gemv_t_add(w, d, out),
        }
    }
}

/// Writes `Σ_b diag(coef_b) · W_b` into the h × cols block of `target` whose top-left corner
/// is (`row0`, `col0`). `W_b` is the b-th block of `h` rows of `weights` (G·h × cols, the
/// gate blocks of a PyTorch weight) and `coef_b` the b-th block of `coef` (length G·h).
/// Each entry sums the blocks' terms from left to right, `((t₀ + t₁) + t₂) + …`.
///
/// Jacobians are assembled from such sums. Both `weights` and `target` are column-major, so
/// the loops run down columns, where every read and write is contiguous. On x86_64 CPUs with
/// AVX the same loops run compiled for AVX, which only widens them and keeps the bytes.
pub(crate) fn write_scaled_block_sum(
    weights: &DMatrix<f64>,
    coef: &[f64],
    h: usize,
    target: &mut DMatrix<f64>,
    (row0, col0): (usize, usize),
) {
    let (rows, cols) = weights.shape();
    assert_eq!(coef.len(), rows, "one coefficient per weight row is needed");
    assert!(
        h > 0 && rows % h == 0,
        "weights must consist of whole blocks of {h} rows"
    );
    assert!(
        row0 + h <= target.nrows() && col0 + cols <= target.ncols(),
        "the block runs past the target: a {h} × {cols} block at ({row0}, {col0}) in a {} × {} target",
        target.nrows(),
        target.ncols()
    );

    let stride = target.nrows();
    let columns = &mut target.as_mut_slice()[col0 * stride..];
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx") {
        // SAFETY: the CPU supports AVX, checked on the line above.
        unsafe { scaled_block_sum_avx(weights.as_slice(), rows, coef, h, columns, stride, row0) };
        return;
    }
    scaled_block_sum_body(weights.as_slice(), rows, coef, h, columns, stride, row0);
}

/// [`scaled_block_sum_body`] compiled with AVX.
///
/// # Safety
/// The CPU must support AVX.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx")]
unsafe fn scaled_block_sum_avx(
    weights: &[f64],
    rows: usize,
    coef: &[f64],
    h: usize,
    columns: &mut [f64],
    stride: usize,
    row0: usize,
) {
    scaled_block_sum_body(weights, rows, coef, h, columns, stride, row0);
}

/// Runs the loops of [`write_scaled_block_sum`]. `weights` is column-major with `rows` rows,
/// and column `c` of the result goes to `columns[c·stride + row0 ..][..h]`. One, three and
/// four blocks (RNN, GRU and LSTM gates) each get a single pass per column.
#[inline(always)]
fn scaled_block_sum_body(
    weights: &[f64],
    rows: usize,
    coef: &[f64],
    h: usize,
    columns: &mut [f64],
    stride: usize,
    row0: usize,
) {
    let block = |b: usize| &coef[b * h..(b + 1) * h];
    for (c, w) in weights.chunks_exact(rows).enumerate() {
        let t = &mut columns[c * stride + row0..c * stride + row0 + h];
        let w_block = |b: usize| &w[b * h..(b + 1) * h];
        match rows / h {
            1 => {
                let (c0, w0) = (block(0), w_block(0));
                for k in 0..h {
                    t[k] = c0[k] * w0[k];
                }
            }
            3 => {
                let (c0, c1, c2) = (block(0), block(1), block(2));
                let (w0, w1, w2) = (w_block(0), w_block(1), w_block(2));
                for k in 0..h {
                    t[k] = (c0[k] * w0[k] + c1[k] * w1[k]) + c2[k] * w2[k];
                }
            }
            4 => {
                let (c0, c1, c2, c3) = (block(0), block(1), block(2), block(3));
                let (w0, w1, w2, w3) = (w_block(0), w_block(1), w_block(2), w_block(3));
                for k in 0..h {
                    t[k] = ((c0[k] * w0[k] + c1[k] * w1[k]) + c2[k] * w2[k]) + c3[k] * w3[k];
                }
            }
            blocks => {
                for (k, tk) in t.iter_mut().enumerate() {
                    *tk = coef[k] * w[k];
                    for b in 1..blocks {
                        *tk += coef[b * h + k] * w[b * h + k];
                    }
                }
            }
        }
    }
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
        assert_eq!(w.entries, Entries::F32(vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0]));

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
    fn row_major_keeps_f64_entries() {
        let m = DMatrix::from_row_slice(2, 2, &[0.1, 1.0, -2.0, 0.5]);
        let w = RowMajor::from_dmatrix(&m);
        assert_eq!(w.entries, Entries::F64(vec![0.1, 1.0, -2.0, 0.5]));

        let mut out = vec![0.0, 0.0];
        w.gemv_add(&[3.0, 1.0], &mut out);
        assert_eq!(out, vec![0.1 * 3.0 + 1.0, -6.0 + 0.5]);
    }

    #[test]
    fn scaled_block_sum_matches_dense_product() {
        // G gate blocks of h = 4 rows, 5 columns, written into rows 2..6 and columns 1..6 of a
        // 7 × 8 target. G = 1, 3 and 4 have their own loops, 2 and 5 take the general one.
        let (h, cols) = (4, 5);
        for gates in 1..=5 {
            let weights = DMatrix::from_fn(gates * h, cols, |r, c| {
                ((r * 7 + c * 3) as f64 * 0.61).sin()
            });
            let coef: Vec<f64> = (0..gates * h)
                .map(|i| (i as f64 * 1.3).cos() / 7.0)
                .collect();
            let mut target = DMatrix::zeros(7, 8);
            write_scaled_block_sum(&weights, &coef, h, &mut target, (2, 1));

            // Adding the blocks to zeros in order gives the same sums, bit for bit.
            let mut expected = DMatrix::zeros(h, cols);
            for b in 0..gates {
                let scale = DMatrix::from_diagonal(&nalgebra::DVector::from_column_slice(
                    &coef[b * h..(b + 1) * h],
                ));
                expected += scale * weights.rows(b * h, h);
            }
            let block = target.view((2, 1), (h, cols)).clone_owned();
            assert_eq!(block, expected, "{gates} gate blocks");

            let mut outside = target.clone();
            outside.view_mut((2, 1), (h, cols)).fill(0.0);
            assert_eq!(
                outside.amax(),
                0.0,
                "{gates} gate blocks: entries outside the block were written"
            );
        }
    }

    #[test]
    #[should_panic(expected = "the block runs past the target")]
    fn scaled_block_sum_rejects_overrun() {
        let weights = DMatrix::zeros(6, 3);
        let mut target = DMatrix::zeros(3, 3);
        write_scaled_block_sum(&weights, &[0.0; 6], 3, &mut target, (1, 0));
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
