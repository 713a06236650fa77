//! Simulation folders: the files `analyze simulate` writes and every later analysis reads.
//!
//! * `trials.csv`: one row per trial, columns `trial, block, offer_ul, delay_s, catch, outcome,
//!   wait_time_s, iti_steps, start_step, decision_step, end_step, reward_total`;
//! * `states.safetensors`: per step `ofc` and `str` ([n_steps, 2H], `[h; c]` after the update),
//!   `inputs` [n_steps, 4], `ofc_outputs` [n_steps, 4], `str_outputs` [n_steps, 6],
//!   `block_belief` [n_steps, 3], `trial`, `epoch` (0 trial start, 1 wait, 2 ITI) and `block`
//!   (0 mixed, 1 high, 2 low) [n_steps];
//! * `run.json`: settings, seeds, the model file's SHA-256 and the tool version.

use std::collections::BTreeMap;
use std::path::Path;

use crate::error::{Error, Result};
use crate::io::{read_tensor_file, write_tensor_file, TensorFile};
use crate::tasks::wait_time::DT_S;
use crate::tasks::{Block, Outcome, TrialRecord};

use super::BehaviorTrial;

/// Header of `trials.csv`.
pub const TRIALS_HEADER: &str =
    "trial,block,offer_ul,delay_s,catch,outcome,wait_time_s,iti_steps,start_step,decision_step,end_step,reward_total";

/// Renders trial records as CSV text.
pub fn trials_to_csv(trials: &[TrialRecord]) -> String {
    let mut out = String::with_capacity(64 * (trials.len() + 1));
    out.push_str(TRIALS_HEADER);
    out.push('\n');
    for t in trials {
        out.push_str(&format!(
            "{},{},{},{:.6},{},{},{:.2},{},{},{},{},{:.6}\n",
            t.trial,
            t.block.as_str(),
            t.offer_ul,
            t.delay_s,
            t.catch,
            t.outcome.as_str(),
            t.wait_time_s,
            t.iti_steps,
            t.start_step,
            t.decision_step,
            t.end_step,
            t.reward_total
        ));
    }
    out
}

/// Parses `trials.csv`; `path` labels errors.
pub fn trials_from_csv(path: &Path, text: &str) -> Result<Vec<TrialRecord>> {
    let mut lines = text.lines();
    let header = lines.next().unwrap_or_default().trim();
    if header != TRIALS_HEADER {
        return Err(Error::format(path, format!("unexpected header {header:?}; expected {TRIALS_HEADER:?}")));
    }

    let mut trials = Vec::new();
    for (index, line) in lines.enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let row = index + 2;
        let fields: Vec<&str> = line.split(',').collect();
        if fields.len() != 12 {
            return Err(Error::format(path, format!("line {row} has {} fields, expected 12", fields.len())));
        }
        let bad = |name: &str| Error::format(path, format!("line {row}: invalid {name} {:?}", fields[column(name)]));
        let num = |name: &str| fields[column(name)].parse::<f64>().map_err(|_| bad(name));
        let int = |name: &str| fields[column(name)].parse::<u64>().map_err(|_| bad(name));

        let block: Block = fields[1].parse().map_err(|_| bad("block"))?;
        let outcome = match fields[5] {
            "rewarded" => Outcome::Rewarded,
            "opted_out" => Outcome::OptedOut,
            "timeout" => Outcome::Timeout,
            _ => return Err(bad("outcome")),
        };
        trials.push(TrialRecord {
            trial: int("trial")?,
            block,
            offer_ul: num("offer_ul")?,
            delay_s: num("delay_s")?,
            catch: fields[4].parse::<bool>().map_err(|_| bad("catch"))?,
            outcome,
            wait_time_s: num("wait_time_s")?,
            iti_steps: int("iti_steps")? as u32,
            start_step: int("start_step")?,
            decision_step: int("decision_step")?,
            end_step: int("end_step")?,
            reward_total: num("reward_total")?,
        });
    }
    Ok(trials)
}

fn column(name: &str) -> usize {
    TRIALS_HEADER.split(',').position(|c| c == name).unwrap_or(0)
}

/// Converts task trial records to the behavioural analyses' input.
pub fn behavior_trials(records: &[TrialRecord]) -> Vec<BehaviorTrial> {
    use super::{Block as B, Outcome as O};

    records
        .iter()
        .map(|r| BehaviorTrial {
            trial: r.trial as usize,
            block: match r.block {
                Block::Mixed => B::Mixed,
                Block::High => B::High,
                Block::Low => B::Low,
            },
            offer_ul: r.offer_ul,
            catch: r.catch,
            outcome: match r.outcome {
                Outcome::Rewarded => O::Rewarded,
                Outcome::OptedOut => O::OptedOut,
                Outcome::Timeout => O::Timeout,
            },
            wait_time_s: r.wait_time_s,
            reward_total: r.reward_total,
            duration_s: (r.end_step + 1 - r.start_step) as f64 * DT_S,
        })
        .collect()
}

/// A simulation folder, read back.
#[derive(Debug, Clone)]
pub struct SimulationDir {
    pub trials: Vec<TrialRecord>,
    pub states: TensorFile,
    pub run: serde_json::Value,
}

impl SimulationDir {
    /// Reads `trials.csv`, `states.safetensors` and `run.json` from `dir`.
    pub fn read(dir: &Path) -> Result<Self> {
        if !dir.is_dir() {
            return Err(Error::invalid("simulation folder", format!("{} is not a folder; run `analyze simulate MODEL --out DIR` first", dir.display())));
        }
        for file in ["trials.csv", "states.safetensors", "run.json"] {
            if !dir.join(file).is_file() {
                return Err(Error::invalid(
                    "simulation folder",
                    format!("{} has no {file}; expected the --out folder of `analyze simulate MODEL --out DIR`", dir.display()),
                ));
            }
        }
        let trials_path = dir.join("trials.csv");
        let text = std::fs::read_to_string(&trials_path).map_err(|e| Error::io(&trials_path, e))?;
        let trials = trials_from_csv(&trials_path, &text)?;
        let states = read_tensor_file(&dir.join("states.safetensors"))?;
        let run_path = dir.join("run.json");
        let run_text = std::fs::read_to_string(&run_path).map_err(|e| Error::io(&run_path, e))?;
        let run = serde_json::from_str(&run_text).map_err(|e| Error::format(&run_path, format!("invalid JSON: {e}")))?;
        Ok(SimulationDir { trials, states, run })
    }

    /// Returns the per-step tensor `name` as (rows, width, data), after checking its shape.
    pub fn rows(&self, name: &str) -> Result<(usize, usize, &[f64])> {
        let t = self.states.get(name)?;
        match t.shape.as_slice() {
            [n, w] => Ok((*n, *w, &t.data)),
            [n] => Ok((*n, 1, &t.data)),
            other => Err(Error::tensor(name, format!("has shape {other:?}, expected [n_steps, width] or [n_steps]"))),
        }
    }
}

/// Writes the three files of a simulation folder atomically, each one.
pub fn write_simulation_dir(
    dir: &Path,
    trials: &[TrialRecord],
    tensors: &[(String, Vec<usize>, Vec<f32>)],
    run: &serde_json::Value,
) -> Result<()> {
    let mut meta = BTreeMap::new();
    meta.insert("format".to_string(), "rnn-dynamics/simulation/1".to_string());
    write_tensor_file(&dir.join("states.safetensors"), tensors, &meta)?;
    crate::io::write_atomic(&dir.join("trials.csv"), trials_to_csv(trials).as_bytes())?;
    crate::io::write_json_atomic(&dir.join("run.json"), run)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trials_csv_round_trip() {
        let trial = TrialRecord {
            trial: 3,
            block: Block::Low,
            offer_ul: 10.0,
            delay_s: 1.234567,
            catch: true,
            outcome: Outcome::OptedOut,
            wait_time_s: 2.35,
            iti_steps: 7,
            start_step: 100,
            decision_step: 146,
            end_step: 153,
            reward_total: -4.35,
        };
        let text = trials_to_csv(std::slice::from_ref(&trial));
        let back = trials_from_csv(Path::new("t.csv"), &text).unwrap();
        assert_eq!(back.len(), 1);
        assert_eq!(back[0].block, Block::Low);
        assert_eq!(back[0].outcome, Outcome::OptedOut);
        assert_eq!(back[0].decision_step, 146);
        assert!((back[0].wait_time_s - 2.35).abs() < 1e-9);
    }

    #[test]
    fn trials_csv_bad_outcome_names_line() {
        let text = format!("{TRIALS_HEADER}\n0,mixed,5,1.0,false,won,1.0,3,0,10,13,5\n");
        let err = trials_from_csv(Path::new("t.csv"), &text).unwrap_err().to_string();
        assert!(err.contains("line 2"), "{err}");
        assert!(err.contains("outcome"), "{err}");
    }
}
