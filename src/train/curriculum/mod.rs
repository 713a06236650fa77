//! Curricula: which stages a network goes through, in which order, with which auxiliary
//! losses, and the driver that runs them with checkpoints, logs and resumption.
//!
//! | curriculum | stages |
//! | --- | --- |
//! | `kindergarten` | simple → intermediate → inference → no-catch → catch → block |
//! | `conventional` | no-catch → catch → block (shaping on the task only) |
//! | `none` | block only, for the same number of RL sessions |
//! | `memory`, `counting`, `integration` | simple → intermediate on that one output, then shaping |
//! | `inference` | inference, then shaping |
//!
//! Every curriculum gets the same RL budget (the preset's no-catch + catch + block sessions),
//! so that the number of RL trials to criterion compares across curricula.

pub mod criterion;
pub mod driver;
pub mod preset;
pub mod session;
pub mod supervised;

pub use driver::{train, TrainOptions, TrainSummary};
pub use preset::{Preset, PresetName};

use serde::Serialize;

use crate::error::{Error, Result};
use super::losses::SupervisedSelection;

/// The training curricula.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Curriculum {
    Kindergarten,
    Conventional,
    None,
    Memory,
    Counting,
    Integration,
    Inference,
}

/// Accepted `--curriculum` values, for help and error messages.
pub const CURRICULA: &str = "kindergarten, conventional, none, memory, counting, integration, inference";

impl std::str::FromStr for Curriculum {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self> {
        Ok(match s {
            "kindergarten" => Curriculum::Kindergarten,
            "conventional" => Curriculum::Conventional,
            "none" => Curriculum::None,
            "memory" => Curriculum::Memory,
            "counting" => Curriculum::Counting,
            "integration" => Curriculum::Integration,
            "inference" => Curriculum::Inference,
            other => return Err(Error::invalid("curriculum", format!("{other:?}; expected one of {CURRICULA}"))),
        })
    }
}

impl std::fmt::Display for Curriculum {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Curriculum::Kindergarten => "kindergarten",
            Curriculum::Conventional => "conventional",
            Curriculum::None => "none",
            Curriculum::Memory => "memory",
            Curriculum::Counting => "counting",
            Curriculum::Integration => "integration",
            Curriculum::Inference => "inference",
        })
    }
}

/// The RL stages of the task: no catch trials and no blocks, catch trials without blocks,
/// and the full task with hidden blocks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum RlStage {
    Nocatch,
    Catch,
    Block,
}

impl RlStage {
    /// Name used in checkpoint files, logs and metadata.
    pub fn name(self) -> &'static str {
        match self {
            RlStage::Nocatch => "nocatch",
            RlStage::Catch => "catch",
            RlStage::Block => "block",
        }
    }

    /// Catch-trial probability during this stage.
    pub fn p_catch(self) -> f64 {
        match self {
            RlStage::Nocatch => 0.0,
            _ => crate::tasks::wait_time::DEFAULT_P_CATCH,
        }
    }

    /// Returns whether hidden blocks switch during this stage.
    pub fn use_blocks(self) -> bool {
        self == RlStage::Block
    }
}

/// One stage of a curriculum.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum Stage {
    /// Simple kindergarten: consecutive sub-stages, each training the listed output subset.
    Simple { substages: Vec<SupervisedSelection> },
    /// Intermediate kindergarten on the selected outputs.
    Intermediate { selection: SupervisedSelection },
    /// Block inference with the supervised outputs.
    Inference,
    /// `sessions` RL sessions of the task stage.
    Rl { stage: RlStage, sessions: usize },
}

impl Stage {
    /// Name used in checkpoint files and logs.
    pub fn name(&self) -> &'static str {
        match self {
            Stage::Simple { .. } => "simple",
            Stage::Intermediate { .. } => "intermediate",
            Stage::Inference => "inference",
            Stage::Rl { stage, .. } => stage.name(),
        }
    }
}

const MEMORY: SupervisedSelection = [true, false, false];
const COUNT: SupervisedSelection = [false, true, false];
const INTEGRATION: SupervisedSelection = [false, false, true];
const MEMORY_COUNT: SupervisedSelection = [true, true, false];
const ALL: SupervisedSelection = [true, true, true];

impl Curriculum {
    /// Returns the stages of this curriculum under `preset`.
    pub fn stages(self, preset: &Preset) -> Vec<Stage> {
        let shaping = vec![
            Stage::Rl { stage: RlStage::Nocatch, sessions: preset.nocatch_sessions },
            Stage::Rl { stage: RlStage::Catch, sessions: preset.catch_sessions },
            Stage::Rl { stage: RlStage::Block, sessions: preset.block_sessions },
        ];
        let single = |selection: SupervisedSelection| {
            vec![Stage::Simple { substages: vec![selection] }, Stage::Intermediate { selection }]
        };

        let mut stages = match self {
            Curriculum::Kindergarten => vec![
                Stage::Simple { substages: vec![MEMORY, MEMORY_COUNT, ALL] },
                Stage::Intermediate { selection: ALL },
                Stage::Inference,
            ],
            Curriculum::Conventional => Vec::new(),
            Curriculum::None => {
                return vec![Stage::Rl { stage: RlStage::Block, sessions: preset.rl_sessions() }];
            }
            Curriculum::Memory => single(MEMORY),
            Curriculum::Counting => single(COUNT),
            Curriculum::Integration => single(INTEGRATION),
            Curriculum::Inference => vec![Stage::Inference],
        };
        stages.extend(shaping);
        stages
    }

    /// Auxiliary losses during RL by default: the supervised regulariser on the outputs this
    /// curriculum pretrained (None when it pretrained none), and whether the block-prediction
    /// term is on. `conventional` and `none` train on the task alone.
    pub fn default_aux(self) -> AuxLosses {
        match self {
            Curriculum::Kindergarten => AuxLosses { supervised: Some(ALL), prediction: true },
            Curriculum::Conventional | Curriculum::None => AuxLosses { supervised: None, prediction: false },
            Curriculum::Memory => AuxLosses { supervised: Some(MEMORY), prediction: false },
            Curriculum::Counting => AuxLosses { supervised: Some(COUNT), prediction: false },
            Curriculum::Integration => AuxLosses { supervised: Some(INTEGRATION), prediction: false },
            Curriculum::Inference => AuxLosses { supervised: None, prediction: true },
        }
    }

    /// Auxiliary losses when `--aux-losses on` forces them for any curriculum: all supervised
    /// outputs and the block-prediction term (the study's "regularisation only" control).
    pub fn forced_aux() -> AuxLosses {
        AuxLosses { supervised: Some(ALL), prediction: true }
    }
}

/// Auxiliary losses added to the actor–critic loss during RL.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct AuxLosses {
    /// Outputs of the kindergarten regulariser (λ_sup = 10 on a fixed 45-step batch).
    pub supervised: Option<SupervisedSelection>,
    /// Block-prediction cross-entropy on the OFC logits in the block stage (λ_pred = 0.5).
    pub prediction: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn curricula_share_rl_budget() {
        let preset = Preset::small();
        for c in [Curriculum::Kindergarten, Curriculum::Conventional, Curriculum::None, Curriculum::Memory, Curriculum::Inference] {
            let rl: usize = c
                .stages(&preset)
                .iter()
                .map(|s| match s {
                    Stage::Rl { sessions, .. } => *sessions,
                    _ => 0,
                })
                .sum();
            assert_eq!(rl, preset.rl_sessions(), "{c}");
        }
    }

    #[test]
    fn kindergarten_stage_order() {
        let names: Vec<&str> = Curriculum::Kindergarten.stages(&Preset::small()).iter().map(Stage::name).collect();
        assert_eq!(names, ["simple", "intermediate", "inference", "nocatch", "catch", "block"]);
        let names: Vec<&str> = Curriculum::Conventional.stages(&Preset::small()).iter().map(Stage::name).collect();
        assert_eq!(names, ["nocatch", "catch", "block"]);
    }

    #[test]
    fn unknown_curriculum_lists_choices() {
        let err = "kinder".parse::<Curriculum>().unwrap_err().to_string();
        assert!(err.contains("\"kinder\""));
        assert!(err.contains("conventional"));
    }

    #[test]
    fn aux_losses_off_for_conventional() {
        assert_eq!(Curriculum::Conventional.default_aux().supervised, None);
        assert!(!Curriculum::None.default_aux().prediction);
        assert!(Curriculum::Kindergarten.default_aux().prediction);
    }
}
