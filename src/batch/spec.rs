//! The batch specification: a TOML file that names the groups of networks to train (curriculum,
//! seeds, preset and overrides), the simulation and analysis settings, and the figures to draw.
//!
//! ```toml
//! name = "smoke"
//! preset = "small"            # small or paper
//! simulation_trials = 200     # trials of the frozen simulation each network is analysed on
//!
//! [overrides]                 # preset values for every group (JSON literals as in `--set`)
//! session_trials = 50
//!
//! [analysis]
//! bootstrap_resamples = 2000
//! seed = 0
//! slow_dynamics = true
//! slow_manifold_starts = 16
//!
//! [figures]
//! learning_curves = true
//! feature_cdfs = true
//! strips = ["trials_to_criterion", "wait_ratio_20"]   # default: every metric
//!
//! [[groups]]
//! name = "kindergarten"
//! curriculum = "kindergarten"
//! seeds = [1, 2]
//! aux_losses = "default"      # default, on or off
//! [groups.overrides]          # preset values for this group only
//! ```
//!
//! Unknown keys are errors, so a misspelt key is named rather than ignored.

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::compare::metrics::metric_def;
use crate::error::{Error, Result};
use crate::train::curriculum::{AuxLosses, Curriculum, Preset, PresetName};

/// A parsed and checked batch specification.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BatchSpec {
    /// Study name, used in titles and as the default output folder name.
    pub name: String,
    /// Preset every group starts from: `small` or `paper`.
    #[serde(default = "default_preset")]
    pub preset: String,
    /// Trials of the frozen simulation of each trained network (its seed is the network's).
    #[serde(default = "default_simulation_trials")]
    pub simulation_trials: usize,
    /// Preset overrides shared by every group.
    #[serde(default)]
    pub overrides: BTreeMap<String, toml::Value>,
    #[serde(default)]
    pub analysis: AnalysisSpec,
    #[serde(default)]
    pub figures: FigureSpec,
    pub groups: Vec<GroupSpec>,
}

/// Statistics and analysis settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AnalysisSpec {
    #[serde(default = "default_resamples")]
    pub bootstrap_resamples: usize,
    /// Seed of the bootstrap intervals and of the behavioural ridge-penalty search.
    #[serde(default)]
    pub seed: u64,
    /// Run the slow-manifold analysis on each network.
    #[serde(default = "default_true")]
    pub slow_dynamics: bool,
    /// Slow-point searches per region and context.
    #[serde(default = "default_starts")]
    pub slow_manifold_starts: usize,
}

impl Default for AnalysisSpec {
    fn default() -> Self {
        AnalysisSpec {
            bootstrap_resamples: default_resamples(),
            seed: 0,
            slow_dynamics: true,
            slow_manifold_starts: default_starts(),
        }
    }
}

/// Which figures to draw.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FigureSpec {
    #[serde(default = "default_true")]
    pub learning_curves: bool,
    #[serde(default = "default_true")]
    pub feature_cdfs: bool,
    /// Metrics to draw strip plots of; `None` draws every metric.
    #[serde(default)]
    pub strips: Option<Vec<String>>,
}

impl Default for FigureSpec {
    fn default() -> Self {
        FigureSpec {
            learning_curves: true,
            feature_cdfs: true,
            strips: None,
        }
    }
}

/// One group of networks: one curriculum trained from several seeds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GroupSpec {
    pub name: String,
    pub curriculum: String,
    pub seeds: Vec<u64>,
    /// `default` (follow the curriculum), `on` or `off`.
    #[serde(default = "default_aux")]
    pub aux_losses: String,
    #[serde(default)]
    pub overrides: BTreeMap<String, toml::Value>,
}

fn default_preset() -> String {
    "small".into()
}
fn default_simulation_trials() -> usize {
    1000
}
fn default_resamples() -> usize {
    10_000
}
fn default_starts() -> usize {
    256
}
fn default_true() -> bool {
    true
}
fn default_aux() -> String {
    "default".into()
}

/// A group with its preset and losses resolved.
#[derive(Debug, Clone, PartialEq)]
pub struct ResolvedGroup {
    pub name: String,
    pub curriculum: Curriculum,
    pub seeds: Vec<u64>,
    pub preset: Preset,
    pub aux: AuxLosses,
}

impl BatchSpec {
    /// Reads and checks the specification at `path`.
    pub fn read(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
        Self::parse(path, &text)
    }

    /// Parses and checks a specification; `path` only names the file in errors.
    pub fn parse(path: &Path, text: &str) -> Result<Self> {
        let spec: BatchSpec = toml::from_str(text).map_err(|e| {
            let line = e
                .span()
                .map(|span| text[..span.start.min(text.len())].lines().count().max(1));
            let at = line.map_or(String::new(), |l| format!(" (line {l})"));
            Error::format(path, format!("invalid batch spec{at}: {}", e.message().trim()))
        })?;
        spec.check().map_err(|e| Error::format(path, e.to_string()))?;
        Ok(spec)
    }

    /// Checks values that the TOML types allow but the study does not.
    fn check(&self) -> Result<()> {
        if self.name.trim().is_empty() {
            return Err(Error::invalid("name", "is empty, expected a study name"));
        }
        if self.simulation_trials == 0 {
            return Err(Error::invalid("simulation_trials", "0, expected at least 1 trial"));
        }
        if self.analysis.bootstrap_resamples < 2 {
            return Err(Error::invalid(
                "analysis.bootstrap_resamples",
                format!("{}, expected at least 2", self.analysis.bootstrap_resamples),
            ));
        }
        if self.analysis.slow_manifold_starts == 0 {
            return Err(Error::invalid(
                "analysis.slow_manifold_starts",
                "0, expected at least 1",
            ));
        }
        if let Some(strips) = &self.figures.strips {
            for (i, id) in strips.iter().enumerate() {
                metric_def(id).map_err(|e| Error::invalid(format!("figures.strips[{i}]"), e.to_string()))?;
            }
        }
        if self.groups.len() < 2 {
            return Err(Error::invalid(
                "groups",
                format!("{} given, expected at least 2 [[groups]] to compare", self.groups.len()),
            ));
        }
        for (i, g) in self.groups.iter().enumerate() {
            if g.name.trim().is_empty() || g.name.contains([',', '/', '\n']) {
                return Err(Error::invalid(
                    format!("groups[{i}].name"),
                    format!("{:?}, expected a non-empty name without commas or slashes", g.name),
                ));
            }
            if self.groups[..i].iter().any(|other| other.name == g.name) {
                return Err(Error::invalid(
                    format!("groups[{i}].name"),
                    format!("{:?} is used by an earlier group", g.name),
                ));
            }
            if g.seeds.is_empty() {
                return Err(Error::invalid(
                    format!("groups[{i}].seeds"),
                    "is empty, expected at least one seed",
                ));
            }
            let mut sorted = g.seeds.clone();
            sorted.sort_unstable();
            if sorted.windows(2).any(|w| w[0] == w[1]) {
                return Err(Error::invalid(format!("groups[{i}].seeds"), "contains a seed twice"));
            }
        }
        self.resolve().map(|_| ())
    }

    /// Resolves every group's curriculum, preset (spec overrides, then the group's) and
    /// auxiliary losses. Errors name the offending key.
    pub fn resolve(&self) -> Result<Vec<ResolvedGroup>> {
        let base: PresetName = self
            .preset
            .parse()
            .map_err(|e: Error| Error::invalid("preset", e.to_string()))?;
        let mut shared = Preset::new(base);
        for (key, value) in &self.overrides {
            shared = apply_override(&shared, &format!("overrides.{key}"), key, value)?;
        }

        self.groups
            .iter()
            .enumerate()
            .map(|(i, g)| {
                let curriculum: Curriculum = g
                    .curriculum
                    .parse()
                    .map_err(|e: Error| Error::invalid(format!("groups[{i}].curriculum"), e.to_string()))?;
                let mut preset = shared.clone();
                for (key, value) in &g.overrides {
                    preset = apply_override(&preset, &format!("groups[{i}].overrides.{key}"), key, value)?;
                }
                let aux = match g.aux_losses.as_str() {
                    "default" => curriculum.default_aux(),
                    "on" => Curriculum::forced_aux(),
                    "off" => AuxLosses {
                        supervised: None,
                        prediction: false,
                    },
                    other => {
                        return Err(Error::invalid(
                            format!("groups[{i}].aux_losses"),
                            format!("{other:?}, expected default, on or off"),
                        ));
                    }
                };
                Ok(ResolvedGroup {
                    name: g.name.clone(),
                    curriculum,
                    seeds: g.seeds.clone(),
                    preset,
                    aux,
                })
            })
            .collect()
    }
}

/// Applies one TOML override through [`Preset::with_override`], naming `key_path` in errors.
fn apply_override(preset: &Preset, key_path: &str, key: &str, value: &toml::Value) -> Result<Preset> {
    let json = serde_json::to_string(value).map_err(|e| Error::invalid(key_path, e.to_string()))?;
    preset
        .with_override(key, &json)
        .map_err(|e| Error::invalid(key_path, e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = r#"
name = "t"
simulation_trials = 20
[overrides]
session_trials = 40
hidden = [4, 4]
[[groups]]
name = "k"
curriculum = "kindergarten"
seeds = [1, 2]
[[groups]]
name = "c"
curriculum = "conventional"
seeds = [1, 2]
aux_losses = "on"
[groups.overrides]
block_sessions = 2
"#;

    fn parse(text: &str) -> Result<BatchSpec> {
        BatchSpec::parse(Path::new("spec.toml"), text)
    }

    #[test]
    fn spec_resolves_overrides_per_group() {
        let groups = parse(GOOD).unwrap().resolve().unwrap();
        assert_eq!(groups[0].preset.session_trials, 40);
        assert_eq!(groups[0].preset.hidden, [4, 4]);
        assert_eq!(groups[0].preset.block_sessions, Preset::small().block_sessions);
        assert_eq!(groups[1].preset.block_sessions, 2);
        assert_eq!(groups[1].aux, Curriculum::forced_aux());
        assert_eq!(groups[1].curriculum, Curriculum::Conventional);
    }

    #[test]
    fn spec_unknown_key_is_named() {
        let err = parse(&GOOD.replace("simulation_trials", "simulation_trails"))
            .unwrap_err()
            .to_string();
        assert!(err.contains("simulation_trails"), "{err}");
    }

    #[test]
    fn spec_bad_override_names_key_path() {
        let err = parse(&GOOD.replace("block_sessions = 2", "block_session = 2"))
            .unwrap_err()
            .to_string();
        assert!(err.contains("groups[1].overrides.block_session"), "{err}");
    }

    #[test]
    fn spec_bad_curriculum_names_group() {
        let err = parse(&GOOD.replace("\"conventional\"", "\"conventionl\""))
            .unwrap_err()
            .to_string();
        assert!(err.contains("groups[1].curriculum"), "{err}");
    }

    #[test]
    fn spec_rejects_duplicate_seed_and_name() {
        let err = parse(&GOOD.replace("seeds = [1, 2]\n[[groups]]", "seeds = [1, 1]\n[[groups]]"))
            .unwrap_err()
            .to_string();
        assert!(err.contains("groups[0].seeds"), "{err}");
        let err = parse(&GOOD.replace("name = \"c\"", "name = \"k\""))
            .unwrap_err()
            .to_string();
        assert!(err.contains("groups[1].name"), "{err}");
    }

    #[test]
    fn spec_unknown_strip_metric_is_named() {
        let text = GOOD.replace("[overrides]", "[figures]\nstrips = [\"wait_ratio\"]\n[overrides]");
        let err = parse(&text).unwrap_err().to_string();
        assert!(err.contains("figures.strips[0]"), "{err}");
    }
}
