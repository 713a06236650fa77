//! The float type of the trainer: f32 for training, f64 for gradient checks.

use std::fmt::{Debug, Display};
use std::iter::Sum;
use std::ops::{Add, AddAssign, Div, DivAssign, Mul, MulAssign, Neg, Sub, SubAssign};

/// A real scalar (implemented for `f32` and `f64`) with the few functions BPTT needs and a
/// dense matrix product that runs faer's sequential GEMM.
pub trait Real:
    Copy
    + Send
    + Sync
    + 'static
    + Default
    + Debug
    + Display
    + PartialOrd
    + Add<Output = Self>
    + Sub<Output = Self>
    + Mul<Output = Self>
    + Div<Output = Self>
    + Neg<Output = Self>
    + AddAssign
    + SubAssign
    + MulAssign
    + DivAssign
    + Sum
{
    const ZERO: Self;
    const ONE: Self;

    /// Converts from f64, rounding to nearest for f32.
    fn from_f64(value: f64) -> Self;
    fn to_f64(self) -> f64;
    fn exp(self) -> Self;
    fn ln(self) -> Self;
    fn tanh(self) -> Self;
    fn sqrt(self) -> Self;
    fn abs(self) -> Self;
    fn is_finite(self) -> bool;

    /// Returns the larger of two values (`self` when they are equal or `other` is NaN).
    fn max(self, other: Self) -> Self {
        if other > self {
            other
        } else {
            self
        }
    }

    /// Logistic function `1 / (1 + e^(−x))`.
    fn sigmoid(self) -> Self {
        Self::ONE / (Self::ONE + (-self).exp())
    }

    /// Computes `C ← α A B + β C` for strided matrices (row and column strides in elements).
    /// With `β = 0`, `C` is overwritten without being read.
    ///
    /// # Safety
    /// The pointers and strides must describe valid `m × k`, `k × n` and `m × n` matrices, and
    /// `c` must not alias `a` or `b`.
    #[allow(clippy::too_many_arguments)]
    unsafe fn gemm(
        m: usize,
        k: usize,
        n: usize,
        alpha: Self,
        a: *const Self,
        rsa: isize,
        csa: isize,
        b: *const Self,
        rsb: isize,
        csb: isize,
        beta: Self,
        c: *mut Self,
        rsc: isize,
        csc: isize,
    );
}

macro_rules! impl_real {
    ($t:ty, $tanh:path, $sigmoid:path) => {
        impl Real for $t {
            const ZERO: Self = 0.0;
            const ONE: Self = 1.0;

            #[inline]
            fn from_f64(value: f64) -> Self {
                value as $t
            }
            #[inline]
            fn to_f64(self) -> f64 {
                self as f64
            }
            #[inline]
            fn exp(self) -> Self {
                <$t>::exp(self)
            }
            #[inline]
            fn ln(self) -> Self {
                <$t>::ln(self)
            }
            #[inline(always)]
            fn tanh(self) -> Self {
                $tanh(self)
            }
            #[inline(always)]
            fn sigmoid(self) -> Self {
                $sigmoid(self)
            }
            #[inline]
            fn sqrt(self) -> Self {
                <$t>::sqrt(self)
            }
            #[inline]
            fn abs(self) -> Self {
                <$t>::abs(self)
            }
            #[inline]
            fn is_finite(self) -> bool {
                <$t>::is_finite(self)
            }

            unsafe fn gemm(
                m: usize,
                k: usize,
                n: usize,
                alpha: Self,
                a: *const Self,
                rsa: isize,
                csa: isize,
                b: *const Self,
                rsb: isize,
                csb: isize,
                beta: Self,
                c: *mut Self,
                rsc: isize,
                csc: isize,
            ) {
                gemm_faer::<$t>(m, k, n, alpha, a, rsa, csa, b, rsb, csb, beta, c, rsc, csc)
            }
        }
    };
}

impl_real!(f32, tanh_f32, sigmoid_f32);
impl_real!(f64, f64::tanh, sigmoid_f64);

/// Runs [`Real::gemm`] on faer (0.24) with `Par::Seq`. faer picks an AVX-512 or AVX2 kernel at
/// run time. On the LSTM's product shapes (100 or 1000 rows, 64 or 256 units) it ran 13–95 %
/// faster than `matrixmultiply` 0.3.11 in a one-thread microbenchmark on a 2-core AMD EPYC
/// with AVX-512. A sequential call involves no other thread, so its bytes do not depend on the
/// rayon thread count.
///
/// # Safety
/// As [`Real::gemm`].
#[allow(clippy::too_many_arguments)]
unsafe fn gemm_faer<T: faer::traits::ComplexField + Real>(
    m: usize,
    k: usize,
    n: usize,
    alpha: T,
    a: *const T,
    rsa: isize,
    csa: isize,
    b: *const T,
    rsb: isize,
    csb: isize,
    beta: T,
    c: *mut T,
    rsc: isize,
    csc: isize,
) {
    // SAFETY: the caller guarantees that the pointers and strides describe valid matrices.
    let lhs = faer::MatRef::from_raw_parts(a, m, k, rsa, csa);
    let rhs = faer::MatRef::from_raw_parts(b, k, n, rsb, csb);
    let mut dst = faer::MatMut::from_raw_parts_mut(c, m, n, rsc, csc);
    let accum = if beta == T::ZERO {
        faer::Accum::Replace
    } else {
        if beta != T::ONE {
            for j in 0..n {
                for i in 0..m {
                    dst[(i, j)] *= beta;
                }
            }
        }
        faer::Accum::Add
    };
    faer::linalg::matmul::matmul(dst, accum, lhs, rhs, alpha, faer::Par::Seq);
}

/// Logistic function in f64 through libm's `exp` (gradient checks want the exact value).
#[inline]
fn sigmoid_f64(x: f64) -> f64 {
    1.0 / (1.0 + (-x).exp())
}

/// Logistic function in f32 through [`exp_f32`], so that loops over it vectorise.
#[inline(always)]
fn sigmoid_f32(x: f32) -> f32 {
    1.0 / (1.0 + exp_f32(-x))
}

/// Inputs of [`exp_f32`] are clamped to this range, inside which `2^n` in the last step stays a
/// normal f32 (e^−87 ≈ 1.6e−38, e^88 ≈ 1.7e38).
const EXP_MIN: f32 = -87.0;
const EXP_MAX: f32 = 88.0;
/// 1.5 · 2²³: adding it to a float of magnitude below 2²² rounds that float to the nearest
/// integer (ties to even) and leaves the integer in the low mantissa bits.
const ROUND_MAGIC: f32 = 12_582_912.0;
/// ln 2 split into a part with 9 trailing zero bits (so `n · LN2_HI` is exact for |n| ≤ 128)
/// and the remainder (Cody–Waite reduction).
const LN2_HI: f32 = 0.693_145_75;
const LN2_LO: f32 = 1.428_606_8e-6;

/// e^x in f32 with no libm call, so that the LSTM's gate loops vectorise (libm's `expf` is an
/// opaque call). With faer's AVX-512 products in between, libm's `expf` took 40 % of a 64-unit
/// kindergarten epoch (perf, 1 thread). It is within 2.5e−7 relative
/// of the exact value on [−87, 88], as the tests below check against f64. Inputs outside that
/// range are clamped to it, and NaN stays NaN.
///
/// Method: `x = n ln 2 + r` with n an integer and |r| ≤ ln 2 / 2, then
/// `e^x = 2^n · Σ_{j≤7} r^j / j!`; the first omitted term is below 5.3e−9 relative.
#[inline(always)]
fn exp_f32(x: f32) -> f32 {
    // `f32::clamp` returns NaN for NaN.
    let x = x.clamp(EXP_MIN, EXP_MAX);

    let shifted = x * std::f32::consts::LOG2_E + ROUND_MAGIC;
    let n = shifted - ROUND_MAGIC;
    let n_bits = shifted.to_bits().wrapping_sub(ROUND_MAGIC.to_bits()) as i32;
    let r = (x - n * LN2_HI) - n * LN2_LO;

    let poly = 1.0
        + r * (1.0
            + r * (1.0 / 2.0
                + r * (1.0 / 6.0 + r * (1.0 / 24.0 + r * (1.0 / 120.0 + r * (1.0 / 720.0 + r * (1.0 / 5040.0)))))));
    let scale = f32::from_bits((n_bits.wrapping_add(127) as u32) << 23);
    poly * scale
}

/// Below this |x|, [`tanh_f32`] uses its Taylor polynomial; the first omitted term,
/// `929569 x¹⁵ / 638512875`, is then below 4e-9 relative.
const TANH_SERIES_LIMIT: f32 = 0.4;

/// tanh in f32 with one `exp` (libm's `tanhf` goes through the slower `expm1f`, and the LSTM
/// evaluates two tanh per unit and step). Within 3e-7 relative of the exact value (checked
/// against f64 in the tests below).
#[inline(always)]
fn tanh_f32(x: f32) -> f32 {
    // Both branches are computed and one is selected, because a data-dependent branch here
    // mispredicts often enough to cost more than the extra arithmetic.
    let magnitude = x.abs();

    // tanh x = x − x³/3 + 2x⁵/15 − 17x⁷/315 + 62x⁹/2835 − 1382x¹¹/155925 + 21844x¹³/6081075.
    let x2 = x * x;
    let series = -1.0 / 3.0
        + x2 * (2.0 / 15.0 + x2 * (-17.0 / 315.0 + x2 * (62.0 / 2835.0 + x2 * (-1382.0 / 155925.0 + x2 * (21844.0 / 6081075.0)))));
    let small = x + x * x2 * series;

    // 1 − 2/(e^{2|x|} + 1); e^{2|x|} = ∞ for large |x| gives exactly 1. NaN stays NaN.
    let large = (1.0 - 2.0 / (exp_f32(2.0 * magnitude) + 1.0)).copysign(x);

    if magnitude < TANH_SERIES_LIMIT {
        small
    } else {
        large
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exp_f32_matches_f64_exp() {
        let mut worst = 0.0f64;
        for i in -870_000..=880_000 {
            let x = i as f32 * 1e-4;
            let exact = (x as f64).exp();
            let got = exp_f32(x) as f64;
            worst = worst.max(((got - exact) / exact).abs());
        }
        assert!(worst < 2.5e-7, "worst relative error {worst:e}");
        assert_eq!(exp_f32(0.0), 1.0);
        assert_eq!(exp_f32(f32::NEG_INFINITY), exp_f32(EXP_MIN));
        assert_eq!(exp_f32(f32::INFINITY), exp_f32(EXP_MAX));
        assert!(exp_f32(EXP_MAX).is_finite());
        assert!(exp_f32(f32::NAN).is_nan());
    }

    #[test]
    fn sigmoid_f32_matches_f64_sigmoid() {
        let mut worst = 0.0f64;
        for i in -200_000..=200_000 {
            let x = i as f32 * 1e-4;
            let exact = 1.0 / (1.0 + (-(x as f64)).exp());
            let got = sigmoid_f32(x) as f64;
            worst = worst.max(((got - exact) / exact).abs());
        }
        assert!(worst < 4e-7, "worst relative error {worst:e}");
        assert_eq!(sigmoid_f32(200.0), 1.0);
        assert!(sigmoid_f32(-200.0) >= 0.0);
        assert!(sigmoid_f32(-200.0) < 1e-37);
        assert!(sigmoid_f32(f32::NAN).is_nan());
    }

    #[test]
    fn tanh_f32_matches_f64_tanh() {
        let mut worst = 0.0f64;
        for i in -200_000..=200_000 {
            let x = i as f32 * 1e-4;
            let exact = (x as f64).tanh();
            let got = tanh_f32(x) as f64;
            if exact != 0.0 {
                worst = worst.max(((got - exact) / exact).abs());
            }
        }
        assert!(worst < 3e-7, "worst relative error {worst:e}");
        assert_eq!(tanh_f32(0.0), 0.0);
        assert_eq!(tanh_f32(100.0), 1.0);
        assert_eq!(tanh_f32(-100.0), -1.0);
        assert_eq!(tanh_f32(f32::INFINITY), 1.0);
        assert!(tanh_f32(f32::NAN).is_nan());
    }
}
