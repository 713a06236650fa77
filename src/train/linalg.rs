//! Row-major matrix products for BPTT.
//!
//! Batched products go to faer's sequential GEMM through [`Real::gemm`] (single-threaded, so the
//! reduction order and the result bytes do not depend on the thread count). A batch of one row
//! goes to the matrix–vector kernels below instead, which read each weight row once and keep
//! the RL window's batch-1 steps free of GEMM set-up costs.
//!
//! Large products are split into blocks of output columns (or rows), with a width fixed by the
//! matrix sizes, and the blocks run as rayon tasks. Every output element is computed by one task with the same
//! summation order whatever the number of threads, so results do not depend on it.

use std::cell::Cell;
use std::marker::PhantomData;

use rayon::prelude::*;

use super::real::Real;

/// Products with fewer multiply–adds than this (about 0.1 ms of work) run on the calling thread,
/// because handing work to the rayon pool from outside it costs several microseconds.
const PARALLEL_MIN_WORK: usize = 1 << 21;
/// Minimum output columns (or rows) per rayon task.
const BLOCK: usize = 128;
/// A product is split into at most this many blocks: every block packs the whole left
/// operand again, so more blocks than cores cost packing time.
const MAX_BLOCKS: usize = 4;

/// A pointer that may cross threads; every task writes a disjoint block through it.
#[derive(Clone, Copy)]
struct SharedPtr<T>(*mut T);
// SAFETY: tasks only write disjoint blocks of the matrix behind the pointer, and the borrow it
// came from outlives the parallel section.
unsafe impl<T> Send for SharedPtr<T> {}
unsafe impl<T> Sync for SharedPtr<T> {}

impl<T> SharedPtr<T> {
    fn get(self) -> *mut T {
        self.0
    }
}

thread_local! {
    /// Set while a [`SequentialScope`] is alive on this thread.
    static SEQUENTIAL: Cell<bool> = const { Cell::new(false) };
}

/// A guard that keeps every product and row loop of this module and of the LSTM tape on the
/// calling thread, each product as one block, until it is dropped.
///
/// A stage of the two-region pipeline enters one, because it must not enter rayon while its
/// partner stage may be waiting for it. A rayon thread that waits for a stolen task runs other
/// queued tasks meanwhile, so it could pick up the partner stage and spin in it forever.
/// Whether a caller enters the scope is decided by the sizes, so results still depend only on
/// them.
pub(crate) struct SequentialScope {
    previous: bool,
    /// The flag is per thread, so the guard must be dropped on the thread that made it.
    _not_send: PhantomData<*const ()>,
}

impl SequentialScope {
    pub(crate) fn enter() -> Self {
        SequentialScope { previous: SEQUENTIAL.with(|flag| flag.replace(true)), _not_send: PhantomData }
    }
}

impl Drop for SequentialScope {
    fn drop(&mut self) {
        SEQUENTIAL.with(|flag| flag.set(self.previous));
    }
}

/// Returns whether loops on this thread may split into rayon tasks (false inside a
/// [`SequentialScope`]).
pub(crate) fn parallel_allowed() -> bool {
    !SEQUENTIAL.with(Cell::get)
}

/// Runs `task` for blocks 0..count, as rayon tasks when there is more than one (a rayon call
/// from outside the pool costs a cross-thread hand-off, so a single block runs inline).
fn for_each_block(count: usize, task: impl Fn(usize) + Send + Sync) {
    if count == 1 {
        task(0);
    } else {
        (0..count).into_par_iter().for_each(task);
    }
}

/// Returns the width of the blocks that split `len` outputs (`len` itself when the product is
/// too small to split or runs inside a [`SequentialScope`]). It never depends on the thread count.
fn block_width(len: usize, work: usize) -> usize {
    if work < PARALLEL_MIN_WORK || len <= BLOCK || !parallel_allowed() {
        len
    } else {
        len.div_ceil(MAX_BLOCKS).max(BLOCK)
    }
}

/// Lanes of independent partial sums in [`dot`], so the loop vectorises without reassociating.
const LANES: usize = 8;

/// Returns `Σ a_i b_i`, summed in a fixed order (eight interleaved partial sums, then the tail).
pub fn dot<T: Real>(a: &[T], b: &[T]) -> T {
    debug_assert_eq!(a.len(), b.len());
    let mut partial = [T::ZERO; LANES];
    let chunks = a.len() / LANES;
    for (ca, cb) in a.chunks_exact(LANES).zip(b.chunks_exact(LANES)) {
        for lane in 0..LANES {
            partial[lane] += ca[lane] * cb[lane];
        }
    }

    let mut sum = T::ZERO;
    for p in partial {
        sum += p;
    }
    for i in chunks * LANES..a.len() {
        sum += a[i] * b[i];
    }
    sum
}

/// Computes `y ← y + α x`.
pub fn axpy<T: Real>(alpha: T, x: &[T], y: &mut [T]) {
    debug_assert_eq!(x.len(), y.len());
    for (yi, &xi) in y.iter_mut().zip(x) {
        *yi += alpha * xi;
    }
}

/// Computes `C ← A Wᵀ + β C` with `A` m × k, `W` n × k (a PyTorch weight, one row per output)
/// and `C` m × n, all row-major. With `β = 0`, `C` is overwritten without being read.
pub fn matmul_a_wt<T: Real>(m: usize, k: usize, n: usize, a: &[T], w: &[T], beta: T, c: &mut [T]) {
    assert!(a.len() >= m * k, "matmul_a_wt: A is shorter than m × k");
    assert!(w.len() >= n * k, "matmul_a_wt: W is shorter than n × k");
    assert!(c.len() >= m * n, "matmul_a_wt: C is shorter than m × n");
    if m == 1 {
        for (j, cj) in c[..n].iter_mut().enumerate() {
            let product = dot(&w[j * k..(j + 1) * k], &a[..k]);
            *cj = if beta == T::ZERO { product } else { product + beta * *cj };
        }
        return;
    }

    // Column block j covers outputs j·width.. of every row, i.e. weight rows j·width...
    if n == 0 {
        return;
    }
    let width = block_width(n, m * k * n);
    let c_ptr = SharedPtr(c.as_mut_ptr());
    for_each_block(n.div_ceil(width), |block| {
        let start = block * width;
        let width = width.min(n - start);
        // SAFETY: the asserts above bound every index the strides reach. `c` is a distinct
        // mutable borrow, so it cannot alias `a` or `w`, and blocks write disjoint columns.
        unsafe {
            T::gemm(m, k, width, T::ONE, a.as_ptr(), k as isize, 1, w.as_ptr().add(start * k), 1, k as isize, beta, c_ptr.get().add(start), n as isize, 1);
        }
    });
}

/// Computes `C ← A W + β C` with `A` m × k, `W` k × n and `C` m × n, all row-major. This is the
/// backward product `∂L/∂z = ∂L/∂a · W` of a layer `a = z Wᵀ`.
pub fn matmul_a_w<T: Real>(m: usize, k: usize, n: usize, a: &[T], w: &[T], beta: T, c: &mut [T]) {
    assert!(a.len() >= m * k, "matmul_a_w: A is shorter than m × k");
    assert!(w.len() >= k * n, "matmul_a_w: W is shorter than k × n");
    assert!(c.len() >= m * n, "matmul_a_w: C is shorter than m × n");
    if m == 1 {
        let c = &mut c[..n];
        if beta == T::ZERO {
            c.fill(T::ZERO);
        } else if beta != T::ONE {
            c.iter_mut().for_each(|v| *v *= beta);
        }
        for (r, &scale) in a[..k].iter().enumerate() {
            if scale != T::ZERO {
                axpy(scale, &w[r * n..(r + 1) * n], c);
            }
        }
        return;
    }

    if n == 0 {
        return;
    }
    let width = block_width(n, m * k * n);
    let c_ptr = SharedPtr(c.as_mut_ptr());
    for_each_block(n.div_ceil(width), |block| {
        let start = block * width;
        let width = width.min(n - start);
        // SAFETY: as in `matmul_a_wt`; blocks write disjoint columns.
        unsafe {
            T::gemm(m, k, width, T::ONE, a.as_ptr(), k as isize, 1, w.as_ptr().add(start), n as isize, 1, beta, c_ptr.get().add(start), n as isize, 1);
        }
    });
}

/// Computes `C ← C + Aᵀ B` with `A` r × m, `B` r × n and `C` m × n, all row-major: the weight
/// gradient `Σ_rows δ_rowᵀ z_row` of a layer over all time steps and batch items at once.
pub fn accumulate_at_b<T: Real>(r: usize, m: usize, n: usize, a: &[T], b: &[T], c: &mut [T]) {
    assert!(a.len() >= r * m, "accumulate_at_b: A is shorter than r × m");
    assert!(b.len() >= r * n, "accumulate_at_b: B is shorter than r × n");
    assert!(c.len() >= m * n, "accumulate_at_b: C is shorter than m × n");
    if r == 0 || m == 0 {
        return;
    }

    // Row block i covers outputs i·height.. (columns i·height.. of `a`).
    let height = block_width(m, r * m * n);
    let c_ptr = SharedPtr(c.as_mut_ptr());
    for_each_block(m.div_ceil(height), |block| {
        let start = block * height;
        let height = height.min(m - start);
        // SAFETY: as in `matmul_a_wt`; blocks write disjoint rows of `c`.
        unsafe {
            T::gemm(height, r, n, T::ONE, a.as_ptr().add(start), 1, m as isize, b.as_ptr(), n as isize, 1, T::ONE, c_ptr.get().add(start * n), n as isize, 1);
        }
    });
}

/// Adds the column sums of the r × n row-major matrix `a` to `c` (a bias gradient).
pub fn accumulate_column_sums<T: Real>(r: usize, n: usize, a: &[T], c: &mut [T]) {
    for row in a[..r * n].chunks_exact(n) {
        axpy(T::ONE, row, &mut c[..n]);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn naive(m: usize, k: usize, n: usize, a: &[f64], b: impl Fn(usize, usize) -> f64) -> Vec<f64> {
        let mut c = vec![0.0; m * n];
        for i in 0..m {
            for j in 0..n {
                c[i * n + j] = (0..k).map(|l| a[i * k + l] * b(l, j)).sum();
            }
        }
        c
    }

    fn values(len: usize, shift: f64) -> Vec<f64> {
        (0..len).map(|i| ((i as f64) * 0.37 + shift).sin()).collect()
    }

    #[test]
    fn products_match_naive_for_batch_one_and_many() {
        for m in [1, 3] {
            let (k, n) = (11, 5);
            let a = values(m * k, 0.1);
            let w = values(n * k, 0.7);
            let mut c = vec![1.0; m * n];
            matmul_a_wt(m, k, n, &a, &w, 0.5, &mut c);
            let expected = naive(m, k, n, &a, |l, j| w[j * k + l]);
            for (got, want) in c.iter().zip(&expected) {
                assert!((got - (want + 0.5)).abs() < 1e-12);
            }

            let v = values(k * n, 0.3);
            let mut d = vec![2.0; m * n];
            matmul_a_w(m, k, n, &a, &v, 0.0, &mut d);
            let expected = naive(m, k, n, &a, |l, j| v[l * n + j]);
            for (got, want) in d.iter().zip(&expected) {
                assert!((got - want).abs() < 1e-12);
            }
        }
    }

    #[test]
    fn large_products_split_into_blocks_match_naive() {
        let (m, k, n) = (60, 150, 300);
        let a = values(m * k, 0.4);
        let w = values(n * k, 0.8);
        let mut c = vec![0.0; m * n];
        matmul_a_wt(m, k, n, &a, &w, 0.0, &mut c);
        let expected = naive(m, k, n, &a, |l, j| w[j * k + l]);
        for (got, want) in c.iter().zip(&expected) {
            assert!((got - want).abs() < 1e-10);
        }

        let v = values(k * n, 0.5);
        let mut d = vec![0.0; m * n];
        matmul_a_w(m, k, n, &a, &v, 0.0, &mut d);
        let expected = naive(m, k, n, &a, |l, j| v[l * n + j]);
        for (got, want) in d.iter().zip(&expected) {
            assert!((got - want).abs() < 1e-10);
        }

        let (r, rows, cols) = (80, 300, 100);
        let lhs = values(r * rows, 0.6);
        let rhs = values(r * cols, 0.1);
        let mut e = vec![0.0; rows * cols];
        accumulate_at_b(r, rows, cols, &lhs, &rhs, &mut e);
        for i in [0, 129, 299] {
            for j in [0, 57, 99] {
                let want: f64 = (0..r).map(|l| lhs[l * rows + i] * rhs[l * cols + j]).sum();
                assert!((e[i * cols + j] - want).abs() < 1e-10);
            }
        }
    }

    #[test]
    fn transposed_accumulation_matches_naive() {
        let (r, m, n) = (7, 4, 3);
        let a = values(r * m, 0.2);
        let b = values(r * n, 0.9);
        let mut c = vec![1.0; m * n];
        accumulate_at_b(r, m, n, &a, &b, &mut c);
        for i in 0..m {
            for j in 0..n {
                let want: f64 = 1.0 + (0..r).map(|l| a[l * m + i] * b[l * n + j]).sum::<f64>();
                assert!((c[i * n + j] - want).abs() < 1e-12);
            }
        }
    }
}
