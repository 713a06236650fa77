//! Output of `analyze fixed-points`: the summary table, JSON, CSV and SVG figures.

use std::path::Path;

use ndarray::Array2;
use num_complex::Complex64;
use serde::Serialize;

use crate::dynamics::fixed_points::{FixedPointReport, PointKind, StartOutcome};
use crate::dynamics::pca::Pca;
use crate::dynamics::spectrum::Stability;
use crate::model::{LoadedModel, Network, RecurrentMap};
use crate::plot::{
    draw_fixed_points, draw_q_values, draw_spectra, FixedPointsData, PlotOptions, PointKind as PlotKind, PointSpectrum,
    ProjectedPoint, QValuesData, SpectrumData, Stability as PlotStability,
};

use super::starts::StartSources;

/// Most trajectory states used for the PCA basis and drawn in the figure.
const MAX_FIGURE_STATES: usize = 20_000;

/// Counts and timings printed and stored with the report.
#[derive(Debug, Serialize)]
pub struct Summary {
    pub model: String,
    pub arch: String,
    pub state_dim: usize,
    pub dt_s: f64,
    pub starts: String,
    pub n_fixed: usize,
    pub n_slow: usize,
    pub n_stable: usize,
    pub n_unstable: usize,
    pub n_marginal: usize,
    pub starts_fixed: usize,
    pub starts_slow: usize,
    pub starts_not_converged: usize,
    pub starts_failed: usize,
    pub seconds: f64,
    /// Readout of each point (`readout.weight · h + readout.bias` for single networks; the OFC
    /// and STR heads for the two-region network), in point order.
    pub readouts: Vec<Vec<f64>>,
}

impl Summary {
    /// Gathers the counts of `report`.
    pub fn new(model: &LoadedModel, report: &FixedPointReport, sources: &StartSources, seconds: f64) -> Self {
        let by_stability = |s: Stability| report.points.iter().filter(|p| p.spectrum.stability == s).count();
        Summary {
            model: model.path.display().to_string(),
            arch: model.arch.to_string(),
            state_dim: model.network.state_dim(),
            dt_s: report.options.dt,
            starts: sources.description.clone(),
            n_fixed: report.count(PointKind::Fixed),
            n_slow: report.count(PointKind::Slow),
            n_stable: by_stability(Stability::Stable),
            n_unstable: by_stability(Stability::Unstable),
            n_marginal: by_stability(Stability::Marginal),
            starts_fixed: report.count_starts(StartOutcome::Fixed),
            starts_slow: report.count_starts(StartOutcome::Slow),
            starts_not_converged: report.count_starts(StartOutcome::NotConverged),
            starts_failed: report.count_starts(StartOutcome::Failed),
            seconds,
            readouts: report.points.iter().map(|p| readout(model, &p.x)).collect(),
        }
    }

    /// Prints the human summary: counts, then one row per point.
    pub fn print(&self, report: &FixedPointReport, show: usize) {
        println!("{} ({}, state dimension {}, dt = {} s)", self.model, self.arch, self.state_dim, self.dt_s);
        println!("starts: {}", self.starts);
        println!(
            "found {} fixed and {} slow points ({} stable, {} unstable, {} marginal) in {:.2} s; starts: {} fixed, {} slow, {} not converged, {} failed",
            self.n_fixed, self.n_slow, self.n_stable, self.n_unstable, self.n_marginal, self.seconds,
            self.starts_fixed, self.starts_slow, self.starts_not_converged, self.starts_failed
        );
        if report.points.is_empty() {
            return;
        }

        // A wide readout (the two-region network has 4 OFC + 6 STR outputs) is cut to its first
        // values so that rows fit on one line. The CSV and JSON keep all of them.
        let cut = self.readouts.iter().any(|r| r.len() > READOUT_COLUMNS);
        let readout_header = if cut { format!("readout (first {READOUT_COLUMNS} values; all in the CSV)") } else { "readout".to_string() };
        println!();
        println!("{:>4}  {:<5}  {:>9}  {:<8}  {:>8}  {:>10}  {:>22}  {:>6}  {readout_header}", "#", "kind", "q", "stability", "unstable", "max |λ|", "slowest τ", "starts");
        for (i, p) in report.points.iter().take(show).enumerate() {
            let max_modulus = p.spectrum.modes.first().map_or(f64::NAN, |m| m.modulus);
            let slowest = p.spectrum.modes.iter().filter_map(|m| m.tau_steps).fold(None, |acc: Option<f64>, t| Some(acc.map_or(t, |a| a.max(t))));
            let tau = match (slowest, p.spectrum.n_marginal) {
                (_, n) if n > 0 => "∞ (marginal)".to_string(),
                (Some(t), _) if report.options.dt != 1.0 => format!("{t:.1} steps = {:.3} s", t * report.options.dt),
                (Some(t), _) => format!("{t:.3} steps"),
                (None, _) => "-".to_string(),
            };
            let kind = match p.kind {
                PointKind::Fixed => "fixed",
                PointKind::Slow => "slow",
            };
            let mut readout: Vec<String> = self.readouts[i].iter().take(READOUT_COLUMNS).map(|v| format!("{v:+.2}")).collect();
            if self.readouts[i].len() > READOUT_COLUMNS {
                readout.push("…".to_string());
            }
            println!(
                "{:>4}  {:<5}  {:>9.2e}  {:<8}  {:>8}  {:>10.6}  {:>22}  {:>6}  [{}]",
                i, kind, p.q, stability_name(p.spectrum.stability), p.spectrum.n_unstable, max_modulus, tau, p.starts.len(), readout.join(", ")
            );
        }
        if report.points.len() > show {
            println!("… {} more points in the JSON and CSV output", report.points.len() - show);
        }
    }
}

/// Readout values printed per row of the summary table.
const READOUT_COLUMNS: usize = 6;

fn stability_name(s: Stability) -> &'static str {
    match s {
        Stability::Stable => "stable",
        Stability::Marginal => "marginal",
        Stability::Unstable => "unstable",
    }
}

/// Computes the readout at state `x`: the readout layer on the top layer's h, or both heads of the
/// two-region network (OFC q then STR p).
fn readout(model: &LoadedModel, x: &[f64]) -> Vec<f64> {
    match &model.network {
        Network::TwoRegion(net) => {
            let (q, p) = net.heads(x);
            q.iter().chain(p.iter()).copied().collect()
        }
        network => match &model.readout {
            Some(linear) => linear.apply(network.top_hidden(x)).iter().copied().collect(),
            None => Vec::new(),
        },
    }
}

#[derive(Serialize)]
struct JsonOutput<'a> {
    format: &'static str,
    tool_version: &'static str,
    summary: &'a Summary,
    report: &'a FixedPointReport,
}

/// Writes fixed_points.json, fixed_points.csv, starts.csv and the three figures into `out`.
pub fn write_all(out: &Path, model: &LoadedModel, report: &FixedPointReport, sources: &StartSources, summary: &Summary) -> anyhow::Result<()> {
    let json = JsonOutput { format: "rnn-dynamics/fixed-points-run/1", tool_version: env!("CARGO_PKG_VERSION"), summary, report };
    crate::io::write_json_atomic(&out.join("fixed_points.json"), &json)?;
    crate::io::write_atomic(&out.join("fixed_points.csv"), points_csv(report, summary).as_bytes())?;
    crate::io::write_atomic(&out.join("starts.csv"), starts_csv(report).as_bytes())?;

    draw_q_values(
        &out.join("q_values.svg"),
        &QValuesData {
            q: report.starts.iter().map(|s| s.final_q.unwrap_or(f64::NAN)).collect(),
            fixed_threshold: report.options.fixed_tol,
            slow_threshold: report.options.slow_tol,
        },
        &PlotOptions::default().with_title("Final q of every start"),
    )?;

    let spectra = SpectrumData {
        points: report
            .points
            .iter()
            .enumerate()
            .map(|(i, p)| PointSpectrum {
                label: format!("point {i}"),
                stability: plot_stability(p.spectrum.stability),
                eigenvalues: p.spectrum.eigenvalues.iter().map(|e| Complex64::new(e[0], e[1])).collect(),
            })
            .collect(),
    };
    draw_spectra(&out.join("spectra.svg"), &spectra, &PlotOptions::default().with_title("Jacobian eigenvalues at each point"))?;

    draw_points_figure(out, model, report, sources)
}

fn plot_stability(s: Stability) -> PlotStability {
    match s {
        Stability::Stable => PlotStability::Stable,
        Stability::Marginal => PlotStability::Marginal,
        Stability::Unstable => PlotStability::Unstable,
    }
}

/// Draws the points on the PC1–PC2 and PC1–PC3 planes of the trajectories.
fn draw_points_figure(out: &Path, model: &LoadedModel, report: &FixedPointReport, sources: &StartSources) -> anyhow::Result<()> {
    let dim = model.network.state_dim();
    let path = out.join("fixed_points.svg");
    let title = PlotOptions::default().with_title("Fixed and slow points on the trajectories' principal components");

    // The PCA basis comes from the trajectory states (subsampled evenly when there are many).
    let all: Vec<&Vec<f64>> = sources.trajectories.iter().flatten().collect();
    let stride = all.len().div_ceil(MAX_FIGURE_STATES).max(1);
    let rows: Vec<&Vec<f64>> = all.iter().step_by(stride).copied().collect();
    let k = dim.min(3).min(rows.len().saturating_sub(1));
    if k < 2 {
        tracing::warn!("state dimension {dim} or {} trajectory states are too few for the PC-plane figure; drawing points only on the first coordinates", rows.len());
    }
    let data = Array2::from_shape_fn((rows.len(), dim), |(i, j)| rows[i][j]);
    let pca = if k >= 2 { Some(Pca::fit(data.view(), k)?) } else { None };

    let project = |x: &[f64]| -> [f64; 3] {
        match &pca {
            Some(pca) => {
                let row = Array2::from_shape_vec((1, dim), x.to_vec()).expect("one row of the state dimension");
                let z = pca.project(row.view()).expect("projection of a finite state");
                [z[[0, 0]], z[[0, 1]], if z.ncols() > 2 { z[[0, 2]] } else { 0.0 }]
            }
            None => [x[0], if dim > 1 { x[1] } else { 0.0 }, 0.0],
        }
    };
    let direction = |v: &[f64]| -> [f64; 3] {
        match &pca {
            Some(pca) => {
                let c = &pca.components;
                let mut out = [0.0; 3];
                for (r, slot) in out.iter_mut().enumerate().take(c.nrows()) {
                    *slot = (0..dim).map(|j| c[[r, j]] * v[j]).sum();
                }
                out
            }
            None => [v[0], if dim > 1 { v[1] } else { 0.0 }, 0.0],
        }
    };

    let trajectories: Vec<Vec<[f64; 3]>> = sources
        .trajectories
        .iter()
        .filter(|t| t.len() > 1)
        .take(64)
        .map(|t| t.iter().step_by(stride).map(|x| project(x)).collect())
        .collect();
    let points = report
        .points
        .iter()
        .map(|p| ProjectedPoint {
            pcs: project(&p.x),
            stability: plot_stability(p.spectrum.stability),
            kind: match p.kind {
                PointKind::Fixed => PlotKind::Fixed,
                PointKind::Slow => PlotKind::Slow,
            },
            unstable_modes: p
                .spectrum
                .modes
                .iter()
                .filter(|m| m.stability == Stability::Unstable)
                .filter_map(|m| m.eigenvector.as_ref())
                .map(|v| direction(&v.iter().map(|c| c[0]).collect::<Vec<f64>>()))
                .collect(),
        })
        .collect();
    let explained = match &pca {
        Some(pca) => pca.explained_variance_ratio(),
        None => vec![0.0, 0.0],
    };
    draw_fixed_points(&path, &FixedPointsData { explained_variance: explained, trajectories, points }, &title)?;
    Ok(())
}

fn points_csv(report: &FixedPointReport, summary: &Summary) -> String {
    let mut csv = String::from("point,kind,q,speed_per_step,speed_per_second,stability,n_unstable,n_marginal,max_modulus,slowest_tau_steps,slowest_tau_seconds,n_starts,readout,x\n");
    for (i, p) in report.points.iter().enumerate() {
        let slowest = p.spectrum.modes.iter().filter_map(|m| m.tau_steps).fold(f64::NAN, f64::max);
        let kind = match p.kind {
            PointKind::Fixed => "fixed",
            PointKind::Slow => "slow",
        };
        let join = |v: &[f64]| v.iter().map(|x| format!("{x:.9e}")).collect::<Vec<_>>().join(" ");
        csv.push_str(&format!(
            "{i},{kind},{:.6e},{:.6e},{:.6e},{},{},{},{:.9},{},{},{},{},{}\n",
            p.q,
            p.speed_per_step,
            p.speed_per_second,
            stability_name(p.spectrum.stability),
            p.spectrum.n_unstable,
            p.spectrum.n_marginal,
            p.spectrum.modes.first().map_or(f64::NAN, |m| m.modulus),
            if slowest.is_finite() { format!("{slowest:.6}") } else { String::new() },
            if slowest.is_finite() { format!("{:.6}", slowest * report.options.dt) } else { String::new() },
            p.starts.len(),
            join(&summary.readouts[i]),
            join(&p.x),
        ));
    }
    csv
}

fn starts_csv(report: &FixedPointReport) -> String {
    let mut csv = String::from("start,initial_q,final_q,iterations,newton_steps,outcome,point,termination\n");
    for s in &report.starts {
        let outcome = match s.outcome {
            StartOutcome::Fixed => "fixed",
            StartOutcome::Slow => "slow",
            StartOutcome::NotConverged => "not_converged",
            StartOutcome::Failed => "failed",
        };
        let q = |v: Option<f64>| v.map_or(String::new(), |x| format!("{x:.6e}"));
        csv.push_str(&format!(
            "{},{},{},{},{},{},{},\"{}\"\n",
            s.index,
            q(s.initial_q),
            q(s.final_q),
            s.iterations,
            s.newton_steps,
            outcome,
            s.point.map_or(String::new(), |p| p.to_string()),
            s.termination.replace('"', "'")
        ));
    }
    csv
}
