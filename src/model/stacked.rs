//! Stacked recurrent layers, PyTorch's `num_layers` (one layer is the common case).
//!
//! The state is the layers' states concatenated in layer order (each LSTM layer `[h; c]`).
//! Layer k > 0 takes layer k − 1's new `h` as its input, so the Jacobian is block lower
//! triangular: `∂x_k'/∂x_j = (∂x_k'/∂u_k) · (∂h_{k−1}'/∂x_j)` for j < k.

use nalgebra::DMatrix;

use super::cell::{check_len, Cell, CellDerivatives, CellKind};
use super::dense::with_scratch;
use super::RecurrentMap;
use crate::error::{Error, Result};

/// A stack of recurrent layers of one kind.
#[derive(Debug, Clone)]
pub struct Stacked {
    layers: Vec<Cell>,
    /// Start of each layer's state in the full state, plus the total length at the end.
    offsets: Vec<usize>,
}

impl Stacked {
    /// Builds the stack, checking that there is at least one layer, that all layers have the
    /// same kind, and that each layer's input size equals the hidden size below it.
    pub fn new(layers: Vec<Cell>) -> Result<Self> {
        let first = layers.first().ok_or_else(|| {
            Error::invalid("layers", "is empty; a network needs at least one layer")
        })?;
        let kind = first.kind();

        let mut offsets = vec![0];
        for (k, layer) in layers.iter().enumerate() {
            if layer.kind() != kind {
                return Err(Error::invalid(
                    format!("layer {k}"),
                    format!(
                        "is {:?} but layer 0 is {:?}; all layers must have the same kind",
                        layer.kind(),
                        kind
                    ),
                ));
            }
            if k > 0 && layer.input_dim() != layers[k - 1].hidden() {
                return Err(Error::invalid(
                    format!("layer {k}"),
                    format!(
                        "takes {} inputs but layer {} has hidden size {}",
                        layer.input_dim(),
                        k - 1,
                        layers[k - 1].hidden()
                    ),
                ));
            }
            offsets.push(offsets[k] + layer.state_dim());
        }
        Ok(Stacked { layers, offsets })
    }

    /// Returns the layers, bottom (input side) first.
    pub fn layers(&self) -> &[Cell] {
        &self.layers
    }

    /// Returns the kind shared by all layers.
    pub fn kind(&self) -> CellKind {
        self.layers[0].kind()
    }

    /// Hidden size of each layer.
    pub fn hidden_sizes(&self) -> Vec<usize> {
        self.layers.iter().map(Cell::hidden).collect()
    }

    /// Returns layer `k`'s part of the full state `x`.
    pub fn layer_state<'x>(&self, x: &'x [f64], k: usize) -> &'x [f64] {
        &x[self.offsets[k]..self.offsets[k + 1]]
    }

    /// Returns the top layer's `h` from the full state `x` (what a readout reads).
    pub fn top_hidden<'x>(&self, x: &'x [f64]) -> &'x [f64] {
        let last = self.layers.len() - 1;
        &x[self.offsets[last]..self.offsets[last] + self.layers[last].hidden()]
    }

    /// Runs every layer forward and writes the new full state into `out`.
    fn forward(&self, x: &[f64], u: &[f64], out: &mut [f64]) {
        for (k, layer) in self.layers.iter().enumerate() {
            let (below, rest) = out.split_at_mut(self.offsets[k]);
            let target = &mut rest[..layer.state_dim()];
            let x_k = self.layer_state(x, k);
            if k == 0 {
                layer.step(x_k, u, target);
            } else {
                let h_below =
                    &below[self.offsets[k - 1]..self.offsets[k - 1] + self.layers[k - 1].hidden()];
                layer.step(x_k, h_below, target);
            }
        }
    }

    /// Returns layer `k`'s input given the new states `next` of the layers below.
    fn layer_input<'a>(&self, k: usize, u: &'a [f64], next: &'a [f64]) -> &'a [f64] {
        if k == 0 {
            u
        } else {
            &next[self.offsets[k - 1]..self.offsets[k - 1] + self.layers[k - 1].hidden()]
        }
    }
}

impl RecurrentMap for Stacked {
    fn state_dim(&self) -> usize {
        *self
            .offsets
            .last()
            .expect("offsets has one entry per layer plus one")
    }

    fn input_dim(&self) -> usize {
        self.layers[0].input_dim()
    }

    fn step(&self, x: &[f64], u: &[f64], out: &mut [f64]) {
        check_len("state x", x.len(), self.state_dim());
        check_len("output", out.len(), self.state_dim());
        self.forward(x, u, out);
    }

    fn jacobian(&self, x: &[f64], u: &[f64]) -> DMatrix<f64> {
        check_len("state x", x.len(), self.state_dim());
        if let [layer] = self.layers.as_slice() {
            return layer.state_jacobian(x, u);
        }
        let n = self.state_dim();
        let mut next = vec![0.0; n];
        self.forward(x, u, &mut next);

        let mut jac = DMatrix::zeros(n, n);
        for (k, layer) in self.layers.iter().enumerate() {
            let (row0, rows) = (self.offsets[k], layer.state_dim());
            if k == 0 {
                let jx = layer.state_jacobian(self.layer_state(x, 0), u);
                jac.view_mut((row0, row0), (rows, rows)).copy_from(&jx);
                continue;
            }
            let (jx, ju) = layer.jacobians(self.layer_state(x, k), self.layer_input(k, u, &next));
            jac.view_mut((row0, row0), (rows, rows)).copy_from(&jx);

            // Chain through the new h of the layer below: its rows of J are already complete.
            let below_h = jac
                .view((self.offsets[k - 1], 0), (self.layers[k - 1].hidden(), n))
                .clone_owned();
            let through_input = ju * below_h;
            let mut block = jac.view_mut((row0, 0), (rows, n));
            block += through_input;
        }
        jac
    }

    fn vjp(&self, x: &[f64], u: &[f64], v: &[f64], out: &mut [f64]) {
        check_len("state x", x.len(), self.state_dim());
        check_len("cotangent v", v.len(), self.state_dim());
        check_len("output", out.len(), self.state_dim());
        if let [layer] = self.layers.as_slice() {
            return layer.vjp(x, u, v, out);
        }
        let n = self.state_dim();
        with_scratch(n, |next| {
            self.forward(x, u, next);
            self.pull_back(x, u, next, v, out);
        });
    }

    /// Runs the layers forward once for both results. A single layer uses its own fused
    /// product.
    ///
    /// NOTE: with several layers each layer still computes its gates twice, in `forward` and
    /// again in its `vjp_full`.
    fn residual_vjp(&self, x: &[f64], u: &[f64], residual: &mut [f64], out: &mut [f64]) {
        if let [layer] = self.layers.as_slice() {
            return layer.residual_vjp(x, u, residual, out);
        }
        check_len("state x", x.len(), self.state_dim());
        check_len("residual", residual.len(), self.state_dim());
        check_len("output", out.len(), self.state_dim());
        let n = self.state_dim();
        with_scratch(n, |next| {
            self.forward(x, u, next);
            for ((r, next_i), xi) in residual.iter_mut().zip(next.iter()).zip(x) {
                *r = next_i - xi;
            }
            self.pull_back(x, u, next, residual, out);
        });
    }
}

impl Stacked {
    /// Writes `Jᵀ v` into `out`, given the new state `next` of every layer.
    fn pull_back(&self, x: &[f64], u: &[f64], next: &[f64], v: &[f64], out: &mut [f64]) {
        let n = self.state_dim();
        let max_input = self.layers.iter().map(|l| l.input_dim()).max().unwrap_or(0);

        with_scratch(n + max_input, |buf| {
            let (cotangent, input_cotangent) = buf.split_at_mut(n);
            cotangent.copy_from_slice(v);

            // Walk from the top layer down, passing each layer's input cotangent to the new h of
            // the layer below before that layer is processed.
            for k in (0..self.layers.len()).rev() {
                let layer = &self.layers[k];
                let range = self.offsets[k]..self.offsets[k + 1];
                let g_u = &mut input_cotangent[..layer.input_dim()];
                layer.vjp_full(
                    self.layer_state(x, k),
                    self.layer_input(k, u, next),
                    &cotangent[range.clone()],
                    &mut out[range],
                    if k > 0 { Some(&mut *g_u) } else { None },
                );
                if k > 0 {
                    let below = self.offsets[k - 1];
                    for (c, g) in cotangent[below..below + g_u.len()]
                        .iter_mut()
                        .zip(g_u.iter())
                    {
                        *c += g;
                    }
                }
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::CellParams;

    fn layer(kind: CellKind, input: usize, hidden: usize) -> Cell {
        let mut rng = crate::rng::stream(1, "stacked tests");
        Cell::new(kind, CellParams::random(kind, input, hidden, 0.5, &mut rng)).unwrap()
    }

    #[test]
    fn stacked_rejects_empty() {
        let err = Stacked::new(vec![]).unwrap_err().to_string();
        assert!(err.contains("layers: is empty"), "{err}");
    }

    #[test]
    fn stacked_rejects_mixed_kinds() {
        let err = Stacked::new(vec![
            layer(CellKind::Gru, 2, 3),
            layer(CellKind::Lstm, 3, 3),
        ])
        .unwrap_err()
        .to_string();
        assert!(err.contains("layer 1: is Lstm but layer 0 is Gru"), "{err}");
    }

    #[test]
    fn stacked_rejects_input_mismatch() {
        let err = Stacked::new(vec![layer(CellKind::Gru, 2, 3), layer(CellKind::Gru, 4, 3)])
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("layer 1: takes 4 inputs but layer 0 has hidden size 3"),
            "{err}"
        );
    }

    #[test]
    fn stacked_state_layout() {
        let net = Stacked::new(vec![
            layer(CellKind::Lstm, 2, 3),
            layer(CellKind::Lstm, 3, 4),
        ])
        .unwrap();
        assert_eq!(net.state_dim(), 6 + 8);
        let x: Vec<f64> = (0..14).map(f64::from).collect();
        assert_eq!(net.layer_state(&x, 1), &x[6..14]);
        assert_eq!(net.top_hidden(&x), &x[6..10]);
    }

    #[test]
    #[should_panic(expected = "state x has length 5 but the map expects 14")]
    fn stacked_wrong_state_length_panics() {
        let net = Stacked::new(vec![
            layer(CellKind::Lstm, 2, 3),
            layer(CellKind::Lstm, 3, 4),
        ])
        .unwrap();
        let mut out = vec![0.0; 14];
        net.step(&[0.0; 5], &[0.0; 2], &mut out);
    }
}
