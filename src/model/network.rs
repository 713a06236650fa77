//! The architectures a model file can hold, and [`Network`], the one type analyses receive.

use std::fmt;
use std::str::FromStr;

use nalgebra::DMatrix;

use super::cell::CellKind;
use super::stacked::Stacked;
use super::two_region::TwoRegion;
use super::RecurrentMap;
use crate::error::{Error, Result};

/// Architecture names as written in model metadata (`arch`) and on the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Arch {
    RnnTanh,
    RnnRelu,
    Gru,
    Lstm,
    TwoRegionLstm,
}

impl Arch {
    /// Every architecture, in the order error messages list them.
    pub const ALL: [Arch; 5] = [
        Arch::RnnTanh,
        Arch::RnnRelu,
        Arch::Gru,
        Arch::Lstm,
        Arch::TwoRegionLstm,
    ];

    /// Returns the metadata string (`rnn_tanh`, `rnn_relu`, `gru`, `lstm`, `two_region_lstm`).
    pub fn as_str(self) -> &'static str {
        match self {
            Arch::RnnTanh => "rnn_tanh",
            Arch::RnnRelu => "rnn_relu",
            Arch::Gru => "gru",
            Arch::Lstm => "lstm",
            Arch::TwoRegionLstm => "two_region_lstm",
        }
    }

    /// Returns the layer kind of a single-module architecture, or `None` for the two-region network.
    pub fn cell_kind(self) -> Option<CellKind> {
        match self {
            Arch::RnnTanh => Some(CellKind::RnnTanh),
            Arch::RnnRelu => Some(CellKind::RnnRelu),
            Arch::Gru => Some(CellKind::Gru),
            Arch::Lstm => Some(CellKind::Lstm),
            Arch::TwoRegionLstm => None,
        }
    }

    /// Returns the architecture of a stack of `kind` layers.
    pub fn from_cell_kind(kind: CellKind) -> Arch {
        match kind {
            CellKind::RnnTanh => Arch::RnnTanh,
            CellKind::RnnRelu => Arch::RnnRelu,
            CellKind::Gru => Arch::Gru,
            CellKind::Lstm => Arch::Lstm,
        }
    }
}

impl fmt::Display for Arch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Arch {
    type Err = Error;

    fn from_str(s: &str) -> Result<Arch> {
        Arch::ALL
            .into_iter()
            .find(|a| a.as_str() == s)
            .ok_or_else(|| {
                let accepted: Vec<&str> = Arch::ALL.iter().map(|a| a.as_str()).collect();
                Error::invalid(
                    "architecture",
                    format!("{s:?} is not one of {}", accepted.join(", ")),
                )
            })
    }
}

/// Any loaded network. It implements [`RecurrentMap`] on its full state.
// A network is built once per model file, so the size gap between variants costs nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone)]
pub enum Network {
    /// One or more stacked `nn.RNN`, `nn.GRU` or `nn.LSTM` layers.
    Stacked(Stacked),
    /// The OFC → STR network of the wagering task.
    TwoRegion(TwoRegion),
}

impl Network {
    /// Returns the network's architecture.
    pub fn arch(&self) -> Arch {
        match self {
            Network::Stacked(s) => Arch::from_cell_kind(s.kind()),
            Network::TwoRegion(_) => Arch::TwoRegionLstm,
        }
    }

    /// Hidden size per layer (stacked) or per region (OFC, STR).
    pub fn hidden_sizes(&self) -> Vec<usize> {
        match self {
            Network::Stacked(s) => s.hidden_sizes(),
            Network::TwoRegion(t) => t.hidden_sizes().to_vec(),
        }
    }

    /// Number of stacked layers; 1 for the two-region network, whose regions are one LSTM
    /// layer each.
    pub fn layers(&self) -> usize {
        match self {
            Network::Stacked(s) => s.layers().len(),
            Network::TwoRegion(_) => 1,
        }
    }

    /// Returns the top layer's `h` (the STR's for the two-region network) from a full state.
    ///
    /// # Panics
    /// When `x` is shorter than the state.
    pub fn top_hidden<'x>(&self, x: &'x [f64]) -> &'x [f64] {
        match self {
            Network::Stacked(s) => s.top_hidden(x),
            Network::TwoRegion(t) => t.top_hidden(x),
        }
    }

    fn as_map(&self) -> &dyn RecurrentMap {
        match self {
            Network::Stacked(s) => s,
            Network::TwoRegion(t) => t,
        }
    }
}

impl RecurrentMap for Network {
    fn state_dim(&self) -> usize {
        self.as_map().state_dim()
    }

    fn input_dim(&self) -> usize {
        self.as_map().input_dim()
    }

    fn step(&self, x: &[f64], u: &[f64], out: &mut [f64]) {
        self.as_map().step(x, u, out)
    }

    fn jacobian(&self, x: &[f64], u: &[f64]) -> DMatrix<f64> {
        self.as_map().jacobian(x, u)
    }

    fn vjp(&self, x: &[f64], u: &[f64], v: &[f64], out: &mut [f64]) {
        self.as_map().vjp(x, u, v, out)
    }

    fn residual_vjp(&self, x: &[f64], u: &[f64], residual: &mut [f64], out: &mut [f64]) {
        self.as_map().residual_vjp(x, u, residual, out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arch_round_trips_through_strings() {
        for arch in Arch::ALL {
            assert_eq!(arch.to_string().parse::<Arch>().unwrap(), arch);
        }
    }

    #[test]
    fn arch_unknown_name_lists_accepted() {
        let err = "lstm2".parse::<Arch>().unwrap_err().to_string();
        assert!(err.contains("\"lstm2\""), "{err}");
        assert!(
            err.contains("rnn_tanh, rnn_relu, gru, lstm, two_region_lstm"),
            "{err}"
        );
    }
}
