//! Small recurrent maps for the fixed-point tests and benchmark: a linear map, a tanh RNN
//! and a PyTorch-convention GRU, with analytic Jacobians and vector–Jacobian products.
//! They stand in for the model module so that these tests depend only on `RecurrentMap`.

#![allow(dead_code)]

use std::path::Path;

use nalgebra::{DMatrix, DVector};
use rnn_dynamics::io::read_tensor_file;
use rnn_dynamics::model::RecurrentMap;

/// `x' = A x + B u + c`.
pub struct LinearMap {
    pub a: DMatrix<f64>,
    pub b: DMatrix<f64>,
    pub c: DVector<f64>,
}

impl RecurrentMap for LinearMap {
    fn state_dim(&self) -> usize {
        self.a.nrows()
    }

    fn input_dim(&self) -> usize {
        self.b.ncols()
    }

    fn step(&self, x: &[f64], u: &[f64], out: &mut [f64]) {
        let y = &self.a * DVector::from_column_slice(x) + &self.b * DVector::from_column_slice(u) + &self.c;
        out.copy_from_slice(y.as_slice());
    }

    fn jacobian(&self, _x: &[f64], _u: &[f64]) -> DMatrix<f64> {
        self.a.clone()
    }

    fn vjp(&self, _x: &[f64], _u: &[f64], v: &[f64], out: &mut [f64]) {
        let y = self.a.tr_mul(&DVector::from_column_slice(v));
        out.copy_from_slice(y.as_slice());
    }
}

/// PyTorch `nn.RNN(nonlinearity='tanh')`: `h' = tanh(W_ih u + b_ih + W_hh h + b_hh)`.
pub struct TanhRnn {
    pub w_ih: DMatrix<f64>,
    pub w_hh: DMatrix<f64>,
    pub bias: DVector<f64>,
}

impl TanhRnn {
    fn activation(&self, x: &[f64], u: &[f64]) -> DVector<f64> {
        let mut a = self.bias.clone();
        a.gemv(1.0, &self.w_hh, &DVector::from_column_slice(x), 1.0);
        a.gemv(1.0, &self.w_ih, &DVector::from_column_slice(u), 1.0);
        a.map(f64::tanh)
    }
}

impl RecurrentMap for TanhRnn {
    fn state_dim(&self) -> usize {
        self.w_hh.nrows()
    }

    fn input_dim(&self) -> usize {
        self.w_ih.ncols()
    }

    fn step(&self, x: &[f64], u: &[f64], out: &mut [f64]) {
        out.copy_from_slice(self.activation(x, u).as_slice());
    }

    fn jacobian(&self, x: &[f64], u: &[f64]) -> DMatrix<f64> {
        let h = self.activation(x, u);
        let mut j = self.w_hh.clone();
        for (i, hi) in h.iter().enumerate() {
            j.row_mut(i).scale_mut(1.0 - hi * hi);
        }
        j
    }

    fn vjp(&self, x: &[f64], u: &[f64], v: &[f64], out: &mut [f64]) {
        let h = self.activation(x, u);
        let g = DVector::from_iterator(h.len(), h.iter().zip(v).map(|(hi, vi)| (1.0 - hi * hi) * vi));
        let y = self.w_hh.tr_mul(&g);
        out.copy_from_slice(y.as_slice());
    }
}

/// PyTorch `nn.GRU` cell with gate rows (r, z, n) and
/// `n = tanh(W_in u + b_in + r ⊙ (W_hn h + b_hn))`, `h' = (1 − z) ⊙ n + z ⊙ h`.
pub struct Gru {
    /// `[W_ir; W_iz; W_in]`, 3H × I.
    pub w_ih: DMatrix<f64>,
    /// `[W_hr; W_hz; W_hn]`, 3H × H.
    pub w_hh: DMatrix<f64>,
    pub b_ih: DVector<f64>,
    pub b_hh: DVector<f64>,
}

/// Gate values of one GRU step.
struct GruGates {
    r: Vec<f64>,
    z: Vec<f64>,
    n: Vec<f64>,
    /// `W_hn h + b_hn`.
    a: Vec<f64>,
}

fn sigmoid(v: f64) -> f64 {
    1.0 / (1.0 + (-v).exp())
}

impl Gru {
    fn hidden(&self) -> usize {
        self.w_hh.ncols()
    }

    fn gates(&self, x: &[f64], u: &[f64]) -> GruGates {
        let h = self.hidden();
        let mut gi = self.b_ih.clone();
        gi.gemv(1.0, &self.w_ih, &DVector::from_column_slice(u), 1.0);
        let mut gh = self.b_hh.clone();
        gh.gemv(1.0, &self.w_hh, &DVector::from_column_slice(x), 1.0);

        let r: Vec<f64> = (0..h).map(|k| sigmoid(gi[k] + gh[k])).collect();
        let z: Vec<f64> = (0..h).map(|k| sigmoid(gi[h + k] + gh[h + k])).collect();
        let a: Vec<f64> = (0..h).map(|k| gh[2 * h + k]).collect();
        let n: Vec<f64> = (0..h).map(|k| (gi[2 * h + k] + r[k] * a[k]).tanh()).collect();
        GruGates { r, z, n, a }
    }
}

impl RecurrentMap for Gru {
    fn state_dim(&self) -> usize {
        self.hidden()
    }

    fn input_dim(&self) -> usize {
        self.w_ih.ncols()
    }

    fn step(&self, x: &[f64], u: &[f64], out: &mut [f64]) {
        let g = self.gates(x, u);
        for k in 0..self.hidden() {
            out[k] = (1.0 - g.z[k]) * g.n[k] + g.z[k] * x[k];
        }
    }

    fn jacobian(&self, x: &[f64], u: &[f64]) -> DMatrix<f64> {
        let h = self.hidden();
        let g = self.gates(x, u);
        let w_r = self.w_hh.rows(0, h);
        let w_z = self.w_hh.rows(h, h);
        let w_n = self.w_hh.rows(2 * h, h);

        let mut j = DMatrix::zeros(h, h);
        for k in 0..h {
            let dn = 1.0 - g.n[k] * g.n[k];
            let dr = g.r[k] * (1.0 - g.r[k]);
            let dz = g.z[k] * (1.0 - g.z[k]);
            let n_coef = (1.0 - g.z[k]) * dn;
            for m in 0..h {
                let dn_dh = n_coef * (g.r[k] * w_n[(k, m)] + g.a[k] * dr * w_r[(k, m)]);
                j[(k, m)] = dn_dh + (x[k] - g.n[k]) * dz * w_z[(k, m)];
            }
            j[(k, k)] += g.z[k];
        }
        j
    }

    fn vjp(&self, x: &[f64], u: &[f64], v: &[f64], out: &mut [f64]) {
        let h = self.hidden();
        let g = self.gates(x, u);

        // Gradients with respect to the three pre-activation blocks W_h· h + b_h·.
        let mut pre = DVector::zeros(3 * h);
        for k in 0..h {
            let g_pre_n = (1.0 - g.z[k]) * v[k] * (1.0 - g.n[k] * g.n[k]);
            pre[k] = g_pre_n * g.a[k] * g.r[k] * (1.0 - g.r[k]);
            pre[h + k] = (x[k] - g.n[k]) * v[k] * g.z[k] * (1.0 - g.z[k]);
            pre[2 * h + k] = g_pre_n * g.r[k];
        }
        let y = self.w_hh.tr_mul(&pre);
        for k in 0..h {
            out[k] = y[k] + g.z[k] * v[k];
        }
    }
}

fn matrix(file: &rnn_dynamics::io::TensorFile, name: &str) -> DMatrix<f64> {
    let t = file.get(name).unwrap();
    assert_eq!(t.shape.len(), 2, "{name}");
    DMatrix::from_row_slice(t.shape[0], t.shape[1], &t.data)
}

fn vector(file: &rnn_dynamics::io::TensorFile, name: &str) -> DVector<f64> {
    DVector::from_column_slice(&file.get(name).unwrap().data)
}

/// Loads a single-layer PyTorch GRU whose tensors are named `{prefix}weight_ih_l0` etc.
pub fn load_gru(path: &Path, prefix: &str) -> Gru {
    let file = read_tensor_file(path).unwrap();
    Gru {
        w_ih: matrix(&file, &format!("{prefix}weight_ih_l0")),
        w_hh: matrix(&file, &format!("{prefix}weight_hh_l0")),
        b_ih: vector(&file, &format!("{prefix}bias_ih_l0")),
        b_hh: vector(&file, &format!("{prefix}bias_hh_l0")),
    }
}

/// Loads a single-layer PyTorch tanh RNN whose tensors are named `{prefix}weight_ih_l0` etc.
pub fn load_tanh_rnn(path: &Path, prefix: &str) -> TanhRnn {
    let file = read_tensor_file(path).unwrap();
    TanhRnn {
        w_ih: matrix(&file, &format!("{prefix}weight_ih_l0")),
        w_hh: matrix(&file, &format!("{prefix}weight_hh_l0")),
        bias: vector(&file, &format!("{prefix}bias_ih_l0")) + vector(&file, &format!("{prefix}bias_hh_l0")),
    }
}

/// Path of a fixture file under `fixtures/pytorch`.
pub fn fixture(name: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/pytorch").join(name)
}
