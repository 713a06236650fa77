//! Fault classes of fixed-point tools: dedup that merges or drops points, outlier removal
//! that deletes attractors, Newton-less searches that stop short of true fixed points,
//! PyTorch gate conventions, NaN loops, and nondeterminism across thread counts.

mod common;

use argmin::core::{CostFunction, Gradient};
use nalgebra::{DMatrix, DVector};
use rnn_dynamics::dynamics::fixed_points::problem::ResidualProblem;
use rnn_dynamics::dynamics::fixed_points::{
    find_fixed_points, random_starts, starts_from_pulses, starts_from_states, FixedPointOptions,
    FixedPointReport, PointKind, PulseSettings, StartOutcome,
};
use rnn_dynamics::dynamics::spectrum::Stability;
use rnn_dynamics::io::{read_tensor_file, Tensor};
use rnn_dynamics::model::RecurrentMap;

use common::maps::{fixture, load_gru, load_tanh_rnn, Gru, LinearMap, TanhRnn};

/// `h' = tanh(2h)`: fixed points 0 (λ = 2) and ±0.9575040240772688 (λ = 2(1 − h²)).
fn tanh_two() -> TanhRnn {
    TanhRnn {
        w_ih: DMatrix::zeros(1, 1),
        w_hh: DMatrix::from_element(1, 1, 2.0),
        bias: DVector::zeros(1),
    }
}

fn grid(from: f64, to: f64, n: usize) -> Vec<Vec<f64>> {
    (0..n).map(|i| vec![from + (to - from) * i as f64 / (n - 1) as f64]).collect()
}

fn sorted_coordinates(report: &FixedPointReport) -> Vec<f64> {
    let mut xs: Vec<f64> = report.points.iter().map(|p| p.x[0]).collect();
    xs.sort_by(f64::total_cmp);
    xs
}

fn central_difference_jacobian(map: &dyn RecurrentMap, x: &[f64], u: &[f64]) -> DMatrix<f64> {
    let n = x.len();
    let eps = 1e-6;
    let mut j = DMatrix::zeros(n, n);
    let (mut plus, mut minus) = (vec![0.0; n], vec![0.0; n]);
    for m in 0..n {
        let mut xp = x.to_vec();
        let mut xm = x.to_vec();
        xp[m] += eps;
        xm[m] -= eps;
        map.step(&xp, u, &mut plus);
        map.step(&xm, u, &mut minus);
        for k in 0..n {
            j[(k, m)] = (plus[k] - minus[k]) / (2.0 * eps);
        }
    }
    j
}

fn random_gru(hidden: usize, inputs: usize, scale: f64) -> Gru {
    let mut state = 12345u64;
    let mut next = move || {
        state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        ((state >> 11) as f64 / (1u64 << 53) as f64 - 0.5) * 2.0 * scale
    };
    Gru {
        w_ih: DMatrix::from_fn(3 * hidden, inputs, |_, _| next()),
        w_hh: DMatrix::from_fn(3 * hidden, hidden, |_, _| next()),
        b_ih: DVector::from_fn(3 * hidden, |_, _| next()),
        b_hh: DVector::from_fn(3 * hidden, |_, _| next()),
    }
}

#[test]
fn test_maps_match_finite_differences() {
    let gru = random_gru(5, 2, 0.8);
    let rnn = TanhRnn {
        w_ih: DMatrix::from_fn(4, 2, |i, j| 0.3 * (i as f64) - 0.2 * (j as f64)),
        w_hh: DMatrix::from_fn(4, 4, |i, j| ((i * 4 + j) as f64 * 0.7).sin()),
        bias: DVector::from_fn(4, |i, _| 0.1 * i as f64),
    };
    let cases: [(&dyn RecurrentMap, Vec<f64>); 2] =
        [(&gru, vec![0.3, -0.2, 0.5, 0.1, -0.4]), (&rnn, vec![0.2, -0.1, 0.4, -0.3])];

    for (map, x) in cases {
        let u = [0.7, -0.3];
        let analytic = map.jacobian(&x, &u);
        let numeric = central_difference_jacobian(map, &x, &u);
        assert!((&analytic - &numeric).amax() < 1e-8, "jacobian off by {}", (&analytic - &numeric).amax());

        let v: Vec<f64> = (0..x.len()).map(|i| 0.5 - 0.3 * i as f64).collect();
        let mut vjp = vec![0.0; x.len()];
        map.vjp(&x, &u, &v, &mut vjp);
        let expected = analytic.tr_mul(&DVector::from_column_slice(&v));
        for (a, b) in vjp.iter().zip(expected.iter()) {
            assert!((a - b).abs() < 1e-12);
        }
    }
}

#[test]
fn q_gradient_matches_finite_differences() {
    let gru = random_gru(6, 2, 0.9);
    let u = [0.4, -0.6];
    let problem = ResidualProblem::new(&gru, &u);
    let x = DVector::from_vec(vec![0.1, -0.3, 0.2, 0.6, -0.5, 0.05]);
    let gradient = problem.gradient(&x).unwrap();

    let eps = 1e-6;
    for m in 0..x.len() {
        let mut xp = x.clone();
        let mut xm = x.clone();
        xp[m] += eps;
        xm[m] -= eps;
        let numeric = (problem.cost(&xp).unwrap() - problem.cost(&xm).unwrap()) / (2.0 * eps);
        assert!((gradient[m] - numeric).abs() < 1e-8, "coordinate {m}: {} vs {numeric}", gradient[m]);
    }
}

/// Outlier removal after dedup deletes both stable points of tanh(2h) (they lie 1.915
/// apart). All three points must be reported.
#[test]
fn tanh_two_keeps_all_three_points() {
    let map = tanh_two();
    let report = find_fixed_points(&map, &[0.0], &grid(-2.0, 2.0, 41), &FixedPointOptions::default(), None).unwrap();

    let xs = sorted_coordinates(&report);
    assert_eq!(xs.len(), 3, "points at {xs:?}");
    assert!((xs[0] + 0.9575040240772688).abs() < 1e-12);
    assert!(xs[1].abs() < 1e-12);
    assert!((xs[2] - 0.9575040240772688).abs() < 1e-12);

    for point in &report.points {
        assert!(point.q < 1e-20, "q = {} at {:?}", point.q, point.x);
        let lambda = point.spectrum.eigenvalues[0][0];
        if point.x[0].abs() < 0.5 {
            assert!((lambda - 2.0).abs() < 1e-12);
            assert_eq!(point.spectrum.stability, Stability::Unstable);
            assert_eq!(point.spectrum.n_unstable, 1);
        } else {
            assert!((lambda - 0.16637208775167).abs() < 1e-10);
            assert_eq!(point.spectrum.stability, Stability::Stable);
        }
    }

    let absorbed: usize = report.points.iter().map(|p| p.starts.len()).sum();
    assert_eq!(absorbed, report.count_starts(StartOutcome::Fixed));
}

/// Three isolated points, each reached from one start, stay three points.
#[test]
fn isolated_points_each_hit_once() {
    let map = tanh_two();
    let starts = vec![vec![-1.3], vec![0.01], vec![1.3]];
    let report = find_fixed_points(&map, &[0.0], &starts, &FixedPointOptions::default(), None).unwrap();

    assert_eq!(report.points.len(), 3);
    for point in &report.points {
        assert_eq!(point.starts.len(), 1);
        assert_eq!(report.starts[point.starts[0]].point, Some(report.points.iter().position(|p| p == point).unwrap()));
    }
}

#[test]
fn report_states_duplicate_radius() {
    let map = tanh_two();
    let opts = FixedPointOptions { duplicate_radius: 0.02, ..FixedPointOptions::default() };
    let report = find_fixed_points(&map, &[0.0], &[vec![0.5]], &opts, None).unwrap();
    let json = serde_json::to_value(&report).unwrap();

    assert_eq!(json["options"]["duplicate_radius"], 0.02);
    assert_eq!(json["options"]["fixed_tol"], 1e-12);
    assert_eq!(json["format"], "rnn-dynamics/fixed-points/1");
    let back: FixedPointReport = serde_json::from_value(json).unwrap();
    assert_eq!(back, report);
}

/// A PyTorch GRU whose only gate bias is b_z = 8: the fixed point h = 0 has λ = σ(8). A
/// (z, r, n) misreading would give 0.5.
#[test]
fn gru_gate_order_fixture() {
    let map = load_gru(&fixture("gru_gate_order.safetensors"), "");
    let report = find_fixed_points(&map, &[0.0], &grid(-2.0, 2.0, 41), &FixedPointOptions::default(), None).unwrap();

    assert_eq!(report.count(PointKind::Fixed), 1, "{:?}", sorted_coordinates(&report));
    let point = &report.points[0];
    assert!(point.x[0].abs() < 1e-9);
    assert!((point.spectrum.eigenvalues[0][0] - 0.9996646498695336).abs() < 1e-12);
    let tau = point.spectrum.modes[0].tau_steps.unwrap();
    assert!((tau - 2981.0).abs() < 1.0, "τ = {tau}");
}

/// A PyTorch GRU with b_hn = 2 inside the reset product: h* = tanh(2σ(−10)), λ = 0.5.
#[test]
fn gru_reset_bias_fixture() {
    let map = load_gru(&fixture("gru_bhn.safetensors"), "");
    let report = find_fixed_points(&map, &[0.0], &grid(-2.0, 2.0, 41), &FixedPointOptions::default(), None).unwrap();

    assert_eq!(report.points.len(), 1);
    let point = &report.points[0];
    assert!((point.x[0] - 9.079573715536615e-5).abs() < 1e-12);
    assert!((point.spectrum.eigenvalues[0][0] - 0.5).abs() < 1e-9);
}

/// A linear map has one fixed point x* = (I − A)⁻¹ (B u + c), found to rounding accuracy,
/// with A's spectrum, including a complex pair.
#[test]
fn linear_map_fixed_point() {
    let a = DMatrix::from_row_slice(3, 3, &[0.5, -0.6, 0.0, 0.6, 0.5, 0.0, 0.1, 0.2, -0.3]);
    let map = LinearMap {
        a: a.clone(),
        b: DMatrix::from_row_slice(3, 1, &[1.0, 0.0, -1.0]),
        c: DVector::from_vec(vec![0.2, -0.1, 0.3]),
    };
    let u = [0.5];
    let expected = (DMatrix::identity(3, 3) - &a).lu().solve(&(&map.b * DVector::from_vec(u.to_vec()) + &map.c)).unwrap();
    let starts = random_starts(3, 16, 2.0, 7).unwrap();
    let report = find_fixed_points(&map, &u, &starts, &FixedPointOptions::default(), None).unwrap();

    assert_eq!(report.points.len(), 1);
    let point = &report.points[0];
    for k in 0..3 {
        assert!((point.x[k] - expected[k]).abs() < 1e-12);
    }
    let lambda = point.spectrum.eigenvalues[0];
    assert!((lambda[0] - 0.5).abs() < 1e-12);
    assert!((lambda[1].abs() - 0.6).abs() < 1e-12);
    assert_eq!(point.spectrum.eigenvalues[1], [lambda[0], -lambda[1]]);
    assert_eq!(point.spectrum.stability, Stability::Stable);
}

/// `x' = x + 0.001 + x²` never has F(x) = x; q has a minimum of 5e-7 at x = 0, a slow point
/// with speed 0.001 per step.
#[test]
fn slow_point_is_reported_as_slow() {
    struct Ghost;
    impl RecurrentMap for Ghost {
        fn state_dim(&self) -> usize {
            1
        }
        fn input_dim(&self) -> usize {
            0
        }
        fn step(&self, x: &[f64], _u: &[f64], out: &mut [f64]) {
            out[0] = x[0] + 0.001 + x[0] * x[0];
        }
        fn jacobian(&self, x: &[f64], _u: &[f64]) -> DMatrix<f64> {
            DMatrix::from_element(1, 1, 1.0 + 2.0 * x[0])
        }
        fn vjp(&self, x: &[f64], _u: &[f64], v: &[f64], out: &mut [f64]) {
            out[0] = (1.0 + 2.0 * x[0]) * v[0];
        }
    }

    let opts = FixedPointOptions { dt: 0.05, ..FixedPointOptions::default() };
    let report = find_fixed_points(&Ghost, &[], &[vec![0.3], vec![-0.2]], &opts, None).unwrap();

    assert_eq!(report.points.len(), 1);
    let point = &report.points[0];
    assert_eq!(point.kind, PointKind::Slow);
    assert!(point.x[0].abs() < 1e-3, "x = {}", point.x[0]);
    assert!((point.speed_per_step - 0.001).abs() < 1e-6);
    assert!((point.speed_per_second - 0.02).abs() < 1e-4);
    assert_eq!(point.spectrum.stability, Stability::Marginal);
}

/// A map that overflows to infinity away from 0: the search must end (no NaN loop) and
/// report the start instead of a point.
#[test]
fn overflowing_map_terminates() {
    struct Blowup;
    impl RecurrentMap for Blowup {
        fn state_dim(&self) -> usize {
            2
        }
        fn input_dim(&self) -> usize {
            0
        }
        fn step(&self, x: &[f64], _u: &[f64], out: &mut [f64]) {
            for k in 0..2 {
                out[k] = 1.0 + (x[k] * x[k] * 400.0).exp();
            }
        }
        fn jacobian(&self, x: &[f64], _u: &[f64]) -> DMatrix<f64> {
            DMatrix::from_fn(2, 2, |i, j| if i == j { 800.0 * x[i] * (x[i] * x[i] * 400.0).exp() } else { 0.0 })
        }
        fn vjp(&self, x: &[f64], _u: &[f64], v: &[f64], out: &mut [f64]) {
            for k in 0..2 {
                out[k] = 800.0 * x[k] * (x[k] * x[k] * 400.0).exp() * v[k];
            }
        }
    }

    let starts = vec![vec![0.5, 0.5], vec![1.5, -1.0], vec![30.0, 0.0]];
    let report = find_fixed_points(&Blowup, &[], &starts, &FixedPointOptions::default(), None).unwrap();

    assert_eq!(report.starts.len(), 3);
    assert_eq!(report.starts[2].outcome, StartOutcome::Failed);
    assert!(report.starts[2].termination.contains("not finite"), "{}", report.starts[2].termination);
    for record in &report.starts {
        assert_ne!(record.termination, "");
        assert!(record.iterations <= 500);
    }
    for point in &report.points {
        assert!(point.q.is_finite());
    }
}

#[test]
fn same_result_for_any_thread_count() {
    let map = load_tanh_rnn(&fixture("flipflop_rnn64.safetensors"), "rnn.");
    let states = read_tensor_file(&fixture("flipflop_rnn64_states.safetensors")).unwrap();
    let starts = starts_from_states(states.get("states").unwrap(), 64, 96, 0.05, 3).unwrap();
    let opts = FixedPointOptions::default();

    let run = |threads: usize| {
        let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap();
        let report = pool.install(|| find_fixed_points(&map, &[0.0; 3], &starts, &opts, None).unwrap());
        serde_json::to_string(&report).unwrap()
    };
    assert_eq!(run(1), run(3));
}

#[test]
fn progress_counts_every_start() {
    let bar = indicatif::ProgressBar::hidden();
    let map = tanh_two();
    find_fixed_points(&map, &[0.0], &grid(-1.0, 1.0, 9), &FixedPointOptions::default(), Some(&bar)).unwrap();
    assert_eq!(bar.position(), 9);
}

#[test]
fn bad_arguments_are_plain_errors() {
    let map = tanh_two();
    let opts = FixedPointOptions::default();
    let message = |result: rnn_dynamics::Result<FixedPointReport>| result.unwrap_err().to_string();

    let m = message(find_fixed_points(&map, &[0.0, 1.0], &[vec![0.1]], &opts, None));
    assert!(m.contains("input"), "{m}");
    assert!(m.contains("length 2"), "{m}");
    assert!(m.contains("expected 1"), "{m}");

    let m = message(find_fixed_points(&map, &[0.0], &[vec![0.1], vec![0.1, 0.2]], &opts, None));
    assert!(m.contains("start 1"), "{m}");
    assert!(m.contains("length 2"), "{m}");

    let m = message(find_fixed_points(&map, &[0.0], &[vec![f64::NAN]], &opts, None));
    assert!(m.contains("start 0"), "{m}");
    assert!(m.contains("NaN"), "{m}");

    let m = message(find_fixed_points(&map, &[f64::INFINITY], &[vec![0.1]], &opts, None));
    assert!(m.contains("input"), "{m}");
    assert!(m.contains("inf"), "{m}");

    let m = message(find_fixed_points(&map, &[0.0], &[], &opts, None));
    assert!(m.contains("starts"), "{m}");

    let bad = FixedPointOptions { fixed_tol: 1e-3, ..opts };
    let m = message(find_fixed_points(&map, &[0.0], &[vec![0.1]], &bad, None));
    assert!(m.contains("fixed-point tolerance"), "{m}");
    assert!(m.contains("0.001"), "{m}");

    let bad = FixedPointOptions { duplicate_radius: -1.0, ..opts };
    assert!(message(find_fixed_points(&map, &[0.0], &[vec![0.1]], &bad, None)).contains("duplicate radius"));

    let bad = FixedPointOptions { dt: 0.0, ..opts };
    assert!(message(find_fixed_points(&map, &[0.0], &[vec![0.1]], &bad, None)).contains("dt"));

    let bad = FixedPointOptions { max_iterations: 0, ..opts };
    assert!(message(find_fixed_points(&map, &[0.0], &[vec![0.1]], &bad, None)).contains("max iterations"));
}

#[test]
fn starts_from_state_tensors() {
    let trajectories = Tensor {
        shape: vec![2, 3, 2],
        dtype: rnn_dynamics::io::Dtype::F32,
        data: vec![0.0, 0.0, 1.0, 1.0, 2.0, 2.0, 3.0, 3.0, 4.0, 4.0, 5.0, 5.0],
    };
    let starts = starts_from_states(&trajectories, 2, 50, 0.0, 11).unwrap();
    assert_eq!(starts.len(), 50);
    for s in &starts {
        assert_eq!(s[0], s[1]);
        assert_eq!(s[0], s[0].round());
        assert!((0.0..=5.0).contains(&s[0]));
    }
    assert_eq!(starts, starts_from_states(&trajectories, 2, 50, 0.0, 11).unwrap());
    assert_ne!(starts, starts_from_states(&trajectories, 2, 50, 0.0, 12).unwrap());

    let noisy = starts_from_states(&trajectories, 2, 50, 0.1, 11).unwrap();
    assert!(noisy.iter().any(|s| s[0] != s[1]));

    let flat = Tensor { shape: vec![6, 2], ..trajectories.clone() };
    assert_eq!(starts_from_states(&flat, 2, 5, 0.0, 1).unwrap().len(), 5);

    let m = starts_from_states(&trajectories, 3, 5, 0.0, 1).unwrap_err().to_string();
    assert!(m.contains("states"), "{m}");
    assert!(m.contains("[2, 3, 2]"), "{m}");
    assert!(starts_from_states(&trajectories, 2, 0, 0.0, 1).is_err());
    assert!(starts_from_states(&trajectories, 2, 5, -0.1, 1).is_err());

    let mut with_nan = trajectories.clone();
    with_nan.data[7] = f64::NAN;
    let m = starts_from_states(&with_nan, 2, 5, 0.0, 1).unwrap_err().to_string();
    assert!(m.contains("state 3"), "{m}");
}

#[test]
fn starts_from_pulse_trajectories() {
    let map = load_tanh_rnn(&fixture("flipflop_rnn64.safetensors"), "rnn.");
    let settings = PulseSettings::default();
    let starts = starts_from_pulses(&map, &[0.0; 3], &settings, 200, 0.0, 5).unwrap();

    assert_eq!(starts.len(), 200);
    assert!(starts.iter().all(|s| s.len() == 64 && s.iter().all(|v| v.abs() <= 1.0)));
    assert_eq!(starts, starts_from_pulses(&map, &[0.0; 3], &settings, 200, 0.0, 5).unwrap());

    // Pulses drive the state away from zero, so the samples are not all the same state.
    let distinct = starts.iter().filter(|s| *s != &starts[0]).count();
    assert!(distinct > 100);

    assert!(starts_from_pulses(&map, &[0.0; 2], &settings, 10, 0.0, 5).is_err());
    let bad = PulseSettings { probability: 1.5, ..settings };
    assert!(starts_from_pulses(&map, &[0.0; 3], &bad, 10, 0.0, 5).is_err());
}

#[test]
fn random_starts_are_seeded() {
    let a = random_starts(4, 10, 0.5, 1).unwrap();
    assert_eq!(a, random_starts(4, 10, 0.5, 1).unwrap());
    assert_ne!(a, random_starts(4, 10, 0.5, 2).unwrap());
    assert!(random_starts(0, 10, 0.5, 1).is_err());
}

/// Checks the flip-flop structure: exactly 8 stable fixed points, every fixed point polished
/// to q < 1e-20, none with more than 3 unstable directions, and at most 10 slow points (starts
/// that ended between the tolerances, labelled as such rather than reported as fixed).
fn check_flipflop(report: &FixedPointReport) {
    let fixed: Vec<_> = report.points.iter().filter(|p| p.kind == PointKind::Fixed).collect();
    let stable = fixed.iter().filter(|p| p.spectrum.stability == Stability::Stable).count();
    assert_eq!(stable, 8, "{} fixed points, {stable} stable", fixed.len());
    for point in &fixed {
        assert!(point.q < 1e-20, "q = {}", point.q);
        assert!(point.spectrum.n_unstable <= 3, "{} unstable directions", point.spectrum.n_unstable);
    }

    let slow = report.count(PointKind::Slow);
    assert!(slow <= 10, "{slow} slow points");
}

fn flipflop_starts(states_file: &str, n: usize) -> Vec<Vec<f64>> {
    let states = read_tensor_file(&fixture(states_file)).unwrap();
    starts_from_states(states.get("states").unwrap(), 64, n, 0.05, 0).unwrap()
}

#[test]
fn flipflop_rnn64_has_eight_attractors() {
    let map = load_tanh_rnn(&fixture("flipflop_rnn64.safetensors"), "rnn.");
    let starts = flipflop_starts("flipflop_rnn64_states.safetensors", 1024);
    let report = find_fixed_points(&map, &[0.0; 3], &starts, &FixedPointOptions::default(), None).unwrap();
    check_flipflop(&report);
}

#[test]
fn flipflop_gru64_has_eight_attractors() {
    let map = load_gru(&fixture("flipflop_gru64.safetensors"), "rnn.");
    let starts = flipflop_starts("flipflop_gru64_states.safetensors", 1024);
    let report = find_fixed_points(&map, &[0.0; 3], &starts, &FixedPointOptions::default(), None).unwrap();
    check_flipflop(&report);

    // The attractors are nearly marginal (max |λ| between 0.99979 and 0.99992).
    for point in report.points.iter().filter(|p| p.spectrum.stability == Stability::Stable) {
        let leading = point.spectrum.modes[0].modulus;
        assert!(leading > 0.9997, "max |λ| = {leading}");
        assert!(leading < 0.99995, "max |λ| = {leading}");
    }
}
