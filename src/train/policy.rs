//! The masked categorical policy over the three actions (0 wait, 1 opt-out, 2 ITI action).
//!
//! In a trial the agent chooses between wait and opt-out, and during the inter-trial interval
//! it is forced to take action 2. The original code (Savin-Lab-Code/kind_cl) overwrites the
//! disallowed logits with −1000 before the softmax. Here they are set to −∞, which gives the
//! same distribution whenever the largest allowed logit is above −255 (then e^(−1000 − z)
//! underflows to 0 in f64 and f32) and gives the overwritten logits zero gradient.

use super::real::Real;
use crate::error::{Error, Result};

/// Number of actions.
pub const ACTIONS: usize = 3;
/// The ITI action, the only one allowed during the inter-trial interval.
pub const ITI_ACTION: usize = 2;

/// Actions allowed at a step: wait and opt-out in a trial, only action 2 in the ITI.
pub fn allowed_actions(in_iti: bool) -> [bool; ACTIONS] {
    if in_iti {
        [false, false, true]
    } else {
        [true, true, false]
    }
}

/// A categorical distribution over [`ACTIONS`] actions, from logits where −∞ marks an
/// excluded action. Probabilities, log-probabilities and the entropy use the convention
/// `0 · log 0 = 0`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Categorical {
    pub probs: [f64; ACTIONS],
    pub log_probs: [f64; ACTIONS],
    pub entropy: f64,
}

impl Categorical {
    /// Builds the distribution from raw logits (−∞ or very negative values allowed). All-−∞
    /// or NaN logits are an error, never a NaN distribution.
    pub fn from_logits<T: Real>(logits: &[T]) -> Result<Self> {
        if logits.len() != ACTIONS {
            return Err(Error::invalid("policy logits", format!("has {} values, expected {ACTIONS}", logits.len())));
        }
        let z: Vec<f64> = logits.iter().map(|v| v.to_f64()).collect();
        if z.iter().any(|v| v.is_nan()) {
            return Err(Error::Numerical(format!("policy logits {z:?} contain NaN")));
        }
        let max = z.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        if !max.is_finite() {
            return Err(Error::Numerical(format!("policy logits {z:?} exclude every action")));
        }

        let log_sum = z.iter().map(|&v| (v - max).exp()).sum::<f64>().ln();
        let mut probs = [0.0; ACTIONS];
        let mut log_probs = [0.0; ACTIONS];
        let mut entropy = 0.0;
        for k in 0..ACTIONS {
            log_probs[k] = z[k] - max - log_sum;
            probs[k] = log_probs[k].exp();
            if probs[k] > 0.0 {
                entropy -= probs[k] * log_probs[k];
            }
        }
        Ok(Categorical { probs, log_probs, entropy })
    }

    /// Builds the distribution from the policy logits with disallowed actions excluded.
    pub fn masked<T: Real>(logits: &[T], allowed: [bool; ACTIONS]) -> Result<Self> {
        if logits.len() != ACTIONS {
            return Err(Error::invalid("policy logits", format!("has {} values, expected {ACTIONS}", logits.len())));
        }
        let mut masked = [f64::NEG_INFINITY; ACTIONS];
        for k in 0..ACTIONS {
            if allowed[k] {
                masked[k] = logits[k].to_f64();
            }
        }
        Self::from_logits(&masked)
    }

    /// `∂ log π(action) / ∂z_k = [k = action] − π_k`; zero for excluded actions.
    pub fn log_prob_grad(&self, action: usize) -> [f64; ACTIONS] {
        let mut grad = [0.0; ACTIONS];
        for k in 0..ACTIONS {
            if self.probs[k] > 0.0 || k == action {
                grad[k] = if k == action { 1.0 } else { 0.0 } - self.probs[k];
            }
        }
        grad
    }

    /// `∂H / ∂z_k = −π_k (log π_k + H)`; zero where `π_k = 0` (excluded or underflowed).
    pub fn entropy_grad(&self) -> [f64; ACTIONS] {
        let mut grad = [0.0; ACTIONS];
        for k in 0..ACTIONS {
            if self.probs[k] > 0.0 {
                grad[k] = -self.probs[k] * (self.log_probs[k] + self.entropy);
            }
        }
        grad
    }
}
