//! The two-region network of the temporal-wagering model: an OFC LSTM whose head's block
//! logits feed an STR LSTM.
//!
//! One step with task input `u` (4 channels):
//!
//! ```text
//! (h_ofc', c_ofc') = LSTM_ofc(u, h_ofc, c_ofc)          q = linear1(h_ofc')   (4 outputs)
//! s = [u[0], u[1], q[0], q[1], q[2]]                     (task channels, then block logits)
//! (h_str', c_str') = LSTM_str(s, h_str, c_str)          p = linear2(h_str')   (6 outputs)
//! ```
//!
//! The state is `[h_ofc; c_ofc; h_str; c_str]`. The STR reads the OFC's *new* `h`, so the
//! Jacobian's STR←OFC block passes through the OFC step and `linear1`. The OFC←STR block is
//! exactly zero.

use nalgebra::{DMatrix, DVector};

use super::cell::{check_len, CellDerivatives};
use super::dense::with_scratch;
use super::linear::Linear;
use super::lstm::LstmCell;
use super::RecurrentMap;
use crate::error::{Error, Result};

/// Number of OFC head outputs (block logits for mixed, high and low blocks) fed to the STR.
pub const BLOCK_LOGITS: usize = 3;

/// The OFC → STR network with both heads.
#[derive(Debug, Clone)]
pub struct TwoRegion {
    ofc: LstmCell,
    ofc_head: Linear,
    striatum: LstmCell,
    str_head: Linear,
    /// Number of leading task channels the STR reads (2 in the wagering model).
    task_channels: usize,
}

impl TwoRegion {
    /// Builds the network, checking that the heads read their region's hidden size, that the
    /// OFC head has at least [`BLOCK_LOGITS`] outputs, and that the STR input is some leading
    /// task channels plus the block logits.
    pub fn new(
        ofc: LstmCell,
        ofc_head: Linear,
        striatum: LstmCell,
        str_head: Linear,
    ) -> Result<Self> {
        let h_ofc = ofc.params().weight_hh.ncols();
        let h_str = striatum.params().weight_hh.ncols();
        if ofc_head.in_dim() != h_ofc {
            return Err(Error::invalid(
                "OFC head (linear1)",
                format!(
                    "reads {} inputs but the OFC hidden size is {h_ofc}",
                    ofc_head.in_dim()
                ),
            ));
        }
        if ofc_head.out_dim() < BLOCK_LOGITS {
            return Err(Error::invalid(
                "OFC head (linear1)",
                format!(
                    "has {} outputs but at least {BLOCK_LOGITS} block logits are needed",
                    ofc_head.out_dim()
                ),
            ));
        }
        if str_head.in_dim() != h_str {
            return Err(Error::invalid(
                "STR head (linear2)",
                format!(
                    "reads {} inputs but the STR hidden size is {h_str}",
                    str_head.in_dim()
                ),
            ));
        }
        let str_inputs = striatum.input_dim();
        if str_inputs < BLOCK_LOGITS || str_inputs - BLOCK_LOGITS > ofc.input_dim() {
            return Err(Error::invalid(
                "STR LSTM (rnn2)",
                format!(
                    "takes {str_inputs} inputs but expected {BLOCK_LOGITS} block logits plus at most {} task channels",
                    ofc.input_dim()
                ),
            ));
        }
        let task_channels = str_inputs - BLOCK_LOGITS;
        Ok(TwoRegion {
            ofc,
            ofc_head,
            striatum,
            str_head,
            task_channels,
        })
    }

    /// Returns the OFC LSTM (`rnn1`).
    pub fn ofc(&self) -> &LstmCell {
        &self.ofc
    }

    /// Returns the OFC head (`linear1`): block logits, then the integration output.
    pub fn ofc_head(&self) -> &Linear {
        &self.ofc_head
    }

    /// Returns the STR LSTM (`rnn2`).
    pub fn striatum(&self) -> &LstmCell {
        &self.striatum
    }

    /// Returns the STR head (`linear2`): policy logits, value, memory and count outputs.
    pub fn str_head(&self) -> &Linear {
        &self.str_head
    }

    /// Number of leading task channels the STR reads.
    pub fn task_channels(&self) -> usize {
        self.task_channels
    }

    /// Hidden sizes `[H_ofc, H_str]`.
    pub fn hidden_sizes(&self) -> [usize; 2] {
        [
            self.ofc.params().weight_hh.ncols(),
            self.striatum.params().weight_hh.ncols(),
        ]
    }

    fn ofc_len(&self) -> usize {
        self.ofc.state_dim()
    }

    /// Returns the OFC part `[h_ofc; c_ofc]` of the full state.
    pub fn ofc_state<'x>(&self, x: &'x [f64]) -> &'x [f64] {
        &x[..self.ofc_len()]
    }

    /// Returns the STR part `[h_str; c_str]` of the full state.
    pub fn str_state<'x>(&self, x: &'x [f64]) -> &'x [f64] {
        &x[self.ofc_len()..]
    }

    /// Returns `h_str` from the full state (the top region's hidden state).
    pub fn top_hidden<'x>(&self, x: &'x [f64]) -> &'x [f64] {
        let start = self.ofc_len();
        &x[start..start + self.hidden_sizes()[1]]
    }

    /// Evaluates both heads on a full state: `(linear1(h_ofc), linear2(h_str))`. On a state
    /// returned by [`step`](RecurrentMap::step) these are the outputs of that step.
    pub fn heads(&self, x: &[f64]) -> (DVector<f64>, DVector<f64>) {
        check_len("state x", x.len(), self.state_dim());
        let h_ofc = &x[..self.hidden_sizes()[0]];
        (
            self.ofc_head.apply(h_ofc),
            self.str_head.apply(self.top_hidden(x)),
        )
    }

    /// Writes the STR input `[u[..task_channels], logits]` into `out`.
    fn str_input(&self, u: &[f64], logits: &[f64], out: &mut [f64]) {
        out[..self.task_channels].copy_from_slice(&u[..self.task_channels]);
        out[self.task_channels..].copy_from_slice(&logits[..BLOCK_LOGITS]);
    }

    /// Steps the OFC into `ofc_next` and writes the resulting STR input into `str_in`.
    fn forward_ofc(&self, x: &[f64], u: &[f64], ofc_next: &mut [f64], str_in: &mut [f64]) {
        self.ofc.step(self.ofc_state(x), u, ofc_next);
        let h_ofc = &ofc_next[..self.hidden_sizes()[0]];
        let mut logits = [0.0; BLOCK_LOGITS];
        for (r, l) in logits.iter_mut().enumerate() {
            let row = self.ofc_head.weight.row(r);
            *l = self.ofc_head.bias[r] + row.iter().zip(h_ofc).map(|(w, h)| w * h).sum::<f64>();
        }
        self.str_input(u, &logits, str_in);
    }
}

impl RecurrentMap for TwoRegion {
    fn state_dim(&self) -> usize {
        self.ofc.state_dim() + self.striatum.state_dim()
    }

    fn input_dim(&self) -> usize {
        self.ofc.input_dim()
    }

    fn step(&self, x: &[f64], u: &[f64], out: &mut [f64]) {
        check_len("state x", x.len(), self.state_dim());
        check_len("output", out.len(), self.state_dim());
        let (ofc_next, str_next) = out.split_at_mut(self.ofc_len());
        with_scratch(self.striatum.input_dim(), |str_in| {
            self.forward_ofc(x, u, ofc_next, str_in);
            self.striatum.step(self.str_state(x), str_in, str_next);
        });
    }

    /// `[[J_ofc, 0], [∂x_str'/∂s · ∂s/∂h_ofc' · ∂h_ofc'/∂x_ofc, J_str]]`, where
    /// `∂s/∂h_ofc'` is the block-logit rows of `linear1`'s weight.
    fn jacobian(&self, x: &[f64], u: &[f64]) -> DMatrix<f64> {
        check_len("state x", x.len(), self.state_dim());
        let n = self.state_dim();
        let n_ofc = self.ofc_len();
        let n_str = n - n_ofc;
        let h_ofc = self.hidden_sizes()[0];

        let mut ofc_next = vec![0.0; n_ofc];
        let mut str_in = vec![0.0; self.striatum.input_dim()];
        self.forward_ofc(x, u, &mut ofc_next, &mut str_in);

        let j_ofc = self.ofc.state_jacobian(self.ofc_state(x), u);
        let (j_str, j_str_input) = self.striatum.jacobians(self.str_state(x), &str_in);

        let logit_rows = self.ofc_head.weight.rows(0, BLOCK_LOGITS);
        let ds_dofc = logit_rows * j_ofc.rows(0, h_ofc);
        let cross = j_str_input.columns(self.task_channels, BLOCK_LOGITS) * ds_dofc;

        let mut jac = DMatrix::zeros(n, n);
        jac.view_mut((0, 0), (n_ofc, n_ofc)).copy_from(&j_ofc);
        jac.view_mut((n_ofc, 0), (n_str, n_ofc)).copy_from(&cross);
        jac.view_mut((n_ofc, n_ofc), (n_str, n_str))
            .copy_from(&j_str);
        jac
    }

    fn vjp(&self, x: &[f64], u: &[f64], v: &[f64], out: &mut [f64]) {
        check_len("state x", x.len(), self.state_dim());
        check_len("cotangent v", v.len(), self.state_dim());
        check_len("output", out.len(), self.state_dim());
        let n_ofc = self.ofc_len();
        with_scratch(n_ofc + self.striatum.input_dim(), |buf| {
            let (ofc_next, str_in) = buf.split_at_mut(n_ofc);
            self.forward_ofc(x, u, ofc_next, str_in);
            self.pull_back(x, u, str_in, v, out);
        });
    }

    /// Steps the OFC once for both results, where `step` followed by `vjp` would step it twice.
    fn residual_vjp(&self, x: &[f64], u: &[f64], residual: &mut [f64], out: &mut [f64]) {
        check_len("state x", x.len(), self.state_dim());
        check_len("residual", residual.len(), self.state_dim());
        check_len("output", out.len(), self.state_dim());
        let n_ofc = self.ofc_len();
        with_scratch(self.striatum.input_dim(), |str_in| {
            let (ofc_next, str_next) = residual.split_at_mut(n_ofc);
            self.forward_ofc(x, u, ofc_next, str_in);
            self.striatum.step(self.str_state(x), str_in, str_next);
            for (r, xi) in residual.iter_mut().zip(x) {
                *r -= xi;
            }
            self.pull_back(x, u, str_in, residual, out);
        });
    }
}

impl TwoRegion {
    /// Writes `Jᵀ v` into `out`, given the STR input `str_in` of this step.
    fn pull_back(&self, x: &[f64], u: &[f64], str_in: &[f64], v: &[f64], out: &mut [f64]) {
        let n_ofc = self.ofc_len();
        let h_ofc = self.hidden_sizes()[0];
        let n_in = self.striatum.input_dim();

        with_scratch(n_ofc + n_in, |buf| {
            let (ofc_cotangent, str_in_cotangent) = buf.split_at_mut(n_ofc);

            let (out_ofc, out_str) = out.split_at_mut(n_ofc);
            self.striatum.vjp_full(
                self.str_state(x),
                str_in,
                &v[n_ofc..],
                out_str,
                Some(str_in_cotangent),
            );

            // Cotangent of h_ofc' = linear1's logit rowsᵀ · (cotangent of the logits in s).
            ofc_cotangent.copy_from_slice(&v[..n_ofc]);
            for r in 0..BLOCK_LOGITS {
                let g = str_in_cotangent[self.task_channels + r];
                for (c, w) in ofc_cotangent[..h_ofc]
                    .iter_mut()
                    .zip(self.ofc_head.weight.row(r).iter())
                {
                    *c += g * w;
                }
            }
            self.ofc
                .vjp_full(self.ofc_state(x), u, ofc_cotangent, out_ofc, None);
        });
    }
}

/// The STR alone, with the OFC's block logits held at fixed values inside its input. Its state
/// is `[h_str; c_str]` and its input is the full task input (only the leading task channels
/// are read).
#[derive(Debug, Clone, Copy)]
pub struct StrOnlyMap<'a> {
    net: &'a TwoRegion,
    logits: [f64; BLOCK_LOGITS],
}

impl<'a> StrOnlyMap<'a> {
    /// Holds the block logits at `logits` (for example the OFC outputs of a simulation step).
    pub fn with_logits(net: &'a TwoRegion, logits: [f64; BLOCK_LOGITS]) -> Self {
        StrOnlyMap { net, logits }
    }

    /// Holds the block logits at `linear1(h_ofc)`, the OFC head's reading of a held OFC state.
    pub fn with_ofc_hidden(net: &'a TwoRegion, h_ofc: &[f64]) -> Result<Self> {
        let expected = net.hidden_sizes()[0];
        if h_ofc.len() != expected {
            return Err(Error::invalid(
                "OFC hidden state",
                format!(
                    "has length {} but the OFC hidden size is {expected}",
                    h_ofc.len()
                ),
            ));
        }
        let q = net.ofc_head.apply(h_ofc);
        Ok(StrOnlyMap {
            net,
            logits: [q[0], q[1], q[2]],
        })
    }

    /// Returns the held block logits.
    pub fn logits(&self) -> [f64; BLOCK_LOGITS] {
        self.logits
    }

    /// Runs `f` with the STR input `[u[..task_channels], logits]`.
    fn with_str_input<R>(&self, u: &[f64], f: impl FnOnce(&[f64]) -> R) -> R {
        check_len("input u", u.len(), self.net.input_dim());
        with_scratch(self.net.striatum.input_dim(), |s| {
            self.net.str_input(u, &self.logits, s);
            f(s)
        })
    }
}

impl RecurrentMap for StrOnlyMap<'_> {
    fn state_dim(&self) -> usize {
        self.net.striatum.state_dim()
    }

    fn input_dim(&self) -> usize {
        self.net.input_dim()
    }

    fn step(&self, x: &[f64], u: &[f64], out: &mut [f64]) {
        self.with_str_input(u, |s| self.net.striatum.step(x, s, out))
    }

    fn jacobian(&self, x: &[f64], u: &[f64]) -> DMatrix<f64> {
        self.with_str_input(u, |s| self.net.striatum.jacobian(x, s))
    }

    fn vjp(&self, x: &[f64], u: &[f64], v: &[f64], out: &mut [f64]) {
        self.with_str_input(u, |s| self.net.striatum.vjp(x, s, v, out))
    }

    fn residual_vjp(&self, x: &[f64], u: &[f64], residual: &mut [f64], out: &mut [f64]) {
        self.with_str_input(u, |s| self.net.striatum.residual_vjp(x, s, residual, out))
    }
}

/// The OFC alone, with state `[h_ofc; c_ofc]`. The OFC never reads the STR, so this is the
/// OFC LSTM's own map.
#[derive(Debug, Clone, Copy)]
pub struct OfcOnlyMap<'a> {
    net: &'a TwoRegion,
}

impl<'a> OfcOnlyMap<'a> {
    /// Wraps the OFC of `net`.
    pub fn new(net: &'a TwoRegion) -> Self {
        OfcOnlyMap { net }
    }
}

impl RecurrentMap for OfcOnlyMap<'_> {
    fn state_dim(&self) -> usize {
        self.net.ofc.state_dim()
    }

    fn input_dim(&self) -> usize {
        self.net.ofc.input_dim()
    }

    fn step(&self, x: &[f64], u: &[f64], out: &mut [f64]) {
        self.net.ofc.step(x, u, out)
    }

    fn jacobian(&self, x: &[f64], u: &[f64]) -> DMatrix<f64> {
        self.net.ofc.jacobian(x, u)
    }

    fn vjp(&self, x: &[f64], u: &[f64], v: &[f64], out: &mut [f64]) {
        self.net.ofc.vjp(x, u, v, out)
    }

    fn residual_vjp(&self, x: &[f64], u: &[f64], residual: &mut [f64], out: &mut [f64]) {
        self.net.ofc.residual_vjp(x, u, residual, out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{CellKind, CellParams};

    fn lstm(input: usize, hidden: usize) -> LstmCell {
        let mut rng = crate::rng::stream(2, "two-region tests");
        LstmCell::new(CellParams::random(
            CellKind::Lstm,
            input,
            hidden,
            0.5,
            &mut rng,
        ))
        .unwrap()
    }

    fn linear(out: usize, input: usize) -> Linear {
        Linear::new(DMatrix::from_element(out, input, 0.1), DVector::zeros(out)).unwrap()
    }

    #[test]
    fn two_region_sizes() {
        let net = TwoRegion::new(lstm(4, 3), linear(4, 3), lstm(5, 2), linear(6, 2)).unwrap();
        assert_eq!(net.state_dim(), 6 + 4);
        assert_eq!(net.input_dim(), 4);
        assert_eq!(net.task_channels(), 2);
        assert_eq!(net.hidden_sizes(), [3, 2]);
    }

    #[test]
    fn two_region_rejects_head_mismatch() {
        let err = TwoRegion::new(lstm(4, 3), linear(4, 5), lstm(5, 2), linear(6, 2))
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("reads 5 inputs but the OFC hidden size is 3"),
            "{err}"
        );

        let err = TwoRegion::new(lstm(4, 3), linear(2, 3), lstm(5, 2), linear(6, 2))
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("has 2 outputs but at least 3 block logits are needed"),
            "{err}"
        );

        let err = TwoRegion::new(lstm(4, 3), linear(4, 3), lstm(5, 2), linear(6, 3))
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("reads 3 inputs but the STR hidden size is 2"),
            "{err}"
        );
    }

    #[test]
    fn two_region_rejects_str_input_size() {
        let err = TwoRegion::new(lstm(4, 3), linear(4, 3), lstm(8, 2), linear(6, 2))
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("takes 8 inputs but expected 3 block logits plus at most 4 task channels"),
            "{err}"
        );
    }
}
