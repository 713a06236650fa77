//! Group statistics of one metric: per-group location with bootstrap intervals, and for every
//! pair of groups Cliff's delta, the Mann–Whitney U test and the two-sample KS test.
//!
//! Right-censored values (a criterion never reached) take part in the rank tests as +∞. Each
//! is replaced by one value above every observed value of the pair. That gives the same ranks,
//! so U, KS D, Cliff's delta and the p-values are those of +∞. Means, medians and intervals are
//! over the observed values only, with the censored count reported beside them.

use serde::{Deserialize, Serialize};

use super::metrics::{MetricDef, Missing, NetworkMetrics};
use super::{bootstrap_ci, cliffs_delta, ks_two_sample, mann_whitney, BootstrapCi, KsTest, MannWhitney, Summary};
use crate::error::{Error, Result};
use crate::plot::{GroupCurve, StageBoundary};

/// Networks of one group.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Group {
    pub name: String,
    pub networks: Vec<NetworkMetrics>,
}

/// Settings of the group statistics.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct StatsOptions {
    /// Bootstrap resamples per interval.
    pub resamples: usize,
    /// Coverage of the bootstrap intervals, e.g. 0.95.
    pub level: f64,
    /// Seed of the bootstrap; each group and metric draws from its own stream derived from it.
    pub seed: u64,
}

impl Default for StatsOptions {
    fn default() -> Self {
        StatsOptions {
            resamples: 10_000,
            level: 0.95,
            seed: 0,
        }
    }
}

/// Location of one metric in one group.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GroupStats {
    pub group: String,
    /// Networks in the group.
    pub n_networks: usize,
    /// Networks with an observed value.
    pub n_observed: usize,
    /// Networks whose value was censored (ranked as +∞ in the tests).
    pub n_censored: usize,
    /// Networks without a value that were left out.
    pub n_missing: usize,
    /// Mean, median, SD and SEM of the observed values; `None` without any.
    pub summary: Option<Summary>,
    /// Percentile bootstrap intervals of the mean and median; `None` without any value.
    pub bootstrap: Option<BootstrapCi>,
}

/// Comparison of one metric between two groups. Cliff's delta and U are those of `group_a`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PairTest {
    pub group_a: String,
    pub group_b: String,
    /// In [−1, 1]; positive when `group_a` tends to have larger values.
    pub cliffs_delta: f64,
    pub mann_whitney: MannWhitney,
    pub ks: KsTest,
}

/// One metric compared across groups.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MetricComparison {
    pub metric: String,
    pub label: String,
    pub missing: Missing,
    pub groups: Vec<GroupStats>,
    /// One test per pair (i < j) of groups that both have at least one value; `None` where
    /// a group had none.
    pub pairs: Vec<Option<PairTest>>,
}

/// Per-network values of `def` in `group`: `Some(x)` observed, `None` censored or missing.
pub fn group_values(def: &MetricDef, group: &Group) -> Vec<Option<f64>> {
    group
        .networks
        .iter()
        .map(|m| (def.extract)(m).filter(|v| v.is_finite()))
        .collect()
}

/// Compares the metric `def` across `groups`.
pub fn compare_metric(def: &MetricDef, groups: &[Group], opts: &StatsOptions) -> Result<MetricComparison> {
    let values: Vec<(String, Vec<Option<f64>>)> =
        groups.iter().map(|g| (g.name.clone(), group_values(def, g))).collect();
    compare_values(def.id, def.label, def.missing, &values, opts)
}

/// Compares per-network values (`None` = censored or missing, following `missing`).
pub fn compare_values(
    metric: &str,
    label: &str,
    missing: Missing,
    groups: &[(String, Vec<Option<f64>>)],
    opts: &StatsOptions,
) -> Result<MetricComparison> {
    if groups.len() < 2 {
        return Err(Error::invalid(
            "groups",
            format!("{} given, expected at least 2 to compare", groups.len()),
        ));
    }

    let mut stats = Vec::with_capacity(groups.len());
    for (index, (name, values)) in groups.iter().enumerate() {
        let observed: Vec<f64> = values.iter().flatten().copied().collect();
        let absent = values.len() - observed.len();
        let (n_censored, n_missing) = match missing {
            Missing::RankWorst => (absent, 0),
            Missing::Drop => (0, absent),
        };
        let (summary, bootstrap) = if observed.is_empty() {
            (None, None)
        } else {
            let seed = crate::train::simulate::derive_seed(opts.seed, &format!("bootstrap/{metric}/{index}"));
            (
                Some(Summary::of(&observed)?),
                Some(bootstrap_ci(&observed, opts.resamples, opts.level, seed)?),
            )
        };
        stats.push(GroupStats {
            group: name.clone(),
            n_networks: values.len(),
            n_observed: observed.len(),
            n_censored,
            n_missing,
            summary,
            bootstrap,
        });
    }

    let mut pairs = Vec::new();
    for i in 0..groups.len() {
        for j in i + 1..groups.len() {
            pairs.push(pair_test(&groups[i], &groups[j], missing)?);
        }
    }

    Ok(MetricComparison {
        metric: metric.into(),
        label: label.into(),
        missing,
        groups: stats,
        pairs,
    })
}

/// Tests one pair of groups; `None` when either group has no value to rank.
fn pair_test(
    a: &(String, Vec<Option<f64>>),
    b: &(String, Vec<Option<f64>>),
    missing: Missing,
) -> Result<Option<PairTest>> {
    let (x, y) = ranked_samples(&a.1, &b.1, missing);
    if x.is_empty() || y.is_empty() {
        return Ok(None);
    }
    Ok(Some(PairTest {
        group_a: a.0.clone(),
        group_b: b.0.clone(),
        cliffs_delta: cliffs_delta(&x, &y)?,
        mann_whitney: mann_whitney(&x, &y)?,
        ks: ks_two_sample(&x, &y)?,
    }))
}

/// Samples for the rank tests. Under [`Missing::RankWorst`], each `None` becomes one value
/// above every observed value of both groups (max + 1), which ranks exactly as +∞ does.
pub fn ranked_samples(a: &[Option<f64>], b: &[Option<f64>], missing: Missing) -> (Vec<f64>, Vec<f64>) {
    match missing {
        Missing::Drop => (
            a.iter().flatten().copied().collect(),
            b.iter().flatten().copied().collect(),
        ),
        Missing::RankWorst => {
            let top = a.iter().chain(b).flatten().copied().fold(0.0_f64, f64::max) + 1.0;
            let fill = |v: &[Option<f64>]| v.iter().map(|x| x.unwrap_or(top)).collect::<Vec<f64>>();
            (fill(a), fill(b))
        }
    }
}

/// Mean ± SEM learning curve of each group: training reward rate (reward units per s) against RL session
/// number (1, 2, … across stages). At each session the mean is over the networks that ran it.
pub fn learning_curves(groups: &[Group]) -> Vec<GroupCurve> {
    groups
        .iter()
        .map(|g| {
            let longest = g.networks.iter().map(|m| m.sessions.len()).max().unwrap_or(0);
            let mut curve = GroupCurve {
                name: g.name.clone(),
                ..GroupCurve::default()
            };
            for k in 0..longest {
                let rates: Vec<f64> = g
                    .networks
                    .iter()
                    .filter_map(|m| m.sessions.get(k))
                    .map(|s| s.training_reward_rate_per_s)
                    .filter(|r| r.is_finite())
                    .collect();
                curve.sessions.push((k + 1) as f64);
                curve.mean.push(if rates.is_empty() {
                    f64::NAN
                } else {
                    super::mean(&rates)
                });
                curve.sem.push(super::sem(&rates).unwrap_or(f64::NAN));
            }
            curve
        })
        .collect()
}

/// Sessions at which an RL stage starts (no-catch, catch, block), from the first network of
/// each group, labelled with the stage and the groups that share that boundary.
pub fn stage_boundaries(groups: &[Group]) -> Vec<StageBoundary> {
    let mut found: Vec<(usize, String, Vec<String>)> = Vec::new();
    for g in groups {
        let Some(first) = g.networks.first() else { continue };
        for (k, s) in first.sessions.iter().enumerate() {
            if k == 0 || first.sessions[k - 1].stage == s.stage {
                continue;
            }
            match found
                .iter_mut()
                .find(|(at, stage, _)| *at == k + 1 && *stage == s.stage)
            {
                Some(entry) => entry.2.push(g.name.clone()),
                None => found.push((k + 1, s.stage.clone(), vec![g.name.clone()])),
            }
        }
    }
    found
        .into_iter()
        .map(|(at, stage, names)| StageBoundary {
            session: at as f64,
            label: format!("{stage} ({})", names.join(", ")),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn opts() -> StatsOptions {
        StatsOptions {
            resamples: 200,
            level: 0.95,
            seed: 7,
        }
    }

    fn some(values: &[f64]) -> Vec<Option<f64>> {
        values.iter().map(|&v| Some(v)).collect()
    }

    #[test]
    fn identical_groups_give_p_one() {
        let groups = vec![
            ("a".to_string(), some(&[1.0, 2.0, 3.0, 4.0])),
            ("b".to_string(), some(&[1.0, 2.0, 3.0, 4.0])),
        ];
        let c = compare_values("m", "m", Missing::Drop, &groups, &opts()).unwrap();
        let pair = c.pairs[0].as_ref().unwrap();
        assert_eq!(pair.cliffs_delta, 0.0);
        assert!((pair.mann_whitney.p_two_sided - 1.0).abs() < 1e-12);
        assert_eq!(pair.ks.d, 0.0);
        assert!((pair.ks.p_value - 1.0).abs() < 1e-12);
    }

    #[test]
    fn separated_groups_give_exact_p() {
        // Complete separation: only 2 of the C(9, 4) = 126 labellings are as extreme.
        let groups = vec![
            ("a".to_string(), some(&[1.0, 2.0, 3.0, 4.0])),
            ("b".to_string(), some(&[10.0, 11.0, 12.0, 13.0, 14.0])),
        ];
        let c = compare_values("m", "m", Missing::Drop, &groups, &opts()).unwrap();
        let pair = c.pairs[0].as_ref().unwrap();
        assert!(pair.mann_whitney.exact);
        assert!((pair.mann_whitney.p_two_sided - 2.0 / 126.0).abs() < 1e-12);
        assert_eq!(pair.cliffs_delta, -1.0);
        assert_eq!(pair.ks.d, 1.0);
        assert!((pair.ks.p_value - 2.0 / 126.0).abs() < 1e-12);
    }

    #[test]
    fn censored_values_rank_worst() {
        let a = vec![Some(100.0), Some(200.0), None];
        let b = vec![None, None, Some(300.0)];
        let (x, y) = ranked_samples(&a, &b, Missing::RankWorst);
        assert_eq!(x, vec![100.0, 200.0, 301.0]);
        assert_eq!(y, vec![301.0, 301.0, 300.0]);

        let groups = vec![("a".to_string(), a), ("b".to_string(), b)];
        let c = compare_values("t", "t", Missing::RankWorst, &groups, &opts()).unwrap();
        assert_eq!(c.groups[0].n_censored, 1);
        assert_eq!(c.groups[1].n_censored, 2);
        assert_eq!(c.groups[1].n_observed, 1);
        assert_eq!(c.groups[0].summary.as_ref().unwrap().median, 150.0);
    }

    #[test]
    fn dropped_values_are_counted_missing() {
        let groups = vec![
            ("a".to_string(), vec![Some(1.0), None]),
            ("b".to_string(), vec![None, None]),
        ];
        let c = compare_values("m", "m", Missing::Drop, &groups, &opts()).unwrap();
        assert_eq!(c.groups[0].n_missing, 1);
        assert!(c.groups[1].summary.is_none());
        assert!(c.pairs[0].is_none());
    }

    #[test]
    fn single_group_is_rejected() {
        let groups = vec![("a".to_string(), some(&[1.0]))];
        let err = compare_values("m", "m", Missing::Drop, &groups, &opts())
            .unwrap_err()
            .to_string();
        assert!(err.contains("at least 2"), "{err}");
    }

    #[test]
    fn three_groups_give_three_pairs() {
        let groups: Vec<(String, Vec<Option<f64>>)> = ["a", "b", "c"]
            .iter()
            .map(|n| (n.to_string(), some(&[1.0, 2.0])))
            .collect();
        let c = compare_values("m", "m", Missing::Drop, &groups, &opts()).unwrap();
        let names: Vec<(String, String)> = c
            .pairs
            .iter()
            .flatten()
            .map(|p| (p.group_a.clone(), p.group_b.clone()))
            .collect();
        assert_eq!(
            names,
            [
                ("a".into(), "b".into()),
                ("a".into(), "c".into()),
                ("b".into(), "c".into())
            ]
        );
    }
}
