//! Group comparison: statistics plumbing on hand-made metric sets with known results, and
//! `analyze compare` end to end on tiny networks trained here.

use std::path::Path;
use std::process::{Command, Output};

use rnn_dynamics::compare::groups::{compare_metric, Group, StatsOptions};
use rnn_dynamics::compare::metrics::{metric_def, EndBehavior, NetworkMetrics, SessionPoint};
use rnn_dynamics::compare::report::{answer_questions, build_report, csv_table};

/// Builds a network with the given trials to criterion and WT_high/WT_low ratio.
fn network(run: &str, trials_to_criterion: Option<usize>, ratio: f64) -> NetworkMetrics {
    NetworkMetrics {
        run: run.into(),
        curriculum: "test".into(),
        seed: 0,
        trials_to_criterion,
        trials_to_offer_slope: trials_to_criterion,
        rl_trials_total: 10_000,
        sessions: vec![SessionPoint {
            stage: "block".into(),
            session: 1,
            trials_before: 0,
            training_reward_rate_per_s: ratio,
            evaluation_reward_rate_per_s: ratio,
            meets_criterion: trials_to_criterion.is_some(),
        }],
        behavior: Some(EndBehavior {
            source: "evaluation".into(),
            n_trials: 100,
            offer_slope_s: Some(0.5),
            wait_ratio_20: Some(ratio),
            opt_out_rate: Some(0.2),
        }),
        slow_dynamics: None,
        slow_dynamics_error: Some("not computed in this test".into()),
    }
}

fn group(name: &str, nets: Vec<NetworkMetrics>) -> Group {
    Group {
        name: name.into(),
        networks: nets,
    }
}

fn stats() -> StatsOptions {
    StatsOptions {
        resamples: 1000,
        level: 0.95,
        seed: 3,
    }
}

#[test]
fn separated_groups_exact_p() {
    // Ratios 0.1..0.3 against 0.7..0.9: complete separation, exact p = 2 / C(6, 3) = 0.1.
    let a = group(
        "a",
        (1..=3).map(|i| network("a", Some(100 * i), 0.1 * i as f64)).collect(),
    );
    let b = group(
        "b",
        (7..=9).map(|i| network("b", Some(100 * i), 0.1 * i as f64)).collect(),
    );
    let c = compare_metric(metric_def("wait_ratio_20").unwrap(), &[a, b], &stats()).unwrap();
    let pair = c.pairs[0].as_ref().unwrap();
    assert!(pair.mann_whitney.exact);
    assert!(
        (pair.mann_whitney.p_two_sided - 0.1).abs() < 1e-12,
        "{}",
        pair.mann_whitney.p_two_sided
    );
    assert!((pair.ks.p_value - 0.1).abs() < 1e-12, "{}", pair.ks.p_value);
    assert_eq!(pair.ks.d, 1.0);
    assert_eq!(pair.cliffs_delta, -1.0);
    assert_eq!(pair.mann_whitney.u1, 0.0);

    let a_stats = &c.groups[0];
    assert!((a_stats.summary.as_ref().unwrap().median - 0.2).abs() < 1e-12);
    let ci = a_stats.bootstrap.as_ref().unwrap().median_ci;
    assert!(ci[0] >= 0.1 - 1e-12, "{ci:?}");
    assert!(ci[1] <= 0.3 + 1e-12, "{ci:?}");
}

#[test]
fn identical_groups_p_one() {
    let make = |name: &str| {
        group(
            name,
            (1..=4).map(|i| network(name, Some(10 * i), 0.2 * i as f64)).collect(),
        )
    };
    let c = compare_metric(metric_def("wait_ratio_20").unwrap(), &[make("a"), make("b")], &stats()).unwrap();
    let pair = c.pairs[0].as_ref().unwrap();
    assert!((pair.mann_whitney.p_two_sided - 1.0).abs() < 1e-12);
    assert!((pair.ks.p_value - 1.0).abs() < 1e-12);
    assert_eq!(pair.cliffs_delta, 0.0);
}

#[test]
fn unreached_criterion_ranks_worst() {
    // A reaches the criterion in every network; B in none. As +∞, B's values all rank above
    // A's: complete separation with n = 3 + 3, exact p = 0.1.
    let a = group("a", (1..=3).map(|i| network("a", Some(1000 * i), 1.0)).collect());
    let b = group("b", (1..=3).map(|_| network("b", None, 1.0)).collect());
    let c = compare_metric(
        metric_def("trials_to_criterion").unwrap(),
        &[a.clone(), b.clone()],
        &stats(),
    )
    .unwrap();
    let pair = c.pairs[0].as_ref().unwrap();
    assert_eq!(pair.cliffs_delta, -1.0);
    assert!((pair.mann_whitney.p_two_sided - 0.1).abs() < 1e-12);
    assert_eq!(c.groups[1].n_censored, 3);
    assert_eq!(c.groups[1].n_observed, 0);
    assert!(c.groups[1].summary.is_none());
    assert_eq!(c.groups[0].summary.as_ref().unwrap().median, 2000.0);

    let report = build_report(&[a, b], &stats()).unwrap();
    assert_eq!(report.groups[0].reached_criterion, 3);
    assert_eq!(report.groups[1].reached_criterion, 0);
    let answers = answer_questions(&report, "a", "b");
    let first = answers.lines().next().unwrap();
    assert!(
        first.starts_with("- (a) Does **a** reach the learning criterion in fewer RL trials than **b**? Not shown"),
        "{first}"
    );
    assert!(first.contains("3 of 3 reached it"), "{first}");
    assert!(first.contains("0 of 3 reached it"), "{first}");
}

#[test]
fn answers_state_opposite_direction() {
    // A has the higher WT_high/WT_low ratio, opposite to question (b); with 5 + 5 fully
    // separated networks, exact p = 2 / C(10, 5) ≈ 0.0079 < 0.05.
    let a = group("a", (5..=9).map(|i| network("a", Some(10), 0.1 * i as f64)).collect());
    let b = group("b", (0..=4).map(|i| network("b", Some(10), 0.1 * i as f64)).collect());
    let report = build_report(&[a, b], &stats()).unwrap();
    let answers = answer_questions(&report, "a", "b");
    let line = answers.lines().find(|l| l.starts_with("- (b)")).unwrap();
    assert!(
        line.contains("No: a tends higher, opposite to the question, and significantly so"),
        "{line}"
    );
    assert!(line.contains("p = 0.007937"), "{line}");

    // With the groups swapped, the effect flips sign and the verdict is yes.
    let answers = answer_questions(&report, "b", "a");
    let line = answers.lines().find(|l| l.starts_with("- (b)")).unwrap();
    assert!(line.contains("Yes: b tends lower"), "{line}");
    assert!(line.contains("Cliff's δ = -1.000"), "{line}");
}

#[test]
fn csv_has_row_per_group_and_pair() {
    let a = group("a", vec![network("a", Some(1), 0.5), network("a", None, 0.7)]);
    let b = group("b", vec![network("b", Some(2), 0.9)]);
    let report = build_report(&[a, b], &stats()).unwrap();
    let csv = csv_table(&report);
    let header_columns = csv.lines().next().unwrap().split(',').count();
    for line in csv.lines() {
        assert_eq!(line.split(',').count(), header_columns, "{line}");
    }
    assert!(
        csv.lines()
            .any(|l| l.starts_with("group,trials_to_criterion,a,,1,,1,0,")),
        "{csv}"
    );
    assert!(
        csv.lines().any(|l| l.starts_with("pair,wait_ratio_20,a,b,2,1,")),
        "{csv}"
    );
}

// ---- analyze compare end to end ----

fn analyze(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_analyze"))
        .args(args)
        .output()
        .expect("run analyze")
}

/// Trains a tiny network (4 + 4 units, three 60-trial RL sessions) into `out`.
fn train_tiny(out: &Path, curriculum: &str, seed: u64) {
    let seed = seed.to_string();
    let mut args = vec![
        "-q",
        "train",
        "--curriculum",
        curriculum,
        "--seed",
        &seed,
        "--out",
        out.to_str().unwrap(),
    ];
    let sets = [
        "hidden=[4,4]",
        "session_trials=60",
        "nocatch_sessions=1",
        "catch_sessions=1",
        "block_sessions=1",
        "evaluation_trials=100",
        "simple_batch=10",
        "simple_max_epochs=3",
        "intermediate_batch=10",
        "intermediate_round_epochs=2",
        "intermediate_max_rounds=1",
        "inference_sequences=2",
        "inference_trials=20",
        "inference_round_epochs=2",
        "inference_max_epochs=2",
        "regularizer_batch=5",
    ];
    for set in &sets {
        args.push("--set");
        args.push(set);
    }
    let output = analyze(&args);
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
}

#[test]
fn compare_cli_writes_tables_and_figures() {
    let tmp = tempfile::tempdir().unwrap();
    let runs: Vec<_> = [
        ("kindergarten", 1),
        ("kindergarten", 2),
        ("conventional", 1),
        ("conventional", 2),
    ]
    .iter()
    .map(|(c, s)| {
        let dir = tmp.path().join(format!("{c}{s}"));
        train_tiny(&dir, c, *s);
        dir
    })
    .collect();
    // One run gets a simulation folder, so both behaviour sources are exercised.
    let sim = runs[0].join("sim");
    let output = analyze(&[
        "-q",
        "simulate",
        runs[0].join("model.safetensors").to_str().unwrap(),
        "--trials",
        "100",
        "--out",
        sim.to_str().unwrap(),
    ]);
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));

    let out = tmp.path().join("cmp");
    let r: Vec<&str> = runs.iter().map(|p| p.to_str().unwrap()).collect();
    let output = analyze(&[
        "compare",
        r[0],
        r[1],
        "--vs",
        r[2],
        r[3],
        "--names",
        "kindergarten,conventional",
        "--out",
        out.to_str().unwrap(),
        "--resamples",
        "200",
    ]);
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(stdout.contains("kindergarten: 2 networks"), "{stdout}");

    for file in [
        "comparison.md",
        "comparison.csv",
        "comparison.json",
        "networks.csv",
        "learning_curves.svg",
        "ecdf_ofc_features.svg",
        "strip_wait_ratio_20.svg",
    ] {
        assert!(out.join(file).is_file(), "missing {file}");
    }
    let json: serde_json::Value = serde_json::from_slice(&std::fs::read(out.join("comparison.json")).unwrap()).unwrap();
    assert_eq!(json["groups"][0]["name"], "kindergarten");
    assert_eq!(json["groups"][1]["runs"].as_array().unwrap().len(), 2);
    let networks = std::fs::read_to_string(out.join("networks.csv")).unwrap();
    assert_eq!(networks.lines().count(), 5, "{networks}");

    let curves = std::fs::read_to_string(out.join("learning_curves.svg")).unwrap();
    assert!(curves.contains("kindergarten"));
    assert!(curves.contains("conventional"));
}

#[test]
fn compare_cli_rejects_missing_run() {
    let tmp = tempfile::tempdir().unwrap();
    let absent = tmp.path().join("no-such-run");
    let output = analyze(&[
        "compare",
        absent.to_str().unwrap(),
        "--vs",
        absent.to_str().unwrap(),
        "--out",
        tmp.path().join("o").to_str().unwrap(),
    ]);
    assert!(!output.status.success());
    let err = String::from_utf8_lossy(&output.stderr);
    assert!(err.contains("no-such-run"), "{err}");
    assert!(err.contains("summary.json"), "{err}");
    assert!(!tmp.path().join("o").exists(), "nothing is written on error");
}

#[test]
fn compare_cli_rejects_bad_names() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().to_str().unwrap();
    for names in ["A", "A,A", "A,B,C", ",B"] {
        let output = analyze(&["compare", dir, "--vs", dir, "--names", names]);
        assert!(!output.status.success(), "{names} was accepted");
        assert!(String::from_utf8_lossy(&output.stderr).contains("--names"), "{names}");
    }
}
