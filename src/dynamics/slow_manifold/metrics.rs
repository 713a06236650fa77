//! Per-network slow-dynamics metrics, the inputs of group comparisons.
//!
//! The metrics come from the principal-subspace search of
//! [`analyze_region`](super::analyze_region), run on the wait epoch for the OFC in the mixed
//! context and for the STR in the mixed, high and low contexts. The full-space search is
//! skipped to keep a batch of many networks fast.

use std::collections::BTreeMap;

use ndarray::{s, Array2};
use rand::seq::SliceRandom;
use serde::{Deserialize, Serialize};

use super::analysis::{analyze_with, fit_samples_pca, region_map, RegionAnalysis};
use super::samples::{epoch_samples, Epoch, EpochSamples, Region};
use crate::behavior::records::SimulationDir;
use crate::dynamics::cluster::FeatureKind;
use crate::error::{Error, Result};
use crate::model::TwoRegion;
use crate::tasks::Block;

/// Number of folds of the block-decoding cross-validation.
pub const DECODING_FOLDS: usize = 5;

/// Slow-dynamics summary of one region analysed in one block context.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RegionMetrics {
    /// `ofc` or `str`.
    pub region: String,
    /// Block context of the clamped input: `mixed`, `high` or `low`.
    pub context: String,
    /// Dynamical features: DBSCAN clusters of slow points plus isolated fixed points.
    pub n_features: usize,
    pub n_fixed_points: usize,
    pub n_slow_points: usize,
    /// Principal components needed for 90 % of the wait-epoch state variance (a count, ≥ 1).
    pub components_90: usize,
    /// Slowest finite time constant over all features, seconds; `None` without features.
    pub slowest_tau_s: Option<f64>,
    /// Whether any feature is a line attractor (an eigenvalue modulus within 1e-3 of 1).
    pub has_line_attractor: bool,
    /// OFC only: cross-validated accuracy of decoding the block from positions along the slow
    /// manifold; `None` for the STR or when undefined.
    pub block_decodability: Option<f64>,
}

/// Slow-dynamics summary of one network: the OFC in the mixed context and the STR in each
/// block context.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SlowDynamicsMetrics {
    pub ofc: RegionMetrics,
    pub str_contexts: Vec<RegionMetrics>,
}

/// Settings of the slow-manifold analysis (defaults documented on each field).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SlowManifoldOptions {
    /// Number of slow-point searches per region and context (default 256).
    pub starts: usize,
    /// Seed of the starts and of the decoding folds (default 0).
    pub seed: u64,
    /// Dimension D of the subspace search. `None` (default) uses the number of components
    /// that reach 90 % of the wait-epoch variance.
    pub subspace: Option<usize>,
    /// DBSCAN ε as a fraction of the PC1 range of the wait-epoch samples (default 0.05). A
    /// fraction of the range makes ε scale with the network's state amplitude.
    pub eps_fraction: f64,
    /// DBSCAN core size in converged starts, the start itself included (default 5).
    pub min_points: usize,
    /// Band ||λ| − 1| < line_band that types a feature as a line attractor (default 1e-3).
    pub line_band: f64,
}

impl Default for SlowManifoldOptions {
    fn default() -> Self {
        SlowManifoldOptions { starts: 256, seed: 0, subspace: None, eps_fraction: 0.05, min_points: 5, line_band: 1e-3 }
    }
}

impl SlowManifoldOptions {
    /// Checks every field: at least one start, D ≥ 1 when given, ε fraction finite and
    /// positive, `min_points` ≥ 1 and a finite non-negative line band.
    pub fn validate(&self) -> Result<()> {
        if self.starts == 0 {
            return Err(Error::invalid("starts", "0, expected at least 1"));
        }
        if self.subspace == Some(0) {
            return Err(Error::invalid("subspace dimension", "0, expected at least 1 or auto"));
        }
        if !(self.eps_fraction.is_finite() && self.eps_fraction > 0.0) {
            return Err(Error::invalid("eps fraction", format!("{}, expected a finite number > 0", self.eps_fraction)));
        }
        if self.min_points == 0 {
            return Err(Error::invalid("min points", "0, expected at least 1"));
        }
        if !(self.line_band.is_finite() && self.line_band >= 0.0) {
            return Err(Error::invalid("line band", format!("{}, expected a finite number ≥ 0", self.line_band)));
        }
        Ok(())
    }
}

/// Reads the seconds per step from the simulation's `run.json` (`dt_s`).
pub fn simulation_dt(sim: &SimulationDir) -> Result<f64> {
    match sim.run.get("dt_s").and_then(|v| v.as_f64()) {
        Some(dt) if dt.is_finite() && dt > 0.0 => Ok(dt),
        other => Err(Error::invalid("run.json dt_s", format!("{other:?}, expected the seconds per step (> 0) written by `analyze simulate`"))),
    }
}

/// Computes the slow-dynamics metrics of `network` from the simulation `sim`: the OFC in the
/// mixed context and the STR in the mixed, high and low contexts (subspace searches only).
///
/// Block decodability is the 5-fold cross-validated accuracy of a nearest-centroid decoder of
/// the block from the wait-epoch OFC states projected on the OFC's top-D components. Folds
/// hold whole trials (seeded), so that correlated steps of one trial never sit on both sides.
pub fn slow_dynamics_metrics(network: &TwoRegion, sim: &SimulationDir, opts: &SlowManifoldOptions) -> Result<SlowDynamicsMetrics> {
    opts.validate()?;
    let dt = simulation_dt(sim)?;

    let ofc_samples = epoch_samples(sim, Region::Ofc, Epoch::Wait)?;
    let ofc_pca = fit_samples_pca(&ofc_samples)?;
    let ofc_map = region_map(network, Region::Ofc, Block::Mixed, &ofc_samples)?;
    let (ofc_analysis, _) = analyze_with(network, dt, &ofc_samples, &ofc_pca, &ofc_map, opts, false)?;
    let scores = ofc_pca.project(ofc_samples.states.view())?;
    let decoding_scores = scores.slice(s![.., ..ofc_analysis.subspace_dim]).to_owned();
    let mut ofc = region_metrics(&ofc_analysis, ofc_pca.n_components());
    ofc.block_decodability = decode_blocks(&decoding_scores, &ofc_samples, opts.seed);

    let str_samples = epoch_samples(sim, Region::Str, Epoch::Wait)?;
    let str_pca = fit_samples_pca(&str_samples)?;
    let mut str_contexts = Vec::with_capacity(3);
    for context in Block::ALL {
        let map = region_map(network, Region::Str, context, &ofc_samples)?;
        let (analysis, _) = analyze_with(network, dt, &str_samples, &str_pca, &map, opts, false)?;
        str_contexts.push(region_metrics(&analysis, str_pca.n_components()));
    }
    Ok(SlowDynamicsMetrics { ofc, str_contexts })
}

fn region_metrics(analysis: &RegionAnalysis, n_components: usize) -> RegionMetrics {
    let search = &analysis.subspace;
    RegionMetrics {
        region: analysis.region.as_str().to_string(),
        context: analysis.context.as_str().to_string(),
        n_features: search.features.len(),
        n_fixed_points: search.n_fixed_points,
        n_slow_points: search.n_slow_points,
        components_90: analysis.components_90.unwrap_or(n_components),
        slowest_tau_s: search.slowest_tau_s(),
        has_line_attractor: search.features.iter().any(|f| f.feature.kind == FeatureKind::LineAttractor),
        block_decodability: None,
    }
}

/// Cross-validated nearest-centroid accuracy of the block labels of `samples` from `scores`
/// (one row per sample). `None` with fewer than two blocks or fewer trials than folds.
pub fn decode_blocks(scores: &Array2<f64>, samples: &EpochSamples, seed: u64) -> Option<f64> {
    let mut trials: Vec<usize> = samples.trials.clone();
    trials.sort_unstable();
    trials.dedup();
    let n_blocks = Block::ALL.iter().filter(|b| samples.blocks.contains(b)).count();
    if n_blocks < 2 || trials.len() < DECODING_FOLDS {
        return None;
    }
    let mut rng = crate::rng::stream(seed, "block decoding folds");
    trials.shuffle(&mut rng);
    let fold_of: BTreeMap<usize, usize> = trials.iter().enumerate().map(|(k, &t)| (t, k % DECODING_FOLDS)).collect();

    let dim = scores.ncols();
    let (mut correct, mut total) = (0usize, 0usize);
    for fold in 0..DECODING_FOLDS {
        let mut sums = [(); 3].map(|_| vec![0.0; dim]);
        let mut counts = [0usize; 3];
        for (row, block) in samples.blocks.iter().enumerate() {
            if fold_of[&samples.trials[row]] != fold {
                let b = block.code() as usize;
                counts[b] += 1;
                for (s, v) in sums[b].iter_mut().zip(scores.row(row)) {
                    *s += v;
                }
            }
        }
        let centroids: Vec<(usize, Vec<f64>)> = (0..3)
            .filter(|&b| counts[b] > 0)
            .map(|b| (b, sums[b].iter().map(|s| s / counts[b] as f64).collect()))
            .collect();
        for (row, block) in samples.blocks.iter().enumerate() {
            if fold_of[&samples.trials[row]] != fold {
                continue;
            }
            let predicted = centroids
                .iter()
                .map(|(b, c)| (*b, c.iter().zip(scores.row(row)).map(|(m, v)| (m - v) * (m - v)).sum::<f64>()))
                .min_by(|a, b| a.1.total_cmp(&b.1))
                .map(|(b, _)| b);
            total += 1;
            if predicted == Some(block.code() as usize) {
                correct += 1;
            }
        }
    }
    Some(correct as f64 / total as f64)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Builds samples of `n_trials` trials with 4 steps each, blocks cycling mixed, high, low,
    /// and one score per step: the block code times `separation` plus a small alternating offset.
    fn blocks_and_scores(n_trials: usize, separation: f64) -> (EpochSamples, Array2<f64>) {
        let n = 4 * n_trials;
        let trials: Vec<usize> = (0..n).map(|i| i / 4).collect();
        let blocks: Vec<Block> = trials.iter().map(|t| Block::ALL[t % 3]).collect();
        let scores = Array2::from_shape_fn((n, 1), |(i, _)| blocks[i].code() as f64 * separation + if i % 2 == 0 { 0.1 } else { -0.1 });
        let samples = EpochSamples {
            region: Region::Ofc,
            epoch: Epoch::Wait,
            states: scores.clone(),
            steps: (0..n).collect(),
            trials,
            blocks,
            belief: Array2::zeros((n, 3)),
            logits: Array2::zeros((n, 3)),
            n_kept_trials: n_trials,
        };
        (samples, scores)
    }

    #[test]
    fn decoding_separated_blocks_is_exact() {
        let (samples, scores) = blocks_and_scores(30, 5.0);
        assert_eq!(decode_blocks(&scores, &samples, 0), Some(1.0));
    }

    #[test]
    fn decoding_identical_blocks_is_not_exact() {
        // Every block has the same scores, so the accuracy stays near chance (1/3).
        let (samples, scores) = blocks_and_scores(30, 0.0);
        let accuracy = decode_blocks(&scores, &samples, 0).unwrap();
        assert!(accuracy < 0.6, "accuracy {accuracy}");
    }

    #[test]
    fn decoding_needs_two_blocks_and_enough_trials() {
        let (mut samples, scores) = blocks_and_scores(30, 5.0);
        samples.blocks = vec![Block::Mixed; samples.len()];
        assert_eq!(decode_blocks(&scores, &samples, 0), None);

        let (samples, scores) = blocks_and_scores(4, 5.0);
        assert_eq!(decode_blocks(&scores, &samples, 0), None);
    }

    #[test]
    fn options_reject_invalid_values() {
        let valid = SlowManifoldOptions::default();
        assert!(valid.validate().is_ok());
        let cases = [
            SlowManifoldOptions { starts: 0, ..valid.clone() },
            SlowManifoldOptions { subspace: Some(0), ..valid.clone() },
            SlowManifoldOptions { eps_fraction: 0.0, ..valid.clone() },
            SlowManifoldOptions { eps_fraction: f64::NAN, ..valid.clone() },
            SlowManifoldOptions { min_points: 0, ..valid.clone() },
            SlowManifoldOptions { line_band: -1.0, ..valid.clone() },
        ];
        for case in cases {
            assert!(case.validate().is_err(), "{case:?}");
        }
    }
}
