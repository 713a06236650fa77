//! The objective `q(x) = ½‖F_u(x) − x‖²` as an argmin problem.
//!
//! The gradient is `(J − I)ᵀ r` with `r = F_u(x) − x`, computed with one vector–Jacobian
//! product, so no Jacobian is formed inside the optimiser.

use std::cell::{RefCell, RefMut};

use argmin::core::{CostFunction, Gradient};
use nalgebra::DVector;

use crate::model::RecurrentMap;

/// Residual and gradient of the last evaluated point.
///
/// argmin's L-BFGS and More–Thuente line search (0.11) request the gradient at every point
/// whose cost they request, right after the cost. So a cost request computes both with one
/// [`RecurrentMap::residual_vjp`], which shares the map's gates between them, and the
/// gradient request that follows is served from here.
struct Cache {
    x: Vec<f64>,
    residual: Vec<f64>,
    q: f64,
    /// `(J − I)ᵀ r` at `x`.
    gradient: Vec<f64>,
    /// Whether `x`, `residual`, `q` and `gradient` belong together and `q` is finite.
    valid: bool,
}

/// `q(x)` and its gradient for one map and one constant input. Not `Sync` (it caches the
/// last residual), so each start builds its own.
pub struct ResidualProblem<'a> {
    map: &'a dyn RecurrentMap,
    input: &'a [f64],
    cache: RefCell<Cache>,
}

impl<'a> ResidualProblem<'a> {
    /// Builds the problem for `map` with the input held at `input`.
    pub fn new(map: &'a dyn RecurrentMap, input: &'a [f64]) -> Self {
        let n = map.state_dim();
        let cache = Cache { x: vec![0.0; n], residual: vec![0.0; n], q: f64::NAN, gradient: vec![0.0; n], valid: false };
        ResidualProblem { map, input, cache: RefCell::new(cache) }
    }

    /// Writes `r = F_u(x) − x` into `residual` and returns `q = ½‖r‖²`.
    pub fn residual(&self, x: &[f64], residual: &mut [f64]) -> f64 {
        self.map.step(x, self.input, residual);
        for (r, xi) in residual.iter_mut().zip(x) {
            *r -= xi;
        }
        half_squared_norm(residual)
    }

    /// Fills the cache for `x` unless it already contains `x`, and returns it.
    fn evaluate(&self, x: &[f64]) -> RefMut<'_, Cache> {
        let mut cache = self.cache.borrow_mut();
        if cache.valid && cache.x == x {
            return cache;
        }
        let Cache { x: cached_x, residual, q, gradient, valid } = &mut *cache;
        self.map.residual_vjp(x, self.input, residual, gradient);
        for (g, r) in gradient.iter_mut().zip(residual.iter()) {
            *g -= r;
        }
        *q = half_squared_norm(residual);
        cached_x.copy_from_slice(x);
        *valid = q.is_finite();
        cache
    }
}

/// Returns `½‖r‖²`, summing the squares in order.
fn half_squared_norm(r: &[f64]) -> f64 {
    0.5 * r.iter().fold(0.0, |sum, ri| sum + ri * ri)
}

impl CostFunction for ResidualProblem<'_> {
    type Param = DVector<f64>;
    type Output = f64;

    /// Returns `q(x)`, or an error when it is not finite: argmin's More–Thuente line search
    /// can otherwise evaluate NaN costs without end.
    fn cost(&self, x: &Self::Param) -> Result<f64, argmin::core::Error> {
        let q = self.evaluate(x.as_slice()).q;
        if q.is_finite() {
            Ok(q)
        } else {
            Err(argmin::core::Error::msg(format!("q is not finite ({q})")))
        }
    }
}

impl Gradient for ResidualProblem<'_> {
    type Param = DVector<f64>;
    type Gradient = DVector<f64>;

    /// Returns `(J − I)ᵀ r`, or an error when it is not finite.
    fn gradient(&self, x: &Self::Param) -> Result<Self::Gradient, argmin::core::Error> {
        let cache = self.evaluate(x.as_slice());
        if cache.gradient.iter().all(|g| g.is_finite()) {
            Ok(DVector::from_column_slice(&cache.gradient))
        } else {
            Err(argmin::core::Error::msg("gradient of q is not finite"))
        }
    }
}
