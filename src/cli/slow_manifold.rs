//! `analyze slow-manifold`: slow points of one region of a two-region network in one block
//! context, grouped into dynamical features.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use anyhow::Context as _;
use clap::Args;

use crate::dynamics::slow_manifold::analysis::{FeatureSummary, SearchSummary};
use crate::dynamics::slow_manifold::{analyze_region, EpochSamples, Region, SlowManifoldOptions};
use crate::dynamics::fixed_points::PointKind;
use crate::model::{load_model, LoadOptions, Network, TwoRegion};
use crate::plot::{draw_features, FeaturePoint, FeaturesData, PcCoords, PlotOptions, PointKind as PlotPointKind};
use crate::tasks::Block;

/// Trials per block drawn as trajectories behind the points, so that figures stay readable.
pub const TRAJECTORIES_PER_BLOCK: usize = 10;

/// Arguments of `analyze slow-manifold`.
#[derive(Debug, Args)]
pub struct SlowManifoldArgs {
    /// Two-region model file (safetensors).
    pub model: PathBuf,

    /// Simulation folder written by `analyze simulate` with this model.
    pub sim_dir: PathBuf,

    /// Region to analyse: ofc or str.
    #[arg(long)]
    pub region: String,

    /// Block context: mixed, high or low. The STR's held OFC block logits are the mean
    /// wait-epoch OFC logits of this block. The OFC map does not depend on it.
    #[arg(long, default_value = "mixed")]
    pub context: String,

    /// Number of slow-point searches per space, started from sampled wait-epoch states.
    #[arg(long, default_value_t = 256)]
    pub starts: usize,

    /// Seed of the start sampling.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,

    /// Dimension D of the principal-subspace search, or auto for the number of components
    /// that reach 90 % of the wait-epoch variance.
    #[arg(long, default_value = "auto")]
    pub subspace: String,

    /// DBSCAN ε as a fraction of the PC1 range of the wait-epoch states.
    #[arg(long, default_value_t = 0.05)]
    pub eps_fraction: f64,

    /// DBSCAN core size, in converged starts (the start itself included).
    #[arg(long, default_value_t = 5)]
    pub min_points: usize,

    /// Output folder for slow_manifold.json, features.csv and slow_manifold.svg
    /// (default: SIM_DIR/slow_manifold_REGION_CONTEXT).
    #[arg(long)]
    pub out: Option<PathBuf>,
}

/// Loads a model file and returns its two-region network and seconds per step. Errors when
/// the file contains another architecture.
pub fn load_two_region(path: &Path) -> anyhow::Result<(TwoRegion, f64)> {
    let loaded = load_model(path, &LoadOptions::default())?;
    match loaded.network {
        Network::TwoRegion(net) => Ok((net, loaded.dt)),
        other => anyhow::bail!(
            "{}: architecture {} is not two_region_lstm; this analysis needs the OFC → STR network",
            path.display(),
            other.arch()
        ),
    }
}

/// Parses `--region` and `--context`.
pub fn parse_region_context(region: &str, context: &str) -> anyhow::Result<(Region, Block)> {
    let region: Region = region.parse()?;
    let context: Block = context.parse()?;
    Ok((region, context))
}

/// Parses `--subspace`: `auto` or a positive integer.
fn parse_subspace(text: &str) -> anyhow::Result<Option<usize>> {
    if text == "auto" {
        return Ok(None);
    }
    match text.parse::<usize>() {
        Ok(d) if d >= 1 => Ok(Some(d)),
        _ => anyhow::bail!("invalid --subspace {text:?}: expected auto or a number of components ≥ 1"),
    }
}

/// Returns the sample rows of the first [`TRAJECTORIES_PER_BLOCK`] kept trials of each block,
/// one list per trial in step order.
pub fn trajectory_rows(samples: &EpochSamples) -> Vec<Vec<usize>> {
    let mut taken = [0usize; 3];
    let mut out = Vec::new();
    for rows in samples.trajectories() {
        let slot = samples.blocks[rows[0]].code() as usize;
        if taken[slot] < TRAJECTORIES_PER_BLOCK {
            taken[slot] += 1;
            out.push(rows);
        }
    }
    out
}

/// Returns the PC1..PC3 coordinates of each listed sample row.
pub fn pc_coords(rows: &[usize], pcs: &ndarray::Array2<f64>) -> Vec<PcCoords> {
    rows.iter().map(|&r| [pcs[(r, 0)], pcs[(r, 1)], pcs[(r, 2)]]).collect()
}

/// Runs `analyze slow-manifold`.
pub fn run(args: &SlowManifoldArgs, quiet: bool) -> anyhow::Result<()> {
    let (region, context) = parse_region_context(&args.region, &args.context)?;
    let options = SlowManifoldOptions {
        starts: args.starts,
        seed: args.seed,
        subspace: parse_subspace(&args.subspace)?,
        eps_fraction: args.eps_fraction,
        min_points: args.min_points,
        ..SlowManifoldOptions::default()
    };
    options.validate()?;
    let (net, dt) = load_two_region(&args.model)?;
    let sim = crate::behavior::records::SimulationDir::read(&args.sim_dir)?;

    let result = analyze_region(&net, dt, &sim, region, context, &options)?;
    let out = args.out.clone().unwrap_or_else(|| args.sim_dir.join(format!("slow_manifold_{region}_{context}")));
    super::common::create_out_dir(&out)?;

    let analysis = &result.analysis;
    let searches: Vec<&SearchSummary> = analysis.full.iter().chain(std::iter::once(&analysis.subspace)).collect();
    crate::io::write_json_atomic(&out.join("slow_manifold.json"), analysis)?;
    crate::io::write_atomic(&out.join("features.csv"), features_csv(&searches).as_bytes())?;
    draw_figure(&out.join("slow_manifold.svg"), &result, &searches)
        .with_context(|| format!("cannot draw the figure in {}", out.display()))?;

    if !quiet {
        print!("{}", summary_table(analysis, &searches));
        println!("wrote slow_manifold.json, features.csv, slow_manifold.svg in {}", out.display());
    }
    Ok(())
}

fn fmt_option(value: Option<f64>, precision: usize) -> String {
    value.map_or_else(|| "-".to_string(), |v| format!("{v:.precision$}"))
}

fn belief_text(feature: &FeatureSummary) -> String {
    match &feature.belief_range {
        Some(range) => range.iter().map(|[lo, hi]| format!("{lo:.2}–{hi:.2}")).collect::<Vec<_>>().join(" "),
        None => "-".to_string(),
    }
}

fn features_csv(searches: &[&SearchSummary]) -> String {
    let mut csv = String::from(
        "space,feature,kind,cluster,n_points,n_fixed,n_slow,n_starts,local_dimension,extent,leading_modulus,slowest_tau_s,alignment,belief_mixed_min,belief_mixed_max,belief_high_min,belief_high_max,belief_low_min,belief_low_max\n",
    );
    for search in searches {
        for (index, summary) in search.features.iter().enumerate() {
            let f = &summary.feature;
            let belief: Vec<String> = match &summary.belief_range {
                Some(range) => range.iter().flat_map(|[lo, hi]| [format!("{lo:.6}"), format!("{hi:.6}")]).collect(),
                None => vec![String::new(); 6],
            };
            let _ = writeln!(
                csv,
                "{},{index},{},{},{},{},{},{},{},{:.6e},{:.9},{},{},{}",
                search.space,
                serde_json::to_value(f.kind).ok().and_then(|v| v.as_str().map(str::to_string)).unwrap_or_default(),
                f.cluster.map_or(String::new(), |c| c.to_string()),
                f.points.len(),
                f.n_fixed_points,
                f.n_slow_points,
                f.n_starts,
                f.local_dimension,
                f.extent,
                f.leading_modulus,
                f.slowest_tau_s.map_or(String::new(), |t| format!("{t:.6}")),
                f.alignment.map_or(String::new(), |a| format!("{a:.6}")),
                belief.join(",")
            );
        }
    }
    csv
}

fn kind_name(summary: &FeatureSummary) -> String {
    serde_json::to_value(summary.feature.kind).ok().and_then(|v| v.as_str().map(|s| s.replace('_', " "))).unwrap_or_default()
}

fn summary_table(analysis: &crate::dynamics::slow_manifold::RegionAnalysis, searches: &[&SearchSummary]) -> String {
    let mut text = String::new();
    let _ = writeln!(
        text,
        "{} in the {} context: {} wait-epoch samples from {} kept trials; components for 90 % of the variance: {}; subspace D = {}",
        analysis.region,
        analysis.context,
        analysis.pca.n_samples,
        analysis.n_kept_trials,
        analysis.components_90.map_or("more than the kept".to_string(), |c| c.to_string()),
        analysis.subspace_dim
    );
    let _ = writeln!(
        text,
        "speed along the samples (state units/s): median {:.3}, 10–90 % {:.3}–{:.3}",
        analysis.speed.median, analysis.speed.p10, analysis.speed.p90
    );
    for search in searches {
        let _ = writeln!(
            text,
            "{} space (dim {}): {} starts -> fixed points: {}, slow points: {} (not converged: {}); ε = {:.4}, {} feature(s)",
            search.space,
            search.dim,
            search.n_starts,
            search.n_fixed_points,
            search.n_slow_points,
            search.n_not_converged,
            search.options.eps,
            search.features.len()
        );
        if search.features.is_empty() {
            continue;
        }
        let _ = writeln!(text, "  {:>3}  {:<15} {:>6} {:>6} {:>4} {:>9} {:>9} {:>8}  belief range (mixed high low)", "id", "kind", "points", "starts", "dim", "extent", "tau_s", "|cos|");
        for (index, feature) in search.features.iter().enumerate() {
            let f = &feature.feature;
            let _ = writeln!(
                text,
                "  {:>3}  {:<15} {:>6} {:>6} {:>4} {:>9.4} {:>9} {:>8}  {}",
                index,
                kind_name(feature),
                f.points.len(),
                f.n_starts,
                f.local_dimension,
                f.extent,
                fmt_option(f.slowest_tau_s, 3),
                fmt_option(f.alignment, 3),
                belief_text(feature)
            );
        }
    }
    text
}

fn draw_figure(path: &Path, result: &crate::dynamics::slow_manifold::RegionResult, searches: &[&SearchSummary]) -> anyhow::Result<()> {
    let trajectories = trajectory_rows(&result.samples).iter().map(|rows| pc_coords(rows, &result.sample_pcs)).collect();
    let mut feature_names = Vec::new();
    let mut points = Vec::new();
    for search in searches {
        let offset = feature_names.len();
        for (index, feature) in search.features.iter().enumerate() {
            feature_names.push(format!("{} {}: {}", search.space, index, kind_name(feature)));
        }
        for point in &search.points {
            points.push(FeaturePoint {
                pcs: point.pcs,
                feature: point.feature.map(|f| f + offset),
                kind: match point.kind {
                    PointKind::Fixed => PlotPointKind::Fixed,
                    PointKind::Slow => PlotPointKind::Slow,
                },
            });
        }
    }
    let ratios = result.pca.explained_variance_ratio();
    let data = FeaturesData {
        explained_variance: ratios.iter().take(3).copied().collect(),
        trajectories,
        feature_names,
        points,
    };
    let analysis = &result.analysis;
    let title = format!("{} slow points, {} context (wait epoch)", analysis.region.as_str().to_uppercase(), analysis.context);
    draw_features(path, &data, &PlotOptions::default().with_title(title))?;
    Ok(())
}
