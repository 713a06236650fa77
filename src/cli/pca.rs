//! `analyze pca`: principal components of the region states of one task epoch.

use std::fmt::Write as _;
use std::path::PathBuf;

use clap::Args;
use serde::Serialize;

use crate::behavior::records::SimulationDir;
use crate::dynamics::pca::PcaSummary;
use crate::dynamics::slow_manifold::analysis::fit_samples_pca;
use crate::dynamics::slow_manifold::samples::{MAX_DECISION_STEPS, MIN_DECISION_STEPS, MIN_ITI_STEPS};
use crate::dynamics::slow_manifold::{epoch_samples, Epoch, Region};
use crate::plot::{draw_trajectories, PlotOptions, TrajectoriesData, TrajectoryColour};
use crate::tasks::Block;

/// Format tag of `pca.json`.
pub const PCA_FORMAT: &str = "rnn-dynamics/pca/1";

/// Arguments of `analyze pca`.
#[derive(Debug, Args)]
pub struct PcaArgs {
    /// Simulation folder written by `analyze simulate`.
    pub sim_dir: PathBuf,

    /// Region whose states `[h; c]` are analysed: ofc, str or both.
    #[arg(long, default_value = "both")]
    pub region: String,

    /// Task epoch: wait (in-trial steps after the first, decision included), iti or all.
    #[arg(long, default_value = "wait")]
    pub epoch: String,

    /// Output folder for pca.json, explained_variance.csv and the SVGs (default: SIM_DIR/pca).
    #[arg(long)]
    pub out: Option<PathBuf>,
}

/// One region's PCA in `pca.json`.
#[derive(Debug, Serialize)]
struct RegionPca {
    region: Region,
    n_kept_trials: usize,
    #[serde(flatten)]
    summary: PcaSummary,
    /// Sample mean of the states.
    mean: Vec<f64>,
    /// First three components (rows, unit length, largest-|loading| entry positive).
    components: Vec<Vec<f64>>,
}

#[derive(Debug, Serialize)]
struct PcaFile {
    format: &'static str,
    sim_dir: String,
    epoch: Epoch,
    /// Trial filter: decision this many steps after the start (inclusive range), ITI at least
    /// `min_iti_steps`.
    decision_steps: [u64; 2],
    min_iti_steps: u32,
    regions: Vec<RegionPca>,
}

/// Runs `analyze pca`.
pub fn run(args: &PcaArgs, quiet: bool) -> anyhow::Result<()> {
    let regions: Vec<Region> = match args.region.as_str() {
        "both" => vec![Region::Ofc, Region::Str],
        "ofc" => vec![Region::Ofc],
        "str" => vec![Region::Str],
        other => anyhow::bail!("invalid region: '{other}' is not a region; expected ofc, str or both"),
    };
    let epoch: Epoch = args.epoch.parse()?;
    let sim = SimulationDir::read(&args.sim_dir)?;
    let out = args.out.clone().unwrap_or_else(|| args.sim_dir.join("pca"));

    // Compute everything before writing, so an error leaves no partial results.
    let mut fits = Vec::new();
    for &region in &regions {
        let samples = epoch_samples(&sim, region, epoch)?;
        let pca = fit_samples_pca(&samples)?;
        let scores = pca.project(samples.states.view())?;
        fits.push((region, samples, pca, scores));
    }

    super::common::create_out_dir(&out)?;
    let mut csv = String::from("region,component,variance,explained_variance_ratio,cumulative_ratio\n");
    let mut file = PcaFile {
        format: PCA_FORMAT,
        sim_dir: args.sim_dir.display().to_string(),
        epoch,
        decision_steps: [MIN_DECISION_STEPS, MAX_DECISION_STEPS],
        min_iti_steps: MIN_ITI_STEPS,
        regions: Vec::new(),
    };
    let mut summary = String::new();
    for (region, samples, pca, scores) in &fits {
        let ratios = pca.explained_variance_ratio();
        let mut cumulative = 0.0;
        for (k, (variance, ratio)) in pca.variances.iter().zip(&ratios).enumerate() {
            cumulative += ratio;
            let _ = writeln!(csv, "{region},{},{variance:.9e},{ratio:.9},{cumulative:.9}", k + 1);
        }
        file.regions.push(RegionPca {
            region: *region,
            n_kept_trials: samples.n_kept_trials,
            summary: pca.summary(),
            mean: pca.mean.to_vec(),
            components: pca.components.rows().into_iter().take(3).map(|r| r.to_vec()).collect(),
        });

        let mut pcs = ndarray::Array2::zeros((samples.len(), 3));
        let k = pca.n_components().min(3);
        pcs.slice_mut(ndarray::s![.., ..k]).assign(&scores.slice(ndarray::s![.., ..k]));
        draw_region_figures(&out, *region, epoch, samples, &pcs, &ratios)?;

        let top: Vec<String> = ratios.iter().take(3).map(|r| format!("{:.1} %", 100.0 * r)).collect();
        let _ = writeln!(
            summary,
            "{region}: {} {} samples from {} kept trials; PC1–3 explain {}; components reaching 90 %: {}",
            samples.len(),
            epoch.as_str(),
            samples.n_kept_trials,
            top.join(", "),
            pca.components_for(0.9).map_or(format!("more than {}", pca.n_components()), |c| c.to_string())
        );
    }
    crate::io::write_json_atomic(&out.join("pca.json"), &file)?;
    crate::io::write_atomic(&out.join("explained_variance.csv"), csv.as_bytes())?;

    if !quiet {
        print!("{summary}");
        println!("wrote pca.json, explained_variance.csv and trajectory SVGs in {}", out.display());
    }
    Ok(())
}

/// Draws `pca_REGION_block.svg` (coloured by block) and `pca_REGION_belief.svg` (coloured by
/// the OFC belief p(high) − p(low)) for a subset of trials.
fn draw_region_figures(
    out: &std::path::Path,
    region: Region,
    epoch: Epoch,
    samples: &crate::dynamics::slow_manifold::EpochSamples,
    pcs: &ndarray::Array2<f64>,
    ratios: &[f64],
) -> anyhow::Result<()> {
    let rows = super::slow_manifold::trajectory_rows(samples);
    let explained_variance: Vec<f64> = ratios.iter().take(3).copied().collect();
    let trajectories: Vec<Vec<[f64; 3]>> = rows.iter().map(|r| super::slow_manifold::pc_coords(r, pcs)).collect();
    let name = region.as_str().to_uppercase();

    let labels = rows.iter().map(|r| r.iter().map(|&i| samples.blocks[i].code() as usize).collect()).collect();
    let by_block = TrajectoriesData {
        explained_variance: explained_variance.clone(),
        trajectories: trajectories.clone(),
        colour: TrajectoryColour::Category { names: Block::ALL.iter().map(|b| b.as_str().to_string()).collect(), labels },
    };
    let title = format!("{name} states, {} epoch, by block", epoch.as_str());
    draw_trajectories(&out.join(format!("pca_{region}_block.svg")), &by_block, &PlotOptions::default().with_title(title))?;

    let values = rows.iter().map(|r| r.iter().map(|&i| samples.belief[(i, 1)] - samples.belief[(i, 2)]).collect()).collect();
    let by_belief = TrajectoriesData {
        explained_variance,
        trajectories,
        colour: TrajectoryColour::Value { label: "OFC belief p(high) − p(low)".to_string(), values, range: Some((-1.0, 1.0)) },
    };
    let title = format!("{name} states, {} epoch, by OFC block belief", epoch.as_str());
    draw_trajectories(&out.join(format!("pca_{region}_belief.svg")), &by_belief, &PlotOptions::default().with_title(title))?;
    Ok(())
}
