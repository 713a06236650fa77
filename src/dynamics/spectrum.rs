//! Eigenvalues of a one-step Jacobian, time constants and stability.
//!
//! The map is discrete, so stability is judged from the modulus `|λ|`, never from `Re λ`:
//! `|λ| < 1 − band` is stable, `|λ| > 1 + band` unstable, anything in between marginal. Time
//! constants use the discrete-map convention `τ = −1/ln|λ|` steps (multiplied by `dt` for
//! seconds). This differs from the Euler convention `(λ − 1)/dt` of a sampled ODE, and the
//! two disagree for eigenvalues far from 1.
//!
//! Eigenvalues come from faer (real Schur form with an iteration limit); eigenvectors of the
//! leading modes come from inverse iteration.
//! nalgebra's `complex_eigenvalues` is not used: it has no iteration limit and can hang, for
//! example on a cyclic permutation matrix.

use nalgebra::DMatrix;
use num_complex::Complex64;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// Settings for [`spectrum`].
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct SpectrumOptions {
    /// Half-width of the marginal band around `|λ| = 1` (default 1e-6).
    pub stability_band: f64,
    /// Seconds per step, used for time constants and periods in seconds (default 1).
    pub dt: f64,
    /// Number of leading modes (by modulus) whose eigenvectors are kept (default 3).
    pub n_eigenvectors: usize,
}

impl Default for SpectrumOptions {
    fn default() -> Self {
        SpectrumOptions { stability_band: 1e-6, dt: 1.0, n_eigenvectors: 3 }
    }
}

impl SpectrumOptions {
    /// Checks that the band is finite and non-negative and that `dt` is finite and positive.
    pub fn validate(&self) -> Result<()> {
        if !(self.stability_band.is_finite() && self.stability_band >= 0.0) {
            return Err(Error::invalid(
                "stability band",
                format!("{} (expected a finite number >= 0)", self.stability_band),
            ));
        }
        if !(self.dt.is_finite() && self.dt > 0.0) {
            return Err(Error::invalid("dt", format!("{} s (expected a finite number > 0)", self.dt)));
        }
        Ok(())
    }
}

/// Stability of one mode, or of a whole point (its least stable mode).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Stability {
    Stable,
    Marginal,
    Unstable,
}

/// One eigenvalue with its time scales.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Mode {
    /// Eigenvalue as `[re, im]`.
    pub eigenvalue: [f64; 2],
    /// Modulus `|λ|`.
    pub modulus: f64,
    /// Stability of this mode from `|λ|` and the band.
    pub stability: Stability,
    /// Decay time `−1/ln|λ|` in steps for stable modes, zero for `λ = 0`. `None` for
    /// marginal modes (τ = ∞) and unstable ones.
    pub tau_steps: Option<f64>,
    /// `tau_steps · dt`.
    pub tau_seconds: Option<f64>,
    /// Growth time `1/ln|λ|` in steps for unstable modes, else `None`.
    pub growth_steps: Option<f64>,
    /// `growth_steps · dt`.
    pub growth_seconds: Option<f64>,
    /// Oscillation period `2π/|arg λ|` in steps for complex and negative real eigenvalues
    /// (2 steps for the latter), else `None`.
    pub period_steps: Option<f64>,
    /// `period_steps · dt`.
    pub period_seconds: Option<f64>,
    /// True for a negative real eigenvalue: the mode flips sign every step (period 2).
    pub sign_flip: bool,
    /// Right eigenvector as `[re, im]` pairs, unit Euclidean norm, phase chosen so that its
    /// largest-modulus component is real and positive. Only for the leading modes.
    pub eigenvector: Option<Vec<[f64; 2]>>,
}

/// All eigenvalues of a Jacobian, sorted by modulus descending, with their modes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Spectrum {
    /// Eigenvalues as `[re, im]`, sorted by modulus descending, then real part descending,
    /// then imaginary part descending.
    pub eigenvalues: Vec<[f64; 2]>,
    /// One mode per eigenvalue, in the same order.
    pub modes: Vec<Mode>,
    /// Unstable if any mode is unstable, else marginal if any is marginal, else stable.
    pub stability: Stability,
    /// Number of unstable directions (modes with `|λ| > 1 + band`).
    pub n_unstable: usize,
    /// Number of modes inside the marginal band.
    pub n_marginal: usize,
}

/// Classifies a modulus `|λ|` against the band around 1.
pub fn classify_modulus(modulus: f64, band: f64) -> Stability {
    if modulus < 1.0 - band {
        Stability::Stable
    } else if modulus > 1.0 + band {
        Stability::Unstable
    } else {
        Stability::Marginal
    }
}

/// Builds the mode of one eigenvalue (without eigenvector).
pub fn mode_of(lambda: Complex64, opts: &SpectrumOptions) -> Mode {
    let modulus = lambda.norm();
    let stability = classify_modulus(modulus, opts.stability_band);
    let log_modulus = modulus.ln();

    let (tau_steps, growth_steps) = match stability {
        Stability::Stable => (Some(-1.0 / log_modulus), None),
        Stability::Marginal => (None, None),
        Stability::Unstable => (None, Some(1.0 / log_modulus)),
    };

    // A real eigenvalue has im exactly 0 here because faer's real Schur path returns real
    // eigenvalues with a zero imaginary part.
    let sign_flip = lambda.im == 0.0 && lambda.re < 0.0;
    let angle = lambda.im.atan2(lambda.re).abs();
    let period_steps = if lambda.im != 0.0 || sign_flip {
        Some(2.0 * std::f64::consts::PI / angle)
    } else {
        None
    };

    let seconds = |steps: Option<f64>| steps.map(|s| s * opts.dt);
    Mode {
        eigenvalue: [lambda.re, lambda.im],
        modulus,
        stability,
        tau_steps,
        tau_seconds: seconds(tau_steps),
        growth_steps,
        growth_seconds: seconds(growth_steps),
        period_steps,
        period_seconds: seconds(period_steps),
        sign_flip,
        eigenvector: None,
    }
}

/// Computes the eigenvalues and right eigenvectors of a real square matrix with faer,
/// sorted by modulus descending, then real part and imaginary part descending. Element `k` of
/// the second list is the eigenvector of eigenvalue `k`, normalised as in [`Mode::eigenvector`].
///
/// Errors on an empty or non-square matrix, non-finite entries, or when the QR iteration
/// does not converge within faer's iteration limit.
pub fn eigen_sorted(matrix: &DMatrix<f64>) -> Result<(Vec<Complex64>, Vec<Vec<Complex64>>)> {
    let n = check_square_finite(matrix)?;
    let faer_matrix = faer::Mat::<f64>::from_fn(n, n, |i, j| matrix[(i, j)]);
    let eigen = faer_matrix
        .eigen()
        .map_err(|e| Error::Numerical(format!("eigendecomposition of a {n}×{n} jacobian failed ({e:?})")))?;

    let values: Vec<Complex64> = eigen.S().column_vector().iter().copied().collect();
    let vectors = eigen.U();

    let order = spectral_order(&values);
    let sorted_values = order.iter().map(|&k| values[k]).collect();
    let sorted_vectors = order
        .iter()
        .map(|&k| {
            let column: Vec<Complex64> = (0..n).map(|i| vectors[(i, k)]).collect();
            normalise_eigenvector(column)
        })
        .collect();
    Ok((sorted_values, sorted_vectors))
}

/// Returns the eigenvalues of a real square matrix (faer, without eigenvectors), sorted as in
/// [`eigen_sorted`]. The QR iteration without Schur vectors costs about half as much.
pub fn eigenvalues_sorted(matrix: &DMatrix<f64>) -> Result<Vec<Complex64>> {
    let n = check_square_finite(matrix)?;
    let faer_matrix = faer::Mat::<f64>::from_fn(n, n, |i, j| matrix[(i, j)]);
    let values = faer_matrix
        .eigenvalues()
        .map_err(|e| Error::Numerical(format!("eigenvalues of a {n}×{n} jacobian failed ({e:?})")))?;
    Ok(spectral_order(&values).iter().map(|&k| values[k]).collect())
}

/// Returns the right eigenvector of `matrix` for its eigenvalue `lambda`, normalised as in
/// [`Mode::eigenvector`], by inverse iteration.
///
/// One complex LU factorisation at the shift `μ = λ + 1e-12 (1 + |λ|)` serves three solves
/// `(A − μI) v_{k+1} = v_k`. The shift keeps `A − μI` from being exactly singular. Each solve
/// shrinks the other eigenvectors' components by `|λ − μ| / |λ' − μ|`. Three solves therefore
/// reach round-off unless another eigenvalue lies within about 1e-8 of `λ`, where the
/// eigenvector is ill-conditioned anyway.
pub fn eigenvector_by_inverse_iteration(matrix: &DMatrix<f64>, lambda: Complex64) -> Vec<Complex64> {
    use faer::linalg::solvers::Solve;

    let n = matrix.nrows();
    let shift = lambda + Complex64::new(1e-12 * (1.0 + lambda.norm()), 0.0);
    let shifted = faer::Mat::<Complex64>::from_fn(n, n, |i, j| {
        let a = Complex64::new(matrix[(i, j)], 0.0);
        if i == j {
            a - shift
        } else {
            a
        }
    });
    let lu = shifted.partial_piv_lu();

    // A fixed start with no special direction, so the result is deterministic.
    let mut v = faer::Mat::<Complex64>::from_fn(n, 1, |i, _| Complex64::new(1.0 + (i as f64) / (n as f64), 0.5));
    for _ in 0..3 {
        lu.solve_in_place(v.as_mut());
        let norm = (0..n).map(|i| v[(i, 0)].norm_sqr()).sum::<f64>().sqrt();
        if !(norm.is_finite() && norm > 0.0) {
            break;
        }
        for i in 0..n {
            v[(i, 0)] /= norm;
        }
    }
    normalise_eigenvector((0..n).map(|i| v[(i, 0)]).collect())
}

/// Checks that `matrix` is square, non-empty and finite, and returns its size.
fn check_square_finite(matrix: &DMatrix<f64>) -> Result<usize> {
    let n = matrix.nrows();
    if n == 0 || matrix.ncols() != n {
        return Err(Error::invalid(
            "jacobian",
            format!("{}×{} matrix (expected a non-empty square matrix)", n, matrix.ncols()),
        ));
    }
    if let Some(bad) = matrix.iter().find(|v| !v.is_finite()) {
        return Err(Error::Numerical(format!("jacobian has a non-finite entry ({bad})")));
    }
    Ok(n)
}

/// Returns the indices of `values` sorted by modulus descending, then real part and
/// imaginary part descending.
fn spectral_order(values: &[Complex64]) -> Vec<usize> {
    let mut order: Vec<usize> = (0..values.len()).collect();
    order.sort_by(|&a, &b| {
        let (la, lb) = (values[a], values[b]);
        lb.norm()
            .total_cmp(&la.norm())
            .then(lb.re.total_cmp(&la.re))
            .then(lb.im.total_cmp(&la.im))
    });
    order
}

/// Scales to unit norm and rotates the phase so that the largest-modulus component (the first
/// one on ties) is real and positive, so that conjugate eigenvalues get conjugate vectors.
fn normalise_eigenvector(mut v: Vec<Complex64>) -> Vec<Complex64> {
    let norm = v.iter().map(|c| c.norm_sqr()).sum::<f64>().sqrt();
    let mut pivot = Complex64::new(0.0, 0.0);
    for c in &v {
        if c.norm() > pivot.norm() {
            pivot = *c;
        }
    }
    if norm == 0.0 || pivot.norm() == 0.0 {
        return v;
    }

    let phase = pivot.conj() / pivot.norm();
    for c in v.iter_mut() {
        *c = *c * phase / norm;
    }
    v
}

/// Computes the spectrum of a one-step Jacobian: sorted eigenvalues, one [`Mode`] each,
/// eigenvectors of the leading `opts.n_eigenvectors` modes, and the point's stability.
pub fn spectrum(jacobian: &DMatrix<f64>, opts: &SpectrumOptions) -> Result<Spectrum> {
    opts.validate()?;
    let values = eigenvalues_sorted(jacobian)?;

    // Eigenvectors of the leading modes only. The second of a conjugate pair (sorted next to
    // each other, positive imaginary part first) takes the conjugate of the first's vector.
    let mut modes: Vec<Mode> = values.iter().map(|&lambda| mode_of(lambda, opts)).collect();
    let mut previous: Option<(Complex64, Vec<Complex64>)> = None;
    for (mode, &lambda) in modes.iter_mut().zip(&values).take(opts.n_eigenvectors) {
        let vector = match &previous {
            Some((prev, v)) if lambda.im < 0.0 && *prev == lambda.conj() => v.iter().map(|c| c.conj()).collect(),
            _ => eigenvector_by_inverse_iteration(jacobian, lambda),
        };
        mode.eigenvector = Some(vector.iter().map(|c| [c.re, c.im]).collect());
        previous = Some((lambda, vector));
    }

    let n_unstable = modes.iter().filter(|m| m.stability == Stability::Unstable).count();
    let n_marginal = modes.iter().filter(|m| m.stability == Stability::Marginal).count();
    let stability = if n_unstable > 0 {
        Stability::Unstable
    } else if n_marginal > 0 {
        Stability::Marginal
    } else {
        Stability::Stable
    };

    Ok(Spectrum {
        eigenvalues: values.iter().map(|c| [c.re, c.im]).collect(),
        modes,
        stability,
        n_unstable,
        n_marginal,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand_distr::{Distribution, StandardNormal};

    fn close(a: f64, b: f64, tol: f64) -> bool {
        (a - b).abs() <= tol
    }

    fn residual(matrix: &DMatrix<f64>, lambda: Complex64, v: &[Complex64]) -> f64 {
        let n = matrix.nrows();
        let mut worst: f64 = 0.0;
        for i in 0..n {
            let mut av = Complex64::new(0.0, 0.0);
            for j in 0..n {
                av += v[j] * matrix[(i, j)];
            }
            worst = worst.max((av - lambda * v[i]).norm());
        }
        worst
    }

    #[test]
    fn complex_pair_of_schur_block() {
        let a = DMatrix::from_row_slice(2, 2, &[2.78, 12.89, -6.97, 3.14]);
        let (values, vectors) = eigen_sorted(&a).unwrap();

        assert!(close(values[0].re, 2.96, 1e-12), "{:?}", values);
        assert!(close(values[0].im, 9.4769, 1e-4), "{:?}", values);
        assert!(close(values[0].norm(), 9.9284, 1e-4), "{:?}", values);
        assert_eq!(values[1], values[0].conj());

        for (lambda, v) in values.iter().zip(&vectors) {
            assert!(residual(&a, *lambda, v) < 1e-6);
        }
        for (v0, v1) in vectors[0].iter().zip(&vectors[1]) {
            assert!((*v0 - v1.conj()).norm() < 1e-12, "{:?} vs {:?}", vectors[0], vectors[1]);
        }
    }

    #[test]
    fn near_symmetric_f32_matrix_is_real() {
        let entries: [f32; 4] = [2.5000002, -1.4999999, -1.4999999, 2.4999998];
        let b = DMatrix::from_row_slice(2, 2, &entries.map(f64::from));
        let (values, vectors) = eigen_sorted(&b).unwrap();

        assert!(values.iter().all(|c| c.re.is_finite() && c.im.is_finite()));
        assert!(close(values[0].re, 4.0, 1e-6), "{:?}", values);
        assert!(close(values[1].re, 1.0, 1e-6), "{:?}", values);
        assert_eq!(values[0].im, 0.0);
        assert_eq!(values[1].im, 0.0);
        for (lambda, v) in values.iter().zip(&vectors) {
            assert!(residual(&b, *lambda, v) < 1e-6);
        }
    }

    /// τ = −1/ln|λ| steps for λ ∈ {0.9, 0.99, −0.5, 1, 1.05, 0.8 + 0.8i}, worked out by hand.
    #[test]
    fn time_constants_table() {
        let opts = SpectrumOptions::default();
        let mode = |re: f64, im: f64| mode_of(Complex64::new(re, im), &opts);

        let m = mode(0.9, 0.0);
        assert!(close(m.tau_steps.unwrap(), 9.491, 1e-3));
        assert_eq!(m.stability, Stability::Stable);
        assert_eq!(m.period_steps, None);

        let m = mode(0.99, 0.0);
        assert!(close(m.tau_steps.unwrap(), 99.50, 1e-2));

        let m = mode(-0.5, 0.0);
        assert!(close(m.tau_steps.unwrap(), 1.4427, 1e-4));
        assert!(m.sign_flip);
        assert_eq!(m.period_steps, Some(2.0));

        let m = mode(1.0, 0.0);
        assert_eq!(m.stability, Stability::Marginal);
        assert_eq!(m.tau_steps, None);
        assert_eq!(m.growth_steps, None);

        let m = mode(1.05, 0.0);
        assert_eq!(m.stability, Stability::Unstable);
        assert_eq!(m.tau_steps, None);
        assert!(close(m.growth_steps.unwrap(), 20.496, 1e-3));

        let m = mode(0.8, 0.8);
        assert!(close(m.modulus, 1.1314, 1e-4));
        assert_eq!(m.stability, Stability::Unstable);
        assert!(close(m.growth_steps.unwrap(), 8.1018, 1e-3));
        assert!(close(m.period_steps.unwrap(), 8.0, 1e-12));
        assert!(!m.sign_flip);
    }

    #[test]
    fn seconds_scale_with_dt() {
        let opts = SpectrumOptions { dt: 0.05, ..SpectrumOptions::default() };
        let m = mode_of(Complex64::new(0.9, 0.0), &opts);
        assert!(close(m.tau_seconds.unwrap(), 0.05 * m.tau_steps.unwrap(), 1e-15));
    }

    /// Stability comes from |λ|, not Re λ, and |λ| = 1 ± 1e-9 is marginal by the band, not by
    /// an exact comparison.
    #[test]
    fn stability_uses_modulus_and_band() {
        let opts = SpectrumOptions::default();
        assert_eq!(mode_of(Complex64::new(-1.2, 0.0), &opts).stability, Stability::Unstable);
        assert_eq!(mode_of(Complex64::new(0.8, 0.8), &opts).stability, Stability::Unstable);
        assert_eq!(mode_of(Complex64::new(1.0 + 1e-9, 0.0), &opts).stability, Stability::Marginal);
        assert_eq!(mode_of(Complex64::new(1.0 - 1e-9, 0.0), &opts).stability, Stability::Marginal);
        assert_eq!(mode_of(Complex64::new(1.0 - 1e-5, 0.0), &opts).stability, Stability::Stable);

        let j = DMatrix::from_row_slice(2, 2, &[-1.2, 0.0, 0.0, 0.5]);
        let s = spectrum(&j, &opts).unwrap();
        assert_eq!(s.stability, Stability::Unstable);
        assert_eq!(s.n_unstable, 1);
    }

    #[test]
    fn cyclic_permutation_finishes() {
        let n = 8;
        let p = DMatrix::from_fn(n, n, |i, j| if j == (i + 1) % n { 1.0 } else { 0.0 });
        let s = spectrum(&p, &SpectrumOptions::default()).unwrap();

        assert_eq!(s.eigenvalues.len(), n);
        assert_eq!(s.n_marginal, n);
        assert_eq!(s.stability, Stability::Marginal);
        for m in &s.modes {
            assert!(close(m.modulus, 1.0, 1e-12));
        }
    }

    #[test]
    fn random_64_eigenpairs_hold() {
        let n = 64;
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(3);
        let a = DMatrix::from_fn(n, n, |_, _| {
            let x: f64 = StandardNormal.sample(&mut rng);
            x / (n as f64).sqrt()
        });
        let (values, vectors) = eigen_sorted(&a).unwrap();

        for w in values.windows(2) {
            assert!(w[0].norm() >= w[1].norm());
        }
        for (lambda, v) in values.iter().zip(&vectors) {
            assert!(residual(&a, *lambda, v) < 1e-10, "λ = {lambda}");
        }
        for (k, lambda) in values.iter().enumerate() {
            if lambda.im != 0.0 {
                let partner = values.iter().filter(|c| **c == lambda.conj()).count();
                assert_eq!(partner, 1, "eigenvalue {k} = {lambda} has no exact conjugate");
            }
        }
        let trace: f64 = (0..n).map(|i| a[(i, i)]).sum();
        let sum: f64 = values.iter().map(|c| c.re).sum();
        assert!(close(trace, sum, 1e-10));
    }

    #[test]
    fn leading_eigenvectors_match_full_decomposition() {
        let n = 64;
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(5);
        let a = DMatrix::from_fn(n, n, |_, _| {
            let x: f64 = StandardNormal.sample(&mut rng);
            x / (n as f64).sqrt()
        });
        let (values, vectors) = eigen_sorted(&a).unwrap();
        let opts = SpectrumOptions { n_eigenvectors: 8, ..SpectrumOptions::default() };
        let spec = spectrum(&a, &opts).unwrap();

        for k in 0..8 {
            let got: Vec<Complex64> =
                spec.modes[k].eigenvector.as_ref().unwrap().iter().map(|c| Complex64::new(c[0], c[1])).collect();
            let expected_lambda = Complex64::new(spec.eigenvalues[k][0], spec.eigenvalues[k][1]);
            assert!((expected_lambda - values[k]).norm() < 1e-12, "eigenvalue {k}");
            assert!(residual(&a, values[k], &got) < 1e-10, "residual of mode {k}");
            let gap: f64 = got.iter().zip(&vectors[k]).map(|(x, y)| (x - y).norm()).fold(0.0, f64::max);
            assert!(gap < 1e-8, "mode {k} differs from the full decomposition by {gap}");
        }
        assert!(spec.modes[8].eigenvector.is_none());
    }

    #[test]
    fn bad_matrices_are_errors() {
        let opts = SpectrumOptions::default();
        assert!(spectrum(&DMatrix::zeros(0, 0), &opts).is_err());
        assert!(spectrum(&DMatrix::zeros(2, 3), &opts).is_err());
        let nan = DMatrix::from_row_slice(2, 2, &[1.0, f64::NAN, 0.0, 1.0]);
        let message = spectrum(&nan, &opts).unwrap_err().to_string();
        assert!(message.contains("non-finite"), "{message}");
        let bad_dt = SpectrumOptions { dt: 0.0, ..opts };
        assert!(spectrum(&DMatrix::identity(2, 2), &bad_dt).is_err());
    }
}
