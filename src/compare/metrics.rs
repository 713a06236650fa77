//! Per-network metrics read from a training folder and, when present, its simulation folder.
//!
//! Three families of numbers describe one trained network:
//! - learning efficiency: RL trials before the first session whose frozen evaluation met the
//!   learning criterion (`None` when never met, a right-censored value), and the reward rate
//!   of every RL session;
//! - behaviour at the end of training: offer slope, WT_high/WT_low at 20 µL and opt-out rate,
//!   from the simulation folder when one exists, otherwise from the last session's evaluation;
//! - slow dynamics per region, from [`slow_dynamics_metrics`]. That analysis can fail on a
//!   network (or be switched off), so it is optional: a failure leaves `None` and a warning.

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::behavior::records::SimulationDir;
use crate::behavior::{analyze_behavior, BehaviorOptions};
use crate::dynamics::slow_manifold::{slow_dynamics_metrics, RegionMetrics, SlowDynamicsMetrics, SlowManifoldOptions};
use crate::error::{Error, Result};
use crate::model::{load_model, LoadOptions, Network};
use crate::behavior::records::behavior_trials;
use crate::train::curriculum::criterion::Evaluation;

/// Offer at which the block sensitivity WT_high/WT_low is compared, µL.
pub const REFERENCE_OFFER_UL: f64 = 20.0;

/// One RL session of a training run, as read from `summary.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SessionPoint {
    /// RL stage: `nocatch`, `catch` or `block`.
    pub stage: String,
    /// Session number within its stage, from 1.
    pub session: usize,
    /// RL trials seen before the session started.
    pub trials_before: usize,
    /// Mean reward per second during the training session (rewards minus costs and penalties).
    pub training_reward_rate_per_s: f64,
    /// Mean reward per second of the frozen evaluation after the session.
    pub evaluation_reward_rate_per_s: f64,
    pub meets_criterion: bool,
}

/// Behaviour of the trained network.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EndBehavior {
    /// `simulation` (the run's simulation folder) or `evaluation` (the last session's frozen
    /// evaluation in `summary.json`).
    pub source: String,
    pub n_trials: usize,
    /// Slope of the catch-trial wait time on log2 offer, seconds per doubling.
    pub offer_slope_s: Option<f64>,
    /// Mean catch-trial wait time in high blocks over that in low blocks at 20 µL.
    pub wait_ratio_20: Option<f64>,
    /// Fraction of all trials that ended by opt-out.
    pub opt_out_rate: Option<f64>,
}

/// Every metric of one trained network.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NetworkMetrics {
    /// Training folder the metrics were read from.
    pub run: String,
    pub curriculum: String,
    pub seed: u64,
    /// RL trials before the first session that met the criterion; `None` if none did.
    pub trials_to_criterion: Option<usize>,
    /// RL trials before the first session whose evaluation showed a positive offer slope with
    /// p < 0.01; `None` if none did.
    pub trials_to_offer_slope: Option<usize>,
    /// RL trials over the whole run, the censoring point of `trials_to_criterion`.
    pub rl_trials_total: usize,
    pub sessions: Vec<SessionPoint>,
    pub behavior: Option<EndBehavior>,
    pub slow_dynamics: Option<SlowDynamicsMetrics>,
    /// Reason that `slow_dynamics` is `None`, when it is.
    pub slow_dynamics_error: Option<String>,
}

/// Settings of [`network_metrics`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MetricsOptions {
    /// Run the slow-manifold analysis (the slowest step by far).
    pub slow_dynamics: bool,
    pub slow_manifold: SlowManifoldOptions,
    /// Seed of the ridge-penalty search of the behavioural regressions.
    pub behavior_seed: u64,
}

impl Default for MetricsOptions {
    fn default() -> Self {
        MetricsOptions {
            slow_dynamics: true,
            slow_manifold: SlowManifoldOptions::default(),
            behavior_seed: 0,
        }
    }
}

/// The part of `summary.json` that the metrics read.
#[derive(Debug, Deserialize)]
struct SummaryFile {
    curriculum: String,
    seed: u64,
    sessions: Vec<SummarySession>,
    trials_to_criterion: Option<usize>,
}

#[derive(Debug, Deserialize)]
struct SummarySession {
    stage: String,
    session: usize,
    trials_before: usize,
    trials_seen: usize,
    training_reward_rate_per_s: f64,
    evaluation: Evaluation,
}

/// Reads the metrics of the training folder `run_dir` (`summary.json`, `model.safetensors`)
/// with the simulation folder `sim_dir`, if given.
///
/// Errors: a missing folder, a missing or malformed `summary.json`, or a simulation folder
/// that cannot be read. A failure of the slow-manifold analysis is not an error.
pub fn network_metrics(run_dir: &Path, sim_dir: Option<&Path>, opts: &MetricsOptions) -> Result<NetworkMetrics> {
    if !run_dir.is_dir() {
        return Err(Error::invalid(
            "run folder",
            format!(
                "{} is not a folder; expected the --out folder of `analyze train`",
                run_dir.display()
            ),
        ));
    }
    let summary_path = run_dir.join("summary.json");
    let text = std::fs::read_to_string(&summary_path).map_err(|e| Error::io(&summary_path, e))?;
    let summary: SummaryFile = serde_json::from_str(&text)
        .map_err(|e| Error::format(&summary_path, format!("not a training summary: {e}")))?;

    let sessions: Vec<SessionPoint> = summary
        .sessions
        .iter()
        .map(|s| SessionPoint {
            stage: s.stage.clone(),
            session: s.session,
            trials_before: s.trials_before,
            training_reward_rate_per_s: s.training_reward_rate_per_s,
            evaluation_reward_rate_per_s: s.evaluation.reward_rate_per_s,
            meets_criterion: s.evaluation.meets_criterion,
        })
        .collect();
    let rl_trials_total = summary.sessions.last().map_or(0, |s| s.trials_seen);
    let trials_to_offer_slope = summary.sessions.iter().find(|s| s.evaluation.offer_sensitive()).map(|s| s.trials_before);

    let sim = sim_dir.map(SimulationDir::read).transpose()?;
    let behavior = match &sim {
        Some(sim) => Some(simulation_behavior(sim, opts.behavior_seed)?),
        None => summary.sessions.last().map(|s| evaluation_behavior(&s.evaluation)),
    };

    let (slow_dynamics, slow_dynamics_error) = match (&sim, opts.slow_dynamics) {
        (_, false) => (None, Some("slow-dynamics analysis switched off".to_string())),
        (None, true) => (None, Some("no simulation folder".to_string())),
        (Some(sim), true) => match run_slow_dynamics(&run_dir.join("model.safetensors"), sim, &opts.slow_manifold) {
            Ok(metrics) => (Some(metrics), None),
            Err(e) => {
                tracing::warn!(run = %run_dir.display(), error = %e, "slow-dynamics metrics failed; leaving them out");
                (None, Some(e.to_string()))
            }
        },
    };

    Ok(NetworkMetrics {
        run: run_dir.display().to_string(),
        curriculum: summary.curriculum,
        seed: summary.seed,
        trials_to_criterion: summary.trials_to_criterion,
        trials_to_offer_slope,
        rl_trials_total,
        sessions,
        behavior,
        slow_dynamics,
        slow_dynamics_error,
    })
}

/// Behaviour from a simulation folder, with catch trials defining wait times.
fn simulation_behavior(sim: &SimulationDir, seed: u64) -> Result<EndBehavior> {
    let trials = behavior_trials(&sim.trials);
    let options = BehaviorOptions {
        reference_offer_ul: REFERENCE_OFFER_UL,
        seed,
        ..BehaviorOptions::default()
    };
    let report = analyze_behavior(&trials, &options)?;
    Ok(EndBehavior {
        source: "simulation".into(),
        n_trials: report.n_trials,
        offer_slope_s: report.offer_sensitivity.map(|o| o.slope),
        wait_ratio_20: report.block_sensitivity.map(|b| b.ratio).filter(|r| r.is_finite()),
        opt_out_rate: report.rates.opted_out,
    })
}

/// Behaviour from the last session's frozen evaluation (which also uses catch trials at 20 µL).
fn evaluation_behavior(evaluation: &Evaluation) -> EndBehavior {
    EndBehavior {
        source: "evaluation".into(),
        n_trials: evaluation.trials,
        offer_slope_s: evaluation.offer_sensitivity.as_ref().map(|o| o.slope),
        wait_ratio_20: evaluation
            .block_sensitivity
            .as_ref()
            .map(|b| b.ratio)
            .filter(|r| r.is_finite()),
        opt_out_rate: evaluation.opt_out_rate,
    }
}

fn run_slow_dynamics(model: &Path, sim: &SimulationDir, opts: &SlowManifoldOptions) -> Result<SlowDynamicsMetrics> {
    let loaded = load_model(model, &LoadOptions::default())?;
    match &loaded.network {
        Network::TwoRegion(network) => slow_dynamics_metrics(network, sim, opts),
        _ => Err(Error::format(
            model,
            "not a two-region network; the slow-dynamics metrics need one",
        )),
    }
}

/// Region whose slow dynamics a metric describes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Region {
    Ofc,
    Str,
}

impl NetworkMetrics {
    /// Slow-dynamics metrics of `region`: the OFC (mixed context) or the STR in the mixed
    /// context (the first context when no mixed one was analysed).
    pub fn region(&self, region: Region) -> Option<&RegionMetrics> {
        let slow = self.slow_dynamics.as_ref()?;
        match region {
            Region::Ofc => Some(&slow.ofc),
            Region::Str => slow
                .str_contexts
                .iter()
                .find(|r| r.context == "mixed")
                .or(slow.str_contexts.first()),
        }
    }
}

/// Treatment of a network that has no value for a metric.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Missing {
    /// The network is left out of that metric.
    Drop,
    /// The value was not reached within the run (right-censored), so rank tests place it
    /// after every observed value, as +∞.
    RankWorst,
}

/// A scalar metric that groups are compared on.
#[derive(Debug, Clone, Copy)]
pub struct MetricDef {
    /// Identifier used in file names, tables and specs.
    pub id: &'static str,
    /// Axis label with unit.
    pub label: &'static str,
    pub missing: Missing,
    pub extract: fn(&NetworkMetrics) -> Option<f64>,
}

fn region_value(m: &NetworkMetrics, region: Region, f: fn(&RegionMetrics) -> Option<f64>) -> Option<f64> {
    m.region(region).and_then(f)
}

/// Every scalar metric, in table order.
pub const METRICS: &[MetricDef] = &[
    MetricDef {
        id: "trials_to_criterion",
        label: "RL trials to criterion",
        missing: Missing::RankWorst,
        extract: |m| m.trials_to_criterion.map(|t| t as f64),
    },
    MetricDef {
        id: "trials_to_offer_slope",
        label: "RL trials to a significant offer slope",
        missing: Missing::RankWorst,
        extract: |m| m.trials_to_offer_slope.map(|t| t as f64),
    },
    MetricDef {
        id: "final_reward_rate",
        label: "reward rate, last session (reward units per s)",
        missing: Missing::Drop,
        extract: |m| m.sessions.last().map(|s| s.evaluation_reward_rate_per_s),
    },
    MetricDef {
        id: "offer_slope",
        label: "offer slope (s per log2 µL)",
        missing: Missing::Drop,
        extract: |m| m.behavior.as_ref().and_then(|b| b.offer_slope_s),
    },
    MetricDef {
        id: "wait_ratio_20",
        label: "WT_high / WT_low at 20 µL",
        missing: Missing::Drop,
        extract: |m| m.behavior.as_ref().and_then(|b| b.wait_ratio_20),
    },
    MetricDef {
        id: "opt_out_rate",
        label: "opt-out rate (fraction of trials)",
        missing: Missing::Drop,
        extract: |m| m.behavior.as_ref().and_then(|b| b.opt_out_rate),
    },
    MetricDef {
        id: "ofc_n_features",
        label: "OFC dynamical features (count)",
        missing: Missing::Drop,
        extract: |m| region_value(m, Region::Ofc, |r| Some(r.n_features as f64)),
    },
    MetricDef {
        id: "str_n_features",
        label: "STR dynamical features (count)",
        missing: Missing::Drop,
        extract: |m| region_value(m, Region::Str, |r| Some(r.n_features as f64)),
    },
    MetricDef {
        id: "ofc_components_90",
        label: "OFC components for 90 % variance",
        missing: Missing::Drop,
        extract: |m| region_value(m, Region::Ofc, |r| Some(r.components_90 as f64)),
    },
    MetricDef {
        id: "str_components_90",
        label: "STR components for 90 % variance",
        missing: Missing::Drop,
        extract: |m| region_value(m, Region::Str, |r| Some(r.components_90 as f64)),
    },
    MetricDef {
        id: "ofc_slowest_tau",
        label: "OFC slowest time constant (s)",
        missing: Missing::Drop,
        extract: |m| region_value(m, Region::Ofc, |r| r.slowest_tau_s),
    },
    MetricDef {
        id: "str_slowest_tau",
        label: "STR slowest time constant (s)",
        missing: Missing::Drop,
        extract: |m| region_value(m, Region::Str, |r| r.slowest_tau_s),
    },
    MetricDef {
        id: "ofc_line_attractor",
        label: "OFC line attractor present (0/1)",
        missing: Missing::Drop,
        extract: |m| region_value(m, Region::Ofc, |r| Some(if r.has_line_attractor { 1.0 } else { 0.0 })),
    },
    MetricDef {
        id: "str_line_attractor",
        label: "STR line attractor present (0/1)",
        missing: Missing::Drop,
        extract: |m| region_value(m, Region::Str, |r| Some(if r.has_line_attractor { 1.0 } else { 0.0 })),
    },
    MetricDef {
        id: "ofc_block_decodability",
        label: "OFC block decoding accuracy",
        missing: Missing::Drop,
        extract: |m| region_value(m, Region::Ofc, |r| r.block_decodability),
    },
];

/// Looks up the metric called `id`; the error lists the known ones.
pub fn metric_def(id: &str) -> Result<&'static MetricDef> {
    METRICS.iter().find(|m| m.id == id).ok_or_else(|| {
        let ids: Vec<&str> = METRICS.iter().map(|m| m.id).collect();
        Error::invalid("metric", format!("{id:?}; expected one of {}", ids.join(", ")))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn region(name: &str, context: &str, n_features: usize, tau: Option<f64>) -> RegionMetrics {
        RegionMetrics {
            region: name.into(),
            context: context.into(),
            n_features,
            n_fixed_points: 1,
            n_slow_points: 2,
            components_90: 3,
            slowest_tau_s: tau,
            has_line_attractor: context == "mixed",
            block_decodability: (name == "ofc").then_some(0.75),
        }
    }

    fn metrics_with_slow_dynamics() -> NetworkMetrics {
        NetworkMetrics {
            run: "r".into(),
            curriculum: "kindergarten".into(),
            seed: 1,
            trials_to_criterion: None,
            trials_to_offer_slope: Some(40),
            rl_trials_total: 100,
            sessions: Vec::new(),
            behavior: None,
            slow_dynamics: Some(SlowDynamicsMetrics {
                ofc: region("ofc", "mixed", 4, Some(2.5)),
                str_contexts: vec![region("str", "high", 9, Some(9.0)), region("str", "mixed", 5, None)],
            }),
            slow_dynamics_error: None,
        }
    }

    fn value(id: &str, m: &NetworkMetrics) -> Option<f64> {
        (metric_def(id).unwrap().extract)(m)
    }

    #[test]
    fn str_metrics_use_mixed_context() {
        let m = metrics_with_slow_dynamics();
        assert_eq!(value("str_n_features", &m), Some(5.0));
        assert_eq!(value("str_slowest_tau", &m), None);
        assert_eq!(value("str_line_attractor", &m), Some(1.0));
        assert_eq!(value("ofc_n_features", &m), Some(4.0));
        assert_eq!(value("ofc_slowest_tau", &m), Some(2.5));
        assert_eq!(value("ofc_block_decodability", &m), Some(0.75));
    }

    #[test]
    fn metrics_absent_without_slow_dynamics() {
        let mut m = metrics_with_slow_dynamics();
        m.slow_dynamics = None;
        for id in [
            "ofc_n_features",
            "str_n_features",
            "ofc_slowest_tau",
            "ofc_components_90",
        ] {
            assert_eq!(value(id, &m), None, "{id}");
        }
        assert_eq!(value("trials_to_criterion", &m), None);
        assert_eq!(value("trials_to_offer_slope", &m), Some(40.0));
    }

    #[test]
    fn unknown_metric_lists_known_ones() {
        let err = metric_def("wait_ratio").unwrap_err().to_string();
        assert!(err.contains("\"wait_ratio\""), "{err}");
        assert!(err.contains("wait_ratio_20"), "{err}");
    }

    #[test]
    fn missing_run_folder_is_named() {
        let err = network_metrics(Path::new("/nonexistent/run-7"), None, &MetricsOptions::default())
            .unwrap_err()
            .to_string();
        assert!(err.contains("run-7"), "{err}");
        assert!(err.contains("analyze train"), "{err}");
    }
}
