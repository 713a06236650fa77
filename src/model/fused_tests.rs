//! [`RecurrentMap::residual_vjp`] of every map against central finite differences in f64, and
//! against `step` followed by `vjp`, whose results it must reproduce bit for bit.

use nalgebra::{DMatrix, DVector};
use rand::Rng;

use super::{
    Cell, CellKind, CellParams, Linear, LstmCell, OfcOnlyMap, RecurrentMap, Stacked, StrOnlyMap,
    TwoRegion,
};

/// Step of the central differences. The truncation error (about ε² = 1e-12) and the rounding
/// error (about 1e-16/ε = 1e-10) are estimates far below the 1e-6 tolerance.
const EPS: f64 = 1e-6;

fn rng(name: &str) -> rand_chacha::ChaCha8Rng {
    crate::rng::stream(11, name)
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

fn random_two_region(rng: &mut impl Rng) -> TwoRegion {
    let mut lstm = |input: usize, hidden: usize| {
        LstmCell::new(CellParams::random(CellKind::Lstm, input, hidden, 0.6, rng)).unwrap()
    };
    let ofc = lstm(4, 5);
    let striatum = lstm(5, 6);
    let mut linear = |out: usize, input: usize| {
        Linear::new(
            DMatrix::from_fn(out, input, |_, _| rng.gen_range(-1.0..=1.0)),
            DVector::from_fn(out, |_, _| rng.gen_range(-0.5..=0.5)),
        )
        .unwrap()
    };
    let ofc_head = linear(4, 5);
    let str_head = linear(6, 6);
    TwoRegion::new(ofc, ofc_head, striatum, str_head).unwrap()
}

/// Central finite-difference Jacobian of `step`.
fn fd_jacobian(map: &dyn RecurrentMap, x: &[f64], u: &[f64]) -> DMatrix<f64> {
    let n = map.state_dim();
    let mut jac = DMatrix::zeros(n, n);
    let (mut plus, mut minus) = (vec![0.0; n], vec![0.0; n]);
    for j in 0..n {
        let (mut xp, mut xm) = (x.to_vec(), x.to_vec());
        xp[j] += EPS;
        xm[j] -= EPS;
        map.step(&xp, u, &mut plus);
        map.step(&xm, u, &mut minus);
        for i in 0..n {
            jac[(i, j)] = (plus[i] - minus[i]) / (2.0 * EPS);
        }
    }
    jac
}

fn q(map: &dyn RecurrentMap, x: &[f64], u: &[f64]) -> f64 {
    let mut next = vec![0.0; x.len()];
    map.step(x, u, &mut next);
    0.5 * next
        .iter()
        .zip(x)
        .map(|(a, b)| (a - b) * (a - b))
        .sum::<f64>()
}

fn relative_error(got: &DVector<f64>, expected: &DVector<f64>) -> f64 {
    (got - expected).norm() / expected.norm().max(1e-12)
}

/// Checks `residual_vjp` at random points: the residual against `step`, the product against
/// `(finite-difference J)ᵀ r`, the gradient `(J − I)ᵀ r` against finite differences of `q`,
/// and both outputs bit for bit against `step` followed by `vjp`.
fn check_residual_vjp(name: &str, map: &dyn RecurrentMap, state_scale: f64, rng: &mut impl Rng) {
    let n = map.state_dim();
    for trial in 0..3 {
        let x = random_vec(n, state_scale, rng);
        let u = random_vec(map.input_dim(), 1.0, rng);

        let mut residual = vec![0.0; n];
        let mut product = vec![0.0; n];
        map.residual_vjp(&x, &u, &mut residual, &mut product);

        let mut separate_residual = vec![0.0; n];
        map.step(&x, &u, &mut separate_residual);
        for (r, xi) in separate_residual.iter_mut().zip(&x) {
            *r -= xi;
        }
        let mut separate_product = vec![0.0; n];
        map.vjp(&x, &u, &separate_residual, &mut separate_product);
        let bits = |v: &[f64]| v.iter().map(|a| a.to_bits()).collect::<Vec<_>>();
        assert_eq!(
            bits(&residual),
            bits(&separate_residual),
            "{name} trial {trial}: residual differs from step(x) − x"
        );
        assert_eq!(
            bits(&product),
            bits(&separate_product),
            "{name} trial {trial}: product differs from vjp(step(x) − x)"
        );

        let r = DVector::from_column_slice(&residual);
        let expected = fd_jacobian(map, &x, &u).transpose() * &r;
        let err = relative_error(&DVector::from_column_slice(&product), &expected);
        assert!(
            err < 1e-6,
            "{name} trial {trial}: Jᵀr relative error {err:e} against finite differences"
        );

        let gradient = DVector::from_column_slice(&product) - &r;
        let fd_gradient = DVector::from_fn(n, |j, _| {
            let (mut xp, mut xm) = (x.clone(), x.clone());
            xp[j] += EPS;
            xm[j] -= EPS;
            (q(map, &xp, &u) - q(map, &xm, &u)) / (2.0 * EPS)
        });
        let err = relative_error(&gradient, &fd_gradient);
        assert!(
            err < 1e-6,
            "{name} trial {trial}: gradient of q relative error {err:e} against finite differences"
        );
    }
}

#[test]
fn residual_vjp_rnn_tanh() {
    let mut r = rng("rnn_tanh");
    let net = random_stack(CellKind::RnnTanh, 3, &[7], &mut r);
    check_residual_vjp("rnn_tanh", &net, 1.0, &mut r);
}

#[test]
fn residual_vjp_rnn_relu() {
    let mut r = rng("rnn_relu");
    let net = random_stack(CellKind::RnnRelu, 3, &[7], &mut r);
    check_residual_vjp("rnn_relu", &net, 1.0, &mut r);
}

#[test]
fn residual_vjp_gru() {
    let mut r = rng("gru");
    let net = random_stack(CellKind::Gru, 3, &[9], &mut r);
    check_residual_vjp("gru", &net, 1.0, &mut r);
}

#[test]
fn residual_vjp_lstm() {
    let mut r = rng("lstm");
    let net = random_stack(CellKind::Lstm, 3, &[6], &mut r);
    check_residual_vjp("lstm", &net, 2.0, &mut r);
}

#[test]
fn residual_vjp_single_cells() {
    let mut r = rng("cells");
    for kind in [
        CellKind::RnnTanh,
        CellKind::RnnRelu,
        CellKind::Gru,
        CellKind::Lstm,
    ] {
        let cell = Cell::new(kind, CellParams::random(kind, 2, 5, 0.6, &mut r)).unwrap();
        check_residual_vjp(&format!("{kind:?} cell"), &cell, 1.0, &mut r);
    }
}

#[test]
fn residual_vjp_stacked_layers() {
    let mut r = rng("stacked");
    let kinds = [
        (CellKind::RnnTanh, vec![4, 5, 3]),
        (CellKind::Gru, vec![6, 5]),
        (CellKind::Lstm, vec![5, 4]),
    ];
    for (kind, hidden) in kinds {
        let net = random_stack(kind, 2, &hidden, &mut r);
        check_residual_vjp(&format!("{kind:?} {hidden:?}"), &net, 1.0, &mut r);
    }
}

#[test]
fn residual_vjp_two_region() {
    let mut r = rng("two_region");
    let net = random_two_region(&mut r);
    check_residual_vjp("two_region", &net, 1.5, &mut r);
    let str_only = StrOnlyMap::with_logits(&net, [0.5, -1.0, 0.25]);
    check_residual_vjp("str only", &str_only, 1.5, &mut r);
    check_residual_vjp("ofc only", &OfcOnlyMap::new(&net), 1.5, &mut r);
}

#[test]
fn residual_vjp_network_enum() {
    let mut r = rng("network");
    let stacked = super::Network::Stacked(random_stack(CellKind::Gru, 3, &[6], &mut r));
    check_residual_vjp("network gru", &stacked, 1.0, &mut r);
    let two_region = super::Network::TwoRegion(random_two_region(&mut r));
    check_residual_vjp("network two_region", &two_region, 1.5, &mut r);
}

#[test]
#[should_panic(expected = "residual has length 3 but the map expects 5")]
fn residual_vjp_wrong_length_panics() {
    let mut r = rng("length");
    let cell = Cell::new(
        CellKind::Gru,
        CellParams::random(CellKind::Gru, 2, 5, 0.6, &mut r),
    )
    .unwrap();
    let mut residual = vec![0.0; 3];
    let mut out = vec![0.0; 5];
    cell.residual_vjp(&[0.0; 5], &[0.0; 2], &mut residual, &mut out);
}
