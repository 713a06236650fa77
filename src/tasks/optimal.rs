//! Reference policy of the wagering task: how long an agent that pays a constant
//! opportunity cost should wait for an exponentially delayed reward.

use crate::error::{Error, Result};

/// Costs and task settings that set the optimal wait time.
#[derive(Debug, Clone, PartialEq)]
pub struct WaitingCosts {
    /// Opportunity cost of waiting, κ, in reward units (µL) per second, positive.
    pub cost_per_s: f64,
    /// Mean reward delay λ in seconds, positive.
    pub mean_delay_s: f64,
    /// Probability that a trial is a catch trial, in [0, 1].
    pub p_catch: f64,
    /// Reward of an opt-out (negative for a penalty).
    pub opt_out_reward: f64,
}

impl Default for WaitingCosts {
    /// κ = 1 per second (the task's wait cost of 0.05 per 0.05 s step), λ = 2.5 s,
    /// p_catch = 0.2 and an opt-out penalty of −2.
    fn default() -> Self {
        Self {
            cost_per_s: 1.0,
            mean_delay_s: 2.5,
            p_catch: 0.2,
            opt_out_reward: -2.0,
        }
    }
}

impl WaitingCosts {
    fn validate(&self) -> Result<()> {
        let positive = |x: f64| x.is_finite() && x > 0.0;
        if !positive(self.cost_per_s) {
            return Err(Error::invalid(
                "cost per second",
                format!("{}; expected > 0", self.cost_per_s),
            ));
        }
        if !positive(self.mean_delay_s) {
            return Err(Error::invalid(
                "mean delay",
                format!("{} s; expected > 0", self.mean_delay_s),
            ));
        }
        if !(0.0..=1.0).contains(&self.p_catch) {
            return Err(Error::invalid(
                "p_catch",
                format!("{}; expected a value in [0, 1]", self.p_catch),
            ));
        }
        if !self.opt_out_reward.is_finite() {
            return Err(Error::invalid(
                "opt-out reward",
                format!("{}; expected a finite value", self.opt_out_reward),
            ));
        }
        Ok(())
    }
}

/// Computes the optimal wait time of the original study in seconds,
/// `t*(R) = λ [ln(R(1 − p)) − ln(κλ)]`, clipped at 0.
///
/// `t*` is the time at which the unconditional density of reward arrival,
/// `(1 − p) R e^{−t/λ} / λ`, falls to the cost rate κ. It is the closed form the original
/// study plots, not the maximiser of [`expected_value_of_waiting`]. With the default costs
/// it gives 1.18, 2.91, 4.64, 6.37 and 8.11 s for 5, 10, 20, 40 and 80 µL.
pub fn optimal_wait_time(offer_ul: f64, costs: &WaitingCosts) -> Result<f64> {
    costs.validate()?;
    check_offer(offer_ul)?;

    let lambda = costs.mean_delay_s;
    let log_gain = (offer_ul * (1.0 - costs.p_catch)).ln();
    let t = lambda * (log_gain - (costs.cost_per_s * lambda).ln());

    // With p_catch = 1 the log is −∞ and the clip returns 0.
    Ok(t.max(0.0))
}

/// Computes the expected return of "wait until `wait_s`, then opt out" for an offer of
/// `offer_ul`:
///
/// `(1 − p)[(1 − e)R − κλ(1 − e) + R_oo e] + p(−κt + R_oo)`, with `e = e^{−t/λ}`.
///
/// On a non-catch trial the reward R arrives before `t` with probability 1 − e, and
/// otherwise the agent opts out for R_oo. The expected time paid for is
/// E[min(D, t)] = λ(1 − e). A catch trial always costs κt and ends with R_oo.
pub fn expected_value_of_waiting(wait_s: f64, offer_ul: f64, costs: &WaitingCosts) -> Result<f64> {
    costs.validate()?;
    check_offer(offer_ul)?;
    if !(wait_s.is_finite() && wait_s >= 0.0) {
        return Err(Error::invalid(
            "wait time",
            format!("{wait_s} s; expected a finite value ≥ 0"),
        ));
    }

    let WaitingCosts {
        cost_per_s: kappa,
        mean_delay_s: lambda,
        p_catch: p,
        opt_out_reward,
    } = *costs;
    let e = (-wait_s / lambda).exp();
    let not_catch = (1.0 - e) * offer_ul - kappa * lambda * (1.0 - e) + opt_out_reward * e;
    let catch = -kappa * wait_s + opt_out_reward;
    Ok((1.0 - p) * not_catch + p * catch)
}

fn check_offer(offer_ul: f64) -> Result<()> {
    if !(offer_ul.is_finite() && offer_ul > 0.0) {
        return Err(Error::invalid(
            "offer",
            format!("{offer_ul} µL; expected a positive volume"),
        ));
    }
    Ok(())
}
