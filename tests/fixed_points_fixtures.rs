//! Acceptance tests of the fixed-point search on the PyTorch fixtures, loaded with
//! `load_model` as a user would load them.
//!
//! - Flip-flop GRU-64, tanh RNN-64 and LSTM-32, with 1024 starts sampled from their
//!   trajectory files (noise 0.05, seed 0). Each has exactly 8 stable fixed points, and their
//!   readouts give the 8 sign patterns. Every fixed point has `q < 1e-12` and at most 3
//!   unstable directions.
//! - The four 1-unit analytic models: every fixed point and eigenvalue of
//!   `fixtures/pytorch/reference_public.json` within 1e-9, and no other fixed point.

use std::collections::BTreeSet;
use std::path::PathBuf;

use rnn_dynamics::dynamics::fixed_points::{
    find_fixed_points, starts_from_states, FixedPoint, FixedPointOptions, FixedPointReport, PointKind,
};
use rnn_dynamics::dynamics::spectrum::Stability;
use rnn_dynamics::io::read_tensor_file;
use rnn_dynamics::model::{load_model, LoadOptions, LoadedModel, RecurrentMap};

/// Tolerance on coordinates and eigenvalues against the analytic references.
const ANALYTIC_TOL: f64 = 1e-9;

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fixtures/pytorch").join(name)
}

fn load(name: &str) -> LoadedModel {
    load_model(&fixture(&format!("{name}.safetensors")), &LoadOptions::default())
        .unwrap_or_else(|e| panic!("loading {name}: {e}"))
}

/// Runs the search with default options from 1024 starts sampled from the trajectory file.
fn search_flipflop(name: &str) -> (LoadedModel, FixedPointReport) {
    let model = load(name);
    let dim = model.network.state_dim();
    let states = read_tensor_file(&fixture(&format!("{name}_states.safetensors"))).unwrap();
    let starts = starts_from_states(states.get("states").unwrap(), dim, 1024, 0.05, 0).unwrap();

    let input = vec![0.0; model.network.input_dim()];
    let report = find_fixed_points(&model.network, &input, &starts, &FixedPointOptions::default(), None).unwrap();
    (model, report)
}

/// Returns `½‖F(x) − x‖²`, recomputed here rather than taken from the report.
fn recomputed_q(map: &dyn RecurrentMap, x: &[f64], input: &[f64]) -> f64 {
    let mut next = vec![0.0; x.len()];
    map.step(x, input, &mut next);
    0.5 * next.iter().zip(x).map(|(a, b)| (a - b) * (a - b)).sum::<f64>()
}

fn check_flipflop(name: &str) {
    let (model, report) = search_flipflop(name);
    let input = vec![0.0; model.network.input_dim()];
    let fixed: Vec<&FixedPoint> = report.points.iter().filter(|p| p.kind == PointKind::Fixed).collect();

    for point in &fixed {
        assert!(point.q < 1e-12, "{name}: reported q = {:e}", point.q);
        let q = recomputed_q(&model.network, &point.x, &input);
        assert!(q < 1e-12, "{name}: recomputed q = {q:e}");
        assert!(point.spectrum.n_unstable <= 3, "{name}: {} unstable directions", point.spectrum.n_unstable);
    }

    let stable: Vec<&FixedPoint> =
        fixed.iter().copied().filter(|p| p.spectrum.stability == Stability::Stable).collect();
    assert_eq!(stable.len(), 8, "{name}: {} fixed points, {} stable", fixed.len(), stable.len());
    let slow_stable = report
        .points
        .iter()
        .filter(|p| p.kind == PointKind::Slow && p.spectrum.stability == Stability::Stable)
        .count();
    assert_eq!(slow_stable, 0, "{name}: stable slow points");

    let readout = model.readout.as_ref().expect("flip-flop fixtures have a readout");
    let mut patterns = BTreeSet::new();
    for point in &stable {
        let output = readout.apply(model.network.top_hidden(&point.x));
        assert_eq!(output.len(), 3);
        for value in output.iter() {
            assert!(value.abs() > 0.5, "{name}: readout {output:?} has an output near 0");
        }
        patterns.insert(output.iter().map(|v| *v > 0.0).collect::<Vec<bool>>());
    }
    assert_eq!(patterns.len(), 8, "{name}: readout sign patterns {patterns:?}");
}

#[test]
fn flipflop_gru64_eight_attractors() {
    check_flipflop("flipflop_gru64");
}

#[test]
fn flipflop_rnn64_eight_attractors() {
    check_flipflop("flipflop_rnn64");
}

#[test]
fn flipflop_lstm32_eight_attractors() {
    check_flipflop("flipflop_lstm32");
}

/// Grid starts like the reference's: 41 points on [−2, 2], or 21 × 21 on [−1.5, 1.5]².
fn grid_starts(dim: usize) -> Vec<Vec<f64>> {
    let axis = |n: usize, half: f64| -> Vec<f64> {
        (0..n).map(|i| -half + 2.0 * half * i as f64 / (n - 1) as f64).collect()
    };
    match dim {
        1 => axis(41, 2.0).into_iter().map(|v| vec![v]).collect(),
        2 => {
            let values = axis(21, 1.5);
            values.iter().flat_map(|&a| values.iter().map(move |&b| vec![a, b])).collect()
        }
        _ => panic!("no grid for dimension {dim}"),
    }
}

fn numbers(value: &serde_json::Value) -> Vec<f64> {
    value.as_array().unwrap().iter().map(|v| v.as_f64().unwrap()).collect()
}

fn check_analytic(name: &str) {
    let text = std::fs::read_to_string(fixture("reference_public.json")).unwrap();
    let reference: serde_json::Value = serde_json::from_str(&text).unwrap();
    let expected = reference["models"][name]["expected_fixed_points"].as_array().unwrap();

    let model = load(name);
    let dim = model.network.state_dim();
    let input = vec![0.0; model.network.input_dim()];
    let report =
        find_fixed_points(&model.network, &input, &grid_starts(dim), &FixedPointOptions::default(), None).unwrap();
    let fixed: Vec<&FixedPoint> = report.points.iter().filter(|p| p.kind == PointKind::Fixed).collect();
    assert_eq!(fixed.len(), expected.len(), "{name}: found {:?}", fixed.iter().map(|p| &p.x).collect::<Vec<_>>());
    assert_eq!(report.count(PointKind::Slow), 0, "{name}: slow points");

    for entry in expected {
        let x = numbers(&entry["x"]);
        let found = fixed
            .iter()
            .find(|p| p.x.iter().zip(&x).all(|(a, b)| (a - b).abs() < ANALYTIC_TOL))
            .unwrap_or_else(|| panic!("{name}: no fixed point within {ANALYTIC_TOL} of {x:?}"));

        let eigenvalues: Vec<Vec<f64>> = entry["eigenvalues"].as_array().unwrap().iter().map(numbers).collect();
        assert_eq!(found.spectrum.eigenvalues.len(), eigenvalues.len(), "{name} at {x:?}");
        for (got, want) in found.spectrum.eigenvalues.iter().zip(&eigenvalues) {
            assert!((got[0] - want[0]).abs() < ANALYTIC_TOL, "{name} at {x:?}: λ {got:?}, expected {want:?}");
            assert!((got[1] - want[1]).abs() < ANALYTIC_TOL, "{name} at {x:?}: λ {got:?}, expected {want:?}");
        }

        let stable = entry["stable"].as_bool().unwrap();
        assert_eq!(found.spectrum.stability == Stability::Stable, stable, "{name} at {x:?}");
    }
}

#[test]
fn analytic_tanh1_points() {
    check_analytic("tanh1");
}

#[test]
fn analytic_gru_gate_order_point() {
    check_analytic("gru_gate_order");
}

#[test]
fn analytic_gru_bhn_point() {
    check_analytic("gru_bhn");
}

#[test]
fn analytic_lstm_cell_state_point() {
    check_analytic("lstm_cell_state");
}
