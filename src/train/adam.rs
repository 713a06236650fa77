//! Adam (Kingma & Ba 2015) as PyTorch 2 implements it, without weight decay or AMSGrad.
//!
//! Per optimiser step, with one counter `t` shared by every parameter:
//! `m ← β₁ m + (1 − β₁) g`, `v ← β₂ v + (1 − β₂) g²`,
//! `θ ← θ − (lr / (1 − β₁ᵗ)) · m / (√v / √(1 − β₂ᵗ) + ε)`.
//! The bias corrections are applied once, and ε is added outside the square root of the
//! corrected second moment.

use super::real::Real;
use crate::error::{Error, Result};

/// Adam state for one set of parameters (the moments are stored flat, in tensor order).
#[derive(Debug, Clone)]
pub struct Adam<T> {
    pub lr: f64,
    pub beta1: f64,
    pub beta2: f64,
    pub eps: f64,
    step: u64,
    m: Vec<T>,
    v: Vec<T>,
}

impl<T: Real> Adam<T> {
    /// Adam with learning rate `lr` and PyTorch's defaults β = (0.9, 0.999), ε = 1e-8.
    pub fn new(lr: f64) -> Self {
        Adam { lr, beta1: 0.9, beta2: 0.999, eps: 1e-8, step: 0, m: Vec::new(), v: Vec::new() }
    }

    /// Number of optimiser steps taken.
    pub fn steps(&self) -> u64 {
        self.step
    }

    /// Takes one step on `params` with `grads` (the same tensors in the same order and sizes).
    /// A non-finite gradient is rejected before anything changes, so one bad window cannot
    /// corrupt the moments.
    pub fn step(&mut self, params: &mut [&mut [T]], grads: &[&[T]]) -> Result<()> {
        if params.len() != grads.len() || params.iter().zip(grads).any(|(p, g)| p.len() != g.len()) {
            return Err(Error::invalid("Adam gradients", "do not match the parameter tensors in number or size"));
        }
        let total: usize = grads.iter().map(|g| g.len()).sum();
        if self.m.is_empty() {
            self.m = vec![T::ZERO; total];
            self.v = vec![T::ZERO; total];
        } else if self.m.len() != total {
            return Err(Error::invalid("Adam parameters", format!("have {total} values, but the optimiser was started with {}", self.m.len())));
        }
        if let Some(position) = grads.iter().flat_map(|g| g.iter()).position(|g| !g.is_finite()) {
            return Err(Error::Numerical(format!("gradient entry {position} is not finite; the Adam step was skipped")));
        }

        self.step += 1;
        let t = self.step as i32;
        let step_size = T::from_f64(self.lr / (1.0 - self.beta1.powi(t)));
        let correction2_sqrt = T::from_f64((1.0 - self.beta2.powi(t)).sqrt());
        let (beta1, beta2, eps) = (T::from_f64(self.beta1), T::from_f64(self.beta2), T::from_f64(self.eps));
        // 1 − β in f64 first: in f32, 1 − 0.999f32 is off by 1.3e-5 relative.
        let (one_minus_beta1, one_minus_beta2) = (T::from_f64(1.0 - self.beta1), T::from_f64(1.0 - self.beta2));

        let mut offset = 0;
        for (param, grad) in params.iter_mut().zip(grads) {
            let m = &mut self.m[offset..offset + grad.len()];
            let v = &mut self.v[offset..offset + grad.len()];
            for (((p, &g), m), v) in param.iter_mut().zip(grad.iter()).zip(m).zip(v) {
                *m = beta1 * *m + one_minus_beta1 * g;
                *v = beta2 * *v + one_minus_beta2 * g * g;
                let denom = v.sqrt() / correction2_sqrt + eps;
                *p -= step_size * *m / denom;
            }
            offset += grad.len();
        }
        Ok(())
    }
}

impl Adam<f32> {
    /// Writes the optimiser state (step count, hyperparameters and both moment vectors, f32)
    /// to a safetensors file, atomically, so that `--resume` continues exactly where an
    /// interrupted run stopped. `label` names the training unit the state belongs to.
    pub fn save(&self, path: &std::path::Path, label: &str) -> Result<()> {
        let mut metadata = std::collections::BTreeMap::new();
        metadata.insert("format".to_string(), ADAM_FORMAT.to_string());
        metadata.insert("label".to_string(), label.to_string());
        metadata.insert("step".to_string(), self.step.to_string());
        metadata.insert("lr".to_string(), format!("{:e}", self.lr));
        metadata.insert("beta1".to_string(), format!("{:e}", self.beta1));
        metadata.insert("beta2".to_string(), format!("{:e}", self.beta2));
        metadata.insert("eps".to_string(), format!("{:e}", self.eps));
        let tensors = vec![
            ("m".to_string(), vec![self.m.len()], self.m.clone()),
            ("v".to_string(), vec![self.v.len()], self.v.clone()),
        ];
        crate::io::write_tensor_file(path, &tensors, &metadata)
    }

    /// Reads a state written by [`Adam::save`] and its label. Errors name the file and the
    /// missing or malformed entry.
    pub fn load(path: &std::path::Path) -> Result<(Self, String)> {
        let file = crate::io::read_tensor_file(path)?;
        let invalid = |detail: String| {
            Error::invalid(
                "Adam state",
                format!("{}: {detail}; delete the file to restart Adam's moments from zero", path.display()),
            )
        };
        let field = |key: &str| -> Result<&String> {
            file.metadata.get(key).ok_or_else(|| invalid(format!("missing metadata entry {key:?}")))
        };
        let format = field("format")?;
        if format != ADAM_FORMAT {
            return Err(invalid(format!("format {format:?}, expected {ADAM_FORMAT:?}")));
        }

        let number = |key: &str| -> Result<f64> {
            let text = field(key)?;
            text.parse::<f64>().map_err(|_| invalid(format!("invalid {key} {text:?}, expected a number")))
        };
        let step_text = field("step")?;
        let step = step_text
            .parse::<u64>()
            .map_err(|_| invalid(format!("invalid step {step_text:?}, expected a whole number")))?;
        let moments = |name: &str| -> Result<Vec<f32>> {
            Ok(file.get(name)?.data.iter().map(|&x| x as f32).collect())
        };
        let (m, v) = (moments("m")?, moments("v")?);
        if m.len() != v.len() {
            return Err(invalid(format!("m has {} values and v {}, expected equal lengths", m.len(), v.len())));
        }
        let adam = Adam { lr: number("lr")?, beta1: number("beta1")?, beta2: number("beta2")?, eps: number("eps")?, step, m, v };
        Ok((adam, field("label")?.clone()))
    }
}

/// Format tag of the files written by [`Adam::save`].
pub const ADAM_FORMAT: &str = "rnn-dynamics/adam/1";

/// Returns the L2 norm of all gradients together, accumulated in f64.
pub fn global_norm<T: Real>(grads: &[&[T]]) -> f64 {
    grads.iter().flat_map(|g| g.iter()).map(|g| g.to_f64() * g.to_f64()).sum::<f64>().sqrt()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn adam_rejects_non_finite_gradient() {
        let mut adam = Adam::<f32>::new(1e-3);
        let mut p = vec![0.0f32; 2];
        let err = adam.step(&mut [&mut p], &[&[0.5, f32::NAN]]).unwrap_err();
        assert!(err.to_string().contains("not finite"));
        assert_eq!(p, vec![0.0, 0.0]);
        assert_eq!(adam.steps(), 0);
    }

    #[test]
    fn adam_state_round_trip_continues_identically() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("adam.safetensors");
        let grads: [&[f32]; 3] = [&[0.5, -1.0], &[0.25, 2.0], &[-0.75, 0.125]];

        // Uninterrupted: three steps.
        let mut straight = Adam::<f32>::new(1e-2);
        let mut p_straight = vec![1.0f32, -2.0];
        for g in grads {
            straight.step(&mut [&mut p_straight], &[g]).unwrap();
        }

        // Interrupted after one step, saved, loaded, continued.
        let mut first = Adam::<f32>::new(1e-2);
        let mut p_resumed = vec![1.0f32, -2.0];
        first.step(&mut [&mut p_resumed], &[grads[0]]).unwrap();
        first.save(&path, "stage/1").unwrap();
        let (mut resumed, label) = Adam::<f32>::load(&path).unwrap();
        assert_eq!(label, "stage/1");
        assert_eq!(resumed.steps(), 1);
        for g in &grads[1..] {
            resumed.step(&mut [&mut p_resumed], &[g]).unwrap();
        }

        assert_eq!(p_resumed, p_straight);
    }

    #[test]
    fn adam_state_rejects_other_files() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("not-adam.safetensors");
        crate::io::write_tensor_file(&path, &[("m".into(), vec![1], vec![0.0])], &Default::default()).unwrap();
        let err = Adam::<f32>::load(&path).unwrap_err().to_string();
        assert!(err.contains("\"format\""), "{err}");
    }

    #[test]
    fn global_norm_of_two_tensors() {
        assert_eq!(global_norm::<f64>(&[&[3.0], &[4.0, 0.0]]), 5.0);
    }
}
