//! Reward blocks of the wagering task and their colours, shared by every figure that
//! splits data by block.

use plotters::style::RGBColor;

use crate::plot::theme;

/// Reward block of the temporal-wagering task.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Block {
    /// Every offer is possible.
    Mixed,
    /// Only the high offers.
    High,
    /// Only the low offers.
    Low,
}

impl Block {
    /// Every block, in legend order.
    pub const ALL: [Block; 3] = [Block::Mixed, Block::High, Block::Low];

    /// Returns the name used in `trials.csv` and in legends.
    pub fn name(self) -> &'static str {
        match self {
            Block::Mixed => "mixed",
            Block::High => "high",
            Block::Low => "low",
        }
    }

    /// Parses a name as written in `trials.csv` ("mixed", "high" or "low").
    pub fn from_name(name: &str) -> Option<Block> {
        Block::ALL.into_iter().find(|b| b.name() == name)
    }

    /// Returns the block's colour: near-black for mixed, vermillion for high, blue for low.
    pub fn colour(self) -> RGBColor {
        match self {
            Block::Mixed => theme::INK,
            Block::High => theme::PALETTE[1],
            Block::Low => theme::PALETTE[0],
        }
    }
}

/// Returns the colour of category `index` called `name`: the block colour when the name is a
/// block, otherwise the palette colour of `index`.
pub(crate) fn category_colour(index: usize, name: &str) -> RGBColor {
    match Block::from_name(name) {
        Some(block) => block.colour(),
        None => theme::series_colour(index),
    }
}
