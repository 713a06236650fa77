//! Golden metrics of the small trained networks shipped in fixtures/two_region/: behaviour on a
//! fixed simulation and slow-dynamics metrics per region. Any change to the trainer's
//! simulation, the behavioural analyses or the slow-manifold analysis shows up here as a
//! snapshot diff to review (`cargo insta review`).
//!
//! Values are rounded to 3 significant digits before snapshotting, so that another CPU's
//! floating-point paths (SIMD kernels chosen at run time) do not change the snapshot.

use std::path::Path;

use rnn_dynamics::batch::products::simulate_to_dir;
use rnn_dynamics::behavior::records::SimulationDir;
use rnn_dynamics::behavior::{analyze_behavior, BehaviorOptions};
use rnn_dynamics::dynamics::slow_manifold::{slow_dynamics_metrics, SlowManifoldOptions};
use rnn_dynamics::model::{load_model, LoadOptions, Network};
use rnn_dynamics::behavior::records::behavior_trials;
use serde_json::{json, Value};

/// Trials of the simulation each network is measured on.
const TRIALS: usize = 400;

/// Rounds every number in `value` to 3 significant digits.
fn round_value(value: &Value) -> Value {
    match value {
        Value::Number(n) => match n.as_f64() {
            Some(x) if x != 0.0 && x.is_finite() && !n.is_u64() && !n.is_i64() => {
                let digits = 2 - x.abs().log10().floor() as i32;
                let scale = 10f64.powi(digits);
                json!((x * scale).round() / scale)
            }
            _ => value.clone(),
        },
        Value::Array(items) => Value::Array(items.iter().map(round_value).collect()),
        Value::Object(map) => Value::Object(map.iter().map(|(k, v)| (k.clone(), round_value(v))).collect()),
        other => other.clone(),
    }
}

/// Simulates the fixture `name`, then returns its rounded golden metrics.
fn golden_metrics(name: &str) -> Value {
    let model_path = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/two_region").join(name);
    let dir = tempfile::tempdir().unwrap();
    simulate_to_dir(&model_path, dir.path(), 7, TRIALS).unwrap();
    let sim = SimulationDir::read(dir.path()).unwrap();

    let trials = behavior_trials(&sim.trials);
    let behavior = analyze_behavior(&trials, &BehaviorOptions::default()).unwrap();

    let model = load_model(&model_path, &LoadOptions::default()).unwrap();
    let Network::TwoRegion(net) = &model.network else {
        panic!("{name} is not a two-region network");
    };
    let slow = slow_dynamics_metrics(net, &sim, &SlowManifoldOptions::default()).unwrap();

    let metrics = json!({
        "trials": trials.len(),
        "offer_slope_s_per_log2_ul": behavior.offer_sensitivity.as_ref().map(|o| o.slope),
        "offer_slope_p": behavior.offer_sensitivity.as_ref().map(|o| o.p_value),
        "wt_high_over_low_20ul": behavior.block_sensitivity.as_ref().map(|b| b.ratio),
        "opt_out_rate": behavior.rates.opted_out,
        "reward_rate_per_s": behavior.rates.reward_rate_per_s,
        "slow_dynamics": slow,
    });
    round_value(&metrics)
}

#[test]
fn golden_kindergarten_seed1() {
    insta::assert_json_snapshot!(golden_metrics("kindergarten_small_seed1.safetensors"));
}

#[test]
fn golden_conventional_seed1() {
    insta::assert_json_snapshot!(golden_metrics("conventional_small_seed1.safetensors"));
}

#[test]
fn golden_none_seed1() {
    insta::assert_json_snapshot!(golden_metrics("none_small_seed1.safetensors"));
}

#[test]
fn rounding_keeps_three_digits() {
    assert_eq!(round_value(&json!(0.0123456)), json!(0.0123));
    assert_eq!(round_value(&json!(98765.4)), json!(98800.0));
    assert_eq!(round_value(&json!(7)), json!(7));
}
