//! End-to-end tests of `analyze inspect` and `analyze fixed-points`: outputs on the shipped
//! fixtures, and one plain error line with a non-zero exit for every kind of bad input.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn analyze(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_analyze"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("the analyze binary runs")
}

fn fixture(name: &str) -> String {
    format!("fixtures/pytorch/{name}")
}

/// Asserts a failed run: non-zero exit, exactly one stderr line starting with
/// `analyze: error:` that contains `needle`, and no panic.
fn assert_one_line_error(output: &Output, needle: &str) {
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success(), "expected failure, stderr: {stderr}");
    assert!(!stderr.contains("panicked"), "panic: {stderr}");
    let lines: Vec<&str> = stderr.lines().filter(|l| !l.trim().is_empty()).collect();
    assert_eq!(lines.len(), 1, "expected one error line, got: {stderr}");
    assert!(lines[0].starts_with("analyze: error:"), "{stderr}");
    assert!(lines[0].contains(needle), "expected {needle:?} in: {stderr}");
}

fn files_in(dir: &Path) -> Vec<PathBuf> {
    match std::fs::read_dir(dir) {
        Ok(entries) => entries.map(|e| e.unwrap().path()).collect(),
        Err(_) => Vec::new(),
    }
}

#[test]
fn inspect_reports_gru_sizes() {
    let output = analyze(&["inspect", &fixture("flipflop_gru64.safetensors")]);
    assert!(output.status.success());
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(stdout.contains("architecture: gru"), "{stdout}");
    assert!(stdout.contains("rnn.weight_hh_l0"), "{stdout}");
    assert!(stdout.contains("[192, 64]"), "{stdout}");
}

#[test]
fn tanh1_gives_three_points_and_files() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("tanh1");
    let output = analyze(&[
        "fixed-points",
        &fixture("tanh1.safetensors"),
        "--states",
        &fixture("tanh1_states.safetensors"),
        "--starts",
        "64",
        "--noise",
        "0.5",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    for name in ["fixed_points.json", "fixed_points.csv", "starts.csv", "fixed_points.svg", "spectra.svg", "q_values.svg"] {
        assert!(out.join(name).exists(), "{name} missing");
    }

    let json: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(out.join("fixed_points.json")).unwrap()).unwrap();
    let points = json["report"]["points"].as_array().unwrap();
    let mut xs: Vec<f64> = points.iter().map(|p| p["x"][0].as_f64().unwrap()).collect();
    xs.sort_by(f64::total_cmp);
    assert_eq!(xs.len(), 3, "fixed points {xs:?}");
    let expected = [-0.9575040240772688, 0.0, 0.9575040240772688];
    for (x, e) in xs.iter().zip(expected) {
        assert!((x - e).abs() < 1e-9, "{x} vs {e}");
    }
    assert_eq!(json["report"]["options"]["duplicate_radius"].as_f64(), Some(1e-3));
}

#[test]
fn flipflop_rnn_summary_lists_eight_stable() {
    let output = analyze(&[
        "fixed-points",
        &fixture("flipflop_rnn64.safetensors"),
        "--states",
        &fixture("flipflop_rnn64_states.safetensors"),
        "--starts",
        "256",
    ]);
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(stdout.contains("(8 stable,"), "{stdout}");
}

#[test]
fn missing_model_file_is_one_line() {
    let output = analyze(&["fixed-points", "fixtures/no-such-model.safetensors"]);
    assert_one_line_error(&output, "no-such-model.safetensors");
}

#[test]
fn non_safetensors_file_is_one_line() {
    let output = analyze(&["fixed-points", "README.md"]);
    assert_one_line_error(&output, "not a valid safetensors file");
}

#[test]
fn truncated_file_is_one_line() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("truncated.safetensors");
    let bytes = std::fs::read(fixture("flipflop_gru64.safetensors")).unwrap();
    std::fs::write(&path, &bytes[..bytes.len() / 2]).unwrap();
    let output = analyze(&["inspect", path.to_str().unwrap()]);
    assert_one_line_error(&output, "truncated.safetensors");
}

#[test]
fn nan_weight_is_one_line() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("nan.safetensors");
    let file = rnn_dynamics::io::read_tensor_file(Path::new(&fixture("tanh1.safetensors"))).unwrap();
    let mut tensors = Vec::new();
    for (name, t) in &file.tensors {
        let mut data: Vec<f32> = t.data.iter().map(|&v| v as f32).collect();
        if name == "weight_hh_l0" {
            data[0] = f32::NAN;
        }
        tensors.push((name.clone(), t.shape.clone(), data));
    }
    rnn_dynamics::io::write_tensor_file(&path, &tensors, &file.metadata).unwrap();
    let output = analyze(&["fixed-points", path.to_str().unwrap()]);
    assert_one_line_error(&output, "weight_hh_l0");
}

#[test]
fn wrong_input_length_is_one_line() {
    let output = analyze(&["fixed-points", &fixture("flipflop_gru64.safetensors"), "--input", "1,2"]);
    assert_one_line_error(&output, "3 input channels");
}

#[test]
fn named_input_needs_two_region() {
    let output = analyze(&["fixed-points", &fixture("flipflop_gru64.safetensors"), "--input", "wait"]);
    assert_one_line_error(&output, "two-region");
}

#[test]
fn states_of_wrong_dimension_is_one_line() {
    let output = analyze(&[
        "fixed-points",
        &fixture("flipflop_gru64.safetensors"),
        "--states",
        &fixture("tanh1_states.safetensors"),
    ]);
    assert_one_line_error(&output, "states");
}

#[test]
fn unknown_arch_is_rejected() {
    let output = analyze(&["fixed-points", &fixture("tanh1.safetensors"), "--arch", "transformer"]);
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("transformer"), "{stderr}");
    assert!(stderr.contains("rnn_tanh"), "{stderr}");
}

#[test]
fn unwritable_out_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let blocker = dir.path().join("a-file");
    std::fs::write(&blocker, b"x").unwrap();
    let out = blocker.join("out");
    let output = analyze(&["fixed-points", &fixture("tanh1.safetensors"), "--out", out.to_str().unwrap()]);
    assert_one_line_error(&output, "a-file");
    assert_eq!(files_in(dir.path()).len(), 1, "only the blocking file remains");
}

#[test]
fn invalid_tolerance_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let output = analyze(&[
        "fixed-points",
        &fixture("tanh1.safetensors"),
        "--fixed-tol",
        "1e-3",
        "--slow-tol",
        "1e-6",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_one_line_error(&output, "tolerance");
    assert!(files_in(&out).is_empty(), "no output may be written on error");
}
