//! Slow-manifold analyses on maps with known results: a line attractor, two isolated
//! attractors, and the subspace search's gradient and Jacobian against finite differences.

use nalgebra::{DMatrix, DVector};
use ndarray::{Array1, Array2};
use rand::Rng;

use rnn_dynamics::dynamics::cluster::FeatureKind;
use rnn_dynamics::dynamics::fixed_points::FixedPointOptions;
use rnn_dynamics::dynamics::slow_manifold::{find_slow_features, SlowSearchOptions, SubspaceMap};
use rnn_dynamics::model::{CellKind, CellParams, LstmCell, RecurrentMap};

/// `x' = A x`.
struct Linear(DMatrix<f64>);

impl RecurrentMap for Linear {
    fn state_dim(&self) -> usize {
        self.0.nrows()
    }
    fn input_dim(&self) -> usize {
        1
    }
    fn step(&self, x: &[f64], _u: &[f64], out: &mut [f64]) {
        out.copy_from_slice((&self.0 * DVector::from_column_slice(x)).as_slice());
    }
    fn jacobian(&self, _x: &[f64], _u: &[f64]) -> DMatrix<f64> {
        self.0.clone()
    }
    fn vjp(&self, _x: &[f64], _u: &[f64], v: &[f64], out: &mut [f64]) {
        out.copy_from_slice(self.0.tr_mul(&DVector::from_column_slice(v)).as_slice());
    }
}

/// `x' = (tanh(2 x₁), 0.5 x₂)`: attractors at (±0.9575, 0) and a saddle at the origin.
struct TwoWells;

impl RecurrentMap for TwoWells {
    fn state_dim(&self) -> usize {
        2
    }
    fn input_dim(&self) -> usize {
        1
    }
    fn step(&self, x: &[f64], _u: &[f64], out: &mut [f64]) {
        out[0] = (2.0 * x[0]).tanh();
        out[1] = 0.5 * x[1];
    }
    fn jacobian(&self, x: &[f64], _u: &[f64]) -> DMatrix<f64> {
        let t = (2.0 * x[0]).tanh();
        DMatrix::from_row_slice(2, 2, &[2.0 * (1.0 - t * t), 0.0, 0.0, 0.5])
    }
    fn vjp(&self, x: &[f64], _u: &[f64], v: &[f64], out: &mut [f64]) {
        let t = (2.0 * x[0]).tanh();
        out[0] = 2.0 * (1.0 - t * t) * v[0];
        out[1] = 0.5 * v[1];
    }
}

fn options(eps: f64, min_points: usize) -> SlowSearchOptions {
    SlowSearchOptions { search: FixedPointOptions { dt: 0.05, ..FixedPointOptions::default() }, eps, min_points, line_band: 1e-3 }
}

fn random_starts(n: usize, scale: f64, seed: u64) -> Vec<Vec<f64>> {
    let mut rng = rnn_dynamics::rng::stream(seed, "slow-manifold test starts");
    (0..n).map(|_| vec![rng.gen_range(-scale..scale), rng.gen_range(-scale..scale)]).collect()
}

#[test]
fn line_attractor_is_one_feature() {
    let map = Linear(DMatrix::from_row_slice(2, 2, &[1.0, 0.0, 0.0, 0.5]));
    let starts = random_starts(256, 1.0, 1);
    let search = find_slow_features(&map, &[0.0], &starts, &options(0.05, 5)).unwrap();

    assert_eq!(search.features.len(), 1, "features: {:#?}", search.features);
    let feature = &search.features[0];
    assert_eq!(feature.kind, FeatureKind::LineAttractor);
    assert_eq!(feature.local_dimension, 1);
    assert_eq!(feature.n_starts, 256);
    // The line spans the starts' x₁ range, nearly [−1, 1].
    assert!(feature.extent > 1.9, "extent {}", feature.extent);
    assert!(feature.extent < 2.0, "extent {}", feature.extent);
    // Along the line the eigenvalue is 1, so the main direction is the slowest mode.
    let alignment = feature.alignment.expect("a line has a main direction");
    assert!(alignment > 1.0 - 1e-9, "alignment {alignment}");
    // The slowest finite time constant is that of λ = 0.5: dt/ln 2 seconds.
    let tau = feature.slowest_tau_s.expect("λ = 0.5 is stable");
    assert!((tau - 0.05 / 2f64.ln()).abs() < 1e-9, "tau {tau}");
    assert_eq!(search.n_unassigned_slow, 0);
}

#[test]
fn two_attractors_are_two_features() {
    let starts = random_starts(200, 2.0, 2);
    let search = find_slow_features(&TwoWells, &[0.0], &starts, &options(0.1, 5)).unwrap();

    let attractors: Vec<_> = search.features.iter().filter(|f| f.kind == FeatureKind::Attractor).collect();
    assert_eq!(attractors.len(), 2, "features: {:#?}", search.features);
    let mut centres: Vec<f64> = attractors.iter().map(|f| f.centroid[0]).collect();
    centres.sort_by(f64::total_cmp);
    let well = 0.957_504_024_889_8;
    assert!((centres[0] + well).abs() < 1e-6, "{centres:?}");
    assert!((centres[1] - well).abs() < 1e-6, "{centres:?}");
    for feature in &attractors {
        assert_eq!(feature.local_dimension, 0);
        assert_eq!(feature.points.len(), 1);
    }
    // Any other feature can only be the saddle at the origin.
    for feature in search.features.iter().filter(|f| f.kind != FeatureKind::Attractor) {
        assert_eq!(feature.kind, FeatureKind::Saddle);
        assert!(feature.centroid[0].abs() < 1e-6, "{:?}", feature.centroid);
    }
    assert!(search.features.len() <= 3);
}

#[test]
fn features_reject_bad_eps() {
    let map = Linear(DMatrix::from_row_slice(2, 2, &[1.0, 0.0, 0.0, 0.5]));
    let starts = random_starts(10, 1.0, 3);
    assert!(find_slow_features(&map, &[0.0], &starts, &options(0.0, 5)).is_err());
    assert!(find_slow_features(&map, &[0.0], &starts, &options(0.1, 0)).is_err());
}

/// Builds a random LSTM on an 8-dimensional state and an orthonormal 3-dimensional subspace.
fn lstm_subspace() -> (LstmCell, Array1<f64>, Array2<f64>) {
    let mut rng = rnn_dynamics::rng::stream(7, "subspace test");
    let cell = LstmCell::new(CellParams::random(CellKind::Lstm, 2, 4, 0.7, &mut rng)).unwrap();
    let raw = DMatrix::from_fn(8, 3, |_, _| rng.gen_range(-1.0..1.0));
    let q = raw.qr().q();
    let basis = Array2::from_shape_fn((3, 8), |(row, column)| q[(column, row)]);
    let mean = Array1::from_shape_fn(8, |_| rng.gen_range(-0.3..0.3));
    (cell, mean, basis)
}

#[test]
fn subspace_gradient_matches_differences() {
    let (cell, mean, basis) = lstm_subspace();
    let map = SubspaceMap::new(&cell, mean, basis).unwrap();
    let u = [0.3, -0.2];
    let z = [0.4, -0.7, 0.2];
    let (q, gradient) = map.q_and_gradient(&z, &u);
    assert!(q > 1e-4, "q {q} is too small for a meaningful check");

    let h = 1e-5;
    for k in 0..3 {
        let mut plus = z;
        let mut minus = z;
        plus[k] += h;
        minus[k] -= h;
        let numeric = (map.q_and_gradient(&plus, &u).0 - map.q_and_gradient(&minus, &u).0) / (2.0 * h);
        let relative = (gradient[k] - numeric).abs() / gradient[k].abs().max(1e-12);
        assert!(relative < 1e-6, "component {k}: analytic {} numeric {numeric} (rel. err. {relative:e})", gradient[k]);
    }
}

#[test]
fn subspace_jacobian_matches_differences() {
    let (cell, mean, basis) = lstm_subspace();
    let map = SubspaceMap::new(&cell, mean, basis).unwrap();
    let u = [0.3, -0.2];
    let z = [0.4, -0.7, 0.2];
    let jacobian = map.jacobian(&z, &u);

    let h = 1e-6;
    for k in 0..3 {
        let mut plus = z;
        let mut minus = z;
        plus[k] += h;
        minus[k] -= h;
        let (mut up, mut down) = ([0.0; 3], [0.0; 3]);
        map.step(&plus, &u, &mut up);
        map.step(&minus, &u, &mut down);
        for row in 0..3 {
            let numeric = (up[row] - down[row]) / (2.0 * h);
            assert!((jacobian[(row, k)] - numeric).abs() < 1e-8, "J[{row},{k}] {} vs {numeric}", jacobian[(row, k)]);
        }
    }

    // vjp agrees with the explicit Jacobian.
    let v = [0.5, -1.0, 2.0];
    let mut out = [0.0; 3];
    map.vjp(&z, &u, &v, &mut out);
    let expected = jacobian.tr_mul(&DVector::from_column_slice(&v));
    for k in 0..3 {
        assert!((out[k] - expected[k]).abs() < 1e-12);
    }
}

#[test]
fn subspace_rejects_non_orthonormal_basis() {
    let (cell, mean, mut basis) = lstm_subspace();
    basis[(0, 0)] += 0.1;
    let error = SubspaceMap::new(&cell, mean, basis).err().expect("a skewed basis is invalid").to_string();
    assert!(error.contains("orthonormal"), "{error}");
}
