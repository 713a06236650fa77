//! Parts shared by the three PyTorch cell types: their parameters in PyTorch layout, the weight
//! storage used by the kernels, and [`Cell`], the enum over `nn.RNN`, `nn.GRU` and `nn.LSTM`
//! layers that stacked and two-region networks are built from.

use nalgebra::{DMatrix, DVector};

use super::dense::RowMajor;
use super::gru::GruCell;
use super::lstm::LstmCell;
use super::rnn::{Nonlinearity, RnnCell};
use super::RecurrentMap;
use crate::error::{Error, Result};

/// Parameters of one recurrent layer with PyTorch's names and shapes.
///
/// `weight_ih` is [G·H, I], `weight_hh` is [G·H, H], and both biases are [G·H]. G is the
/// number of gate blocks: 1 for RNN, 3 for GRU (rows r, z, n), 4 for LSTM (rows i, f, g, o).
#[derive(Debug, Clone, PartialEq)]
pub struct CellParams {
    pub weight_ih: DMatrix<f64>,
    pub weight_hh: DMatrix<f64>,
    pub bias_ih: DVector<f64>,
    pub bias_hh: DVector<f64>,
}

impl CellParams {
    /// Draws every parameter uniformly from [−scale, scale] (PyTorch's default initialisation
    /// uses scale = 1/√H). Tests and benchmarks use it for random networks.
    pub fn random<R: rand::Rng + ?Sized>(
        kind: CellKind,
        input: usize,
        hidden: usize,
        scale: f64,
        rng: &mut R,
    ) -> CellParams {
        let rows = kind.gate_count() * hidden;
        let mut draw = || rng.gen_range(-scale..=scale);
        CellParams {
            weight_ih: DMatrix::from_fn(rows, input, |_, _| draw()),
            weight_hh: DMatrix::from_fn(rows, hidden, |_, _| draw()),
            bias_ih: DVector::from_fn(rows, |_, _| draw()),
            bias_hh: DVector::from_fn(rows, |_, _| draw()),
        }
    }
}

/// The kind of a recurrent layer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CellKind {
    RnnTanh,
    RnnRelu,
    Gru,
    Lstm,
}

impl CellKind {
    /// Number of stacked gate blocks in the weight rows.
    pub fn gate_count(self) -> usize {
        match self {
            CellKind::RnnTanh | CellKind::RnnRelu => 1,
            CellKind::Gru => 3,
            CellKind::Lstm => 4,
        }
    }

    /// State length per hidden unit: 2 for an LSTM (`[h; c]`), 1 otherwise.
    pub fn state_per_hidden(self) -> usize {
        match self {
            CellKind::Lstm => 2,
            _ => 1,
        }
    }
}

/// Validated weights of one layer, kept both in PyTorch layout and row-major for the kernels.
#[derive(Debug, Clone)]
pub(crate) struct CellWeights {
    pub params: CellParams,
    pub hidden: usize,
    pub input: usize,
    pub w_ih: RowMajor,
    pub w_hh: RowMajor,
}

impl CellWeights {
    /// Checks the shapes against `gates` blocks and copies the weights to row-major order.
    pub fn new(params: CellParams, gates: usize) -> Result<Self> {
        let hidden = params.weight_hh.ncols();
        let input = params.weight_ih.ncols();
        let rows = gates * hidden;
        if hidden == 0 {
            return Err(Error::invalid(
                "weight_hh",
                "has no columns; the hidden size must be at least 1",
            ));
        }
        let expect = |name: &str, got: (usize, usize), want: (usize, usize)| {
            if got == want {
                Ok(())
            } else {
                Err(Error::invalid(
                    name,
                    format!(
                        "has shape [{}, {}] but [{}, {}] was expected",
                        got.0, got.1, want.0, want.1
                    ),
                ))
            }
        };
        expect("weight_hh", params.weight_hh.shape(), (rows, hidden))?;
        expect("weight_ih", params.weight_ih.shape(), (rows, input))?;
        expect("bias_ih", (params.bias_ih.len(), 1), (rows, 1))?;
        expect("bias_hh", (params.bias_hh.len(), 1), (rows, 1))?;

        let w_ih = RowMajor::from_dmatrix(&params.weight_ih);
        let w_hh = RowMajor::from_dmatrix(&params.weight_hh);
        Ok(CellWeights {
            params,
            hidden,
            input,
            w_ih,
            w_hh,
        })
    }

    /// Writes `W_ih u + b_ih` into `out` (length G·H).
    pub fn input_part(&self, u: &[f64], out: &mut [f64]) {
        out.copy_from_slice(self.params.bias_ih.as_slice());
        self.w_ih.gemv_add(u, out);
    }

    /// Writes `W_hh h + b_hh` into `out` (length G·H).
    pub fn hidden_part(&self, h: &[f64], out: &mut [f64]) {
        out.copy_from_slice(self.params.bias_hh.as_slice());
        self.w_hh.gemv_add(h, out);
    }

    /// Writes the summed pre-activation `W_ih u + b_ih + W_hh h + b_hh` into `out`.
    pub fn preactivation(&self, u: &[f64], h: &[f64], out: &mut [f64]) {
        self.input_part(u, out);
        for (o, b) in out.iter_mut().zip(self.params.bias_hh.iter()) {
            *o += b;
        }
        self.w_hh.gemv_add(h, out);
    }
}

/// The derivatives of one layer with respect to its input as well as its state, which stacked
/// and two-region networks need to chain layers.
pub(crate) trait CellDerivatives: RecurrentMap {
    /// Writes `∂x'/∂x` into `jx` (state × state) and, when given, `∂x'/∂u` into `ju` (state ×
    /// input). Both must be zero on entry, because entries that are zero by structure are
    /// not written.
    fn jacobians_into(
        &self,
        x: &[f64],
        u: &[f64],
        jx: &mut DMatrix<f64>,
        ju: Option<&mut DMatrix<f64>>,
    );

    /// Returns `(∂x'/∂x, ∂x'/∂u)`, of shapes state × state and state × input.
    fn jacobians(&self, x: &[f64], u: &[f64]) -> (DMatrix<f64>, DMatrix<f64>) {
        let mut jx = DMatrix::zeros(self.state_dim(), self.state_dim());
        let mut ju = DMatrix::zeros(self.state_dim(), self.input_dim());
        self.jacobians_into(x, u, &mut jx, Some(&mut ju));
        (jx, ju)
    }

    /// Returns `∂x'/∂x` alone, skipping the input Jacobian.
    fn state_jacobian(&self, x: &[f64], u: &[f64]) -> DMatrix<f64> {
        let mut jx = DMatrix::zeros(self.state_dim(), self.state_dim());
        self.jacobians_into(x, u, &mut jx, None);
        jx
    }

    /// Writes `(∂x'/∂x)ᵀ v` into `out_x` and, when given, `(∂x'/∂u)ᵀ v` into `out_u`.
    fn vjp_full(
        &self,
        x: &[f64],
        u: &[f64],
        v: &[f64],
        out_x: &mut [f64],
        out_u: Option<&mut [f64]>,
    );
}

/// Panics with a message naming the argument when a slice passed to a map has the wrong
/// length. The lengths are fixed by the map, so a mismatch is a bug in the caller.
#[inline]
pub(crate) fn check_len(what: &str, got: usize, expected: usize) {
    assert!(
        got == expected,
        "{what} has length {got} but the map expects {expected}"
    );
}

/// One recurrent layer of any supported kind.
#[derive(Debug, Clone)]
pub enum Cell {
    Rnn(RnnCell),
    Gru(GruCell),
    Lstm(LstmCell),
}

impl Cell {
    /// Builds a layer of `kind` from PyTorch-layout parameters, checking their shapes.
    pub fn new(kind: CellKind, params: CellParams) -> Result<Cell> {
        Ok(match kind {
            CellKind::RnnTanh => Cell::Rnn(RnnCell::new(params, Nonlinearity::Tanh)?),
            CellKind::RnnRelu => Cell::Rnn(RnnCell::new(params, Nonlinearity::Relu)?),
            CellKind::Gru => Cell::Gru(GruCell::new(params)?),
            CellKind::Lstm => Cell::Lstm(LstmCell::new(params)?),
        })
    }

    /// Returns the layer's kind.
    pub fn kind(&self) -> CellKind {
        match self {
            Cell::Rnn(c) => match c.nonlinearity() {
                Nonlinearity::Tanh => CellKind::RnnTanh,
                Nonlinearity::Relu => CellKind::RnnRelu,
            },
            Cell::Gru(_) => CellKind::Gru,
            Cell::Lstm(_) => CellKind::Lstm,
        }
    }

    /// Returns the layer's parameters in PyTorch layout.
    pub fn params(&self) -> &CellParams {
        match self {
            Cell::Rnn(c) => c.params(),
            Cell::Gru(c) => c.params(),
            Cell::Lstm(c) => c.params(),
        }
    }

    /// Hidden size H (the state has H entries, or 2H for an LSTM).
    pub fn hidden(&self) -> usize {
        self.params().weight_hh.ncols()
    }

    fn as_map(&self) -> &dyn RecurrentMap {
        match self {
            Cell::Rnn(c) => c,
            Cell::Gru(c) => c,
            Cell::Lstm(c) => c,
        }
    }
}

impl CellDerivatives for Cell {
    fn jacobians_into(
        &self,
        x: &[f64],
        u: &[f64],
        jx: &mut DMatrix<f64>,
        ju: Option<&mut DMatrix<f64>>,
    ) {
        match self {
            Cell::Rnn(c) => c.jacobians_into(x, u, jx, ju),
            Cell::Gru(c) => c.jacobians_into(x, u, jx, ju),
            Cell::Lstm(c) => c.jacobians_into(x, u, jx, ju),
        }
    }

    fn vjp_full(
        &self,
        x: &[f64],
        u: &[f64],
        v: &[f64],
        out_x: &mut [f64],
        out_u: Option<&mut [f64]>,
    ) {
        match self {
            Cell::Rnn(c) => c.vjp_full(x, u, v, out_x, out_u),
            Cell::Gru(c) => c.vjp_full(x, u, v, out_x, out_u),
            Cell::Lstm(c) => c.vjp_full(x, u, v, out_x, out_u),
        }
    }
}

impl RecurrentMap for Cell {
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

/// Implements [`RecurrentMap`] for a cell type from its `step_unchecked`,
/// `residual_vjp_unchecked` and [`CellDerivatives`], checking slice lengths once at the
/// boundary.
macro_rules! impl_recurrent_map_for_cell {
    ($cell:ty) => {
        impl $crate::model::RecurrentMap for $cell {
            fn state_dim(&self) -> usize {
                self.state_len()
            }

            fn input_dim(&self) -> usize {
                self.weights.input
            }

            fn step(&self, x: &[f64], u: &[f64], out: &mut [f64]) {
                $crate::model::cell::check_len("state x", x.len(), self.state_len());
                $crate::model::cell::check_len("input u", u.len(), self.weights.input);
                $crate::model::cell::check_len("output", out.len(), self.state_len());
                self.step_unchecked(x, u, out);
            }

            fn jacobian(&self, x: &[f64], u: &[f64]) -> nalgebra::DMatrix<f64> {
                $crate::model::cell::CellDerivatives::state_jacobian(self, x, u)
            }

            fn vjp(&self, x: &[f64], u: &[f64], v: &[f64], out: &mut [f64]) {
                $crate::model::cell::CellDerivatives::vjp_full(self, x, u, v, out, None);
            }

            fn residual_vjp(&self, x: &[f64], u: &[f64], residual: &mut [f64], out: &mut [f64]) {
                $crate::model::cell::check_len("state x", x.len(), self.state_len());
                $crate::model::cell::check_len("input u", u.len(), self.weights.input);
                $crate::model::cell::check_len("residual", residual.len(), self.state_len());
                $crate::model::cell::check_len("output", out.len(), self.state_len());
                self.residual_vjp_unchecked(x, u, residual, out);
            }
        }
    };
}
pub(crate) use impl_recurrent_map_for_cell;
