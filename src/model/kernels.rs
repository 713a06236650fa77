//! Matrix–vector products on row-major weights, `out += W x` and `out += Wᵀ d`, in f64.
//!
//! Weights are f64 or f32 (a model file's own precision). f32 entries are widened to f64
//! exactly before they are multiplied, so both give the same bytes. f32 halves the memory
//! traffic, which matters once a weight matrix outgrows the L2 cache: `W_hh` of a 256-unit
//! GRU takes 1.5 MB in f64.
//!
//! Each product has a portable kernel and, on x86_64 CPUs with AVX (detected at run time),
//! an AVX kernel. Both use the same order of additions and neither fuses a multiply with an
//! add, so results are byte-identical on every x86_64 CPU.

/// An entry type of the weights: f64, or f32 widened exactly to f64.
// NOTE: only x86_64 builds have been compiled and tested. Elsewhere the portable kernels
// run, which the tests here also exercise on x86_64.
pub(crate) trait Entry: Copy + Into<f64> {
    /// `out += W x` with AVX, for this entry type.
    ///
    /// # Safety
    /// The CPU must support AVX, and `w` must contain `out.len()` rows of `x.len()` entries.
    #[cfg(target_arch = "x86_64")]
    unsafe fn gemv_add_avx(w: &[Self], x: &[f64], out: &mut [f64]);
}

/// Adds `W x` to `out`, where `w` contains `out.len()` rows of `x.len()` entries.
pub(crate) fn gemv_add<T: Entry>(w: &[T], x: &[f64], out: &mut [f64]) {
    assert_eq!(
        w.len(),
        x.len() * out.len(),
        "gemv_add: W does not have shape out × x"
    );
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx") {
        // SAFETY: the CPU supports AVX, checked on the line above.
        unsafe { T::gemv_add_avx(w, x, out) };
        return;
    }
    gemv_add_portable(w, x, out);
}

/// Adds `Wᵀ d` to `out`, where `w` contains `d.len()` rows of `out.len()` entries.
pub(crate) fn gemv_t_add<T: Entry>(w: &[T], d: &[f64], out: &mut [f64]) {
    assert_eq!(
        w.len(),
        d.len() * out.len(),
        "gemv_t_add: W does not have shape d × out"
    );
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx") {
        // SAFETY: the CPU supports AVX, checked on the line above.
        unsafe { gemv_t_add_avx(w, d, out) };
        return;
    }
    gemv_t_add_portable(w, d, out);
}

/// Dot product with four independent partial sums, lane `l` summing the products at indices
/// `≡ l (mod 4)`, then `(p₀ + p₁) + (p₂ + p₃)`, then the remaining `len mod 4` products in
/// order. Every `W x` kernel sums each row in this order.
#[inline(always)]
fn dot<T: Entry>(a: &[T], b: &[f64]) -> f64 {
    let mut partial = [0.0; 4];
    let a_chunks = a.chunks_exact(4);
    let b_chunks = b.chunks_exact(4);
    let (a_rest, b_rest) = (a_chunks.remainder(), b_chunks.remainder());
    for (x, y) in a_chunks.zip(b_chunks) {
        for lane in 0..4 {
            partial[lane] += x[lane].into() * y[lane];
        }
    }
    let mut sum = (partial[0] + partial[1]) + (partial[2] + partial[3]);
    for (x, y) in a_rest.iter().zip(b_rest) {
        sum += (*x).into() * y;
    }
    sum
}

/// Four dot products `wᵢ · x` at once, each summed exactly as [`dot`] sums it, so that one
/// load of `x` serves four rows and the four running sums are independent.
#[inline(always)]
fn dot4<T: Entry>(w0: &[T], w1: &[T], w2: &[T], w3: &[T], x: &[f64]) -> [f64; 4] {
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
            partial[0][lane] += a0[lane].into() * b[lane];
            partial[1][lane] += a1[lane].into() * b[lane];
            partial[2][lane] += a2[lane].into() * b[lane];
            partial[3][lane] += a3[lane].into() * b[lane];
        }
    }

    let tail = x.len() - x_rest.len();
    let mut sums = [0.0; 4];
    for (r, row) in [w0, w1, w2, w3].into_iter().enumerate() {
        let p = partial[r];
        let mut sum = (p[0] + p[1]) + (p[2] + p[3]);
        for (a, b) in row[tail..].iter().zip(x_rest) {
            sum += (*a).into() * b;
        }
        sums[r] = sum;
    }
    sums
}

/// `out += W x` without SIMD beyond the baseline target.
fn gemv_add_portable<T: Entry>(w: &[T], x: &[f64], out: &mut [f64]) {
    let n = x.len();
    if n == 0 {
        return;
    }
    let blocks = w.chunks_exact(4 * n);
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

    let last_outs = outs.into_remainder();
    for (o, row) in last_outs.iter_mut().zip(rest_rows.chunks_exact(n)) {
        *o += dot(row, x);
    }
}

/// Defines the AVX kernel of `out += W x` for entries of type `$entry`, read four at a time
/// as four f64 lanes by `$load`.
///
/// Eight rows are processed at a time, each row's four partial sums in the four lanes of one
/// 256-bit register, so eight independent chains of additions hide their latency. Each row is
/// summed in the order of [`dot`].
macro_rules! gemv_add_avx_kernel {
    ($name:ident, $entry:ty, $load:ident) => {
        /// `out += W x` with AVX, for the entry type in its signature.
        ///
        /// # Safety
        /// The CPU must support AVX, and `w` must contain `out.len()` rows of `x.len()` entries.
        #[cfg(target_arch = "x86_64")]
        #[target_feature(enable = "avx")]
        unsafe fn $name(w: &[$entry], x: &[f64], out: &mut [f64]) {
            use std::arch::x86_64::{
                _mm256_add_pd, _mm256_mul_pd, _mm256_setzero_pd, _mm256_storeu_pd,
            };

            const ROWS: usize = 8;
            let n = x.len();
            if n == 0 {
                return;
            }
            let chunks = n / 4;
            let tail = 4 * chunks;
            let blocks = w.chunks_exact(ROWS * n);
            let rest_rows = blocks.remainder();
            let mut outs = out.chunks_exact_mut(ROWS);

            for (rows, o) in blocks.zip(&mut outs) {
                let base = rows.as_ptr();
                let mut acc = [_mm256_setzero_pd(); ROWS];
                for i in 0..chunks {
                    // SAFETY: 4i + 3 < n, so every load reads inside `x` and inside row r of
                    // this block, which spans rows[r n .. (r + 1) n].
                    let xv = unsafe { load_f64(x.as_ptr().add(4 * i)) };
                    for (r, a) in acc.iter_mut().enumerate() {
                        let wv = unsafe { $load(base.add(r * n + 4 * i)) };
                        *a = _mm256_add_pd(*a, _mm256_mul_pd(wv, xv));
                    }
                }
                for (r, (o, a)) in o.iter_mut().zip(acc).enumerate() {
                    let mut p = [0.0; 4];
                    // SAFETY: `p` has room for four f64.
                    unsafe { _mm256_storeu_pd(p.as_mut_ptr(), a) };
                    let mut sum = (p[0] + p[1]) + (p[2] + p[3]);
                    for (wk, xk) in rows[r * n + tail..(r + 1) * n].iter().zip(&x[tail..]) {
                        sum += f64::from(*wk) * xk;
                    }
                    *o += sum;
                }
            }

            let last_outs = outs.into_remainder();
            for (o, row) in last_outs.iter_mut().zip(rest_rows.chunks_exact(n)) {
                *o += dot(row, x);
            }
        }
    };
}

/// Loads four f64 from `p`.
///
/// # Safety
/// The CPU must support AVX and `p .. p + 4` must be readable.
#[cfg(target_arch = "x86_64")]
#[inline]
#[target_feature(enable = "avx")]
unsafe fn load_f64(p: *const f64) -> std::arch::x86_64::__m256d {
    unsafe { std::arch::x86_64::_mm256_loadu_pd(p) }
}

/// Loads four f32 from `p` and widens them exactly to f64.
///
/// # Safety
/// The CPU must support AVX and `p .. p + 4` must be readable.
#[cfg(target_arch = "x86_64")]
#[inline]
#[target_feature(enable = "avx")]
unsafe fn load_f32(p: *const f32) -> std::arch::x86_64::__m256d {
    use std::arch::x86_64::{_mm256_cvtps_pd, _mm_loadu_ps};
    unsafe { _mm256_cvtps_pd(_mm_loadu_ps(p)) }
}

gemv_add_avx_kernel!(gemv_add_avx_f64, f64, load_f64);
gemv_add_avx_kernel!(gemv_add_avx_f32, f32, load_f32);

impl Entry for f64 {
    #[cfg(target_arch = "x86_64")]
    unsafe fn gemv_add_avx(w: &[f64], x: &[f64], out: &mut [f64]) {
        unsafe { gemv_add_avx_f64(w, x, out) }
    }
}

impl Entry for f32 {
    #[cfg(target_arch = "x86_64")]
    unsafe fn gemv_add_avx(w: &[f32], x: &[f64], out: &mut [f64]) {
        unsafe { gemv_add_avx_f32(w, x, out) }
    }
}

/// `out += Wᵀ d` without SIMD beyond the baseline target.
fn gemv_t_add_portable<T: Entry>(w: &[T], d: &[f64], out: &mut [f64]) {
    gemv_t_add_body(w, d, out);
}

/// `out += Wᵀ d` compiled with AVX. The loop over columns is element-wise, so AVX only
/// widens it to four columns per instruction and the order of additions stays that of the
/// portable build.
///
/// # Safety
/// The CPU must support AVX.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx")]
unsafe fn gemv_t_add_avx<T: Entry>(w: &[T], d: &[f64], out: &mut [f64]) {
    gemv_t_add_body(w, d, out);
}

/// Adds `Wᵀ d` to `out`, four rows at a time so that `out` is loaded and stored once per four
/// rows. Each column adds `(d₀ w₀ + d₁ w₁) + (d₂ w₂ + d₃ w₃)` per block, then the leftover
/// rows one at a time.
#[inline(always)]
fn gemv_t_add_body<T: Entry>(w: &[T], d: &[f64], out: &mut [f64]) {
    let n = out.len();
    if n == 0 {
        return;
    }
    let wide = |v: &T| -> f64 { (*v).into() };

    let blocks = w.chunks_exact(4 * n);
    let rest_rows = blocks.remainder();
    let mut d_blocks = d.chunks_exact(4);
    for (rows, db) in blocks.zip(&mut d_blocks) {
        let (w0, rest) = rows.split_at(n);
        let (w1, rest) = rest.split_at(n);
        let (w2, w3) = rest.split_at(n);
        let (d0, d1, d2, d3) = (db[0], db[1], db[2], db[3]);
        let columns = out.iter_mut().zip(w0).zip(w1).zip(w2).zip(w3);
        for ((((o, a0), a1), a2), a3) in columns {
            *o += (d0 * wide(a0) + d1 * wide(a1)) + (d2 * wide(a2) + d3 * wide(a3));
        }
    }

    for (&dr, row) in d_blocks.remainder().iter().zip(rest_rows.chunks_exact(n)) {
        for (o, a) in out.iter_mut().zip(row) {
            *o += dr * wide(a);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Builds `rows × cols` entries that are exact f32 values but whose products with the
    /// vectors below are not exact in f64, so that any change in the order of additions shows
    /// up in the low bits.
    fn awkward_matrix(rows: usize, cols: usize) -> Vec<f32> {
        (0..rows * cols)
            .map(|i| ((i as f64 * 0.37).sin() / 3.0) as f32)
            .collect()
    }

    fn awkward_vector(n: usize, phase: f64) -> Vec<f64> {
        (0..n)
            .map(|i| (i as f64 * 1.3 + phase).cos() * 1e3 / 7.0)
            .collect()
    }

    fn bits(v: &[f64]) -> Vec<u64> {
        v.iter().map(|a| a.to_bits()).collect()
    }

    /// `out += Wᵀ d` in the order the kernels promise, written plainly: blocks of four rows
    /// added as `(d₀ w₀ + d₁ w₁) + (d₂ w₂ + d₃ w₃)`, then the leftover rows one at a time.
    fn gemv_t_add_by_quads(w: &[f64], d: &[f64], out: &mut [f64]) {
        let n = out.len();
        let quads = d.len() / 4;
        for q in 0..quads {
            let r = 4 * q;
            for (c, o) in out.iter_mut().enumerate() {
                let term = |k: usize| d[r + k] * w[(r + k) * n + c];
                *o += (term(0) + term(1)) + (term(2) + term(3));
            }
        }
        for r in 4 * quads..d.len() {
            for (c, o) in out.iter_mut().enumerate() {
                *o += d[r] * w[r * n + c];
            }
        }
    }

    /// Every block size and remainder of the kernels: 8- and 4-row blocks, leftover rows, and
    /// columns that are and are not a multiple of 4, including fewer than 4.
    const SHAPES: [(usize, usize); 9] = [
        (1, 1),
        (3, 2),
        (4, 4),
        (7, 5),
        (8, 8),
        (13, 9),
        (24, 17),
        (30, 6),
        (33, 64),
    ];

    #[test]
    fn gemv_paths_agree_bitwise() {
        for (rows, cols) in SHAPES {
            let narrow = awkward_matrix(rows, cols);
            let wide: Vec<f64> = narrow.iter().map(|&w| f64::from(w)).collect();
            let x = awkward_vector(cols, 0.1);
            let start = awkward_vector(rows, 2.0);

            let mut by_rows = start.clone();
            for (r, o) in by_rows.iter_mut().enumerate() {
                *o += dot(&wide[r * cols..(r + 1) * cols], &x);
            }
            let mut results = Vec::new();
            for kernel in [gemv_add::<f64>, gemv_add_portable::<f64>] {
                let mut out = start.clone();
                kernel(&wide, &x, &mut out);
                results.push(out);
            }
            for kernel in [gemv_add::<f32>, gemv_add_portable::<f32>] {
                let mut out = start.clone();
                kernel(&narrow, &x, &mut out);
                results.push(out);
            }
            for (k, result) in results.iter().enumerate() {
                assert_eq!(
                    bits(result),
                    bits(&by_rows),
                    "W x, {rows} × {cols}, kernel {k}"
                );
            }

            let d = awkward_vector(rows, 0.7);
            let start = awkward_vector(cols, 1.1);
            let mut expected = start.clone();
            gemv_t_add_by_quads(&wide, &d, &mut expected);
            let mut results = Vec::new();
            for kernel in [gemv_t_add::<f64>, gemv_t_add_portable::<f64>] {
                let mut out = start.clone();
                kernel(&wide, &d, &mut out);
                results.push(out);
            }
            for kernel in [gemv_t_add::<f32>, gemv_t_add_portable::<f32>] {
                let mut out = start.clone();
                kernel(&narrow, &d, &mut out);
                results.push(out);
            }
            for (k, result) in results.iter().enumerate() {
                assert_eq!(
                    bits(result),
                    bits(&expected),
                    "Wᵀ d, {rows} × {cols}, kernel {k}"
                );
            }
        }
    }

    #[test]
    fn gemv_matches_nalgebra() {
        for (rows, cols) in SHAPES {
            let wide: Vec<f64> = awkward_matrix(rows, cols)
                .iter()
                .map(|&w| f64::from(w))
                .collect();
            let m = nalgebra::DMatrix::from_row_slice(rows, cols, &wide);
            let x = awkward_vector(cols, 0.3);
            let d = awkward_vector(rows, 0.9);

            let mut out = vec![0.0; rows];
            gemv_add(&wide, &x, &mut out);
            let expected = &m * nalgebra::DVector::from_column_slice(&x);
            for (o, e) in out.iter().zip(expected.iter()) {
                assert!(
                    (o - e).abs() <= 1e-12 * e.abs().max(1.0),
                    "W x, {rows} × {cols}: {o} vs {e}"
                );
            }

            let mut out_t = vec![0.0; cols];
            gemv_t_add(&wide, &d, &mut out_t);
            let expected = m.transpose() * nalgebra::DVector::from_column_slice(&d);
            for (o, e) in out_t.iter().zip(expected.iter()) {
                assert!(
                    (o - e).abs() <= 1e-12 * e.abs().max(1.0),
                    "Wᵀ d, {rows} × {cols}: {o} vs {e}"
                );
            }
        }
    }

    #[test]
    fn gemv_without_columns_adds_nothing() {
        let mut out = vec![1.0, 2.0, 3.0];
        gemv_add::<f64>(&[], &[], &mut out);
        assert_eq!(out, vec![1.0, 2.0, 3.0]);

        let mut out_t: Vec<f64> = vec![];
        gemv_t_add::<f32>(&[], &[1.0, 1.0, 1.0], &mut out_t);
        assert!(out_t.is_empty());
    }

    #[test]
    #[should_panic(expected = "gemv_add: W does not have shape out × x")]
    fn gemv_wrong_length_panics() {
        let mut out = vec![0.0; 4];
        gemv_add(&[0.0f64; 20], &[0.0; 4], &mut out);
    }

    #[test]
    #[should_panic(expected = "gemv_t_add: W does not have shape d × out")]
    fn gemv_t_wrong_length_panics() {
        let mut out = vec![0.0; 5];
        gemv_t_add(&[0.0f32; 20], &[0.0; 3], &mut out);
    }
}
