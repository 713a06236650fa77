//! A region map restricted to its top principal subspace, so that the fixed-point search can
//! minimise the speed within the plane of the trajectories.
//!
//! With mean μ and D orthonormal components W (rows), a point z ∈ R^D stands for the state
//! x(z) = μ + Wᵀz, and the subspace map is
//!
//! ```text
//! G(z) = z + W (Φ(x(z)) − x(z))
//! ```
//!
//! so that G(z) − z = W(Φ(x) − x) and the fixed-point cost of G is the constrained speed
//! q(z) = ½‖W(Φ(x(z)) − x(z))‖². Its Jacobian is I + W(J_Φ − I)Wᵀ = W J_Φ Wᵀ (because
//! WWᵀ = I), the projected Jacobian whose eigenvalues type the slow points, and its
//! vector–Jacobian product is v + W(J_Φᵀ − I)Wᵀv, one `vjp` of Φ.

use nalgebra::DMatrix;
use ndarray::{Array1, Array2};

use crate::error::{Error, Result};
use crate::model::RecurrentMap;

/// The map Φ of one region seen in the coordinates of its top D principal components.
pub struct SubspaceMap<'a> {
    map: &'a dyn RecurrentMap,
    mean: Array1<f64>,
    /// Components as rows [D × state_dim].
    basis: Array2<f64>,
}

impl<'a> SubspaceMap<'a> {
    /// Restricts `map` to the affine subspace `mean + span(basis rows)`. Errors when the
    /// lengths disagree with the map's state dimension, when there is no component, or when
    /// the rows are not orthonormal within 1e-8.
    pub fn new(map: &'a dyn RecurrentMap, mean: Array1<f64>, basis: Array2<f64>) -> Result<Self> {
        let dim = map.state_dim();
        if mean.len() != dim || basis.ncols() != dim {
            return Err(Error::invalid(
                "principal subspace",
                format!("mean of length {} and components of width {}, expected {dim} (the state dimension)", mean.len(), basis.ncols()),
            ));
        }
        if basis.nrows() == 0 {
            return Err(Error::invalid("principal subspace", "0 components, expected at least 1"));
        }
        let gram = basis.dot(&basis.t());
        for ((row, column), value) in gram.indexed_iter() {
            let expected = if row == column { 1.0 } else { 0.0 };
            if (value - expected).abs() > 1e-8 {
                return Err(Error::invalid(
                    "principal subspace",
                    format!("components {row} and {column} have inner product {value}, expected {expected} (orthonormal rows)"),
                ));
            }
        }
        Ok(SubspaceMap { map, mean, basis })
    }

    /// Number of subspace coordinates D.
    pub fn n_components(&self) -> usize {
        self.basis.nrows()
    }

    /// Returns the state x(z) = μ + Wᵀz.
    pub fn lift(&self, z: &[f64]) -> Vec<f64> {
        let mut x = self.mean.to_vec();
        for (k, &zk) in z.iter().enumerate() {
            for (xi, w) in x.iter_mut().zip(self.basis.row(k)) {
                *xi += zk * w;
            }
        }
        x
    }

    /// Returns W v, the subspace coordinates of a state-space vector v.
    pub fn project_vector(&self, v: &[f64]) -> Vec<f64> {
        self.basis.rows().into_iter().map(|row| row.iter().zip(v).map(|(w, x)| w * x).sum()).collect()
    }

    /// Returns the constrained speed q(z) = ½‖W(Φ(x(z)) − x(z))‖² and its gradient
    /// W(J_Φ − I)ᵀWᵀ r with r = W(Φ(x) − x).
    pub fn q_and_gradient(&self, z: &[f64], u: &[f64]) -> (f64, Vec<f64>) {
        let mut next = vec![0.0; z.len()];
        self.step(z, u, &mut next);
        let residual: Vec<f64> = next.iter().zip(z).map(|(a, b)| a - b).collect();
        let q = 0.5 * residual.iter().map(|r| r * r).sum::<f64>();

        // (J_G − I)ᵀ r = J_Gᵀ r − r.
        let mut gradient = vec![0.0; z.len()];
        self.vjp(z, u, &residual, &mut gradient);
        for (g, r) in gradient.iter_mut().zip(&residual) {
            *g -= r;
        }
        (q, gradient)
    }
}

impl RecurrentMap for SubspaceMap<'_> {
    fn state_dim(&self) -> usize {
        self.basis.nrows()
    }

    fn input_dim(&self) -> usize {
        self.map.input_dim()
    }

    fn step(&self, z: &[f64], u: &[f64], out: &mut [f64]) {
        let x = self.lift(z);
        let mut next = vec![0.0; x.len()];
        self.map.step(&x, u, &mut next);
        for (n, xi) in next.iter_mut().zip(&x) {
            *n -= xi;
        }
        let displacement = self.project_vector(&next);
        for ((o, zk), d) in out.iter_mut().zip(z).zip(displacement) {
            *o = zk + d;
        }
    }

    fn jacobian(&self, z: &[f64], u: &[f64]) -> DMatrix<f64> {
        let x = self.lift(z);
        let full = self.map.jacobian(&x, u);
        let d = self.basis.nrows();
        let n = self.basis.ncols();
        let w = DMatrix::from_fn(d, n, |row, column| self.basis[(row, column)]);
        &w * full * w.transpose()
    }

    fn vjp(&self, z: &[f64], u: &[f64], v: &[f64], out: &mut [f64]) {
        let x = self.lift(z);
        let lifted_v = {
            let mut lifted = vec![0.0; x.len()];
            for (k, &vk) in v.iter().enumerate() {
                for (l, w) in lifted.iter_mut().zip(self.basis.row(k)) {
                    *l += vk * w;
                }
            }
            lifted
        };
        let mut pulled = vec![0.0; x.len()];
        self.map.vjp(&x, u, &lifted_v, &mut pulled);

        // v + W(J_Φᵀ Wᵀv − Wᵀv) = W J_Φᵀ Wᵀ v, because W Wᵀ = I.
        let projected = self.project_vector(&pulled);
        out.copy_from_slice(&projected);
    }
}
