//! Jobs of a batch and their cache: one job per network (group × seed) that trains, simulates
//! and measures it. Each product lives in a folder named by a hash of everything that
//! determines it, so a rerun, another shard or a later gather finds finished work.

use std::path::{Path, PathBuf};

use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::compare::metrics::MetricsOptions;
use crate::error::{Error, Result};
use crate::train::curriculum::{AuxLosses, Curriculum, Preset};

use super::spec::{BatchSpec, ResolvedGroup};

/// Version of the cached metrics layout; bump it when [`crate::compare::NetworkMetrics`]
/// changes meaning, so old caches are not reused.
pub const METRICS_LAYOUT: u32 = 2;

/// Hex digits of the SHA-256 kept in cache folder names (64 bits).
const HASH_DIGITS: usize = 16;

/// One network of the batch and the cache entries of its products.
#[derive(Debug, Clone, PartialEq)]
pub struct Job {
    /// Position in the stable job order: groups in spec order, then seeds in spec order.
    pub index: usize,
    pub group: String,
    pub curriculum: Curriculum,
    pub seed: u64,
    pub preset: Preset,
    pub aux: AuxLosses,
    /// Training configuration hashed into `train_key`.
    pub train_config: serde_json::Value,
    pub train_key: String,
    pub simulation_config: serde_json::Value,
    pub simulation_key: String,
    pub metrics_config: serde_json::Value,
    pub metrics_key: String,
}

impl Job {
    /// Training folder, relative to the batch output folder.
    pub fn train_dir(&self) -> PathBuf {
        Path::new("cache").join(format!("train-{}", self.train_key))
    }

    /// Simulation folder, relative to the batch output folder.
    pub fn simulation_dir(&self) -> PathBuf {
        Path::new("cache").join(format!("sim-{}", self.simulation_key))
    }

    /// Metrics file, relative to the batch output folder.
    pub fn metrics_file(&self) -> PathBuf {
        Path::new("cache").join(format!("metrics-{}.json", self.metrics_key))
    }

    /// Short description for logs and errors.
    pub fn label(&self) -> String {
        format!("job {} ({} seed {})", self.index, self.group, self.seed)
    }
}

/// Returns the first [`HASH_DIGITS`] hex digits of the SHA-256 of `value`'s JSON text.
/// serde_json writes struct fields in declaration order and, without its `preserve_order`
/// feature (off in this crate), object keys sorted, so equal configurations give equal text.
pub fn config_hash<T: Serialize>(value: &T) -> Result<String> {
    let text = serde_json::to_string(value).map_err(|e| Error::invalid("batch configuration", e.to_string()))?;
    let digest = Sha256::digest(text.as_bytes());
    Ok(format!("{digest:x}")[..HASH_DIGITS].to_string())
}

/// Builds the metrics options that every job of `spec` uses.
pub fn metrics_options(spec: &BatchSpec) -> MetricsOptions {
    let mut opts = MetricsOptions {
        slow_dynamics: spec.analysis.slow_dynamics,
        behavior_seed: spec.analysis.seed,
        ..MetricsOptions::default()
    };
    opts.slow_manifold.starts = spec.analysis.slow_manifold_starts;
    opts
}

/// Lists the jobs of `spec` in their stable order.
pub fn list_jobs(spec: &BatchSpec, groups: &[ResolvedGroup]) -> Result<Vec<Job>> {
    let version = env!("CARGO_PKG_VERSION");
    let metrics = metrics_options(spec);
    let mut jobs = Vec::new();
    for group in groups {
        for &seed in &group.seeds {
            let train_config = serde_json::json!({
                "product": "train",
                "curriculum": group.curriculum,
                "preset": group.preset,
                "seed": seed,
                "aux_losses": group.aux,
                "compat": false,
                "version": version,
            });
            let train_key = config_hash(&train_config)?;
            // Two jobs with one configuration would train into the same cache folder at once.
            if let Some(twin) = jobs.iter().find(|j: &&Job| j.train_key == train_key) {
                return Err(Error::invalid(
                    format!("group {:?}", group.name),
                    format!(
                        "seed {seed} trains the same network as group {:?} seed {}; give the groups different \
                         curricula, settings or seeds",
                        twin.group, twin.seed
                    ),
                ));
            }
            let simulation_config = serde_json::json!({
                "product": "simulation",
                "train": train_key,
                "trials": spec.simulation_trials,
                "seed": seed,
                "p_catch": crate::tasks::wait_time::DEFAULT_P_CATCH,
                "blocks": true,
                "version": version,
            });
            let simulation_key = config_hash(&simulation_config)?;
            let metrics_config = serde_json::json!({
                "product": "metrics",
                "simulation": simulation_key,
                "options": metrics,
                "layout": METRICS_LAYOUT,
                "version": version,
            });
            let metrics_key = config_hash(&metrics_config)?;
            jobs.push(Job {
                index: jobs.len(),
                group: group.name.clone(),
                curriculum: group.curriculum,
                seed,
                preset: group.preset.clone(),
                aux: group.aux,
                train_config,
                train_key,
                simulation_config,
                simulation_key,
                metrics_config,
                metrics_key,
            });
        }
    }
    Ok(jobs)
}

/// One share of a batch, `index` of `count` (1-based), for cluster job arrays.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    pub index: usize,
    pub count: usize,
}

impl std::str::FromStr for Shard {
    type Err = Error;

    /// Parses `i/n` with 1 ≤ i ≤ n.
    fn from_str(s: &str) -> Result<Self> {
        let bad = |why: &str| Error::invalid("--shard", format!("{s:?}: {why}"));
        let (i, n) = s.split_once('/').ok_or_else(|| bad("expected i/n, e.g. 2/8"))?;
        let index: usize = i.trim().parse().map_err(|_| bad("i is not a whole number"))?;
        let count: usize = n.trim().parse().map_err(|_| bad("n is not a whole number"))?;
        if count == 0 {
            return Err(bad("n must be at least 1"));
        }
        if index == 0 || index > count {
            return Err(bad(&format!(
                "i must be between 1 and {count} (shards are numbered from 1)"
            )));
        }
        Ok(Shard { index, count })
    }
}

impl std::fmt::Display for Shard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

impl Shard {
    /// Returns whether job `job_index` (0-based) belongs to this shard. A shard takes every
    /// `count`-th job from `index − 1` on, so shares differ in size by at most one job.
    pub fn owns(&self, job_index: usize) -> bool {
        job_index % self.count == self.index - 1
    }

    /// Shard (1-based) that owns job `index` among `count` shards.
    pub fn owner(job_index: usize, count: usize) -> usize {
        job_index % count + 1
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shard_parses_and_rejects() {
        assert_eq!("2/3".parse::<Shard>().unwrap(), Shard { index: 2, count: 3 });
        for bad in ["0/3", "4/3", "1/0", "a/3", "3"] {
            let err = bad.parse::<Shard>().unwrap_err().to_string();
            assert!(err.contains("--shard"), "{bad}: {err}");
            assert!(err.contains(bad), "{bad}: {err}");
        }
    }

    #[test]
    fn shards_partition_jobs() {
        let count = 3;
        for job in 0..10 {
            let owners: Vec<usize> = (1..=count).filter(|&i| Shard { index: i, count }.owns(job)).collect();
            assert_eq!(owners, vec![Shard::owner(job, count)]);
        }
    }

    #[test]
    fn identical_groups_are_rejected() {
        let text = r#"
name = "t"
[[groups]]
name = "a"
curriculum = "conventional"
seeds = [1, 2]
[[groups]]
name = "b"
curriculum = "conventional"
seeds = [3, 2]
"#;
        let spec = BatchSpec::parse(Path::new("spec.toml"), text).unwrap();
        let groups = spec.resolve().unwrap();
        let err = list_jobs(&spec, &groups).unwrap_err().to_string();
        assert!(err.contains("group \"b\""), "{err}");
        assert!(err.contains("seed 2"), "{err}");
    }

    #[test]
    fn job_order_is_group_then_seed() {
        let text = r#"
name = "t"
[[groups]]
name = "a"
curriculum = "kindergarten"
seeds = [5, 1]
[[groups]]
name = "b"
curriculum = "none"
seeds = [2]
"#;
        let spec = BatchSpec::parse(Path::new("spec.toml"), text).unwrap();
        let jobs = list_jobs(&spec, &spec.resolve().unwrap()).unwrap();
        let order: Vec<(usize, &str, u64)> = jobs.iter().map(|j| (j.index, j.group.as_str(), j.seed)).collect();
        assert_eq!(order, [(0, "a", 5), (1, "a", 1), (2, "b", 2)]);
        assert_ne!(jobs[0].simulation_key, jobs[1].simulation_key);
    }

    #[test]
    fn hash_depends_on_every_field() {
        let a = config_hash(&serde_json::json!({"seed": 1, "preset": "small"})).unwrap();
        let b = config_hash(&serde_json::json!({"seed": 2, "preset": "small"})).unwrap();
        assert_eq!(a.len(), HASH_DIGITS);
        assert_ne!(a, b);
        assert_eq!(
            a,
            config_hash(&serde_json::json!({"preset": "small", "seed": 1})).unwrap()
        );
    }
}
