//! Runs a batch: the jobs of one shard (or all of them) in parallel, then the gather step that
//! reads every job's metrics and writes the report folder.

use std::path::{Path, PathBuf};

use rayon::prelude::*;
use serde::Serialize;

use crate::compare::groups::{Group, StatsOptions};
use crate::compare::metrics::NetworkMetrics;
use crate::compare::report::{build_report, write_comparison, FigureSelection};
use crate::error::{Error, Result};

use super::html::{write_index, write_report_md};
use super::jobs::{list_jobs, metrics_options, Job, Shard};
use super::products::{run_job, JobOutcome};
use super::spec::BatchSpec;

/// Mode of [`run_batch`]: which jobs it runs and whether it writes the report.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Run every job, then gather.
    All,
    /// Run one shard's jobs only.
    Shard(Shard),
    /// Gather the products of earlier shard runs.
    Gather,
}

/// Options of [`run_batch`].
#[derive(Debug, Clone)]
pub struct BatchOptions {
    /// Batch folder: `cache/` for products, the report files at its top.
    pub out: PathBuf,
    pub mode: Mode,
    /// Worker threads for independent jobs; `None` uses rayon's default (one per core).
    pub threads: Option<usize>,
}

/// Result of [`run_batch`].
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct BatchOutcome {
    pub jobs_total: usize,
    /// Jobs this call ran (the shard's share, all jobs, or none when gathering).
    pub jobs_run: usize,
    pub trained: usize,
    pub simulated: usize,
    pub measured: usize,
    /// Whether the report folder was written.
    pub gathered: bool,
}

/// Runs `spec` in `opts.mode`. Job failures are collected: every job of the share is tried,
/// then the first failures are returned together as one error.
pub fn run_batch(spec: &BatchSpec, opts: &BatchOptions) -> Result<BatchOutcome> {
    let groups = spec.resolve()?;
    let jobs = list_jobs(spec, &groups)?;
    let metrics = metrics_options(spec);
    let mut outcome = BatchOutcome {
        jobs_total: jobs.len(),
        ..BatchOutcome::default()
    };

    let cache = opts.out.join("cache");
    std::fs::create_dir_all(&cache).map_err(|e| Error::io(&cache, e))?;

    let selected: Vec<&Job> = match opts.mode {
        Mode::All => jobs.iter().collect(),
        Mode::Shard(shard) => jobs.iter().filter(|j| shard.owns(j.index)).collect(),
        Mode::Gather => Vec::new(),
    };
    if !selected.is_empty() {
        let results = run_parallel(&opts.out, &selected, spec, &metrics, opts.threads)?;
        let mut failures = Vec::new();
        for (job, result) in selected.iter().zip(results) {
            match result {
                Ok(done) => {
                    outcome.trained += usize::from(done.trained);
                    outcome.simulated += usize::from(done.simulated);
                    outcome.measured += usize::from(done.measured);
                }
                Err(e) => {
                    tracing::error!(job = %job.label(), error = %e, "job failed");
                    failures.push(format!("{}: {e}", job.label()));
                }
            }
        }
        outcome.jobs_run = selected.len();
        if !failures.is_empty() {
            return Err(Error::Numerical(format!(
                "{} of {} jobs failed; rerun to retry them (finished products are kept): {}",
                failures.len(),
                selected.len(),
                failures.join("; ")
            )));
        }
    }

    if matches!(opts.mode, Mode::All | Mode::Gather) {
        gather(spec, &jobs, &opts.out)?;
        outcome.gathered = true;
    }
    Ok(outcome)
}

/// Runs `jobs` on a pool of `threads` workers, returning results in job order.
fn run_parallel(
    out: &Path,
    jobs: &[&Job],
    spec: &BatchSpec,
    metrics: &crate::compare::metrics::MetricsOptions,
    threads: Option<usize>,
) -> Result<Vec<Result<JobOutcome>>> {
    let mut builder = rayon::ThreadPoolBuilder::new();
    if let Some(n) = threads {
        builder = builder.num_threads(n);
    }
    let pool = builder
        .build()
        .map_err(|e| Error::invalid("--jobs", format!("cannot start the thread pool: {e}")))?;
    Ok(pool.install(|| {
        jobs.par_iter()
            .map(|job| run_job(out, job, metrics, spec.simulation_trials))
            .collect()
    }))
}

/// Reads every job's cached metrics, in job order, into groups.
pub fn read_groups(spec: &BatchSpec, jobs: &[Job], out: &Path) -> Result<Vec<Group>> {
    let missing: Vec<&Job> = jobs.iter().filter(|j| !out.join(j.metrics_file()).is_file()).collect();
    if !missing.is_empty() {
        let mut listed: Vec<String> = missing.iter().take(10).map(|j| j.label()).collect();
        if missing.len() > listed.len() {
            listed.push(format!("and {} more", missing.len() - listed.len()));
        }
        return Err(Error::invalid(
            "gather",
            format!(
                "{} of {} jobs have no metrics in {} yet ({}); run the missing shards first",
                missing.len(),
                jobs.len(),
                out.join("cache").display(),
                listed.join(", ")
            ),
        ));
    }

    let mut groups: Vec<Group> = spec
        .groups
        .iter()
        .map(|g| Group {
            name: g.name.clone(),
            networks: Vec::new(),
        })
        .collect();
    for job in jobs {
        let path = out.join(job.metrics_file());
        let text = std::fs::read_to_string(&path).map_err(|e| Error::io(&path, e))?;
        let metrics: NetworkMetrics =
            serde_json::from_str(&text).map_err(|e| Error::format(&path, format!("not a metrics file: {e}")))?;
        let group = groups
            .iter_mut()
            .find(|g| g.name == job.group)
            .ok_or_else(|| Error::invalid("job group", job.group.clone()))?;
        group.networks.push(metrics);
    }
    Ok(groups)
}

/// Writes the report folder from the cached metrics of every job.
fn gather(spec: &BatchSpec, jobs: &[Job], out: &Path) -> Result<()> {
    let groups = read_groups(spec, jobs, out)?;
    let stats = StatsOptions {
        resamples: spec.analysis.bootstrap_resamples,
        level: 0.95,
        seed: spec.analysis.seed,
    };
    let report = build_report(&groups, &stats)?;
    let selection = FigureSelection {
        learning_curves: spec.figures.learning_curves,
        feature_cdfs: spec.figures.feature_cdfs,
        strips: spec.figures.strips.clone(),
    };
    let figures = write_comparison(out, &groups, &report, &selection)?;
    write_report_md(out, spec, jobs, &report, &figures)?;
    write_index(out, spec, &figures)
}
