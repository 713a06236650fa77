//! `analyze figures` end to end on analyses/smoke.toml: sharded runs gathered equal one
//! unsharded run, reruns reuse the cache, and bad shards, specs and gathers give one plain
//! error that names the offending value.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn analyze(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_analyze"))
        .args(args)
        .output()
        .expect("run analyze")
}

fn smoke_spec() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("analyses/smoke.toml")
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

fn assert_ok(output: &Output) {
    assert!(output.status.success(), "analyze failed: {}", stderr(output));
}

/// Report files at the top of a batch folder (everything but `cache/`), sorted by name.
fn report_files(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut files: Vec<(String, Vec<u8>)> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_file())
        .map(|p| {
            (
                p.file_name().unwrap().to_string_lossy().into_owned(),
                std::fs::read(&p).unwrap(),
            )
        })
        .collect();
    files.sort();
    files
}

#[test]
fn shards_gathered_equal_unsharded_run() {
    let tmp = tempfile::tempdir().unwrap();
    let whole = tmp.path().join("whole");
    let sharded = tmp.path().join("sharded");
    let spec = smoke_spec();
    let spec = spec.to_str().unwrap();

    assert_ok(&analyze(&[
        "-q",
        "figures",
        spec,
        "--out",
        whole.to_str().unwrap(),
        "--jobs",
        "1",
    ]));
    for shard in ["1/3", "2/3", "3/3"] {
        assert_ok(&analyze(&[
            "-q",
            "figures",
            spec,
            "--out",
            sharded.to_str().unwrap(),
            "--shard",
            shard,
            "--jobs",
            "2",
        ]));
    }
    assert!(
        !sharded.join("report.md").exists(),
        "a shard run must not write the report"
    );
    assert_ok(&analyze(&[
        "-q",
        "figures",
        spec,
        "--out",
        sharded.to_str().unwrap(),
        "--gather",
    ]));

    let a = report_files(&whole);
    let b = report_files(&sharded);
    let names_a: Vec<&str> = a.iter().map(|(n, _)| n.as_str()).collect();
    let names_b: Vec<&str> = b.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names_a, names_b);
    for required in [
        "report.md",
        "index.html",
        "comparison.json",
        "comparison.csv",
        "networks.csv",
        "learning_curves.svg",
    ] {
        assert!(names_a.contains(&required), "missing {required}");
    }
    for ((name, bytes_a), (_, bytes_b)) in a.iter().zip(&b) {
        assert!(
            bytes_a == bytes_b,
            "{name} differs between the unsharded and the gathered run"
        );
    }

    // Every figure of the report appears in index.html with a caption.
    let index = String::from_utf8(std::fs::read(whole.join("index.html")).unwrap()).unwrap();
    for (name, _) in a.iter().filter(|(n, _)| n.ends_with(".svg")) {
        assert!(
            index.contains(&format!("<img src=\"{name}\"")),
            "index.html lacks {name}"
        );
    }
    assert_eq!(
        index.matches("<figcaption>").count(),
        a.iter().filter(|(n, _)| n.ends_with(".svg")).count()
    );

    let report = String::from_utf8(std::fs::read(whole.join("report.md")).unwrap()).unwrap();
    assert!(report.contains("(a) Does **kindergarten**"), "{report}");
    assert!(report.contains("than **conventional**"));
    assert!(report.contains("than **none**"));
}

#[test]
fn rerun_reuses_cached_products() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    let spec = smoke_spec();
    let spec = spec.to_str().unwrap();
    let first = analyze(&["figures", spec, "--out", out.to_str().unwrap()]);
    assert_ok(&first);
    assert!(String::from_utf8_lossy(&first.stdout).contains("6 trained"));

    // Each cached metrics file has slow-dynamics metrics or the reason they are missing.
    let metrics: Vec<PathBuf> = std::fs::read_dir(out.join("cache"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.file_name().unwrap().to_string_lossy().starts_with("metrics-"))
        .collect();
    assert_eq!(metrics.len(), 6);
    for path in &metrics {
        let json: serde_json::Value = serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap();
        let has_metrics = !json["slow_dynamics"].is_null();
        let has_reason = json["slow_dynamics_error"].is_string();
        assert!(has_metrics != has_reason, "{}: {json}", path.display());
    }

    let second = analyze(&["figures", spec, "--out", out.to_str().unwrap()]);
    assert_ok(&second);
    let text = String::from_utf8_lossy(&second.stdout).into_owned();
    assert!(text.contains("0 trained, 0 simulated"), "{text}");
}

#[test]
fn shard_out_of_range_is_rejected() {
    let tmp = tempfile::tempdir().unwrap();
    let spec = smoke_spec();
    for shard in ["0/3", "4/3", "1/0", "two/3"] {
        let output = analyze(&[
            "figures",
            spec.to_str().unwrap(),
            "--out",
            tmp.path().to_str().unwrap(),
            "--shard",
            shard,
        ]);
        assert!(!output.status.success(), "{shard} was accepted");
        let err = stderr(&output);
        assert!(err.contains("--shard"), "{shard}: {err}");
        assert!(err.contains(shard), "{shard}: {err}");
        assert_eq!(err.trim().lines().count(), 1, "{err}");
    }
    assert!(
        !tmp.path().join("cache").exists(),
        "a rejected shard must not start work"
    );
}

#[test]
fn malformed_spec_names_key() {
    let tmp = tempfile::tempdir().unwrap();
    let text = std::fs::read_to_string(smoke_spec()).unwrap();
    let cases = [
        (
            text.replace("simulation_trials", "simulation_trails"),
            "simulation_trails",
        ),
        (
            text.replace("session_trials = 60", "session_trial = 60"),
            "overrides.session_trial",
        ),
        (
            text.replacen("curriculum = \"conventional\"", "curriculum = \"conventionl\"", 1),
            "groups[1].curriculum",
        ),
        (text.replacen("seeds = [1, 2]", "seeds = []", 1), "groups[0].seeds"),
    ];
    for (i, (bad, key)) in cases.iter().enumerate() {
        let path = tmp.path().join(format!("bad{i}.toml"));
        std::fs::write(&path, bad).unwrap();
        let output = analyze(&[
            "figures",
            path.to_str().unwrap(),
            "--out",
            tmp.path().join("out").to_str().unwrap(),
        ]);
        assert!(!output.status.success(), "case {i} was accepted");
        let err = stderr(&output);
        assert!(err.contains(key), "case {i}: expected {key} in {err}");
        assert_eq!(err.trim().lines().count(), 1, "{err}");
    }
}

#[test]
fn missing_spec_file_is_reported() {
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("absent.toml");
    let output = analyze(&["figures", path.to_str().unwrap(), "--out", tmp.path().to_str().unwrap()]);
    assert!(!output.status.success());
    assert!(stderr(&output).contains("absent.toml"), "{}", stderr(&output));
}

#[test]
fn gather_before_shards_names_missing_jobs() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    let spec = smoke_spec();
    assert_ok(&analyze(&[
        "-q",
        "figures",
        spec.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--shard",
        "1/3",
    ]));
    let output = analyze(&[
        "figures",
        spec.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--gather",
    ]);
    assert!(!output.status.success());
    let err = stderr(&output);
    assert!(err.contains("4 of 6 jobs have no metrics"), "{err}");
    assert!(err.contains("job 1 (kindergarten seed 2)"), "{err}");
    assert!(!out.join("report.md").exists());
}
