//! `analyze pca`, `slow-manifold` and `flow-field` end to end on a small trained two-region
//! network (fixtures/analyses/two_region_k1.safetensors, 2 × 32 units, kindergarten
//! curriculum, seed 1), simulated here for 300 trials.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;
use std::time::Instant;

use nalgebra::DMatrix;
use serde_json::Value;

use rnn_dynamics::behavior::records::SimulationDir;
use rnn_dynamics::dynamics::slow_manifold::{slow_dynamics_metrics, SlowManifoldOptions};
use rnn_dynamics::model::{load_model, LoadOptions, Network};

fn analyze(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_analyze")).args(args).output().expect("analyze runs")
}

fn model() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/analyses/two_region_k1.safetensors")
}

/// A 300-trial simulation of the fixture, made once per test run.
fn simulation() -> &'static Path {
    static DIR: OnceLock<tempfile::TempDir> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let sim = dir.path().join("sim");
        let output = analyze(&["simulate", model().to_str().unwrap(), "--trials", "300", "--seed", "3", "--out", sim.to_str().unwrap(), "--quiet"]);
        assert!(output.status.success(), "simulate failed: {}", String::from_utf8_lossy(&output.stderr));
        dir
    })
    .path()
}

fn sim_dir() -> PathBuf {
    simulation().join("sim")
}

fn read_json(path: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn stderr_line(output: &Output) -> String {
    let text = String::from_utf8_lossy(&output.stderr).to_string();
    assert_eq!(text.trim_end().lines().count(), 1, "expected one error line, got {text:?}");
    text
}

/// Wait-epoch OFC states of the kept trials, selected here independently of the library.
fn wait_states(sim: &SimulationDir, region: &str) -> DMatrix<f64> {
    let (n, width, states) = sim.rows(region).unwrap();
    let (_, _, epoch) = sim.rows("epoch").unwrap();
    let (_, _, trial) = sim.rows("trial").unwrap();
    let mut rows = Vec::new();
    for step in 0..n {
        let t = &sim.trials[trial[step] as usize];
        let decision_after = t.decision_step - t.start_step;
        if epoch[step] == 1.0 && (6..=299).contains(&decision_after) && t.iti_steps >= 5 {
            rows.push(step);
        }
    }
    DMatrix::from_fn(rows.len(), width, |r, c| states[rows[r] * width + c])
}

#[test]
fn pca_matches_exact_covariance() {
    let out = simulation().join("pca");
    let output = analyze(&["pca", sim_dir().to_str().unwrap(), "--out", out.to_str().unwrap()]);
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(stdout.contains("ofc:"), "{stdout}");
    assert!(stdout.contains("str:"), "{stdout}");

    let file = read_json(&out.join("pca.json"));
    assert_eq!(file["format"], "rnn-dynamics/pca/1");
    let sim = SimulationDir::read(&sim_dir()).unwrap();
    for (index, region) in ["ofc", "str"].iter().enumerate() {
        let entry = &file["regions"][index];
        assert_eq!(entry["region"], *region);

        // Exact eigendecomposition of the sample covariance of the same samples.
        let data = wait_states(&sim, region);
        assert_eq!(entry["n_samples"].as_u64().unwrap() as usize, data.nrows());
        let mean = data.row_mean();
        let centred = DMatrix::from_fn(data.nrows(), data.ncols(), |r, c| data[(r, c)] - mean[c]);
        let covariance = centred.transpose() * &centred / (data.nrows() - 1) as f64;
        let total = covariance.trace();
        let mut eigenvalues: Vec<f64> = covariance.symmetric_eigenvalues().iter().copied().collect();
        eigenvalues.sort_by(|a, b| b.total_cmp(a));

        let ratios: Vec<f64> = entry["explained_variance_ratio"].as_array().unwrap().iter().map(|v| v.as_f64().unwrap()).collect();
        for k in 0..3 {
            let expected = eigenvalues[k] / total;
            assert!((ratios[k] - expected).abs() < 1e-8, "{region} PC{}: {} vs {expected}", k + 1, ratios[k]);
        }
        let mut cumulative = 0.0;
        let mut count = 0;
        for value in &eigenvalues {
            cumulative += value / total;
            count += 1;
            if cumulative >= 0.9 * (1.0 - 1e-12) {
                break;
            }
        }
        assert_eq!(entry["components_for_90_percent"].as_u64().unwrap() as usize, count, "{region}");
    }

    let csv = std::fs::read_to_string(out.join("explained_variance.csv")).unwrap();
    assert!(csv.starts_with("region,component,variance,explained_variance_ratio,cumulative_ratio\n"));
    for name in ["pca_ofc_block.svg", "pca_ofc_belief.svg", "pca_str_block.svg", "pca_str_belief.svg"] {
        let svg = std::fs::read_to_string(out.join(name)).unwrap();
        assert!(svg.contains("<svg"), "{name}");
    }
}

#[test]
fn slow_manifold_writes_features() {
    for (region, context) in [("ofc", "mixed"), ("str", "high")] {
        let out = simulation().join(format!("sm_{region}_{context}"));
        let output = analyze(&[
            "slow-manifold",
            model().to_str().unwrap(),
            sim_dir().to_str().unwrap(),
            "--region",
            region,
            "--context",
            context,
            "--starts",
            "64",
            "--out",
            out.to_str().unwrap(),
        ]);
        assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
        let stdout = String::from_utf8_lossy(&output.stdout);
        assert!(stdout.contains("subspace space"), "{stdout}");

        let file = read_json(&out.join("slow_manifold.json"));
        assert_eq!(file["format"], "rnn-dynamics/slow-manifold/1");
        assert_eq!(file["region"], region);
        assert_eq!(file["context"], context);
        assert_eq!(file["dt"], 0.05);
        assert_eq!(file["subspace"]["n_starts"], 64);
        assert_eq!(file["full"]["n_starts"], 64);
        assert_eq!(file["full"]["dim"], 64);
        let d = file["subspace_dim"].as_u64().unwrap();
        assert_eq!(Some(d), file["components_90"].as_u64());
        assert_eq!(file["subspace"]["dim"].as_u64().unwrap(), d);
        let eps = file["subspace"]["options"]["eps"].as_f64().unwrap();
        let range = file["pc1_range"].as_f64().unwrap();
        assert!((eps - 0.05 * range).abs() < 1e-12 * range, "eps {eps} range {range}");
        match region {
            "ofc" => assert!(file["held_logits"].is_null()),
            _ => assert_eq!(file["held_logits"].as_array().unwrap().len(), 3),
        }

        // Every feature row of the CSV is a feature of the JSON.
        let csv = std::fs::read_to_string(out.join("features.csv")).unwrap();
        let rows = csv.lines().count() - 1;
        let n_features = file["full"]["features"].as_array().unwrap().len() + file["subspace"]["features"].as_array().unwrap().len();
        assert_eq!(rows, n_features);
        for feature in file["subspace"]["features"].as_array().unwrap() {
            assert_eq!(feature["belief_range"].is_null(), region == "str");
        }
        assert!(std::fs::read_to_string(out.join("slow_manifold.svg")).unwrap().contains("<svg"));
    }
}

#[test]
fn flow_field_grid_and_readouts() {
    for region in ["ofc", "str"] {
        let out = simulation().join(format!("flow_{region}"));
        let output = analyze(&[
            "flow-field",
            model().to_str().unwrap(),
            sim_dir().to_str().unwrap(),
            "--region",
            region,
            "--grid",
            "12",
            "--starts",
            "32",
            "--out",
            out.to_str().unwrap(),
        ]);
        assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
        let file = read_json(&out.join("flow_field.json"));
        assert_eq!(file["format"], "rnn-dynamics/flow-field/1");
        assert_eq!(file["xs"].as_array().unwrap().len(), 12);
        assert_eq!(file["speed"].as_array().unwrap().len(), 144);
        let readout = &file["readout"][region];
        match region {
            "ofc" => assert_eq!(readout["argmax_block"].as_array().unwrap().len(), 144),
            _ => {
                let p_wait = readout["p_wait"].as_array().unwrap();
                assert_eq!(p_wait.len(), 144);
                assert!(p_wait.iter().all(|p| (0.0..=1.0).contains(&p.as_f64().unwrap())));
            }
        }
        let csv = std::fs::read_to_string(out.join("flow_field.csv")).unwrap();
        assert_eq!(csv.lines().count(), 145);
        assert!(std::fs::read_to_string(out.join("flow_field.svg")).unwrap().contains("<svg"));
    }
}

#[test]
fn metrics_on_small_network() {
    let loaded = load_model(&model(), &LoadOptions::default()).unwrap();
    let Network::TwoRegion(net) = loaded.network else { panic!("fixture is two-region") };
    let sim = SimulationDir::read(&sim_dir()).unwrap();

    let started = Instant::now();
    let metrics = slow_dynamics_metrics(&net, &sim, &SlowManifoldOptions::default()).unwrap();
    let elapsed = started.elapsed();
    // NOTE: the batch budget is a few seconds per network in release; this debug-build bound
    // only catches a blow-up.
    assert!(elapsed.as_secs_f64() < 60.0, "metrics took {elapsed:?}");

    assert_eq!(metrics.ofc.region, "ofc");
    assert_eq!(metrics.ofc.context, "mixed");
    assert!(metrics.ofc.components_90 >= 1);
    let accuracy = metrics.ofc.block_decodability.expect("three blocks are simulated");
    assert!((0.0..=1.0).contains(&accuracy));
    let contexts: Vec<&str> = metrics.str_contexts.iter().map(|m| m.context.as_str()).collect();
    assert_eq!(contexts, ["mixed", "high", "low"]);
    for m in &metrics.str_contexts {
        assert_eq!(m.region, "str");
        assert!(m.block_decodability.is_none());
        assert!(m.n_features <= m.n_fixed_points + m.n_slow_points);
    }

    // Same seed, same metrics.
    let again = slow_dynamics_metrics(&net, &sim, &SlowManifoldOptions::default()).unwrap();
    assert_eq!(metrics, again);
}

#[test]
fn bad_region_is_one_error_line() {
    let output = analyze(&["slow-manifold", model().to_str().unwrap(), sim_dir().to_str().unwrap(), "--region", "pfc"]);
    assert!(!output.status.success());
    let line = stderr_line(&output);
    assert!(line.contains("'pfc'"), "{line}");
    assert!(line.contains("ofc or str"), "{line}");

    let output = analyze(&["flow-field", model().to_str().unwrap(), sim_dir().to_str().unwrap(), "--region", "ofc", "--context", "medium"]);
    assert!(!output.status.success());
    assert!(stderr_line(&output).contains("'medium'"));

    let output = analyze(&["pca", sim_dir().to_str().unwrap(), "--region", "cortex"]);
    assert!(!output.status.success());
    assert!(stderr_line(&output).contains("ofc, str or both"));
}

#[test]
fn missing_sim_folder_is_one_error_line() {
    let missing = simulation().join("no_such_sim");
    for args in [
        vec!["pca", missing.to_str().unwrap()],
        vec!["slow-manifold", model().to_str().unwrap(), missing.to_str().unwrap(), "--region", "ofc"],
        vec!["flow-field", model().to_str().unwrap(), missing.to_str().unwrap(), "--region", "str"],
    ] {
        let output = analyze(&args);
        assert!(!output.status.success(), "{args:?}");
        let line = stderr_line(&output);
        assert!(line.contains("no_such_sim"), "{line}");
        assert!(line.contains("not a folder"), "{line}");
    }
}

#[test]
fn non_two_region_model_is_rejected() {
    let lstm = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/models/lstm2layer.safetensors");
    for command in ["slow-manifold", "flow-field"] {
        let output = analyze(&[command, lstm.to_str().unwrap(), sim_dir().to_str().unwrap(), "--region", "ofc"]);
        assert!(!output.status.success());
        let line = stderr_line(&output);
        assert!(line.contains("is not two_region_lstm"), "{line}");
    }
}

#[test]
fn flow_field_rejects_bad_grid() {
    for grid in ["1", "1001"] {
        let output = analyze(&["flow-field", model().to_str().unwrap(), sim_dir().to_str().unwrap(), "--region", "ofc", "--grid", grid]);
        assert!(!output.status.success(), "--grid {grid}");
        let line = stderr_line(&output);
        assert!(line.contains("--grid"), "{line}");
    }
}

#[test]
fn bad_options_are_rejected() {
    let cases: [(&[&str], &str); 4] = [
        (&["--subspace", "0"], "--subspace"),
        (&["--subspace", "99"], "exceeds"),
        (&["--starts", "0"], "starts"),
        (&["--eps-fraction=-1"], "eps fraction"),
    ];
    let (model, sim) = (model(), sim_dir());
    for (extra, expected) in cases {
        let out = simulation().join("rejected");
        let mut args = vec!["slow-manifold", model.to_str().unwrap(), sim.to_str().unwrap(), "--region", "ofc", "--out", out.to_str().unwrap()];
        args.extend_from_slice(extra);
        let output = analyze(&args);
        assert!(!output.status.success(), "{extra:?}");
        let line = stderr_line(&output);
        assert!(line.contains(expected), "{extra:?}: {line}");
        assert!(!out.join("slow_manifold.json").exists(), "nothing is written on error");
    }
}
