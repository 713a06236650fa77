//! The recurrent maps: analytic Jacobians and vector–Jacobian products against central
//! finite differences, the PyTorch layout cases with closed-form answers, one step of
//! numpy-computed fixtures, and the flip-flop trajectories recorded with PyTorch.

use std::path::{Path, PathBuf};

use nalgebra::{DMatrix, DVector};
use rand::Rng;
use rnn_dynamics::io::read_tensor_file;
use rnn_dynamics::model::{
    load_model, save_model, Cell, CellKind, CellParams, Linear, LoadOptions, LstmCell, Network,
    OfcOnlyMap, RecurrentMap, Stacked, StrOnlyMap, TwoRegion,
};

fn fixture(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures")
        .join(path)
}

fn rng(name: &str) -> rand_chacha::ChaCha8Rng {
    rnn_dynamics::rng::stream(7, name)
}

fn random_vec(n: usize, scale: f64, rng: &mut impl Rng) -> Vec<f64> {
    (0..n).map(|_| rng.gen_range(-scale..=scale)).collect()
}

fn random_stack(kind: CellKind, input: usize, hidden: &[usize], rng: &mut impl Rng) -> Stacked {
    let mut layers = Vec::new();
    let mut width = input;
    for &h in hidden {
        let scale = 1.5 / (h as f64).sqrt();
        layers.push(Cell::new(kind, CellParams::random(kind, width, h, scale, rng)).unwrap());
        width = h;
    }
    Stacked::new(layers).unwrap()
}

fn random_linear(out: usize, input: usize, rng: &mut impl Rng) -> Linear {
    Linear::new(
        DMatrix::from_fn(out, input, |_, _| rng.gen_range(-1.0..=1.0)),
        DVector::from_fn(out, |_, _| rng.gen_range(-0.5..=0.5)),
    )
    .unwrap()
}

fn random_two_region(rng: &mut impl Rng) -> TwoRegion {
    let lstm = |input: usize, hidden: usize, rng: &mut dyn rand::RngCore| {
        LstmCell::new(CellParams::random(
            CellKind::Lstm,
            input,
            hidden,
            0.6,
            &mut *rng,
        ))
        .unwrap()
    };
    let ofc = lstm(4, 5, rng);
    let striatum = lstm(5, 6, rng);
    TwoRegion::new(
        ofc,
        random_linear(4, 5, rng),
        striatum,
        random_linear(6, 6, rng),
    )
    .unwrap()
}

/// Central finite-difference Jacobian with step `eps`.
fn fd_jacobian(map: &dyn RecurrentMap, x: &[f64], u: &[f64], eps: f64) -> DMatrix<f64> {
    let n = map.state_dim();
    let mut jac = DMatrix::zeros(n, n);
    let (mut plus, mut minus) = (vec![0.0; n], vec![0.0; n]);
    for j in 0..n {
        let mut xp = x.to_vec();
        let mut xm = x.to_vec();
        xp[j] += eps;
        xm[j] -= eps;
        map.step(&xp, u, &mut plus);
        map.step(&xm, u, &mut minus);
        for i in 0..n {
            jac[(i, j)] = (plus[i] - minus[i]) / (2.0 * eps);
        }
    }
    jac
}

fn relative_error(a: &DMatrix<f64>, b: &DMatrix<f64>) -> f64 {
    (a - b).norm() / b.norm().max(1e-12)
}

/// Checks `jacobian` against central differences and `vjp` against `Jᵀ v` at random points.
fn check_derivatives(name: &str, map: &dyn RecurrentMap, state_scale: f64, rng: &mut impl Rng) {
    for trial in 0..3 {
        let x = random_vec(map.state_dim(), state_scale, rng);
        let u = random_vec(map.input_dim(), 1.0, rng);

        let jac = map.jacobian(&x, &u);
        let fd = fd_jacobian(map, &x, &u, 1e-6);
        let err = relative_error(&jac, &fd);
        assert!(
            err < 1e-6,
            "{name} trial {trial}: Jacobian relative error {err:e}"
        );

        let v = random_vec(map.state_dim(), 1.0, rng);
        let mut out = vec![0.0; map.state_dim()];
        map.vjp(&x, &u, &v, &mut out);
        let expected = fd.transpose() * DVector::from_column_slice(&v);
        let vjp = DVector::from_column_slice(&out);
        let err = (&vjp - &expected).norm() / expected.norm().max(1e-12);
        assert!(
            err < 1e-6,
            "{name} trial {trial}: vjp relative error {err:e} against finite differences"
        );

        let exact = jac.transpose() * DVector::from_column_slice(&v);
        let err = (&vjp - &exact).norm() / exact.norm().max(1e-12);
        assert!(
            err < 1e-12,
            "{name} trial {trial}: vjp differs from Jᵀv by {err:e}"
        );
    }
}

#[test]
fn derivatives_rnn_tanh() {
    let mut r = rng("rnn_tanh");
    let net = random_stack(CellKind::RnnTanh, 3, &[7], &mut r);
    check_derivatives("rnn_tanh", &net, 1.0, &mut r);
}

#[test]
fn derivatives_rnn_relu() {
    let mut r = rng("rnn_relu");
    let net = random_stack(CellKind::RnnRelu, 3, &[7], &mut r);
    check_derivatives("rnn_relu", &net, 1.0, &mut r);
}

#[test]
fn derivatives_gru() {
    let mut r = rng("gru");
    let net = random_stack(CellKind::Gru, 3, &[8], &mut r);
    check_derivatives("gru", &net, 1.0, &mut r);
}

#[test]
fn derivatives_lstm() {
    let mut r = rng("lstm");
    let net = random_stack(CellKind::Lstm, 3, &[6], &mut r);
    check_derivatives("lstm", &net, 2.0, &mut r);
}

#[test]
fn derivatives_lstm_two_layers() {
    let mut r = rng("lstm2");
    let net = random_stack(CellKind::Lstm, 3, &[5, 4], &mut r);
    check_derivatives("lstm 2 layers", &net, 2.0, &mut r);
}

#[test]
fn derivatives_gru_two_layers() {
    let mut r = rng("gru2");
    let net = random_stack(CellKind::Gru, 2, &[6, 5], &mut r);
    check_derivatives("gru 2 layers", &net, 1.0, &mut r);
}

#[test]
fn derivatives_rnn_three_layers() {
    let mut r = rng("rnn3");
    let net = random_stack(CellKind::RnnTanh, 2, &[4, 5, 3], &mut r);
    check_derivatives("rnn_tanh 3 layers", &net, 1.0, &mut r);
}

#[test]
fn stacked_jacobian_is_block_lower_triangular() {
    let mut r = rng("lstm2-blocks");
    let net = random_stack(CellKind::Lstm, 3, &[5, 4], &mut r);
    let x = random_vec(net.state_dim(), 1.0, &mut r);
    let jac = net.jacobian(&x, &[0.3, -0.2, 0.1]);

    let upper = jac.view((0, 10), (10, 8));
    assert_eq!(upper.amax(), 0.0, "layer 0 must not depend on layer 1");
    let lower = jac.view((10, 0), (8, 10));
    assert!(lower.amax() > 1e-3, "layer 1 must depend on layer 0");
}

#[test]
fn derivatives_two_region() {
    let mut r = rng("two_region");
    let net = random_two_region(&mut r);
    check_derivatives("two_region", &net, 1.5, &mut r);

    let x = random_vec(net.state_dim(), 1.0, &mut r);
    let jac = net.jacobian(&x, &[0.4, 1.0, -0.05, 2.0]);
    let (n_ofc, n_str) = (10, 12);
    let ofc_from_str = jac.view((0, n_ofc), (n_ofc, n_str));
    assert_eq!(
        ofc_from_str.amax(),
        0.0,
        "the OFC←STR block must be exactly zero"
    );
    let str_from_ofc = jac.view((n_ofc, 0), (n_str, n_ofc));
    assert!(
        str_from_ofc.amax() > 1e-3,
        "the STR←OFC block must be non-zero"
    );
}

#[test]
fn derivatives_single_region_maps() {
    let mut r = rng("regions");
    let net = random_two_region(&mut r);
    let held = StrOnlyMap::with_logits(&net, [0.5, -1.0, 0.25]);
    check_derivatives("str only", &held, 1.5, &mut r);
    check_derivatives("ofc only", &OfcOnlyMap::new(&net), 1.5, &mut r);
}

#[test]
fn single_region_maps_agree_with_full_step() {
    let mut r = rng("regions-step");
    let net = random_two_region(&mut r);
    let x = random_vec(net.state_dim(), 1.0, &mut r);
    let u = [0.7, 1.0, 0.0, 2.0];
    let mut full = vec![0.0; net.state_dim()];
    net.step(&x, &u, &mut full);

    let mut ofc = vec![0.0; 10];
    OfcOnlyMap::new(&net).step(&x[..10], &u, &mut ofc);
    assert_eq!(&ofc[..], &full[..10]);

    // Holding the logits at the OFC head's reading of the new OFC state reproduces the STR.
    let held = StrOnlyMap::with_ofc_hidden(&net, &full[..5]).unwrap();
    let mut striatum = vec![0.0; 12];
    held.step(&x[10..], &u, &mut striatum);
    for (a, b) in striatum.iter().zip(&full[10..]) {
        assert!((a - b).abs() < 1e-14, "{a} vs {b}");
    }

    let err = StrOnlyMap::with_ofc_hidden(&net, &[0.0; 3])
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("has length 3 but the OFC hidden size is 5"),
        "{err}"
    );
}

#[test]
fn derivatives_random_gru256_fixture() {
    let model = load("pytorch/random_gru256.safetensors");
    let starts = read_tensor_file(&fixture("pytorch/random_gru256_starts.safetensors")).unwrap();
    let x = &starts.get("initial_states").unwrap().data[..256];
    let u = [0.0; 3];

    let jac = model.network.jacobian(x, &u);
    let fd = fd_jacobian(&model.network, x, &u, 1e-6);
    let err = relative_error(&jac, &fd);
    assert!(err < 1e-6, "Jacobian relative error {err:e}");

    let v: Vec<f64> = (0..256)
        .map(|i| ((i * 37 % 101) as f64 - 50.0) / 50.0)
        .collect();
    let mut out = vec![0.0; 256];
    model.network.vjp(x, &u, &v, &mut out);
    let exact = jac.transpose() * DVector::from_column_slice(&v);
    let err = (DVector::from_column_slice(&out) - &exact).norm() / exact.norm();
    assert!(err < 1e-12, "vjp differs from Jᵀv by {err:e}");
}

/// Tolerance for Jacobians of the 1-unit and 3-unit PyTorch cases, which have closed forms.
const CLOSED_FORM_TOL: f64 = 1e-12;

fn load(path: &str) -> rnn_dynamics::model::LoadedModel {
    load_model(&fixture(path), &LoadOptions::default()).unwrap()
}

#[test]
fn t1_gru_gate_order_eigenvalue() {
    let model = load("pytorch/gru_gate_order.safetensors");
    let jac = model.network.jacobian(&[0.0], &[0.0]);
    // PyTorch rows (r, z, n): z = σ(8). Reading (z, r, n) would give 0.5.
    assert!(
        (jac[(0, 0)] - 0.9996646498695336).abs() < CLOSED_FORM_TOL,
        "{}",
        jac[(0, 0)]
    );
}

#[test]
fn t1_gru_bhn_fixed_point() {
    let model = load("pytorch/gru_bhn.safetensors");
    let h_star = 9.079573715536615e-5;
    let mut next = [0.0];
    model.network.step(&[h_star], &[0.0], &mut next);
    // b_hn inside the reset product; outside it the fixed point would be tanh(2) = 0.964.
    assert!(
        (next[0] - h_star).abs() < 1e-15,
        "step(h*) = {} but h* = {h_star}",
        next[0]
    );

    let jac = model.network.jacobian(&[h_star], &[0.0]);
    assert!(
        (jac[(0, 0)] - 0.5).abs() < 1e-6,
        "eigenvalue {}",
        jac[(0, 0)]
    );
}

#[test]
fn t2_lstm_cell_state_jacobian() {
    let model = load("pytorch/lstm_cell_state.safetensors");
    assert_eq!(
        model.network.state_dim(),
        2,
        "the LSTM state must be [h; c]"
    );
    let jac = model.network.jacobian(&[0.0, 0.0], &[0.0]);

    let sigmoid = |x: f64| 1.0 / (1.0 + (-x).exp());
    let (o, f) = (sigmoid(2.0), sigmoid(10.0));
    let expected = DMatrix::from_row_slice(2, 2, &[0.0, o * f, 0.0, f]);
    assert!(
        (&jac - &expected).amax() < CLOSED_FORM_TOL,
        "J = {jac}, expected {expected}"
    );

    let reference =
        DMatrix::from_row_slice(2, 2, &[0.0, 0.8807570916677828, 0.0, 0.9999546021312976]);
    assert!(
        (&jac - &reference).amax() < CLOSED_FORM_TOL,
        "J = {jac}, reference {reference}"
    );
}

#[test]
fn t10_tanh_rnn_jacobian_closed_form() {
    let w = DMatrix::from_row_slice(3, 3, &[0.5, -1.2, 0.3, 0.8, 0.1, -0.7, -0.4, 0.9, 1.1]);
    let b = DVector::from_vec(vec![0.1, -0.2, 0.05]);
    let params = CellParams {
        weight_ih: DMatrix::from_row_slice(3, 1, &[0.2, -0.1, 0.4]),
        weight_hh: w.clone(),
        bias_ih: b.clone(),
        bias_hh: DVector::zeros(3),
    };
    let net = Cell::new(CellKind::RnnTanh, params).unwrap();
    let h0 = [0.3, -0.6, 0.9];
    let u = [0.0];

    let jac = net.jacobian(&h0, &u);
    let a = &w * DVector::from_column_slice(&h0) + &b;
    let closed = DMatrix::from_diagonal(&a.map(|v| 1.0 - v.tanh().powi(2))) * &w;
    assert!(
        (&jac - &closed).amax() < 1e-15,
        "J = {jac}, closed form {closed}"
    );

    let fd = fd_jacobian(&net, &h0, &u, 1e-6);
    assert!(
        (&jac - &fd).amax() < 1e-8,
        "J = {jac}, finite differences {fd}"
    );
}

#[test]
fn tanh1_fixed_points_and_eigenvalues() {
    let model = load("pytorch/tanh1.safetensors");
    let h_star = 0.9575040240772688;
    for h in [h_star, -h_star] {
        let mut next = [0.0];
        model.network.step(&[h], &[0.0], &mut next);
        assert!((next[0] - h).abs() < 1e-15, "step({h}) = {}", next[0]);
        let jac = model.network.jacobian(&[h], &[0.0]);
        assert!(
            (jac[(0, 0)] - 0.16637208775167).abs() < 1e-12,
            "{}",
            jac[(0, 0)]
        );
    }
    assert_eq!(model.network.jacobian(&[0.0], &[0.0])[(0, 0)], 2.0);
}

#[test]
fn analytic_fixture_trajectories_match() {
    for name in ["tanh1", "gru_gate_order", "gru_bhn", "lstm_cell_state"] {
        let model = load(&format!("pytorch/{name}.safetensors"));
        let file =
            read_tensor_file(&fixture(&format!("pytorch/{name}_states.safetensors"))).unwrap();
        let init = file.get("initial_states").unwrap();
        let states = file.get("states").unwrap();
        let (n, steps, d) = (states.shape[0], states.shape[1], states.shape[2]);
        assert_eq!(d, model.network.state_dim(), "{name}");

        for traj in 0..n {
            let mut x = init.data[traj * d..(traj + 1) * d].to_vec();
            let mut next = vec![0.0; d];
            for t in 0..steps {
                model.network.step(&x, &[0.0], &mut next);
                let stored = &states.data[(traj * steps + t) * d..(traj * steps + t + 1) * d];
                for (a, b) in next.iter().zip(stored) {
                    assert!(
                        (a - b).abs() < 1e-5 * (1.0 + b.abs()),
                        "{name} traj {traj} step {t}: {a} vs {b}"
                    );
                }
                std::mem::swap(&mut x, &mut next);
            }
        }
    }
}

/// Steps the model from a zero state through `inputs` and compares with the stored states.
/// Each step restarts from the stored (f32) state, so the tolerance is one step's rounding.
fn check_flipflop(name: &str, expected_dim: usize) {
    let model = load(&format!("pytorch/{name}.safetensors"));
    let file = read_tensor_file(&fixture(&format!("pytorch/{name}_states.safetensors"))).unwrap();
    let states = file.get("states").unwrap();
    let inputs = file.get("inputs").unwrap();
    let (n, steps, d) = (states.shape[0], states.shape[1], states.shape[2]);
    let m = inputs.shape[2];
    assert_eq!(d, expected_dim);
    assert_eq!(model.network.state_dim(), d);

    let mut worst: f64 = 0.0;
    let mut next = vec![0.0; d];
    for traj in (0..n).step_by(16) {
        let mut x = vec![0.0; d];
        for t in 0..steps {
            let u = &inputs.data[(traj * steps + t) * m..(traj * steps + t + 1) * m];
            model.network.step(&x, u, &mut next);
            let stored = &states.data[(traj * steps + t) * d..(traj * steps + t + 1) * d];
            for (a, b) in next.iter().zip(stored) {
                worst = worst.max((a - b).abs());
            }
            x.copy_from_slice(stored);
        }
    }
    assert!(worst < 1e-5, "{name}: max deviation {worst:e}");

    // The readout of h at the last stored state has the same sign as the last pulses.
    let readout = model
        .readout
        .as_ref()
        .expect("flip-flop files have a readout");
    assert_eq!(readout.out_dim(), 3);
    let last = &states.data[(steps - 1) * d..steps * d];
    let y = readout.apply(model.network.top_hidden(last));
    assert!(
        y.iter().all(|v| v.abs() > 0.5),
        "{name}: readout {y} is not near ±1"
    );
}

#[test]
fn flipflop_gru_trajectories() {
    check_flipflop("flipflop_gru64", 64);
}

#[test]
fn flipflop_rnn_trajectories() {
    check_flipflop("flipflop_rnn64", 64);
}

#[test]
fn flipflop_lstm_trajectories() {
    check_flipflop("flipflop_lstm32", 64);
}

#[test]
fn t3_lstm_two_layers_matches_numpy() {
    let model = load("models/lstm2layer.safetensors");
    assert_eq!(model.hidden, vec![4, 4]);
    assert_eq!(model.layers, 2);
    assert_eq!(model.inputs, 3);
    let shapes: Vec<(&str, &[usize])> = model
        .tensors
        .iter()
        .map(|t| (t.name.as_str(), t.shape.as_slice()))
        .collect();
    assert!(
        shapes.contains(&("weight_ih_l0", &[16, 3][..])),
        "{shapes:?}"
    );
    assert!(
        shapes.contains(&("weight_ih_l1", &[16, 4][..])),
        "{shapes:?}"
    );

    let expected = read_tensor_file(&fixture("models/lstm2layer_expected.safetensors")).unwrap();
    let x0 = &expected.get("x0").unwrap().data;
    let u = &expected.get("u").unwrap().data;
    let x1 = &expected.get("x1").unwrap().data;
    let mut next = vec![0.0; 16];
    model.network.step(x0, u, &mut next);
    for (i, (a, b)) in next.iter().zip(x1).enumerate() {
        assert!((a - b).abs() < 1e-6, "entry {i}: {a} vs numpy {b}");
    }
}

#[test]
fn two_region_step_matches_numpy() {
    let model = load("models/two_region_small.safetensors");
    assert_eq!(model.arch.to_string(), "two_region_lstm");
    assert_eq!(model.dt, 0.05);
    let Network::TwoRegion(net) = &model.network else {
        panic!("expected a two-region network")
    };

    let expected =
        read_tensor_file(&fixture("models/two_region_small_expected.safetensors")).unwrap();
    let x0 = &expected.get("x0").unwrap().data;
    let u = &expected.get("u").unwrap().data;
    let mut next = vec![0.0; 12];
    net.step(x0, u, &mut next);
    for (i, (a, b)) in next
        .iter()
        .zip(&expected.get("x1").unwrap().data)
        .enumerate()
    {
        assert!((a - b).abs() < 1e-6, "state entry {i}: {a} vs numpy {b}");
    }

    let (q, p) = net.heads(&next);
    for (a, b) in q.iter().zip(&expected.get("q").unwrap().data) {
        assert!((a - b).abs() < 1e-6, "OFC head: {a} vs numpy {b}");
    }
    for (a, b) in p.iter().zip(&expected.get("p").unwrap().data) {
        assert!((a - b).abs() < 1e-6, "STR head: {a} vs numpy {b}");
    }
}

#[test]
fn save_and_load_round_trip() {
    let dir = tempfile::tempdir().unwrap();
    let mut r = rng("round-trip");
    let stack = random_stack(CellKind::Gru, 3, &[5, 4], &mut r);
    let readout = random_linear(2, 4, &mut r);
    let mut meta = std::collections::BTreeMap::new();
    meta.insert("dt".to_string(), "0.05".to_string());
    meta.insert("task".to_string(), "flipflop3".to_string());

    let path = dir.path().join("gru.safetensors");
    let network = Network::Stacked(stack);
    save_model(&path, &network, Some(&readout), &meta).unwrap();
    let loaded = load_model(&path, &LoadOptions::default()).unwrap();

    assert_eq!(loaded.arch.to_string(), "gru");
    assert_eq!(loaded.hidden, vec![5, 4]);
    assert_eq!(loaded.dt, 0.05);
    assert_eq!(loaded.metadata["format"], "rnn-dynamics/1");
    assert_eq!(loaded.metadata["task"], "flipflop3");
    assert_eq!(loaded.module, "rnn.");

    // Values are stored as f32, so the maps agree to f32 rounding.
    let x = random_vec(9, 1.0, &mut r);
    let u = [0.1, 0.2, -0.3];
    let (mut a, mut b) = (vec![0.0; 9], vec![0.0; 9]);
    network.step(&x, &u, &mut a);
    loaded.network.step(&x, &u, &mut b);
    for (p, q) in a.iter().zip(&b) {
        assert!((p - q).abs() < 1e-6, "{p} vs {q}");
    }
    let loaded_readout = loaded.readout.expect("the readout was saved");
    assert!((&loaded_readout.weight - &readout.weight).amax() < 1e-7);

    let text = load_model(&path, &LoadOptions::default())
        .unwrap()
        .describe();
    assert!(text.contains("architecture: gru"), "{text}");
    assert!(text.contains("layers: 2, hidden 5, 4"), "{text}");
    assert!(text.contains("rnn.weight_hh_l1  [12, 4]  F32"), "{text}");
    assert!(
        text.contains("readout: readout.weight (2 outputs)"),
        "{text}"
    );
    assert!(text.contains("dt: 0.05 s"), "{text}");
}

#[test]
fn save_two_region_round_trip() {
    let dir = tempfile::tempdir().unwrap();
    let model = load("models/two_region_small.safetensors");
    let path = dir.path().join("two.safetensors");
    model.save(&path).unwrap();
    let again = load_model(&path, &LoadOptions::default()).unwrap();
    assert_eq!(again.arch, model.arch);
    assert_eq!(again.hidden, vec![3, 3]);
    assert_eq!(again.dt, 0.05);
    let names: Vec<&str> = again.tensors.iter().map(|t| t.name.as_str()).collect();
    assert!(
        names.contains(&"rnn1.weight_hh_l0") && names.contains(&"linear2.bias"),
        "{names:?}"
    );

    let x: Vec<f64> = (0..12).map(|i| (i as f64 - 6.0) / 7.0).collect();
    assert_eq!(
        again.network.jacobian(&x, &[1.0, 0.0, 0.5, 2.0]),
        model.network.jacobian(&x, &[1.0, 0.0, 0.5, 2.0])
    );

    let extra = random_linear(1, 3, &mut rng("extra head"));
    let err = save_model(&path, &model.network, Some(&extra), &model.metadata)
        .unwrap_err()
        .to_string();
    assert!(err.contains("pass no separate readout"), "{err}");
}

/// Times the vector–Jacobian product of the 64-unit flip-flop GRU (the fixed-point search's
/// inner loop). Run with `cargo test --release --test models -- --ignored --nocapture`.
#[test]
#[ignore = "timing, run in release"]
fn vjp_timing_gru64() {
    let model = load("pytorch/flipflop_gru64.safetensors");
    let mut r = rng("timing");
    let x = random_vec(64, 0.5, &mut r);
    let v = random_vec(64, 1.0, &mut r);
    let mut out = vec![0.0; 64];
    let calls = 200_000;
    let start = std::time::Instant::now();
    for _ in 0..calls {
        model.network.vjp(&x, &[0.0; 3], &v, &mut out);
    }
    let per_call = start.elapsed().as_secs_f64() / calls as f64;
    println!("gru64 vjp: {:.2} µs per call", per_call * 1e6);

    let start = std::time::Instant::now();
    for _ in 0..calls {
        model.network.step(&x, &[0.0; 3], &mut out);
    }
    let per_call = start.elapsed().as_secs_f64() / calls as f64;
    println!("gru64 step: {:.2} µs per call", per_call * 1e6);
}

#[test]
fn maps_are_send_and_sync() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<Network>();
    assert_send_sync::<StrOnlyMap<'static>>();
    assert_send_sync::<OfcOnlyMap<'static>>();
    assert_send_sync::<rnn_dynamics::model::LoadedModel>();
}

#[test]
fn vjp_same_across_threads() {
    let model = load("pytorch/flipflop_lstm32.safetensors");
    let x: Vec<f64> = (0..64)
        .map(|i| ((i * 13 % 29) as f64 - 14.0) / 20.0)
        .collect();
    let v: Vec<f64> = (0..64)
        .map(|i| ((i * 7 % 31) as f64 - 15.0) / 15.0)
        .collect();
    let run = || {
        let mut out = vec![0.0; 64];
        model.network.vjp(&x, &[1.0, 0.0, -1.0], &v, &mut out);
        out
    };
    let here = run();
    let there = std::thread::scope(|s| s.spawn(run).join().unwrap());
    assert_eq!(here, there, "bitwise identical on another thread");
}
