//! The actor–critic loss on one window of N steps, with its gradient with respect to the
//! network outputs (`p` for policy and value, `q` for the block prediction). It follows the
//! training code of Hocker, Constantinople & Savin (Nature Machine Intelligence 2025,
//! repository Savin-Lab-Code/kind_cl), called "the original code" below.
//!
//! Returns are n-step and bootstrapped from the window's last value, because a window never
//! ends an episode: `R_{N−1} = V_{N−1}`, `R_k = r_k + γ R_{k+1}` (so `r_{N−1}` is unused), and
//! `δ_k = R_k − V_k`. Over the in-trial steps `G = {k ≤ N−2 : a_k ≠ 2}`:
//!
//! * actor `L_π = mean_G(−log π(a_k) · stopgrad(δ_k))`: the advantage is a constant, so the
//!   actor term sends no gradient into the value;
//! * critic `L_V = λ_V mean_G δ_k²`, a semi-gradient: `R_k` is a constant, including the
//!   bootstrap `V_{N−1}` unless [`ActorCriticConfig::detach_bootstrap`] is false, which
//!   reproduces the original code (there `V_{N−1}` also receives gradient through
//!   every `R_k`);
//! * entropy bonus `L_H = −λ_H Σ_{k<N} H_k / N`, so descending the loss raises the entropy;
//! * block prediction `L_pred = mean_k CE(q_k[0..3], b_k)` over all N steps, when labels exist.
//!
//! Total: `L = λ_π L_π + L_V + L_H + λ_pred L_pred` (λ_V and λ_H are inside their terms). The
//! supervised regulariser `λ_sup L_sup` is computed by the caller on its own batch with
//! [`super::losses::supervised_mse`] and added to the same parameter gradients.

use super::losses::masked_cross_entropy;
use super::params::{OFC_OUTPUTS, STR_OUTPUTS};
use super::policy::{allowed_actions, Categorical, ACTIONS, ITI_ACTION};
use super::real::Real;
use crate::error::{Error, Result};

/// Index of the value output V in `p`.
pub const VALUE_OUTPUT: usize = 3;

/// Weights of the actor–critic loss. The defaults are those of the original code's demo
/// configuration (γ per 0.05 s step).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ActorCriticConfig {
    pub gamma: f64,
    pub lambda_policy: f64,
    pub lambda_value: f64,
    pub lambda_entropy: f64,
    pub lambda_pred: f64,
    /// Treat the bootstrap value `V_{N−1}` in the returns as a constant (standard
    /// semi-gradient TD). `false` keeps its gradient, as the original code did.
    pub detach_bootstrap: bool,
}

impl Default for ActorCriticConfig {
    fn default() -> Self {
        ActorCriticConfig {
            gamma: 0.95,
            lambda_policy: 1.0,
            lambda_value: 5e-4,
            lambda_entropy: 0.05,
            lambda_pred: 0.5,
            detach_bootstrap: true,
        }
    }
}

/// The record of one step of the window: action, reward, phase and block.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct StepRecord {
    /// Action taken (0 wait, 1 opt-out, 2 ITI action).
    pub action: usize,
    /// Reward returned by the environment for this step.
    pub reward: f64,
    /// Whether the step was in the inter-trial interval when the policy was evaluated.
    pub in_iti: bool,
    /// Block label (0 mixed, 1 high, 2 low) for the prediction term, if known.
    pub block: Option<usize>,
}

/// The loss terms of one window (unweighted `policy` and `prediction`; `value` and `entropy`
/// include λ_V and λ_H as in the total).
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct ActorCriticLoss {
    pub total: f64,
    pub policy: f64,
    pub value: f64,
    pub entropy: f64,
    pub prediction: f64,
    /// Number of steps in G.
    pub in_trial_steps: usize,
}

/// Computes the window loss from the outputs `p` (N × 6) and `q` (N × 4) of a batch-1 window
/// and adds its gradient to `dp` and `dq`. The prediction term is used when every step has a
/// block label and `λ_pred` is non-zero.
pub fn actor_critic_window<T: Real>(
    p: &[T],
    q: &[T],
    steps: &[StepRecord],
    config: &ActorCriticConfig,
    dp: &mut [T],
    dq: &mut [T],
) -> Result<ActorCriticLoss> {
    let n = steps.len();
    if n == 0 {
        return Err(Error::invalid("actor-critic window", "has no steps"));
    }
    if p.len() != n * STR_OUTPUTS || dp.len() != p.len() || q.len() != n * OFC_OUTPUTS || dq.len() != q.len() {
        return Err(Error::invalid(
            "actor-critic outputs",
            format!("p has {} and q {} values for {n} steps, expected N × 6 and N × 4", p.len(), q.len()),
        ));
    }

    // Policies, validated actions, values.
    let mut policies = Vec::with_capacity(n);
    for (k, step) in steps.iter().enumerate() {
        let logits = &p[k * STR_OUTPUTS..k * STR_OUTPUTS + ACTIONS];
        let policy = Categorical::masked(logits, allowed_actions(step.in_iti))?;
        if step.action >= ACTIONS || policy.probs[step.action] == 0.0 {
            return Err(Error::invalid(
                "action",
                format!("{} at step {k} has probability 0 under the masked policy (in ITI: {})", step.action, step.in_iti),
            ));
        }
        policies.push(policy);
    }
    let values: Vec<f64> = (0..n).map(|k| p[k * STR_OUTPUTS + VALUE_OUTPUT].to_f64()).collect();

    // Bootstrapped returns and advantages.
    let mut returns = vec![0.0; n];
    returns[n - 1] = values[n - 1];
    for k in (0..n - 1).rev() {
        returns[k] = steps[k].reward + config.gamma * returns[k + 1];
    }
    let in_trial: Vec<usize> = (0..n.saturating_sub(1)).filter(|&k| steps[k].action != ITI_ACTION).collect();

    let mut loss = ActorCriticLoss { in_trial_steps: in_trial.len(), ..Default::default() };
    let mut grad_p = vec![0.0; n * STR_OUTPUTS];

    // Actor and critic over G (both zero when G is empty).
    if !in_trial.is_empty() {
        let count = in_trial.len() as f64;
        let mut bootstrap_grad = 0.0;
        for &k in &in_trial {
            let advantage = returns[k] - values[k];
            let action = steps[k].action;
            loss.policy -= policies[k].log_probs[action] * advantage / count;
            loss.value += config.lambda_value * advantage * advantage / count;

            let log_prob_grad = policies[k].log_prob_grad(action);
            for a in 0..ACTIONS {
                grad_p[k * STR_OUTPUTS + a] -= config.lambda_policy * advantage * log_prob_grad[a] / count;
            }
            let d_advantage = 2.0 * config.lambda_value * advantage / count;
            grad_p[k * STR_OUTPUTS + VALUE_OUTPUT] -= d_advantage;
            bootstrap_grad += d_advantage * config.gamma.powi((n - 1 - k) as i32);
        }
        if !config.detach_bootstrap {
            grad_p[(n - 1) * STR_OUTPUTS + VALUE_OUTPUT] += bootstrap_grad;
        }
    }

    // Entropy bonus over all N steps.
    for (k, policy) in policies.iter().enumerate() {
        loss.entropy -= config.lambda_entropy * policy.entropy / n as f64;
        let entropy_grad = policy.entropy_grad();
        for a in 0..ACTIONS {
            grad_p[k * STR_OUTPUTS + a] -= config.lambda_entropy * entropy_grad[a] / n as f64;
        }
    }

    for (g, &d) in dp.iter_mut().zip(&grad_p) {
        *g += T::from_f64(d);
    }

    // Block prediction over all steps.
    let labels: Option<Vec<usize>> = steps.iter().map(|s| s.block).collect();
    if let (Some(labels), true) = (labels, config.lambda_pred != 0.0) {
        let mask = vec![true; n];
        loss.prediction = masked_cross_entropy(q, OFC_OUTPUTS, 3, &labels, &mask, config.lambda_pred, dq)?;
    }

    loss.total = config.lambda_policy * loss.policy + loss.value + loss.entropy + config.lambda_pred * loss.prediction;
    Ok(loss)
}
