//! Trainable parameters in PyTorch's layouts, their initialisation and their tensor names.
//!
//! A recurrent cell stores `weight_ih` (G·H × I), `weight_hh` (G·H × H), `bias_ih` and `bias_hh`
//! (G·H each), row-major, with the gate blocks stacked along the rows as PyTorch does: G = 4
//! for the LSTM (i, f, g, o), 3 for the GRU (r, z, n) and 1 for the tanh RNN. A linear head
//! stores `weight` (O × I) and `bias` (O).

use rand::Rng;
use rand_chacha::ChaCha8Rng;

use super::real::Real;
use crate::error::{Error, Result};
use crate::io::TensorFile;

/// The recurrent cell types, with PyTorch's gate order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CellKind {
    /// LSTM, gate rows (i, f, g, o).
    Lstm,
    /// GRU, gate rows (r, z, n), with `b_hn` inside the reset product.
    Gru,
    /// Elman RNN with tanh, `h' = tanh(W_ih x + b_ih + W_hh h + b_hh)`.
    RnnTanh,
}

impl CellKind {
    /// Number of stacked gate blocks G.
    pub fn gates(self) -> usize {
        match self {
            CellKind::Lstm => 4,
            CellKind::Gru => 3,
            CellKind::RnnTanh => 1,
        }
    }
}

/// Parameters of one recurrent cell (one PyTorch layer, `_l0`).
#[derive(Debug, Clone, PartialEq)]
pub struct CellParams<T> {
    pub kind: CellKind,
    pub input: usize,
    pub hidden: usize,
    pub w_ih: Vec<T>,
    pub w_hh: Vec<T>,
    pub b_ih: Vec<T>,
    pub b_hh: Vec<T>,
}

impl<T: Real> CellParams<T> {
    /// All-zero parameters (a gradient accumulator).
    pub fn zeros(kind: CellKind, input: usize, hidden: usize) -> Self {
        let rows = kind.gates() * hidden;
        CellParams {
            kind,
            input,
            hidden,
            w_ih: vec![T::ZERO; rows * input],
            w_hh: vec![T::ZERO; rows * hidden],
            b_ih: vec![T::ZERO; rows],
            b_hh: vec![T::ZERO; rows],
        }
    }

    /// PyTorch's default initialisation: every weight and bias ~ U(−1/√H, 1/√H), drawn in the
    /// order `weight_ih`, `weight_hh`, `bias_ih`, `bias_hh`.
    pub fn init(kind: CellKind, input: usize, hidden: usize, rng: &mut ChaCha8Rng) -> Self {
        let mut params = Self::zeros(kind, input, hidden);
        let bound = 1.0 / (hidden as f64).sqrt();
        for tensor in params.tensors_mut() {
            fill_uniform(tensor, bound, rng);
        }
        params
    }

    /// Returns the four tensors in PyTorch's order.
    pub fn tensors(&self) -> [&[T]; 4] {
        [&self.w_ih, &self.w_hh, &self.b_ih, &self.b_hh]
    }

    /// Returns the four tensors in PyTorch's order, mutable.
    pub fn tensors_mut(&mut self) -> [&mut [T]; 4] {
        [&mut self.w_ih, &mut self.w_hh, &mut self.b_ih, &mut self.b_hh]
    }

    /// Named f32 tensors `{prefix}weight_ih_l0`, … with their shapes.
    pub fn to_tensors(&self, prefix: &str) -> Vec<(String, Vec<usize>, Vec<f32>)> {
        let rows = self.kind.gates() * self.hidden;
        vec![
            (format!("{prefix}weight_ih_l0"), vec![rows, self.input], to_f32(&self.w_ih)),
            (format!("{prefix}weight_hh_l0"), vec![rows, self.hidden], to_f32(&self.w_hh)),
            (format!("{prefix}bias_ih_l0"), vec![rows], to_f32(&self.b_ih)),
            (format!("{prefix}bias_hh_l0"), vec![rows], to_f32(&self.b_hh)),
        ]
    }

    /// Reads a cell from `{prefix}weight_ih_l0` etc., taking H and I from the shape of
    /// `weight_hh_l0` and `weight_ih_l0`.
    pub fn from_tensors(kind: CellKind, file: &TensorFile, prefix: &str) -> Result<Self> {
        let gates = kind.gates();
        let hh_name = format!("{prefix}weight_hh_l0");
        let hh = file.get(&hh_name)?;
        let hidden = match hh.shape.as_slice() {
            [rows, cols] if *rows == gates * *cols && *cols > 0 => *cols,
            shape => {
                return Err(Error::tensor(
                    hh_name,
                    format!("has shape {shape:?}, expected [{gates}·H, H] for a {kind:?} cell"),
                ))
            }
        };
        let ih_name = format!("{prefix}weight_ih_l0");
        let ih = file.get(&ih_name)?;
        let input = match ih.shape.as_slice() {
            [rows, cols] if *rows == gates * hidden => *cols,
            shape => {
                return Err(Error::tensor(ih_name, format!("has shape {shape:?}, expected [{}, I]", gates * hidden)))
            }
        };

        let mut params = Self::zeros(kind, input, hidden);
        params.w_ih = read_exact(file, &ih_name, &[gates * hidden, input])?;
        params.w_hh = read_exact(file, &hh_name, &[gates * hidden, hidden])?;
        params.b_ih = read_exact(file, &format!("{prefix}bias_ih_l0"), &[gates * hidden])?;
        params.b_hh = read_exact(file, &format!("{prefix}bias_hh_l0"), &[gates * hidden])?;
        Ok(params)
    }
}

/// Parameters of a linear head `y = W h + b`.
#[derive(Debug, Clone, PartialEq)]
pub struct LinearParams<T> {
    pub input: usize,
    pub output: usize,
    pub weight: Vec<T>,
    pub bias: Vec<T>,
}

impl<T: Real> LinearParams<T> {
    /// All-zero parameters (a gradient accumulator).
    pub fn zeros(input: usize, output: usize) -> Self {
        LinearParams { input, output, weight: vec![T::ZERO; output * input], bias: vec![T::ZERO; output] }
    }

    /// PyTorch's default for `nn.Linear` biases and, in distribution range, weights:
    /// U(−1/√fan_in, 1/√fan_in), weight first.
    pub fn init(input: usize, output: usize, rng: &mut ChaCha8Rng) -> Self {
        let mut params = Self::zeros(input, output);
        let bound = 1.0 / (input as f64).sqrt();
        fill_uniform(&mut params.weight, bound, rng);
        fill_uniform(&mut params.bias, bound, rng);
        params
    }

    /// Named f32 tensors `{prefix}weight` and `{prefix}bias`.
    pub fn to_tensors(&self, prefix: &str) -> Vec<(String, Vec<usize>, Vec<f32>)> {
        vec![
            (format!("{prefix}weight"), vec![self.output, self.input], to_f32(&self.weight)),
            (format!("{prefix}bias"), vec![self.output], to_f32(&self.bias)),
        ]
    }

    /// Reads `{prefix}weight` (output × input) and `{prefix}bias` with the expected sizes.
    pub fn from_tensors(file: &TensorFile, prefix: &str, input: usize, output: usize) -> Result<Self> {
        Ok(LinearParams {
            input,
            output,
            weight: read_exact(file, &format!("{prefix}weight"), &[output, input])?,
            bias: read_exact(file, &format!("{prefix}bias"), &[output])?,
        })
    }
}

/// Number of OFC head outputs: three block logits and the integration output.
pub const OFC_OUTPUTS: usize = 4;
/// Number of STR head outputs: three policy logits, value, memory and count.
pub const STR_OUTPUTS: usize = 6;
/// Number of task input channels: log offer, trial-start flag, previous reward, previous action.
pub const TASK_INPUTS: usize = 4;
/// STR input size: task channels 0–1 followed by the OFC's three block logits.
pub const STR_INPUTS: usize = 5;

/// The two-region network: OFC LSTM (`rnn1`, 4 inputs) → `linear1` (4 outputs `q`) and STR
/// LSTM (`rnn2`, inputs `[x₀, x₁, q₀, q₁, q₂]`) → `linear2` (6 outputs `p`).
#[derive(Debug, Clone, PartialEq)]
pub struct TwoRegionParams<T> {
    pub rnn1: CellParams<T>,
    pub linear1: LinearParams<T>,
    pub rnn2: CellParams<T>,
    pub linear2: LinearParams<T>,
}

impl<T: Real> TwoRegionParams<T> {
    /// All-zero parameters with OFC size `h1` and STR size `h2` (a gradient accumulator).
    pub fn zeros(h1: usize, h2: usize) -> Self {
        TwoRegionParams {
            rnn1: CellParams::zeros(CellKind::Lstm, TASK_INPUTS, h1),
            linear1: LinearParams::zeros(h1, OFC_OUTPUTS),
            rnn2: CellParams::zeros(CellKind::Lstm, STR_INPUTS, h2),
            linear2: LinearParams::zeros(h2, STR_OUTPUTS),
        }
    }

    /// PyTorch-style initialisation from the named stream `"init"` of `seed`, drawn in the
    /// construction order of the original study's model (Hocker, Constantinople & Savin 2025):
    /// rnn1, rnn2, linear1, linear2.
    pub fn init(h1: usize, h2: usize, seed: u64) -> Self {
        let mut rng = crate::rng::stream(seed, "init");
        let rnn1 = CellParams::init(CellKind::Lstm, TASK_INPUTS, h1, &mut rng);
        let rnn2 = CellParams::init(CellKind::Lstm, STR_INPUTS, h2, &mut rng);
        let linear1 = LinearParams::init(h1, OFC_OUTPUTS, &mut rng);
        let linear2 = LinearParams::init(h2, STR_OUTPUTS, &mut rng);
        TwoRegionParams { rnn1, linear1, rnn2, linear2 }
    }

    /// OFC hidden size H1.
    pub fn ofc_hidden(&self) -> usize {
        self.rnn1.hidden
    }

    /// STR hidden size H2.
    pub fn str_hidden(&self) -> usize {
        self.rnn2.hidden
    }

    /// Returns every tensor, in the order of [`to_tensors`](Self::to_tensors).
    pub fn tensors(&self) -> Vec<&[T]> {
        let mut all: Vec<&[T]> = self.rnn1.tensors().to_vec();
        all.extend([self.linear1.weight.as_slice(), self.linear1.bias.as_slice()]);
        all.extend(self.rnn2.tensors());
        all.extend([self.linear2.weight.as_slice(), self.linear2.bias.as_slice()]);
        all
    }

    /// Returns every tensor, mutable, in the order of [`to_tensors`](Self::to_tensors).
    pub fn tensors_mut(&mut self) -> Vec<&mut [T]> {
        let mut all: Vec<&mut [T]> = self.rnn1.tensors_mut().into_iter().collect();
        all.push(&mut self.linear1.weight);
        all.push(&mut self.linear1.bias);
        all.extend(self.rnn2.tensors_mut());
        all.push(&mut self.linear2.weight);
        all.push(&mut self.linear2.bias);
        all
    }

    /// Total number of scalar parameters (540 170 at 256 + 256 units).
    pub fn len(&self) -> usize {
        self.tensors().iter().map(|t| t.len()).sum()
    }

    /// True when the network has no parameters (never, for a valid network).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Sets every parameter to zero (clears a gradient accumulator).
    pub fn fill_zero(&mut self) {
        for tensor in self.tensors_mut() {
            tensor.fill(T::ZERO);
        }
    }

    /// Named f32 tensors with the original study's state_dict names (`rnn1.weight_ih_l0`, …,
    /// `linear2.bias`).
    pub fn to_tensors(&self) -> Vec<(String, Vec<usize>, Vec<f32>)> {
        let mut all = self.rnn1.to_tensors("rnn1.");
        all.extend(self.linear1.to_tensors("linear1."));
        all.extend(self.rnn2.to_tensors("rnn2."));
        all.extend(self.linear2.to_tensors("linear2."));
        all
    }

    /// Reads the network from tensors named as in [`to_tensors`](Self::to_tensors), taking the
    /// sizes from the shapes and checking that the regions fit together.
    pub fn from_tensors(file: &TensorFile) -> Result<Self> {
        let rnn1 = CellParams::from_tensors(CellKind::Lstm, file, "rnn1.")?;
        if rnn1.input != TASK_INPUTS {
            return Err(Error::tensor("rnn1.weight_ih_l0", format!("has {} input columns, expected {TASK_INPUTS}", rnn1.input)));
        }
        let rnn2 = CellParams::from_tensors(CellKind::Lstm, file, "rnn2.")?;
        if rnn2.input != STR_INPUTS {
            return Err(Error::tensor("rnn2.weight_ih_l0", format!("has {} input columns, expected {STR_INPUTS}", rnn2.input)));
        }
        let linear1 = LinearParams::from_tensors(file, "linear1.", rnn1.hidden, OFC_OUTPUTS)?;
        let linear2 = LinearParams::from_tensors(file, "linear2.", rnn2.hidden, STR_OUTPUTS)?;
        Ok(TwoRegionParams { rnn1, linear1, rnn2, linear2 })
    }

    /// Writes the network to a safetensors file (f32, atomic) with the given metadata.
    pub fn save(&self, path: &std::path::Path, metadata: &std::collections::BTreeMap<String, String>) -> Result<()> {
        crate::io::write_tensor_file(path, &self.to_tensors(), metadata)
    }

    /// Reads a network written by [`save`](Self::save) or converted from a PyTorch state_dict.
    pub fn load(path: &std::path::Path) -> Result<Self> {
        Self::from_tensors(&crate::io::read_tensor_file(path)?)
    }
}

fn fill_uniform<T: Real>(values: &mut [T], bound: f64, rng: &mut ChaCha8Rng) {
    for v in values {
        *v = T::from_f64(rng.gen_range(-bound..bound));
    }
}

fn to_f32<T: Real>(values: &[T]) -> Vec<f32> {
    values.iter().map(|v| v.to_f64() as f32).collect()
}

fn read_exact<T: Real>(file: &TensorFile, name: &str, shape: &[usize]) -> Result<Vec<T>> {
    let tensor = file.get(name)?;
    if tensor.shape != shape {
        return Err(Error::tensor(name, format!("has shape {:?}, expected {:?}", tensor.shape, shape)));
    }
    Ok(tensor.data.iter().map(|&v| T::from_f64(v)).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn two_region_paper_size_has_540170_parameters() {
        let params = TwoRegionParams::<f32>::zeros(256, 256);
        assert_eq!(params.len(), 540_170);
    }

    #[test]
    fn init_is_seeded_and_bounded() {
        let a = TwoRegionParams::<f32>::init(8, 6, 3);
        let b = TwoRegionParams::<f32>::init(8, 6, 3);
        let c = TwoRegionParams::<f32>::init(8, 6, 4);
        assert_eq!(a, b);
        assert_ne!(a, c);
        let lstm_bound = 1.0 / (8f32).sqrt();
        assert!(a.rnn1.w_hh.iter().all(|v| v.abs() <= lstm_bound));
        let linear_bound = 1.0 / (6f32).sqrt();
        assert!(a.linear2.weight.iter().all(|v| v.abs() <= linear_bound));
    }

    #[test]
    fn tensor_round_trip_through_file() {
        let params = TwoRegionParams::<f32>::init(5, 7, 1);
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("net.safetensors");
        params.save(&path, &Default::default()).unwrap();
        let loaded = TwoRegionParams::<f32>::load(&path).unwrap();
        assert_eq!(loaded, params);

        let names: Vec<String> = params.to_tensors().into_iter().map(|(n, _, _)| n).collect();
        assert_eq!(names[0], "rnn1.weight_ih_l0");
        assert_eq!(names[5], "linear1.bias");
        assert_eq!(names[11], "linear2.bias");
    }

    #[test]
    fn from_tensors_rejects_wrong_str_input() {
        let params = TwoRegionParams::<f32>::init(5, 7, 1);
        let mut tensors = params.to_tensors();
        tensors[6] = ("rnn2.weight_ih_l0".into(), vec![28, 4], vec![0.0; 28 * 4]);
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("bad.safetensors");
        crate::io::write_tensor_file(&path, &tensors, &Default::default()).unwrap();
        let err = TwoRegionParams::<f32>::load(&path).unwrap_err().to_string();
        assert!(err.contains("rnn2.weight_ih_l0"), "{err}");
        assert!(err.contains("expected 5"), "{err}");
    }
}
