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

    /// Adds `W x` to `out` (length `rows`).
    ///
    /// On x86_64 CPUs with AVX (detected at run time) an AVX kernel runs, elsewhere a portable
    /// one. Both sum every row in the order of [`dot`] and neither fuses a multiply with an
    /// add, so they give the same bytes.
    pub fn gemv_add(&self, x: &[f64], out: &mut [f64]) {
        assert_eq!(x.len(), self.cols, "gemv_add: x has the wrong length");
        assert_eq!(out.len(), self.rows, "gemv_add: out has the wrong length");
        #[cfg(target_arch = "x86_64")]
        if std::arch::is_x86_feature_detected!("avx") {
            // SAFETY: the CPU supports AVX, checked on the line above.
            unsafe { gemv_add_avx(self, x, out) };
            return;
        }
        gemv_add_portable(self, x, out);
    }

    /// Adds `Wᵀ d` to `out` (length `cols`). Rows are taken four at a time so that `out` is
    /// loaded and stored once per four rows. The AVX build of the same code only widens the
    /// lanes across columns, so it gives the same bytes as the portable one.
    pub fn gemv_t_add(&self, d: &[f64], out: &mut [f64]) {
        assert_eq!(d.len(), self.rows, "gemv_t_add: d has the wrong length");
        assert_eq!(out.len(), self.cols, "gemv_t_add: out has the wrong length");
        #[cfg(target_arch = "x86_64")]
        if std::arch::is_x86_feature_detected!("avx") {
            // SAFETY: the CPU supports AVX, checked on the line above.
            unsafe { gemv_t_add_avx(self, d, out) };
            return;
        }
        gemv_t_add_portable(self, d, out);
    }
}

/// `out += W x`, compiled for the baseline target.
fn gemv_add_portable(w: &RowMajor, x: &[f64], out: &mut [f64]) {
    gemv_add_body(w, x, out);
}

/// `out += W x` with AVX intrinsics: eight rows at a time, each row's four partial sums in
/// the four lanes of one 256-bit register, so eight independent chains of additions hide
/// their latency. Each row is summed in the order of [`dot`], so the result is the same as
/// [`gemv_add_portable`]'s.
///
/// # Safety
/// The CPU must support AVX.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx")]
unsafe fn gemv_add_avx(w: &RowMajor, x: &[f64], out: &mut [f64]) {
    use std::arch::x86_64::{
        _mm256_add_pd, _mm256_loadu_pd, _mm256_mul_pd, _mm256_setzero_pd, _mm256_storeu_pd,
    };

    const ROWS: usize = 8;
    let n = w.cols;
    if n == 0 {
        return;
    }
    let chunks = n / 4;
    let tail = 4 * chunks;
    let blocks = w.data.chunks_exact(ROWS * n);
    let rest_rows = blocks.remainder();
    let mut outs = out.chunks_exact_mut(ROWS);

    for (rows, o) in blocks.zip(&mut outs) {
        let base = rows.as_ptr();
        let mut acc = [_mm256_setzero_pd(); ROWS];
        for i in 0..chunks {
            // SAFETY: 4i + 3 < n, so every load reads inside `x` and inside row r of this
            // block, which spans rows[r n .. (r + 1) n].
            let xv = unsafe { _mm256_loadu_pd(x.as_ptr().add(4 * i)) };
            for (r, a) in acc.iter_mut().enumerate() {
                let wv = unsafe { _mm256_loadu_pd(base.add(r * n + 4 * i)) };
                *a = _mm256_add_pd(*a, _mm256_mul_pd(wv, xv));
            }
        }
        for (r, (o, a)) in o.iter_mut().zip(acc).enumerate() {
            let mut p = [0.0; 4];
            // SAFETY: `p` has room for four f64.
            unsafe { _mm256_storeu_pd(p.as_mut_ptr(), a) };
            let mut sum = (p[0] + p[1]) + (p[2] + p[3]);
            for (wk, xk) in rows[r * n + tail..(r + 1) * n].iter().zip(&x[tail..]) {
                sum += wk * xk;
            }
            *o += sum;
        }
    }

    for (o, row) in outs
        .into_remainder()
        .iter_mut()
        .zip(rest_rows.chunks_exact(n))
    {
        *o += dot(row, x);
    }
}

#[inline(always)]
fn gemv_add_body(w: &RowMajor, x: &[f64], out: &mut [f64]) {
    let n = w.cols;
    if n == 0 {
        return;
    }
    let blocks = w.data.chunks_exact(4 * n);
    let rest_rows = blocks.remainder();
    let mut outs = out.chunks_exact_mut(4);
    for (rows, o) in blocks.zip(&mut outs) {
        let (w0, rest) = rows.split_at(n);
        let (w1, rest) = rest.split_at(n);
        let (w2, w3) = rest.split_at(n);
        let sums = dot4(w0, w1, w2, w3, x);
        for (o, s) in o.iter_mut().zip(sums) {
            *o += s;
        }
    }
    for (o, row) in outs
        .into_remainder()
        .iter_mut()
        .zip(rest_rows.chunks_exact(n))
    {
        *o += dot(row, x);
    }
}

/// Four dot products `wᵢ · x` at once, each summed exactly as [`dot`] sums it.
#[inline(always)]
fn dot4(w0: &[f64], w1: &[f64], w2: &[f64], w3: &[f64], x: &[f64]) -> [f64; 4] {
    let mut partial = [[0.0f64; 4]; 4];
    let x_chunks = x.chunks_exact(4);
    let x_rest = x_chunks.remainder();
    let rows = w0
        .chunks_exact(4)
        .zip(w1.chunks_exact(4))
        .zip(w2.chunks_exact(4))
        .zip(w3.chunks_exact(4));
    for ((((a0, a1), a2), a3), b) in rows.zip(x_chunks) {
        for lane in 0..4 {
            partial[0][lane] += a0[lane] * b[lane];
            partial[1][lane] += a1[lane] * b[lane];
            partial[2][lane] += a2[lane] * b[lane];
            partial[3][lane] += a3[lane] * b[lane];
        }
    }

    let tail = x.len() - x_rest.len();
    let mut sums = [0.0; 4];
    for (r, row) in [w0, w1, w2, w3].into_iter().enumerate() {
        let p = partial[r];
        let mut sum = (p[0] + p[1]) + (p[2] + p[3]);
        for (a, b) in row[tail..].iter().zip(x_rest) {
            sum += a * b;
        }
        sums[r] = sum;
    }
    sums
}

/// Dot product with four independent partial sums, lane `l` summing the products at indices
/// `≡ l (mod 4)`, then `(p₀ + p₁) + (p₂ + p₃)`, then the remaining `len mod 4` products in
/// order. The fixed order makes the result the same on every run and every code path.
#[inline(always)]
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

/// `out += Wᵀ d`, compiled for the baseline target.
fn gemv_t_add_portable(w: &RowMajor, d: &[f64], out: &mut [f64]) {
    gemv_t_add_body(w, d, out);
}

/// `out += Wᵀ d`, compiled with AVX enabled.
///
/// # Safety
/// The CPU must support AVX.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx")]
unsafe fn gemv_t_add_avx(w: &RowMajor, d: &[f64], out: &mut [f64]) {
    gemv_t_add_body(w, d, out);
}

#[inline(always)]
fn gemv_t_add_body(w: &RowMajor, d: &[f64], out: &mut [f64]) {
    let n = w.cols;
    if n == 0 {
        return;
    }
    let blocks = w.data.chunks_exact(4 * n);
    let rest_rows = blocks.remainder();
    let mut d_blocks = d.chunks_exact(4);
    for (rows, db) in blocks.zip(&mut d_blocks) {
        let (w0, rest) = rows.split_at(n);
        let (w1, rest) = rest.split_at(n);
        let (w2, w3) = rest.split_at(n);
        let (d0, d1, d2, d3) = (db[0], db[1], db[2], db[3]);
        let columns = out.iter_mut().zip(w0).zip(w1).zip(w2).zip(w3);
        for ((((o, a0), a1), a2), a3) in columns {
            *o += (d0 * a0 + d1 * a1) + (d2 * a2 + d3 * a3);
        }
    }

    for (&dr, row) in d_blocks.remainder().iter().zip(rest_rows.chunks_exact(n)) {
        for (o, w) in out.iter_mut().zip(row) {
            *o += dr * w;
        }
    }
}

/// Writes `Σ_b diag(coef_b) · W_b` into the h × cols block of `target` whose top-left corner
/// is (`row0`, `col0`). `W_b` is the b-th block of `h` rows of `weights` (G·h × cols, the
/// gate blocks of a PyTorch weight) and `coef_b` the b-th block of `coef` (length G·h).
/// Blocks are summed in order, starting from the first block's term.
///
/// Jacobians are assembled from such sums. Both `weights` and `target` are column-major, so
/// the loops run down columns, where every read and write is contiguous.
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
        "the block runs past the target"
    );

    let stride = target.nrows();
    let target = target.as_mut_slice();
    for (c, w) in weights.as_slice().chunks_exact(rows).enumerate() {
        let start = (col0 + c) * stride + row0;
        let t = &mut target[start..start + h];
        for ((tk, ck), wk) in t.iter_mut().zip(&coef[..h]).zip(&w[..h]) {
            *tk = ck * wk;
        }
        for b in 1..rows / h {
            let block = b * h..(b + 1) * h;
            for ((tk, ck), wk) in t.iter_mut().zip(&coef[block.clone()]).zip(&w[block]) {
                *tk += ck * wk;
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
        assert_eq!(&w.data[3..6], &[4.0, 5.0, 6.0]);

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

    /// Builds a matrix whose entries and products are not exact in f64, so that any change in
    /// the order of additions shows up in the low bits.
    fn awkward_matrix(rows: usize, cols: usize) -> RowMajor {
        let m = DMatrix::from_fn(rows, cols, |r, c| {
            ((r * 31 + c * 17) as f64 * 0.37).sin() / 3.0
        });
        RowMajor::from_dmatrix(&m)
    }

    fn awkward_vector(n: usize, phase: f64) -> Vec<f64> {
        (0..n)
            .map(|i| (i as f64 * 1.3 + phase).cos() * 1e3 / 7.0)
            .collect()
    }

    /// Every block size and remainder of the kernels: 8- and 4-row blocks, leftover rows, and
    /// columns that are and are not a multiple of 4, including fewer than 4.
    const SHAPES: [(usize, usize); 8] = [
        (1, 1),
        (3, 2),
        (4, 4),
        (7, 5),
        (8, 8),
        (13, 9),
        (24, 17),
        (33, 64),
    ];

    #[test]
    fn gemv_dispatch_matches_portable_bits() {
        for (rows, cols) in SHAPES {
            let w = awkward_matrix(rows, cols);
            let x = awkward_vector(cols, 0.1);
            let start = awkward_vector(rows, 2.0);

            let mut dispatched = start.clone();
            w.gemv_add(&x, &mut dispatched);
            let mut portable = start.clone();
            gemv_add_portable(&w, &x, &mut portable);
            let mut by_rows = start.clone();
            for (r, o) in by_rows.iter_mut().enumerate() {
                *o += dot(&w.data[r * cols..(r + 1) * cols], &x);
            }
            let bits = |v: &[f64]| v.iter().map(|a| a.to_bits()).collect::<Vec<_>>();
            assert_eq!(bits(&dispatched), bits(&portable), "W x, {rows} × {cols}");
            assert_eq!(
                bits(&portable),
                bits(&by_rows),
                "W x, {rows} × {cols}, row by row"
            );

            let d = awkward_vector(rows, 0.7);
            let start = awkward_vector(cols, 1.1);
            let mut dispatched = start.clone();
            w.gemv_t_add(&d, &mut dispatched);
            let mut portable = start;
            gemv_t_add_portable(&w, &d, &mut portable);
            assert_eq!(bits(&dispatched), bits(&portable), "Wᵀ d, {rows} × {cols}");
        }
    }

    #[test]
    fn gemv_matches_nalgebra() {
        for (rows, cols) in SHAPES {
            let w = awkward_matrix(rows, cols);
            let m = DMatrix::from_row_slice(rows, cols, &w.data);
            let x = awkward_vector(cols, 0.3);
            let d = awkward_vector(rows, 0.9);

            let mut out = vec![0.0; rows];
            w.gemv_add(&x, &mut out);
            let expected = &m * nalgebra::DVector::from_column_slice(&x);
            for (o, e) in out.iter().zip(expected.iter()) {
                assert!(
                    (o - e).abs() <= 1e-12 * e.abs().max(1.0),
                    "{rows} × {cols}: {o} vs {e}"
                );
            }

            let mut out_t = vec![0.0; cols];
            w.gemv_t_add(&d, &mut out_t);
            let expected = m.transpose() * nalgebra::DVector::from_column_slice(&d);
            for (o, e) in out_t.iter().zip(expected.iter()) {
                assert!(
                    (o - e).abs() <= 1e-12 * e.abs().max(1.0),
                    "{rows} × {cols}: {o} vs {e}"
                );
            }
        }
    }

    #[test]
    fn gemv_without_columns_adds_nothing() {
        let w = RowMajor {
            rows: 3,
            cols: 0,
            data: vec![],
        };
        let mut out = vec![1.0, 2.0, 3.0];
        w.gemv_add(&[], &mut out);
        assert_eq!(out, vec![1.0, 2.0, 3.0]);
        let mut out_t: Vec<f64> = vec![];
        w.gemv_t_add(&[1.0, 1.0, 1.0], &mut out_t);
        assert!(out_t.is_empty());
    }

    #[test]
    #[should_panic(expected = "gemv_add: x has the wrong length")]
    fn gemv_wrong_length_panics() {
        let w = awkward_matrix(4, 5);
        let mut out = vec![0.0; 4];
        w.gemv_add(&[0.0; 4], &mut out);
    }

    #[test]
    fn scaled_block_sum_matches_dense_product() {
        // Three gate blocks of h = 4 rows, 5 columns, written into rows 2..6 and columns 1..6
        // of a 7 × 8 target.
        let (h, cols) = (4, 5);
        let weights = DMatrix::from_fn(3 * h, cols, |r, c| (r as f64 - 2.0 * c as f64) * 0.125);
        let coef = awkward_vector(3 * h, 0.4);
        let mut target = DMatrix::zeros(7, 8);
        write_scaled_block_sum(&weights, &coef, h, &mut target, (2, 1));

        let mut expected = DMatrix::zeros(h, cols);
        for b in 0..3 {
            let scale = DMatrix::from_diagonal(&nalgebra::DVector::from_column_slice(
                &coef[b * h..(b + 1) * h],
            ));
            expected += scale * weights.rows(b * h, h);
        }
        let block = target.view((2, 1), (h, cols));
        assert!((block - &expected).amax() < 1e-12, "{target} vs {expected}");

        let mut outside = target.clone();
        outside.view_mut((2, 1), (h, cols)).fill(0.0);
        assert_eq!(
            outside.amax(),
            0.0,
            "entries outside the block were written"
        );
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
