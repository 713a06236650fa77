//! Whole fixed-point search (L-BFGS, Newton polish, dedup, Jacobians, eigendecompositions)
//! from 1024 starts on three PyTorch fixtures loaded with `load_model`, with zero input. The
//! flip-flop GRU-64 and tanh RNN-64 start from states sampled from their trajectory files
//! (noise 0.05, seed 0). The random GRU-256 starts from its 1024 stored states.
//!
//! Run with `cargo bench --bench fixed_points`. To time one search without criterion (for
//! `/usr/bin/time -v`), set `FIXED_POINTS_SINGLE_RUN` to `flipflop_rnn64`, `flipflop_gru64`
//! or `random_gru256` and run the bench binary. It then prints the point and start counts.
//! `FIXED_POINTS_OPTIONS` may then change options, as in `{"newton_threshold": 1e-3}`,
//! `FIXED_POINTS_STARTS` keeps only the first starts, and `FIXED_POINTS_REPORT` names a file
//! for the JSON report.

use std::path::PathBuf;

use criterion::Criterion;
use rnn_dynamics::dynamics::fixed_points::{
    find_fixed_points, starts_from_states, FixedPointOptions, FixedPointReport, PointKind,
    StartOutcome,
};
use rnn_dynamics::dynamics::spectrum::Stability;
use rnn_dynamics::io::read_tensor_file;
use rnn_dynamics::model::{load_model, LoadOptions, LoadedModel};

/// Name of the environment variable that selects a single run.
const SINGLE_RUN: &str = "FIXED_POINTS_SINGLE_RUN";

/// Name of the environment variable with option changes for a single run.
const OPTIONS: &str = "FIXED_POINTS_OPTIONS";

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fixtures/pytorch").join(name)
}

/// One benchmarked search: the model and its starts.
struct Case {
    name: &'static str,
    model: LoadedModel,
    starts: Vec<Vec<f64>>,
}

fn load(name: &'static str) -> Case {
    let model = load_model(&fixture(&format!("{name}.safetensors")), &LoadOptions::default()).unwrap();
    let starts = if name == "random_gru256" {
        let file = read_tensor_file(&fixture("random_gru256_starts.safetensors")).unwrap();
        let tensor = file.get("initial_states").unwrap();
        tensor.data.chunks(tensor.shape[1]).map(|row| row.to_vec()).collect()
    } else {
        let file = read_tensor_file(&fixture(&format!("{name}_states.safetensors"))).unwrap();
        starts_from_states(file.get("states").unwrap(), 64, 1024, 0.05, 0).unwrap()
    };
    Case { name, model, starts }
}

/// Returns the default options with the fields of the JSON object in `FIXED_POINTS_OPTIONS`
/// (single runs only) replaced, for example `{"newton_threshold": 1e-3}`.
fn options(single_run: bool) -> FixedPointOptions {
    let defaults = FixedPointOptions::default();
    let Some(text) = std::env::var(OPTIONS).ok().filter(|_| single_run) else {
        return defaults;
    };
    let mut merged = serde_json::to_value(defaults).unwrap();
    let changes: serde_json::Map<String, serde_json::Value> = serde_json::from_str(&text)
        .unwrap_or_else(|e| panic!("{OPTIONS} is not a JSON object: {e}"));
    for (key, value) in changes {
        assert!(merged.get(&key).is_some(), "{OPTIONS}: unknown option {key:?}");
        merged[key] = value;
    }
    serde_json::from_value(merged).unwrap_or_else(|e| panic!("{OPTIONS}: {e}"))
}

fn search(case: &Case, opts: &FixedPointOptions) -> FixedPointReport {
    let input = vec![0.0; case.model.inputs];
    find_fixed_points(&case.model.network, &input, &case.starts, opts, None).unwrap()
}

fn main() {
    let names = ["flipflop_rnn64", "flipflop_gru64", "random_gru256"];

    if let Ok(name) = std::env::var(SINGLE_RUN) {
        let Some(&name) = names.iter().find(|&&n| n == name) else {
            eprintln!("{SINGLE_RUN}={name:?} is not a benchmark case (expected one of {names:?})");
            std::process::exit(2);
        };
        let mut case = load(name);
        if let Ok(count) = std::env::var("FIXED_POINTS_STARTS") {
            case.starts.truncate(count.parse().expect("FIXED_POINTS_STARTS must be a count"));
        }
        let started = std::time::Instant::now();
        let report = search(&case, &options(true));
        println!(
            "{name}: {:.3} s, {} fixed, {} slow, {} stable; starts: {} fixed, {} slow, {} not converged",
            started.elapsed().as_secs_f64(),
            report.count(PointKind::Fixed),
            report.count(PointKind::Slow),
            report.points.iter().filter(|p| p.spectrum.stability == Stability::Stable).count(),
            report.count_starts(StartOutcome::Fixed),
            report.count_starts(StartOutcome::Slow),
            report.count_starts(StartOutcome::NotConverged),
        );
        let iterations: u64 = report.starts.iter().map(|s| s.iterations).sum();
        let newton_steps: usize = report.starts.iter().map(|s| s.newton_steps).sum();
        println!("L-BFGS iterations {iterations}, Newton steps {newton_steps} over all starts");
        if let Ok(path) = std::env::var("FIXED_POINTS_REPORT") {
            std::fs::write(&path, serde_json::to_string(&report).unwrap()).unwrap();
        }
        return;
    }

    let mut criterion = Criterion::default().sample_size(10).configure_from_args();
    for name in names {
        let case = load(name);
        criterion.bench_function(case.name, |b| b.iter(|| search(&case, &options(false))));
    }
    criterion.final_summary();
}
