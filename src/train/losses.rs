//! Supervised losses with gradients with respect to the network outputs.
//!
//! Every function adds `weight · ∂loss/∂output` to the gradient buffers it is given (so terms
//! of a combined loss accumulate into one buffer) and returns the unweighted loss in f64.

use super::params::{OFC_OUTPUTS, STR_OUTPUTS};
use super::real::Real;
use crate::error::{Error, Result};

/// Mean squared error over all elements, `mean((pred − target)²)`.
pub fn mse<T: Real>(pred: &[T], target: &[T], weight: f64, grad: &mut [T]) -> Result<f64> {
    if pred.len() != target.len() || pred.len() != grad.len() {
        return Err(Error::invalid("MSE inputs", format!("have {}, {} and {} values, expected equal lengths", pred.len(), target.len(), grad.len())));
    }
    if pred.is_empty() {
        return Ok(0.0);
    }
    let n = pred.len() as f64;
    let scale = T::from_f64(2.0 * weight / n);
    let mut sum = 0.0;
    for ((&y, &target), g) in pred.iter().zip(target).zip(grad.iter_mut()) {
        let diff = y - target;
        sum += diff.to_f64() * diff.to_f64();
        *g += scale * diff;
    }
    Ok(sum / n)
}

/// Selection flags of the supervised outputs in the kindergarten loss, in the order
/// [memory, count, integration] = [p[4], p[5], q[3]].
pub type SupervisedSelection = [bool; 3];

/// All three supervised outputs.
pub const ALL_SUPERVISED: SupervisedSelection = [true, true, true];

/// MSE of the supervised outputs `y = [p[4], p[5], q[3]]` against `targets` (rows × 3), mean
/// over rows × selected outputs. `q` (rows × 4), `p` (rows × 6) and `targets` must share one
/// row order (time-major or batch-major). Unselected columns of `targets` are ignored.
pub fn supervised_mse<T: Real>(
    q: &[T],
    p: &[T],
    targets: &[T],
    selection: SupervisedSelection,
    weight: f64,
    dq: &mut [T],
    dp: &mut [T],
) -> Result<f64> {
    let rows = targets.len() / 3;
    if targets.len() != rows * 3 || q.len() != rows * OFC_OUTPUTS || p.len() != rows * STR_OUTPUTS || dq.len() != q.len() || dp.len() != p.len() {
        return Err(Error::invalid(
            "supervised outputs",
            format!("q has {}, p {} and targets {} values; expected rows × 4, rows × 6 and rows × 3", q.len(), p.len(), targets.len()),
        ));
    }
    let selected = selection.iter().filter(|&&s| s).count();
    if selected == 0 {
        return Err(Error::invalid("supervised selection", "selects no output, expected at least one of memory, count, integration"));
    }
    if rows == 0 {
        return Ok(0.0);
    }

    let n = (rows * selected) as f64;
    let scale = T::from_f64(2.0 * weight / n);
    let mut sum = 0.0;
    for r in 0..rows {
        for (k, _) in selection.iter().enumerate().filter(|(_, &s)| s) {
            let (value, slot) = match k {
                0 => (p[r * STR_OUTPUTS + 4], &mut dp[r * STR_OUTPUTS + 4]),
                1 => (p[r * STR_OUTPUTS + 5], &mut dp[r * STR_OUTPUTS + 5]),
                _ => (q[r * OFC_OUTPUTS + 3], &mut dq[r * OFC_OUTPUTS + 3]),
            };
            let diff = value - targets[r * 3 + k];
            sum += diff.to_f64() * diff.to_f64();
            *slot += scale * diff;
        }
    }
    Ok(sum / n)
}

/// Writes `log softmax(logits)` into `out`, subtracting the maximum first so that no `exp`
/// overflows. Logits of −∞ give −∞; a row with no finite maximum is an error.
pub fn log_softmax<T: Real>(logits: &[T], out: &mut [T]) -> Result<()> {
    let max = logits.iter().copied().fold(T::from_f64(f64::NEG_INFINITY), T::max);
    if !max.is_finite() {
        return Err(Error::Numerical(format!("log-softmax of {logits:?}: no finite maximum logit")));
    }
    let sum: f64 = logits.iter().map(|&z| (z - max).to_f64().exp()).sum();
    let log_sum = T::from_f64(sum.ln());
    for (o, &z) in out.iter_mut().zip(logits) {
        *o = z - max - log_sum;
    }
    Ok(())
}

/// Masked mean cross-entropy of class logits against integer targets.
///
/// Row r has its logits in `logits[r·stride .. r·stride + classes]` (so the block logits
/// `q[0..3]` can be read straight from rows of width 4). The loss is the mean over rows whose
/// `mask` is true: `Σ_valid CE_r / #valid`. Masked rows are never read, so they may hold −∞ or
/// NaN, and their gradient stays exactly zero. An all-false mask gives loss 0 and no gradient.
pub fn masked_cross_entropy<T: Real>(
    logits: &[T],
    stride: usize,
    classes: usize,
    targets: &[usize],
    mask: &[bool],
    weight: f64,
    grad: &mut [T],
) -> Result<f64> {
    let rows = targets.len();
    if classes == 0 || classes > stride || logits.len() != rows * stride || grad.len() != logits.len() || mask.len() != rows {
        return Err(Error::invalid(
            "cross-entropy inputs",
            format!("{} logits, {} targets, {} mask entries with {classes} classes in rows of {stride}", logits.len(), rows, mask.len()),
        ));
    }
    let valid = mask.iter().filter(|&&m| m).count();
    if valid == 0 {
        return Ok(0.0);
    }

    let mut log_probs = [T::ZERO; 16];
    if classes > log_probs.len() {
        return Err(Error::invalid("cross-entropy classes", format!("{classes}, expected at most 16")));
    }
    let scale = T::from_f64(weight / valid as f64);
    let mut sum = 0.0;
    for r in (0..rows).filter(|&r| mask[r]) {
        let target = targets[r];
        if target >= classes {
            return Err(Error::invalid("cross-entropy target", format!("{target} at row {r}, expected a class below {classes}")));
        }
        let row = &logits[r * stride..r * stride + classes];
        log_softmax(row, &mut log_probs[..classes])?;
        sum -= log_probs[target].to_f64();
        for k in 0..classes {
            let indicator = if k == target { T::ONE } else { T::ZERO };
            grad[r * stride + k] += scale * (log_probs[k].exp() - indicator);
        }
    }
    Ok(sum / valid as f64)
}
