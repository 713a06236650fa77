//! The float type of the trainer: f32 for training, f64 for gradient checks.

use std::fmt::{Debug, Display};
use std::iter::Sum;
use std::ops::{Add, AddAssign, Div, DivAssign, Mul, MulAssign, Neg, Sub, SubAssign};

/// A real scalar (implemented for `f32` and `f64`) with the few functions BPTT needs and a
/// dense matrix product that dispatches to `matrixmultiply`'s `sgemm` or `dgemm`.
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

    /// Computes `C ← α A B + β C` for strided matrices, as `matrixmultiply::{s,d}gemm`.
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
    ($t:ty, $tanh:path, $gemm:path) => {
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
            #[inline]
            fn tanh(self) -> Self {
                $tanh(self)
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
                $gemm(m, k, n, alpha, a, rsa, csa, b, rsb, csb, beta, c, rsc, csc)
            }
        }
    };
}

impl_real!(f32, tanh_f32, matrixmultiply::sgemm);
impl_real!(f64, f64::tanh, matrixmultiply::dgemm);

/// Below this |x|, [`tanh_f32`] uses its Taylor polynomial; the first omitted term,
/// `929569 x¹⁵ / 638512875`, is then below 4e-9 relative.
const TANH_SERIES_LIMIT: f32 = 0.4;

/// tanh in f32 with one `exp` (libm's `tanhf` goes through the slower `expm1f`, and the LSTM
/// evaluates two tanh per unit and step). Within 3e-7 relative of the exact value (checked
/// against f64 in the tests below).
#[inline]
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
    let large = (1.0 - 2.0 / ((2.0 * magnitude).exp() + 1.0)).copysign(x);

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
