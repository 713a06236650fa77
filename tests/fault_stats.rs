//! Fault classes of the statistics, clustering and PCA code, checked through the public API.
//!
//! Each test pins values computed by full enumeration or from the defining formula. A
//! regression to a known wrong implementation fails here: no tie correction, one-sided tests
//! without direction, asymptotic KS p-values for tiny groups, an index-dependent DBSCAN
//! boundary, a 0-based PCA dimension, or a block SEM taken from the pooled blocks.

use ndarray::Array2;
use rnn_dynamics::behavior::{analyze_behavior, BehaviorOptions, BehaviorTrial, Block, Outcome};
use rnn_dynamics::compare::{
    ks_two_sample, ks_two_sample_with, mann_whitney, mann_whitney_with, KsMethod, PValueMethod,
};
use rnn_dynamics::dynamics::cluster::{
    dbscan, dynamical_features, CandidatePoint, FeatureKind, FeatureOptions,
};
use rnn_dynamics::dynamics::pca::Pca;

fn range(first: i32, last: i32) -> Vec<f64> {
    (first..=last).map(f64::from).collect()
}

#[test]
fn rank_sum_ties_and_continuity() {
    let result = mann_whitney_with(&range(1, 5), &range(3, 7), PValueMethod::Asymptotic).unwrap();
    assert_eq!(result.u1, 4.5);
    assert!((result.variance - 22.5).abs() < 1e-12);
    assert!(
        (result.p_two_sided - 0.113846).abs() < 1e-6,
        "{}",
        result.p_two_sided
    );

    let exact = mann_whitney(&range(1, 5), &range(3, 7)).unwrap();
    assert!((exact.p_two_sided - 32.0 / 252.0).abs() < 1e-12);
}

#[test]
fn rank_sum_one_sided_direction() {
    let result = mann_whitney_with(&range(5, 9), &range(1, 5), PValueMethod::Asymptotic).unwrap();
    assert!((result.p_greater - 0.007985).abs() < 1e-6);
    assert!((result.p_less - 0.995592).abs() < 1e-6);

    let exact = mann_whitney(&range(5, 9), &range(1, 5)).unwrap();
    assert!((exact.p_greater - 2.0 / 252.0).abs() < 1e-12);
}

#[test]
fn rank_sum_exact_with_unequal_n() {
    let y: Vec<f64> = (1..=12).map(|k| f64::from(2 * k)).collect();
    let result = mann_whitney(&range(1, 10), &y).unwrap();
    assert!((result.p_two_sided - 0.0118890398).abs() < 1e-9);
    assert!((result.p_less - 0.0060017382).abs() < 1e-9);
    assert!((result.p_greater - 0.9949199).abs() < 1e-6);

    let separated = mann_whitney(&range(1, 5), &range(6, 10)).unwrap();
    assert!((separated.p_two_sided - 2.0 / 252.0).abs() < 1e-12);
}

#[test]
fn rank_sum_identical_and_all_tied() {
    let same = mann_whitney(&range(1, 5), &range(1, 5)).unwrap();
    assert_eq!(same.u1, 12.5);
    assert!((same.p_two_sided - 1.0).abs() < 1e-12);

    let tied = mann_whitney(&[2.0; 3], &[2.0; 3]).unwrap();
    assert!(tied.undefined);
    assert_eq!(tied.p_two_sided, 1.0);
    assert!(!serde_json::to_string(&tied).unwrap().contains("NaN"));
}

#[test]
fn ks_tiny_samples_are_exact() {
    let cases = [
        (vec![0.0], vec![1.0], 1.0, 0.2890),
        (vec![0.0], vec![1.0, 2.0], 2.0 / 3.0, 0.2013),
        (vec![1.0, 2.0], range(3, 6), 2.0 / 15.0, 0.0469),
    ];
    for (x, y, exact_p, old_asymptotic_p) in cases {
        let exact = ks_two_sample(&x, &y).unwrap();
        assert!(exact.exact);
        assert_eq!(exact.d, 1.0);
        assert!(
            (exact.p_value - exact_p).abs() < 1e-12,
            "{x:?} {y:?}: {}",
            exact.p_value
        );
        let asymptotic = ks_two_sample_with(&x, &y, KsMethod::Asymptotic).unwrap();
        assert!((asymptotic.p_value - old_asymptotic_p).abs() < 1e-4);
    }

    let three = ks_two_sample(&range(1, 3), &range(4, 6)).unwrap();
    assert!((three.p_value - 0.1).abs() < 1e-12);
    let five = ks_two_sample(&range(1, 5), &range(6, 10)).unwrap();
    assert!((five.p_value - 1.0 / 126.0).abs() < 1e-12);
}

fn on_x_axis(xs: &[f64]) -> Array2<f64> {
    Array2::from_shape_fn(
        (xs.len(), 2),
        |(row, column)| if column == 0 { xs[row] } else { 0.0 },
    )
}

#[test]
fn dbscan_inclusive_eps_and_min_points() {
    let labels = dbscan(on_x_axis(&[0.0, 1.0, 2.0, 3.0, 10.0]).view(), 1.0, 2).unwrap();
    assert_eq!(
        labels.labels,
        vec![Some(0), Some(0), Some(0), Some(0), None]
    );
    assert_eq!(labels.eps, 1.0);

    let pair = on_x_axis(&[0.0, 0.5]);
    assert_eq!(dbscan(pair.view(), 1.0, 2).unwrap().n_clusters, 1);
    assert_eq!(dbscan(pair.view(), 1.0, 3).unwrap().n_clusters, 0);
}

#[test]
fn line_attractor_is_one_feature() {
    // F(x) = (x₁, 0.5·x₂): every point of the x₁ axis is fixed, with |λ| = 1 and 0.5.
    let candidates: Vec<CandidatePoint> = (0..400)
        .map(|k| CandidatePoint {
            coords: vec![k as f64 / 200.0, 0.0],
            q: 0.0,
            is_fixed: true,
            eigen_moduli: vec![1.0, 0.5],
        })
        .collect();
    let set = dynamical_features(&candidates, &FeatureOptions::new(0.02, 5)).unwrap();
    assert_eq!(set.features.len(), 1);
    assert_eq!(set.features[0].local_dimension, 1);
    assert_eq!(set.features[0].kind, FeatureKind::LineAttractor);
}

#[test]
fn isolated_fixed_points_are_kept() {
    let candidates: Vec<CandidatePoint> = [[0.0, 0.0], [5.0, 0.0], [0.0, 5.0]]
        .iter()
        .map(|c| CandidatePoint {
            coords: c.to_vec(),
            q: 1e-15,
            is_fixed: true,
            eigen_moduli: vec![0.3, 0.2],
        })
        .collect();
    let set = dynamical_features(&candidates, &FeatureOptions::new(1.0, 5)).unwrap();
    assert_eq!(set.features.len(), 3);
    for feature in &set.features {
        assert_eq!(feature.kind, FeatureKind::Attractor);
    }
}

#[test]
fn pca_dimension_is_a_count() {
    // Three directions with variances about 64 : 16 : 1 (and a constant fourth column): PC1
    // explains about 0.79, PC1 + PC2 about 0.99, so two components reach 90 %.
    let data = Array2::from_shape_fn((400, 4), |(row, column)| {
        let phase = row as f64 * 0.7;
        match column {
            0 => 8.0 * phase.sin(),
            1 => 4.0 * (phase * 1.3).cos(),
            2 => (phase * 2.9).sin(),
            _ => 0.0,
        }
    });
    let pca = Pca::fit(data.view(), 3).unwrap();
    assert_eq!(pca.components_for(0.9), Some(2));
    assert_eq!(pca.summary().components_for_90_percent, Some(2));
}

#[test]
fn block_sem_uses_own_block() {
    // High block at 20 µL: identical waits (SEM 0). Low block: waits 4, 6, 8 (SEM 2/√3).
    let waits_high = [3.0, 3.0, 3.0];
    let waits_low = [4.0, 6.0, 8.0];
    let mut trials = Vec::new();
    for (k, (&high, &low)) in waits_high.iter().zip(&waits_low).enumerate() {
        for (offset, block, wait) in [(0, Block::High, high), (1, Block::Low, low)] {
            trials.push(BehaviorTrial {
                trial: 2 * k + offset,
                block,
                offer_ul: 20.0,
                catch: true,
                outcome: Outcome::OptedOut,
                wait_time_s: wait,
                reward_total: 0.0,
                duration_s: wait + 2.0,
            });
        }
    }
    let report = analyze_behavior(&trials, &BehaviorOptions::default()).unwrap();
    assert_eq!(report.curves.high[0].sem_s, Some(0.0));
    assert!((report.curves.low[0].sem_s.unwrap() - 2.0 / 3f64.sqrt()).abs() < 1e-12);

    let block = report.block_sensitivity.unwrap();
    assert!((block.ratio - 0.5).abs() < 1e-12);
    // Exact one-sided p: the 3 high waits lie below the 3 low waits in 1 of C(6, 3) = 20 splits.
    assert!((block.p_high_less - 0.05).abs() < 1e-12);
}
