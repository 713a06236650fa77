//! The objective `q(x) = ½‖F_u(x) − x‖²` as an argmin problem.
//!
//! The gradient is `(J − I)ᵀ r` with `r = F_u(x) − x`, computed with one vector–Jacobian
//! product, so no Jacobian is formed inside the optimiser.

use std::cell::RefCell;

use argmin::core::{CostFunction, Gradient};
use nalgebra::DVector;

use crate::model::RecurrentMap;

/// Residual and gradient of the last evaluated point. argmin's L-BFGS (0.11) requests the
/// gradient at a point right after its More–Thuente line search evaluated cost and gradient
/// there, and the cache serves that second request without another step and product.
struct Cache {
    x: Vec<f64>,
    residual: Vec<f64>,
    q: f64,
    valid: bool,
    /// The gradient at `x`, once computed.
    gradient: Option<DVector<f64>>,
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
        let cache = Cache { x: vec![0.0; n], residual: vec![0.0; n], q: f64::NAN, valid: false, gradient: None };
        ResidualProblem { map, input, cache: RefCell::new(cache) }
    }

    /// Writes `r = F_u(x) − x` into `residual` and returns `q = ½‖r‖²`.
    pub fn residual(&self, x: &[f64], residual: &mut [f64]) -> f64 {
        self.map.step(x, self.input, residual);
        let mut sum = 0.0;
        for (r, xi) in residual.iter_mut().zip(x) {
            *r -= xi;
            sum += *r * *r;
        }
        0.5 * sum
    }

    /// Returns `q(x)`, from the cache when `x` is the last evaluated point.
    fn cached_q(&self, x: &[f64]) -> f64 {
        let mut cache = self.cache.borrow_mut();
        let cache = &mut *cache;
        if cache.valid && cache.x == x {
            return cache.q;
        }
        let q = self.residual(x, &mut cache.residual);
        cache.x.copy_from_slice(x);
        cache.q = q;
        cache.valid = q.is_finite();
        cache.gradient = None;
        q
    }
}

impl CostFunction for ResidualProblem<'_> {
    type Param = DVector<f64>;
    type Output = f64;

    /// Returns `q(x)`, or an error when it is not finite: argmin's More–Thuente line search
    /// can otherwise evaluate NaN costs without end.
    fn cost(&self, x: &Self::Param) -> Result<f64, argmin::core::Error> {
        let q = self.cached_q(x.as_slice());
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
        let x = x.as_slice();
        self.cached_q(x);

        let mut cache = self.cache.borrow_mut();
        if let Some(gradient) = &cache.gradient {
            return Ok(gradient.clone());
        }
        let mut gradient = DVector::zeros(x.len());
        self.map.vjp(x, self.input, &cache.residual, gradient.as_mut_slice());
        gradient -= DVector::from_column_slice(&cache.residual);

        if gradient.iter().all(|g| g.is_finite()) {
            cache.gradient = Some(gradient.clone());
            Ok(gradient)
        } else {
            Err(argmin::core::Error::msg("gradient of q is not finite"))
        }
    }
}
