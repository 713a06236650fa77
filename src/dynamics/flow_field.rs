//! Flow fields: one step of a map on a grid over the plane of the first two principal
//! components, as a velocity in PC coordinates per second.
//!
//! A grid node (p₁, p₂) stands for the state x = μ + p₁w₁ + p₂w₂ + Σ_{k≥3} m_k w_k, where
//! the w_k are the PCA components (rows), μ the PCA mean and m_k the sample mean of the
//! k-th scores (zero when the PCA was fitted to the same samples). The velocity at the node is
//! v = (W₂F(x) − W₂x)/dt in PC units per second, with W₂ the first two components, and the
//! speed is ‖v‖.

use ndarray::{ArrayView1, ArrayView2};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::model::RecurrentMap;

/// Fraction of the sample range added on each side of a grid axis.
pub const GRID_MARGIN: f64 = 0.1;

/// Velocities of a map on a PC1–PC2 grid. Node `(xs[i], ys[j])` has index `j * xs.len() + i`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FlowField {
    /// PC1 coordinates of the grid columns (state units).
    pub xs: Vec<f64>,
    /// PC2 coordinates of the grid rows (state units).
    pub ys: Vec<f64>,
    /// Velocity on (PC1, PC2) at each node, state units per second.
    pub velocity: Vec<[f64; 2]>,
    /// ‖velocity‖ at each node, state units per second.
    pub speed: Vec<f64>,
    /// Seconds per step used for the velocities.
    pub dt: f64,
    /// Mapped state F(x) at each node, for readouts such as block beliefs.
    #[serde(skip)]
    pub next_states: Vec<Vec<f64>>,
}

/// The plane of the first two PCA components inside the state space.
#[derive(Debug, Clone, Copy)]
pub struct PcPlane<'a> {
    /// PCA mean μ.
    pub mean: ArrayView1<'a, f64>,
    /// PCA components as rows (at least two), unit length and orthogonal.
    pub components: ArrayView2<'a, f64>,
    /// Fixed score of each component after the second (their sample means).
    pub other_scores: &'a [f64],
}

/// Returns `n` evenly spaced values from `min − margin·range` to `max + margin·range`, the
/// range being `max − min` of `values`. Errors on fewer than 2 points, no finite value, or
/// values with zero range.
pub fn grid_axis(values: ArrayView1<f64>, n: usize) -> Result<Vec<f64>> {
    if n < 2 {
        return Err(Error::invalid("grid size", format!("{n} points per axis, expected at least 2")));
    }
    let finite = values.iter().copied().filter(|v| v.is_finite());
    let (min, max) = finite.fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| (lo.min(v), hi.max(v)));
    if !(min.is_finite() && max > min) {
        return Err(Error::invalid(
            "grid samples",
            format!("range [{min}, {max}] is empty; expected samples spread along the axis"),
        ));
    }
    let range = max - min;
    let (low, high) = (min - GRID_MARGIN * range, max + GRID_MARGIN * range);
    Ok((0..n).map(|k| low + (high - low) * k as f64 / (n - 1) as f64).collect())
}

/// Steps `map` under `input` once at every node of the `xs` × `ys` grid on `plane` and
/// returns the velocities.
///
/// Errors: fewer than two components, lengths that disagree with the map's state or input
/// dimension, a non-positive `dt`, or non-finite grid coordinates.
pub fn flow_field(
    map: &dyn RecurrentMap,
    input: &[f64],
    plane: &PcPlane,
    xs: &[f64],
    ys: &[f64],
    dt: f64,
) -> Result<FlowField> {
    let PcPlane { mean, components, other_scores } = *plane;
    let dim = map.state_dim();
    if components.nrows() < 2 || components.ncols() != dim || mean.len() != dim {
        return Err(Error::invalid(
            "flow-field plane",
            format!(
                "{} components of width {} and a mean of length {}, expected at least 2 components and width {dim}",
                components.nrows(),
                components.ncols(),
                mean.len()
            ),
        ));
    }
    if other_scores.len() != components.nrows() - 2 {
        return Err(Error::invalid(
            "flow-field plane",
            format!("{} scores for the components after PC2, expected {}", other_scores.len(), components.nrows() - 2),
        ));
    }
    if input.len() != map.input_dim() {
        return Err(Error::invalid("input", format!("length {}, expected {}", input.len(), map.input_dim())));
    }
    if !(dt.is_finite() && dt > 0.0) {
        return Err(Error::invalid("dt", format!("{dt} s, expected a finite number > 0")));
    }
    if xs.iter().chain(ys).any(|v| !v.is_finite()) {
        return Err(Error::invalid("flow-field grid", "contains a non-finite coordinate"));
    }

    // The base state: the mean plus the fixed scores of the components after PC2.
    let mut base = mean.to_vec();
    for (k, &score) in other_scores.iter().enumerate() {
        for (b, w) in base.iter_mut().zip(components.row(k + 2)) {
            *b += score * w;
        }
    }

    let nodes: Vec<(f64, f64)> = ys.iter().flat_map(|&y| xs.iter().map(move |&x| (x, y))).collect();
    let results: Vec<([f64; 2], Vec<f64>)> = nodes
        .par_iter()
        .map(|&(p1, p2)| {
            let x: Vec<f64> = (0..dim).map(|i| base[i] + p1 * components[(0, i)] + p2 * components[(1, i)]).collect();
            let mut next = vec![0.0; dim];
            map.step(&x, input, &mut next);
            let mut velocity = [0.0; 2];
            for (axis, v) in velocity.iter_mut().enumerate() {
                let displacement: f64 = (0..dim).map(|i| components[(axis, i)] * (next[i] - x[i])).sum();
                *v = displacement / dt;
            }
            (velocity, next)
        })
        .collect();

    let speed = results.iter().map(|(v, _)| (v[0] * v[0] + v[1] * v[1]).sqrt()).collect();
    let (velocity, next_states) = results.into_iter().unzip();
    Ok(FlowField { xs: xs.to_vec(), ys: ys.to_vec(), velocity, speed, dt, next_states })
}

#[cfg(test)]
mod tests {
    use super::*;
    use nalgebra::DMatrix;
    use ndarray::{array, Array1};

    /// The linear map x' = A x on R³.
    struct Linear3(DMatrix<f64>);

    impl RecurrentMap for Linear3 {
        fn state_dim(&self) -> usize {
            3
        }
        fn input_dim(&self) -> usize {
            1
        }
        fn step(&self, x: &[f64], _u: &[f64], out: &mut [f64]) {
            let y = &self.0 * nalgebra::DVector::from_column_slice(x);
            out.copy_from_slice(y.as_slice());
        }
        fn jacobian(&self, _x: &[f64], _u: &[f64]) -> DMatrix<f64> {
            self.0.clone()
        }
        fn vjp(&self, _x: &[f64], _u: &[f64], v: &[f64], out: &mut [f64]) {
            let y = self.0.transpose() * nalgebra::DVector::from_column_slice(v);
            out.copy_from_slice(y.as_slice());
        }
    }

    #[test]
    fn linear_map_velocity_is_analytic() {
        let a = DMatrix::from_row_slice(3, 3, &[0.9, 0.2, 0.0, -0.1, 0.8, 0.3, 0.05, 0.0, 1.1]);
        let map = Linear3(a.clone());
        let s = 1.0 / 2f64.sqrt();
        let components = array![[s, s, 0.0], [-s, s, 0.0], [0.0, 0.0, 1.0]];
        let mean = Array1::from(vec![0.5, -0.25, 1.0]);
        let dt = 0.05;
        let xs = [-1.0, 0.0, 2.0];
        let ys = [-0.5, 1.5];
        let field = flow_field(&map, &[0.0], &PcPlane { mean: mean.view(), components: components.view(), other_scores: &[0.3] }, &xs, &ys, dt).unwrap();

        for (j, &p2) in ys.iter().enumerate() {
            for (i, &p1) in xs.iter().enumerate() {
                let x = nalgebra::DVector::from_fn(3, |k, _| mean[k] + p1 * components[(0, k)] + p2 * components[(1, k)] + 0.3 * components[(2, k)]);
                let displacement = (&a - DMatrix::identity(3, 3)) * x;
                let node = j * xs.len() + i;
                for axis in 0..2 {
                    let expected: f64 = (0..3).map(|k| components[(axis, k)] * displacement[k]).sum::<f64>() / dt;
                    let got = field.velocity[node][axis];
                    assert!((got - expected).abs() < 1e-12 * (1.0 + expected.abs()), "node {node} axis {axis}: {got} vs {expected}");
                }
                let v = field.velocity[node];
                assert!((field.speed[node] - (v[0] * v[0] + v[1] * v[1]).sqrt()).abs() < 1e-15);
            }
        }
    }

    #[test]
    fn grid_axis_adds_margin() {
        let axis = grid_axis(array![2.0, 4.0, 3.0].view(), 5).unwrap();
        assert_eq!(axis.len(), 5);
        assert!((axis[0] - 1.8).abs() < 1e-12);
        assert!((axis[4] - 4.2).abs() < 1e-12);
        // Negative minima widen too (the range, not the value, sets the margin).
        let axis = grid_axis(array![-4.0, -2.0].view(), 2).unwrap();
        assert!((axis[0] + 4.2).abs() < 1e-12);
        assert!((axis[1] + 1.8).abs() < 1e-12);
    }

    #[test]
    fn flow_field_rejects_bad_plane() {
        let map = Linear3(DMatrix::identity(3, 3));
        let one = array![[1.0, 0.0, 0.0]];
        let mean = Array1::zeros(3);
        assert!(flow_field(&map, &[0.0], &PcPlane { mean: mean.view(), components: one.view(), other_scores: &[] }, &[0.0, 1.0], &[0.0, 1.0], 1.0).is_err());
        let two = array![[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]];
        assert!(flow_field(&map, &[0.0], &PcPlane { mean: mean.view(), components: two.view(), other_scores: &[] }, &[0.0, 1.0], &[0.0, 1.0], 0.0).is_err());
        assert!(grid_axis(array![1.0, 1.0].view(), 10).is_err());
        assert!(grid_axis(array![1.0, 2.0].view(), 1).is_err());
    }
}
