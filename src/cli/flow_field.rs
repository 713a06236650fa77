//! `analyze flow-field`: one step of a region map on a PC1–PC2 grid, with the region's own
//! head read out at each node and the subspace slow points on top.

use std::fmt::Write as _;
use std::path::PathBuf;

use clap::Args;
use ndarray::Axis;
use serde::Serialize;

use crate::behavior::records::SimulationDir;
use crate::dynamics::fixed_points::PointKind;
use crate::dynamics::flow_field::{flow_field, grid_axis, FlowField, PcPlane};
use crate::dynamics::slow_manifold::analysis::{analyze_with, fit_samples_pca, PointSummary};
use crate::dynamics::slow_manifold::{block_belief, epoch_samples, region_map, Epoch, Region, SlowManifoldOptions};
use crate::dynamics::spectrum::Stability;
use crate::plot::{draw_flow_field, FlowBackground, FlowFieldData, PlanePoint, PlotOptions, PointKind as PlotPointKind, Stability as PlotStability};
use crate::tasks::Block;

/// Format tag of `flow_field.json`.
pub const FLOW_FIELD_FORMAT: &str = "rnn-dynamics/flow-field/1";

/// Maximum grid points per axis. Each node keeps its mapped state for the readouts, so a
/// 1000 × 1000 grid of 512-dimensional states already needs about 4 GB.
pub const MAX_GRID: usize = 1000;

/// Arguments of `analyze flow-field`.
#[derive(Debug, Args)]
pub struct FlowFieldArgs {
    /// Two-region model file (safetensors).
    pub model: PathBuf,

    /// Simulation folder written by `analyze simulate` with this model.
    pub sim_dir: PathBuf,

    /// Region to analyse: ofc or str.
    #[arg(long)]
    pub region: String,

    /// Block context: mixed, high or low (sets the STR's held OFC block logits).
    #[arg(long, default_value = "mixed")]
    pub context: String,

    /// Grid points per axis. The grid spans the samples' PC1 and PC2 range plus 10 % on each
    /// side.
    #[arg(long, default_value_t = 50)]
    pub grid: usize,

    /// Number of slow-point searches in the PC1–PC2 plane, drawn on top (0 draws none).
    #[arg(long, default_value_t = 128)]
    pub starts: usize,

    /// Seed of the slow-point starts.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,

    /// Output folder for flow_field.json, flow_field.csv and flow_field.svg
    /// (default: SIM_DIR/flow_field_REGION_CONTEXT).
    #[arg(long)]
    pub out: Option<PathBuf>,
}

/// Readout of the region's own head at each node's mapped state.
#[derive(Debug, Serialize)]
#[serde(rename_all = "snake_case")]
enum Readout {
    /// OFC: block belief (softmax of the block logits) per node, and its argmax (0 mixed,
    /// 1 high, 2 low).
    Ofc { belief: Vec<[f64; 3]>, argmax_block: Vec<usize> },
    /// STR: p(wait) from the wait and opt-out logits (the ITI action is masked in a trial),
    /// and the value output, per node.
    Str { p_wait: Vec<f64>, value: Vec<f64> },
}

#[derive(Debug, Serialize)]
struct FlowFieldFile<'a> {
    format: &'static str,
    region: Region,
    context: Block,
    /// Seconds per step.
    dt: f64,
    input: &'a [f64],
    held_logits: Option<[f64; 3]>,
    explained_variance_ratio: Vec<f64>,
    #[serde(flatten)]
    field: &'a FlowField,
    readout: Readout,
    /// Slow points of the PC1–PC2 subspace search.
    slow_points: &'a [PointSummary],
}

/// Runs `analyze flow-field`.
pub fn run(args: &FlowFieldArgs, quiet: bool) -> anyhow::Result<()> {
    let (region, context) = super::slow_manifold::parse_region_context(&args.region, &args.context)?;
    if !(2..=MAX_GRID).contains(&args.grid) {
        anyhow::bail!("invalid --grid {}: expected 2 to {MAX_GRID} points per axis", args.grid);
    }
    let (net, dt) = super::slow_manifold::load_two_region(&args.model)?;
    let sim = SimulationDir::read(&args.sim_dir)?;

    let samples = epoch_samples(&sim, region, Epoch::Wait)?;
    let wait_ofc = match region {
        Region::Ofc => None,
        Region::Str => Some(epoch_samples(&sim, Region::Ofc, Epoch::Wait)?),
    };
    let map = region_map(&net, region, context, wait_ofc.as_ref().unwrap_or(&samples))?;
    let pca = fit_samples_pca(&samples)?;
    if pca.n_components() < 2 {
        anyhow::bail!("the {region} states have {} principal component(s); a flow field needs 2", pca.n_components());
    }

    // Grid over PC1–PC2, with the later PCs at their sample mean.
    let scores = pca.project(samples.states.view())?;
    let xs = grid_axis(scores.column(0), args.grid)?;
    let ys = grid_axis(scores.column(1), args.grid)?;
    let other_scores: Vec<f64> = scores.slice(ndarray::s![.., 2..]).mean_axis(Axis(0)).map(|m| m.to_vec()).unwrap_or_default();
    let plane = PcPlane { mean: pca.mean.view(), components: pca.components.view(), other_scores: &other_scores };
    let field = flow_field(map.map.as_ref(), &map.input, &plane, &xs, &ys, dt)?;
    let readout = read_heads(&net, region, &field);

    // Slow points of the PC1–PC2 plane, as in the study's flow fields (D = 2).
    let slow_points = if args.starts > 0 {
        let options = SlowManifoldOptions { starts: args.starts, seed: args.seed, subspace: Some(2), ..SlowManifoldOptions::default() };
        analyze_with(&net, dt, &samples, &pca, &map, &options, false)?.0.subspace.points
    } else {
        Vec::new()
    };

    let out = args.out.clone().unwrap_or_else(|| args.sim_dir.join(format!("flow_field_{region}_{context}")));
    super::common::create_out_dir(&out)?;
    let ratios = pca.explained_variance_ratio();
    let file = FlowFieldFile {
        format: FLOW_FIELD_FORMAT,
        region,
        context,
        dt,
        input: &map.input,
        held_logits: map.logits,
        explained_variance_ratio: ratios.iter().take(3).copied().collect(),
        field: &field,
        readout,
        slow_points: &slow_points,
    };
    crate::io::write_json_atomic(&out.join("flow_field.json"), &file)?;
    crate::io::write_atomic(&out.join("flow_field.csv"), flow_csv(&field, &file.readout).as_bytes())?;
    draw(&out.join("flow_field.svg"), &field, &file.readout, &slow_points, &ratios, region, context)?;

    if !quiet {
        let (min, max) = field.speed.iter().fold((f64::INFINITY, 0.0f64), |(lo, hi), &s| (lo.min(s), hi.max(s)));
        println!(
            "{region} flow field, {context} context: {} × {} grid over PC1 [{:.3}, {:.3}] × PC2 [{:.3}, {:.3}]; speed {:.3e}–{:.3e} state units/s; {} slow point(s) in the PC1–PC2 plane",
            xs.len(),
            ys.len(),
            xs[0],
            xs[xs.len() - 1],
            ys[0],
            ys[ys.len() - 1],
            min,
            max,
            slow_points.len()
        );
        println!("wrote flow_field.json, flow_field.csv, flow_field.svg in {}", out.display());
    }
    Ok(())
}

/// Applies the analysed region's own head to each node's mapped state.
fn read_heads(net: &crate::model::TwoRegion, region: Region, field: &FlowField) -> Readout {
    match region {
        Region::Ofc => {
            let hidden = net.hidden_sizes()[0];
            let belief: Vec<[f64; 3]> = field.next_states.iter().map(|x| block_belief(net, &x[..hidden])).collect();
            let argmax_block = belief
                .iter()
                .map(|b| (0..3).max_by(|&i, &j| b[i].total_cmp(&b[j])).unwrap_or(0))
                .collect();
            Readout::Ofc { belief, argmax_block }
        }
        Region::Str => {
            let hidden = net.hidden_sizes()[1];
            let (mut p_wait, mut value) = (Vec::new(), Vec::new());
            for x in &field.next_states {
                let outputs = net.str_head().apply(&x[..hidden]);
                // Softmax over the wait and opt-out logits only: the ITI action is masked in a trial.
                p_wait.push(1.0 / (1.0 + (outputs[1] - outputs[0]).exp()));
                value.push(outputs[3]);
            }
            Readout::Str { p_wait, value }
        }
    }
}

fn flow_csv(field: &FlowField, readout: &Readout) -> String {
    let mut csv = String::from("i,j,pc1,pc2,velocity_pc1,velocity_pc2,speed");
    csv.push_str(match readout {
        Readout::Ofc { .. } => ",belief_mixed,belief_high,belief_low\n",
        Readout::Str { .. } => ",p_wait,value\n",
    });
    for (j, y) in field.ys.iter().enumerate() {
        for (i, x) in field.xs.iter().enumerate() {
            let node = j * field.xs.len() + i;
            let v = field.velocity[node];
            let _ = write!(csv, "{i},{j},{x:.9},{y:.9},{:.9e},{:.9e},{:.9e}", v[0], v[1], field.speed[node]);
            let _ = match readout {
                Readout::Ofc { belief, .. } => writeln!(csv, ",{:.6},{:.6},{:.6}", belief[node][0], belief[node][1], belief[node][2]),
                Readout::Str { p_wait, value } => writeln!(csv, ",{:.6},{:.6}", p_wait[node], value[node]),
            };
        }
    }
    csv
}

fn draw(
    path: &std::path::Path,
    field: &FlowField,
    readout: &Readout,
    slow_points: &[PointSummary],
    ratios: &[f64],
    region: Region,
    context: Block,
) -> anyhow::Result<()> {
    let background = match readout {
        Readout::Ofc { argmax_block, .. } => FlowBackground::Category {
            names: Block::ALL.iter().map(|b| format!("argmax belief {b}")).collect(),
            labels: argmax_block.iter().map(|&b| Some(b)).collect(),
        },
        // The policy's preferred action is drawn as the background; the value output is only
        // in flow_field.csv and .json, because the figure has one background layer.
        Readout::Str { p_wait, .. } => FlowBackground::Category {
            names: vec!["policy prefers waiting (p(wait) ≥ 0.5)".to_string(), "policy prefers opting out".to_string()],
            labels: p_wait.iter().map(|&p| if p.is_finite() { Some(usize::from(p < 0.5)) } else { None }).collect(),
        },
    };
    let points = slow_points
        .iter()
        .map(|p| PlanePoint {
            xy: [p.pcs[0], p.pcs[1]],
            stability: match p.stability {
                Stability::Stable => PlotStability::Stable,
                Stability::Marginal => PlotStability::Marginal,
                Stability::Unstable => PlotStability::Unstable,
            },
            kind: match p.kind {
                PointKind::Fixed => PlotPointKind::Fixed,
                PointKind::Slow => PlotPointKind::Slow,
            },
        })
        .collect();
    let data = FlowFieldData {
        x_label: format!("PC1 ({:.1} % var.)", 100.0 * ratios[0]),
        y_label: format!("PC2 ({:.1} % var.)", 100.0 * ratios[1]),
        xs: field.xs.clone(),
        ys: field.ys.clone(),
        // The figure's colour bar is per step.
        speed: field.speed.iter().map(|s| s * field.dt).collect(),
        direction: field.velocity.clone(),
        background,
        speed_contours: false,
        points,
    };
    let title = format!("{} flow field, {context} context (wait input)", region.as_str().to_uppercase());
    draw_flow_field(path, &data, &PlotOptions::default().with_title(title))?;
    Ok(())
}
