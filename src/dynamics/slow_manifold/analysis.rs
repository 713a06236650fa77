//! Slow-manifold analysis of one region of a two-region network in one block context.
//!
//! Steps:
//! 1. PCA of the region's wait-epoch states `[h; c]` (all blocks, kept trials only).
//! 2. The region map: the OFC LSTM alone with the wait input `[0, 0, −0.05, 0]`, or the STR
//!    LSTM alone with the same task input and the OFC block logits held at the mean logits of
//!    the wait-epoch steps of the context's block.
//! 3. Speed √(2q)/dt (state units per second) of that map along the sampled states.
//! 4. Slow-point searches from sampled wait-epoch states: (a) in the full region state space,
//!    (b) in the top-D principal subspace (D = components for 90 % of the variance unless set).
//! 5. DBSCAN of each search's end points into dynamical features, with ε a fraction of the PC1
//!    range of the samples. Each feature gets its type, local dimension, extent, slowest time
//!    constant and alignment with the slowest mode. For the OFC it also gets the range of the
//!    block belief along it.

use std::collections::BTreeMap;

use ndarray::{s, Array1, Array2, Axis};
use rand::seq::index::sample;
use rand::Rng;
use serde::{Deserialize, Serialize};

use super::features::{find_slow_features, SlowFeature, SlowPointSearch, SlowSearchOptions};
use super::samples::{epoch_samples, EpochSamples, Epoch, Region};
use super::subspace::SubspaceMap;
use super::SlowManifoldOptions;
use crate::behavior::records::SimulationDir;
use crate::dynamics::fixed_points::{FixedPointOptions, PointKind, StartOutcome};
use crate::dynamics::pca::{Pca, PcaSummary};
use crate::dynamics::spectrum::Stability;
use crate::error::{Error, Result};
use crate::model::{OfcOnlyMap, RecurrentMap, StrOnlyMap, TwoRegion, BLOCK_LOGITS};
use crate::tasks::{named_input, Block};

/// Format tag of `slow_manifold.json`.
pub const SLOW_MANIFOLD_FORMAT: &str = "rnn-dynamics/slow-manifold/1";

/// Maximum number of components a PCA keeps, and so the largest 90 % count. Asking linfa for
/// every component of a 64-dimensional state makes its solver fail the fit check on the
/// smallest ones, so each fit fell back to the exact eigendecomposition with a warning.
pub const MAX_PCA_COMPONENTS: usize = 20;

/// Name of the random stream of the slow-point starts.
pub const STARTS_STREAM: &str = "slow-manifold starts";

/// The map of one region with its input held constant.
pub struct RegionMap<'a> {
    pub region: Region,
    pub context: Block,
    pub map: Box<dyn RecurrentMap + 'a>,
    /// Task input `[offer, start flag, previous reward, previous action]`.
    pub input: Vec<f64>,
    /// Block logits held in the STR input, or `None` for the OFC.
    pub logits: Option<[f64; BLOCK_LOGITS]>,
}

/// Builds the region map for `context`. For the STR the held block logits are the mean OFC
/// logits over the wait-epoch samples of that block, so `wait` must be wait-epoch samples of
/// the same simulation. The OFC map does not depend on the context. Errors when the context's
/// block has no wait-epoch sample.
pub fn region_map<'a>(net: &'a TwoRegion, region: Region, context: Block, wait: &EpochSamples) -> Result<RegionMap<'a>> {
    let input = named_input("wait", 0.0)?.to_vec();
    match region {
        Region::Ofc => Ok(RegionMap { region, context, map: Box::new(OfcOnlyMap::new(net)), input, logits: None }),
        Region::Str => {
            let logits = context_logits(wait, context)?;
            Ok(RegionMap { region, context, map: Box::new(StrOnlyMap::with_logits(net, logits)), input, logits: Some(logits) })
        }
    }
}

/// Mean OFC block logits over the wait-epoch samples of `block`.
pub fn context_logits(wait: &EpochSamples, block: Block) -> Result<[f64; BLOCK_LOGITS]> {
    let rows: Vec<usize> = (0..wait.len()).filter(|&i| wait.blocks[i] == block).collect();
    if rows.is_empty() {
        return Err(Error::invalid(
            "block context",
            format!("no wait-epoch step of a kept trial is in a {block} block; simulate more trials or choose another context"),
        ));
    }
    let mut logits = [0.0; BLOCK_LOGITS];
    for &row in &rows {
        for (k, l) in logits.iter_mut().enumerate() {
            *l += wait.logits[(row, k)] / rows.len() as f64;
        }
    }
    Ok(logits)
}

/// Fits the PCA of `samples` with up to [`MAX_PCA_COMPONENTS`] components.
pub fn fit_samples_pca(samples: &EpochSamples) -> Result<Pca> {
    // At most n − 1 components carry variance, and Pca::fit itself rejects fewer than 2 samples.
    let upper = samples.states.ncols().min(samples.len().saturating_sub(1)).min(MAX_PCA_COMPONENTS);
    let k = std::cmp::max(upper, 1);
    Pca::fit(samples.states.view(), k)
}

/// Quantiles of the speed √(2q)/dt of the region map along the samples, state units per
/// second.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SpeedSummary {
    pub n_samples: usize,
    pub min: f64,
    pub p10: f64,
    pub median: f64,
    pub p90: f64,
    pub max: f64,
}

/// One unique fixed or slow point, for the JSON results and figures.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PointSummary {
    /// Coordinates on PC1..PC3 of the region's wait-epoch PCA (0 beyond the subspace).
    pub pcs: [f64; 3],
    /// q = ½‖F(x) − x‖² in the searched coordinates, per step.
    pub q: f64,
    /// √(2q)/dt, state units per second.
    pub speed_per_second: f64,
    pub kind: PointKind,
    pub stability: Stability,
    pub n_unstable: usize,
    /// Largest eigenvalue modulus.
    pub leading_modulus: f64,
    /// Index of the feature the point belongs to.
    pub feature: Option<usize>,
    /// Number of starts that reached the point.
    pub n_starts: usize,
}

/// A feature with the readouts that need the network.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FeatureSummary {
    #[serde(flatten)]
    pub feature: SlowFeature,
    /// OFC only: `[min, max]` of each block-belief component (mixed, high, low), the softmax
    /// of the OFC head's block logits at the feature's points.
    pub belief_range: Option<[[f64; 2]; BLOCK_LOGITS]>,
}

/// Results of one search (full space or principal subspace).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SearchSummary {
    /// `full` or `subspace`.
    pub space: String,
    /// Dimension of the searched coordinates.
    pub dim: usize,
    pub options: SlowSearchOptions,
    pub n_starts: usize,
    pub n_fixed_points: usize,
    pub n_slow_points: usize,
    pub n_not_converged: usize,
    pub n_failed: usize,
    /// Unique slow points in no feature (DBSCAN noise).
    pub n_unassigned_slow: usize,
    /// Number of starts per kind of termination: the search's reason up to its first colon,
    /// so that reasons that differ only in their numbers are counted together.
    pub terminations: BTreeMap<String, usize>,
    pub features: Vec<FeatureSummary>,
    pub points: Vec<PointSummary>,
}

impl SearchSummary {
    /// Slowest finite time constant over all features, seconds.
    pub fn slowest_tau_s(&self) -> Option<f64> {
        self.features.iter().filter_map(|f| f.feature.slowest_tau_s).fold(None, |best: Option<f64>, tau| Some(best.map_or(tau, |b| b.max(tau))))
    }
}

/// Full results of [`analyze_region`], written as `slow_manifold.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RegionAnalysis {
    pub format: String,
    pub region: Region,
    pub context: Block,
    pub epoch: Epoch,
    /// Seconds per step.
    pub dt: f64,
    pub input: Vec<f64>,
    /// Block logits held in the STR input (mean wait-epoch OFC logits of the context block).
    pub held_logits: Option<[f64; BLOCK_LOGITS]>,
    pub n_kept_trials: usize,
    pub pca: PcaSummary,
    /// Components for 90 % of the variance (a count), or `None` when the kept ones stay below.
    pub components_90: Option<usize>,
    /// Dimension D of the subspace search.
    pub subspace_dim: usize,
    /// Range (max − min) of the samples' PC1 scores, state units.
    pub pc1_range: f64,
    pub speed: SpeedSummary,
    pub full: Option<SearchSummary>,
    pub subspace: SearchSummary,
}

/// Region analysis with the data the figures need.
pub struct RegionResult {
    pub analysis: RegionAnalysis,
    pub samples: EpochSamples,
    pub pca: Pca,
    /// PC1..PC3 scores of the samples (0 where the PCA has fewer components).
    pub sample_pcs: Array2<f64>,
}

/// Runs the slow-manifold analysis of `region` in `context` on the wait epoch of `sim`.
pub fn analyze_region(net: &TwoRegion, dt: f64, sim: &SimulationDir, region: Region, context: Block, opts: &SlowManifoldOptions) -> Result<RegionResult> {
    opts.validate()?;
    let samples = epoch_samples(sim, region, Epoch::Wait)?;
    let region_map = region_map(net, region, context, &samples)?;
    let pca = fit_samples_pca(&samples)?;
    let (analysis, sample_pcs) = analyze_with(net, dt, &samples, &pca, &region_map, opts, true)?;
    Ok(RegionResult { analysis, samples, pca, sample_pcs })
}

/// Runs the analysis on prepared samples, PCA and map, with the full-space search only when
/// `full_space` is set. Returns the analysis and the samples' PC1..PC3 scores.
pub(crate) fn analyze_with(
    net: &TwoRegion,
    dt: f64,
    samples: &EpochSamples,
    pca: &Pca,
    region_map: &RegionMap,
    opts: &SlowManifoldOptions,
    full_space: bool,
) -> Result<(RegionAnalysis, Array2<f64>)> {
    let components_90 = pca.components_for(0.9);
    let subspace_dim = match opts.subspace {
        Some(d) if d > pca.n_components() => {
            return Err(Error::invalid(
                "subspace dimension",
                format!("{d} exceeds the {} principal components kept; choose at most {}", pca.n_components(), pca.n_components()),
            ));
        }
        Some(d) => d,
        None => components_90.unwrap_or(pca.n_components()),
    };

    let scores = pca.project(samples.states.view())?;
    let pc1 = scores.column(0);
    let pc1_range = pc1.iter().copied().fold(f64::NEG_INFINITY, f64::max) - pc1.iter().copied().fold(f64::INFINITY, f64::min);
    let eps = opts.eps_fraction * pc1_range;
    let search_options = SlowSearchOptions {
        search: FixedPointOptions { dt, ..FixedPointOptions::default() },
        eps,
        min_points: opts.min_points,
        line_band: opts.line_band,
    };
    let speed = speed_summary(region_map, samples, dt);
    let rows = start_rows(samples.len(), opts.starts, opts.seed);

    // (a) Full region state space.
    let full = if full_space {
        let starts: Vec<Vec<f64>> = rows.iter().map(|&r| samples.states.row(r).to_vec()).collect();
        let search = find_slow_features(region_map.map.as_ref(), &region_map.input, &starts, &search_options)?;
        let lift = |x: &[f64]| x.to_vec();
        Some(summarise(net, region_map.region, "full", region_map.map.state_dim(), &search, pca, &lift)?)
    } else {
        None
    };

    // (b) Top-D principal subspace.
    let basis = pca.components.slice(s![..subspace_dim, ..]).to_owned();
    let subspace_map = SubspaceMap::new(region_map.map.as_ref(), pca.mean.clone(), basis)?;
    let starts: Vec<Vec<f64>> = rows.iter().map(|&r| scores.row(r).slice(s![..subspace_dim]).to_vec()).collect();
    let search = find_slow_features(&subspace_map, &region_map.input, &starts, &search_options)?;
    let lift = |z: &[f64]| subspace_map.lift(z);
    let subspace = summarise(net, region_map.region, "subspace", subspace_dim, &search, pca, &lift)?;

    let mut sample_pcs = Array2::zeros((samples.len(), 3));
    let k = pca.n_components().min(3);
    sample_pcs.slice_mut(s![.., ..k]).assign(&scores.slice(s![.., ..k]));

    let analysis = RegionAnalysis {
        format: SLOW_MANIFOLD_FORMAT.to_string(),
        region: region_map.region,
        context: region_map.context,
        epoch: samples.epoch,
        dt,
        input: region_map.input.clone(),
        held_logits: region_map.logits,
        n_kept_trials: samples.n_kept_trials,
        pca: pca.summary(),
        components_90,
        subspace_dim,
        pc1_range,
        speed,
        full,
        subspace,
    };
    Ok((analysis, sample_pcs))
}

/// Chooses `n` sample rows: without replacement when there are enough samples, else every
/// row once and the rest drawn with replacement. Seeded from the stream [`STARTS_STREAM`].
fn start_rows(n_samples: usize, n: usize, seed: u64) -> Vec<usize> {
    let mut rng = crate::rng::stream(seed, STARTS_STREAM);
    if n <= n_samples {
        let mut rows = sample(&mut rng, n_samples, n).into_vec();
        rows.sort_unstable();
        rows
    } else {
        let mut rows: Vec<usize> = (0..n_samples).collect();
        rows.extend((n_samples..n).map(|_| rng.gen_range(0..n_samples)));
        rows
    }
}

fn speed_summary(region_map: &RegionMap, samples: &EpochSamples, dt: f64) -> SpeedSummary {
    let dim = samples.states.ncols();
    let mut next = vec![0.0; dim];
    let mut speeds: Vec<f64> = samples
        .states
        .axis_iter(Axis(0))
        .map(|row| {
            let x = row.to_vec();
            region_map.map.step(&x, &region_map.input, &mut next);
            next.iter().zip(&x).map(|(a, b)| (a - b) * (a - b)).sum::<f64>().sqrt() / dt
        })
        .collect();
    speeds.sort_by(f64::total_cmp);
    let quantile = |p: f64| speeds[((speeds.len() - 1) as f64 * p).round() as usize];
    SpeedSummary { n_samples: speeds.len(), min: quantile(0.0), p10: quantile(0.1), median: quantile(0.5), p90: quantile(0.9), max: quantile(1.0) }
}

/// Builds the serialisable summary of a search. `lift` maps searched coordinates to the
/// region state.
fn summarise(net: &TwoRegion, region: Region, space: &str, dim: usize, search: &SlowPointSearch, pca: &Pca, lift: &dyn Fn(&[f64]) -> Vec<f64>) -> Result<SearchSummary> {
    let report = &search.report;
    let states: Vec<Vec<f64>> = report.points.iter().map(|p| lift(&p.x)).collect();

    let mut points = Vec::with_capacity(report.points.len());
    for (index, point) in report.points.iter().enumerate() {
        let row = Array1::from(states[index].clone()).insert_axis(Axis(0));
        let scores = pca.project(row.view())?;
        let mut pcs = [0.0; 3];
        for (k, slot) in pcs.iter_mut().enumerate().take(scores.ncols()) {
            *slot = scores[(0, k)];
        }
        points.push(PointSummary {
            pcs,
            q: point.q,
            speed_per_second: point.speed_per_second,
            kind: point.kind,
            stability: point.spectrum.stability,
            n_unstable: point.spectrum.n_unstable,
            leading_modulus: point.spectrum.modes.first().map_or(0.0, |m| m.modulus),
            feature: search.point_feature[index],
            n_starts: point.starts.len(),
        });
    }

    let features = search
        .features
        .iter()
        .map(|feature| FeatureSummary {
            belief_range: match region {
                Region::Ofc => Some(belief_range(net, feature.points.iter().map(|&p| states[p].as_slice()))),
                Region::Str => None,
            },
            feature: feature.clone(),
        })
        .collect();

    Ok(SearchSummary {
        space: space.to_string(),
        dim,
        options: search.options,
        n_starts: report.starts.len(),
        n_fixed_points: search.count(PointKind::Fixed),
        n_slow_points: search.count(PointKind::Slow),
        n_not_converged: report.count_starts(StartOutcome::NotConverged),
        n_failed: report.count_starts(StartOutcome::Failed),
        n_unassigned_slow: search.n_unassigned_slow,
        terminations: report.starts.iter().fold(BTreeMap::new(), |mut counts, record| {
            let kind = record.termination.split(':').next().unwrap_or_default().to_string();
            *counts.entry(kind).or_insert(0) += 1;
            counts
        }),
        features,
        points,
    })
}

/// `[min, max]` of each block-belief component over OFC states `[h; c]`: the softmax of the
/// OFC head's first three outputs at h.
pub fn belief_range<'x>(net: &TwoRegion, states: impl Iterator<Item = &'x [f64]>) -> [[f64; 2]; BLOCK_LOGITS] {
    let hidden = net.hidden_sizes()[0];
    let mut range = [[f64::INFINITY, f64::NEG_INFINITY]; BLOCK_LOGITS];
    for x in states {
        let belief = block_belief(net, &x[..hidden]);
        for (r, b) in range.iter_mut().zip(belief) {
            r[0] = r[0].min(b);
            r[1] = r[1].max(b);
        }
    }
    range
}

/// Softmax of the OFC head's block logits at the OFC hidden state `h`.
pub fn block_belief(net: &TwoRegion, h: &[f64]) -> [f64; BLOCK_LOGITS] {
    let outputs = net.ofc_head().apply(h);
    let max = (0..BLOCK_LOGITS).map(|k| outputs[k]).fold(f64::NEG_INFINITY, f64::max);
    let mut belief = [0.0; BLOCK_LOGITS];
    for (k, b) in belief.iter_mut().enumerate() {
        *b = (outputs[k] - max).exp();
    }
    let total: f64 = belief.iter().sum();
    belief.iter_mut().for_each(|b| *b /= total);
    belief
}
