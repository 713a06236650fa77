//! Tests of the behavioural analyses on hand-built sessions.

use super::*;

const OFFERS: [f64; 5] = [5.0, 10.0, 20.0, 40.0, 80.0];

/// Returns a deterministic pseudo-noise value in [−0.5, 0.5).
fn jitter(k: usize) -> f64 {
    ((k as f64 * 0.754_877_666).fract()) - 0.5
}

/// Builds a session of `n` trials in blocks of 40 (mixed, high, low, …). Every third trial is a catch
/// trial whose wait time is 2 + 1.5·log2 V + block shift + `history`·log2 V_{t−1} + noise.
fn session(n: usize, high_shift: f64, low_shift: f64, history: f64) -> Vec<BehaviorTrial> {
    let mut trials = Vec::with_capacity(n);
    for k in 0..n {
        let block = match (k / 40) % 3 {
            0 => Block::Mixed,
            1 => Block::High,
            _ => Block::Low,
        };
        // Offers follow a scrambled cycle so that successive offers are not collinear.
        let offer_ul = OFFERS[(k * 7 + k / 5) % 5];
        let previous = if k == 0 {
            0.0
        } else {
            trials
                .last()
                .map(|t: &BehaviorTrial| t.offer_ul.log2())
                .unwrap()
        };
        let shift = match block {
            Block::High => high_shift,
            Block::Low => low_shift,
            Block::Mixed => 0.0,
        };
        let catch = k % 3 == 0;
        let wait = 2.0 + 1.5 * offer_ul.log2() + shift + history * previous + 0.3 * jitter(k);
        trials.push(BehaviorTrial {
            trial: k,
            block,
            offer_ul,
            catch,
            outcome: if catch {
                if k % 9 == 0 {
                    Outcome::Timeout
                } else {
                    Outcome::OptedOut
                }
            } else {
                Outcome::Rewarded
            },
            wait_time_s: wait,
            reward_total: if catch { 0.0 } else { offer_ul },
            duration_s: wait + 3.0,
        });
    }
    trials
}

#[test]
fn curves_use_each_block_own_sem() {
    let trials = session(600, -1.0, 1.0, 0.0);
    let curves = wait_time_curves(&trials, WaitSelection::CatchTrials).unwrap();
    assert_eq!(curves.all.len(), 5);
    for (block, points) in [
        (Block::High, &curves.high),
        (Block::Low, &curves.low),
        (Block::Mixed, &curves.mixed),
    ] {
        for point in points {
            let waits = selected_waits(
                &trials,
                WaitSelection::CatchTrials,
                Some(block),
                Some(point.offer_ul),
            );
            let m = waits.iter().sum::<f64>() / waits.len() as f64;
            let std = (waits.iter().map(|w| (w - m).powi(2)).sum::<f64>()
                / (waits.len() - 1) as f64)
                .sqrt();
            assert_eq!(point.n, waits.len());
            assert!((point.mean_s - m).abs() < 1e-12);
            assert!(
                (point.sem_s.unwrap() - std / (waits.len() as f64).sqrt()).abs() < 1e-12,
                "{block:?} {}",
                point.offer_ul
            );
        }
    }
}

#[test]
fn curves_opt_out_selection_drops_timeouts() {
    let trials = session(300, 0.0, 0.0, 0.0);
    let all = wait_time_curves(&trials, WaitSelection::CatchTrials).unwrap();
    let opt_outs = wait_time_curves(&trials, WaitSelection::CatchOptOuts).unwrap();
    let count = |c: &WaitCurves| c.all.iter().map(|p| p.n).sum::<usize>();
    let catch = trials.iter().filter(|t| t.catch).count();
    let timeouts = trials
        .iter()
        .filter(|t| t.outcome == Outcome::Timeout)
        .count();
    assert_eq!(count(&all), catch);
    assert_eq!(count(&opt_outs), catch - timeouts);
    assert!(timeouts > 0);
}

#[test]
fn curves_omit_absent_offers() {
    let mut trials = session(120, 0.0, 0.0, 0.0);
    trials.retain(|t| !(t.block == Block::High && t.offer_ul == 20.0));
    let curves = wait_time_curves(&trials, WaitSelection::CatchTrials).unwrap();
    assert!(curves.high.iter().all(|p| p.offer_ul != 20.0));
    assert!(curves.mixed.iter().any(|p| p.offer_ul == 20.0));
}

#[test]
fn offer_sensitivity_recovers_slope() {
    let trials = session(900, 0.0, 0.0, 0.0);
    let fit = offer_sensitivity(&trials, WaitSelection::CatchTrials, None)
        .unwrap()
        .unwrap();
    assert!((fit.slope - 1.5).abs() < 0.05, "{}", fit.slope);
    assert!(fit.p_value < 1e-10);
    assert!((fit.wait_range_s - fit.slope * 4.0).abs() < 1e-12);
    let mixed = offer_sensitivity(&trials, WaitSelection::CatchTrials, Some(Block::Mixed))
        .unwrap()
        .unwrap();
    assert!(mixed.n < fit.n);
    assert!((mixed.slope - 1.5).abs() < 0.1);
}

#[test]
fn offer_sensitivity_single_offer_is_none() {
    let mut trials = session(90, 0.0, 0.0, 0.0);
    trials.retain(|t| t.offer_ul == 20.0);
    assert_eq!(
        offer_sensitivity(&trials, WaitSelection::CatchTrials, None).unwrap(),
        None
    );
}

#[test]
fn block_sensitivity_ratio_and_direction() {
    let trials = session(1200, -2.0, 2.0, 0.0);
    let block = block_sensitivity(&trials, WaitSelection::CatchTrials, 20.0)
        .unwrap()
        .unwrap();
    let expected_ratio = block.mean_high_s / block.mean_low_s;
    assert!((block.ratio - expected_ratio).abs() < 1e-15);
    assert!(block.ratio < 1.0);
    assert!(block.p_high_less < 0.01, "{}", block.p_high_less);

    // Reversed shifts: high waits longer, so the one-sided p is large.
    let reversed = session(1200, 2.0, -2.0, 0.0);
    let block = block_sensitivity(&reversed, WaitSelection::CatchTrials, 20.0)
        .unwrap()
        .unwrap();
    assert!(block.ratio > 1.0);
    assert!(block.p_high_less > 0.9);
}

#[test]
fn block_sensitivity_missing_block_is_none_in_json() {
    let mut trials = session(600, -1.0, 1.0, 0.0);
    trials.retain(|t| !(t.block == Block::Low && t.offer_ul == 20.0 && t.catch));
    let options = BehaviorOptions::default();
    let report = analyze_behavior(&trials, &options).unwrap();
    assert_eq!(report.block_sensitivity, None);
    assert!(!report.criterion.met);
    let json = serde_json::to_string(&report).unwrap();
    assert!(json.contains("\"block_sensitivity\":null"));
    assert!(!json.contains("NaN"));
}

#[test]
fn outcome_rates_divide_by_trials_present() {
    let trials = session(7, 0.0, 0.0, 0.0);
    let rates = outcome_rates(&trials).unwrap();
    // Trials 0, 3, 6 are catch; 0 is a timeout, 3 and 6 opt-outs; 4 rewarded.
    assert_eq!(rates.n_trials, 7);
    assert_eq!(rates.rewarded, Some(4.0 / 7.0));
    assert_eq!(rates.opted_out, Some(2.0 / 7.0));
    assert_eq!(rates.timeout, Some(1.0 / 7.0));
    assert_eq!(rates.opted_out_non_catch, Some(0.0));
    let reward: f64 = trials.iter().map(|t| t.reward_total).sum();
    let duration: f64 = trials.iter().map(|t| t.duration_s).sum();
    assert!((rates.reward_rate_per_s.unwrap() - reward / duration).abs() < 1e-12);

    let empty = outcome_rates(&[]).unwrap();
    assert_eq!(empty.rewarded, None);
    assert_eq!(empty.reward_rate_per_s, None);
}

#[test]
fn history_regression_finds_previous_offer() {
    let trials = session(1500, 0.0, 0.0, -0.8);
    let fit = history_regression(&trials, WaitSelection::CatchTrials, None, 5)
        .unwrap()
        .unwrap();
    assert_eq!(fit.regressors.len(), HISTORY_LAGS + 1);
    assert_eq!(fit.ols.coefficients.len(), HISTORY_LAGS + 1);
    assert!(
        (fit.ols.coefficients[0] - 1.5).abs() < 0.05,
        "{:?}",
        fit.ols.coefficients
    );
    assert!(
        (fit.ols.coefficients[1] + 0.8).abs() < 0.05,
        "{:?}",
        fit.ols.coefficients
    );
    // p-values list the intercept first: lag 1 is significant, lag 4 is not built in.
    assert!(fit.ols.p_values[2] < 1e-6);
    assert!(fit.ols.p_values[5] > 1e-3);
    assert!(crate::compare::RIDGE_ALPHAS.contains(&fit.ridge.fit.alpha));
    let again = history_regression(&trials, WaitSelection::CatchTrials, None, 5)
        .unwrap()
        .unwrap();
    assert_eq!(fit, again);
}

#[test]
fn history_regression_mixed_only() {
    let trials = session(1500, -1.0, 1.0, -0.8);
    let all = history_regression(&trials, WaitSelection::CatchTrials, None, 5)
        .unwrap()
        .unwrap();
    let mixed = history_regression(&trials, WaitSelection::CatchTrials, Some(Block::Mixed), 5)
        .unwrap()
        .unwrap();
    let expected = trials
        .iter()
        .filter(|t| t.catch && t.block == Block::Mixed)
        .count();
    assert_eq!(mixed.n, expected);
    assert!(mixed.n < all.n);
    // Within one block the shift is constant, so the lag-1 effect is recovered cleanly.
    assert!(
        (mixed.ols.coefficients[1] + 0.8).abs() < 0.1,
        "{:?}",
        mixed.ols.coefficients
    );
}

#[test]
fn block_regression_has_nine_regressors() {
    let trials = session(1500, -1.0, 1.0, 0.0);
    let fit = block_regression(&trials, WaitSelection::CatchTrials, 5)
        .unwrap()
        .unwrap();
    assert_eq!(fit.regressors.len(), 9);
    assert_eq!(fit.regressors[7], "block");
    assert_eq!(fit.ols.p_values.len(), 10);

    // A session in one block has a constant block column, so the regression is undefined.
    let mut single = session(1500, 0.0, 0.0, 0.0);
    single.retain(|t| t.block == Block::Mixed);
    assert_eq!(
        block_regression(&single, WaitSelection::CatchTrials, 5).unwrap(),
        None
    );
}

#[test]
fn criterion_needs_both_sensitivities() {
    let rat_like =
        analyze_behavior(&session(1500, -2.0, 2.0, 0.0), &BehaviorOptions::default()).unwrap();
    assert!(rat_like.criterion.offer_sensitive);
    assert!(rat_like.criterion.block_sensitive);
    assert!(rat_like.criterion.met);

    let reversed =
        analyze_behavior(&session(1500, 2.0, -2.0, 0.0), &BehaviorOptions::default()).unwrap();
    assert!(reversed.criterion.offer_sensitive);
    assert!(!reversed.criterion.block_sensitive);
    assert!(!reversed.criterion.met);
}

#[test]
fn invalid_trials_are_rejected() {
    let mut rewarded_catch = session(10, 0.0, 0.0, 0.0);
    rewarded_catch[3].outcome = Outcome::Rewarded;
    let err = analyze_behavior(&rewarded_catch, &BehaviorOptions::default())
        .unwrap_err()
        .to_string();
    assert!(err.contains("trial 3"), "{err}");

    let mut unordered = session(10, 0.0, 0.0, 0.0);
    unordered.swap(2, 5);
    assert!(analyze_behavior(&unordered, &BehaviorOptions::default()).is_err());

    let mut bad_offer = session(10, 0.0, 0.0, 0.0);
    bad_offer[1].offer_ul = 0.0;
    assert!(wait_time_curves(&bad_offer, WaitSelection::CatchTrials).is_err());

    let mut bad_wait = session(10, 0.0, 0.0, 0.0);
    bad_wait[4].wait_time_s = f64::NAN;
    assert!(outcome_rates(&bad_wait).is_err());

    let options = BehaviorOptions {
        reference_offer_ul: -20.0,
        ..BehaviorOptions::default()
    };
    assert!(analyze_behavior(&session(10, 0.0, 0.0, 0.0), &options).is_err());
}
