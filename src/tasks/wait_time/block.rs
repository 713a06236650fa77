//! Reward blocks of the wagering task and the process that switches between them.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// Minimum counter value before a block may switch. The counter starts at 1 in the first
/// block and at 0 after each switch, so the first block lasts at least 40 trials and every
/// later block at least 41.
pub const MIN_BLOCK_COUNTER: u32 = 40;

/// Probability of switching on each trial once the counter has reached its minimum.
pub const SWITCH_PROBABILITY: f64 = 0.5;

/// Reward context of a trial, written as `mixed`, `high` or `low`.
///
/// The class code used for block-inference labels is 0 mixed, 1 high, 2 low.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Block {
    /// Offers {5, 10, 20, 40, 80} µL.
    Mixed,
    /// Offers {20, 40, 80} µL.
    High,
    /// Offers {5, 10, 20} µL.
    Low,
}

impl Block {
    /// All blocks in class-code order.
    pub const ALL: [Block; 3] = [Block::Mixed, Block::High, Block::Low];

    /// Offer volumes of this block in µL, each drawn with equal probability.
    pub fn offers_ul(self) -> &'static [f64] {
        match self {
            Block::Mixed => &[5.0, 10.0, 20.0, 40.0, 80.0],
            Block::High => &[20.0, 40.0, 80.0],
            Block::Low => &[5.0, 10.0, 20.0],
        }
    }

    /// Class code for block-inference targets: 0 mixed, 1 high, 2 low.
    pub fn code(self) -> u8 {
        match self {
            Block::Mixed => 0,
            Block::High => 1,
            Block::Low => 2,
        }
    }

    /// Returns the lowercase name used in files.
    pub fn as_str(self) -> &'static str {
        match self {
            Block::Mixed => "mixed",
            Block::High => "high",
            Block::Low => "low",
        }
    }
}

impl fmt::Display for Block {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Block {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self> {
        match s {
            "mixed" => Ok(Block::Mixed),
            "high" => Ok(Block::High),
            "low" => Ok(Block::Low),
            other => Err(Error::invalid(
                "block",
                format!("'{other}' is not a block; expected mixed, high or low"),
            )),
        }
    }
}

/// The block sequence mixed → low → mixed → high → mixed → …
///
/// A counter counts trials in the current block. After each trial, a counter below
/// [`MIN_BLOCK_COUNTER`] is incremented. Otherwise the block switches with probability
/// [`SWITCH_PROBABILITY`] (counter reset to 0) or stays (counter incremented). A switch from
/// low or high always goes to mixed. A switch from mixed goes to whichever of low and high
/// was not visited last, starting with low.
#[derive(Debug, Clone)]
pub struct BlockSchedule {
    current: Block,
    last_non_mixed: Block,
    counter: u32,
}

impl Default for BlockSchedule {
    fn default() -> Self {
        Self::new()
    }
}

impl BlockSchedule {
    /// Starts in a mixed block with counter 1, as if a high block preceded it.
    pub fn new() -> Self {
        Self {
            current: Block::Mixed,
            last_non_mixed: Block::High,
            counter: 1,
        }
    }

    /// Block of the current trial.
    pub fn current(&self) -> Block {
        self.current
    }

    /// Moves to the next trial, using `uniform` (a draw from [0, 1)) for the switch decision.
    ///
    /// Callers draw `uniform` once per trial whether or not it is used, so that the stream
    /// position depends only on the trial index.
    pub fn advance(&mut self, uniform: f64) {
        if self.counter < MIN_BLOCK_COUNTER || uniform >= SWITCH_PROBABILITY {
            self.counter += 1;
            return;
        }

        self.counter = 0;
        self.current = match self.current {
            Block::Mixed => match self.last_non_mixed {
                Block::High => Block::Low,
                _ => Block::High,
            },
            old => {
                self.last_non_mixed = old;
                Block::Mixed
            }
        };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn block_names_round_trip() {
        for block in Block::ALL {
            assert_eq!(block.to_string().parse::<Block>().unwrap(), block);
        }
        let error = "medium".parse::<Block>().unwrap_err().to_string();
        assert!(error.contains("medium"), "{error}");
        assert!(error.contains("mixed, high or low"), "{error}");
    }

    #[test]
    fn schedule_switches_as_soon_as_allowed() {
        let mut schedule = BlockSchedule::new();
        let mut blocks = vec![schedule.current()];
        for _ in 0..200 {
            schedule.advance(0.0);
            blocks.push(schedule.current());
        }

        // The first block lasts exactly 40 trials and later ones 41 when every draw switches.
        assert!(blocks[..40].iter().all(|&b| b == Block::Mixed));
        assert_eq!(blocks[40], Block::Low);
        assert!(blocks[40..81].iter().all(|&b| b == Block::Low));
        assert_eq!(blocks[81], Block::Mixed);
        assert_eq!(blocks[122], Block::High);
        assert_eq!(blocks[163], Block::Mixed);
    }

    #[test]
    fn schedule_never_switches_on_high_draws() {
        let mut schedule = BlockSchedule::new();
        for _ in 0..1000 {
            schedule.advance(0.75);
        }
        assert_eq!(schedule.current(), Block::Mixed);
    }
}
