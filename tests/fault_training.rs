//! Fault classes of training (truncated BPTT, LSTM backward, Adam, log-softmax, masked losses,
//! actor–critic stop-gradients, masked entropy, entropy sign), each with hand-computed numbers.

use rnn_dynamics::train::actor_critic::{actor_critic_window, ActorCriticConfig, StepRecord};
use rnn_dynamics::train::losses::{log_softmax, masked_cross_entropy};
use rnn_dynamics::train::policy::Categorical;
use rnn_dynamics::train::{Adam, CellKind, CellParams, LstmTape, TwoRegionParams, TwoRegionState, TwoRegionTape};

fn assert_near(got: f64, want: f64, tolerance: f64, what: &str) {
    assert!((got - want).abs() <= tolerance, "{what}: got {got:.12}, expected {want:.12} ± {tolerance:e}");
}

// --- Truncated BPTT on the scalar linear RNN h_t = w h_{t−1} + u x_t -------------------------

/// Gradients (dL/dw, dL/du) and loss of L = ½ h_T² for the scalar linear RNN, trained in
/// windows of `window` steps whose initial state is carried forward as a constant.
fn linear_rnn_windows(w: f64, u: f64, xs: &[f64], window: usize) -> (f64, f64, f64) {
    let mut h_start = 0.0;
    let (mut dw, mut du, mut loss) = (0.0, 0.0, 0.0);
    for (index, chunk) in xs.chunks(window).enumerate() {
        let mut hs = vec![h_start];
        for &x in chunk {
            hs.push(w * hs.last().unwrap() + u * x);
        }
        let is_last = (index + 1) * window >= xs.len();
        if is_last {
            let h_t = *hs.last().unwrap();
            loss = 0.5 * h_t * h_t;
            let mut dh = h_t;
            for t in (0..chunk.len()).rev() {
                dw += dh * hs[t];
                du += dh * chunk[t];
                dh *= w;
            }
        }
        h_start = *hs.last().unwrap();
    }
    (loss, dw, du)
}

#[test]
fn truncated_window_exact_gradients() {
    let xs = [1.0, 0.0, 0.0, 0.0];
    let (loss, dw, du) = linear_rnn_windows(0.5, 1.0, &xs, 2);
    assert_eq!(loss, 0.0078125);
    assert_eq!(dw, 0.0625);
    assert_eq!(du, 0.0);

    let (loss, dw, du) = linear_rnn_windows(0.5, 1.0, &xs, 4);
    assert_eq!(loss, 0.0078125);
    assert_eq!(dw, 0.09375);
    assert_eq!(du, 0.015625);
}

// --- A 1-unit LSTM with hand-checked forward values and gradients ----------------------------

const W: [f64; 4] = [0.5, -0.3, 0.8, 0.2];
const U: [f64; 4] = [0.1, 0.4, -0.6, 0.3];
const B: [f64; 4] = [0.0, 1.0, 0.1, -0.2];
const XS: [f64; 3] = [1.0, -0.5, 0.25];
const H3: f64 = 0.088185324717;
const C3: f64 = 0.192132051902;
const LOSS: f64 = 0.434160363715;

/// Checks six reference gradients of a 1-unit LSTM whose input column `column` carries W.
fn assert_reference_gradients(grads: &CellParams<f64>, column: usize, label: &str) {
    let inputs = grads.input;
    let tolerance = 1e-9;
    assert_near(grads.b_ih[1], -0.0058074580, tolerance, &format!("{label} dL/db_f"));
    assert_near(grads.b_hh[1], -0.0058074580, tolerance, &format!("{label} dL/db_f (hh)"));
    assert_near(grads.w_hh[1], -0.0006921283, tolerance, &format!("{label} dL/dU_f"));
    assert_near(grads.w_ih[inputs + column], 0.0067241209, tolerance, &format!("{label} dL/dW_f"));
    assert_near(grads.b_ih[0], -0.0170867025, tolerance, &format!("{label} dL/db_i"));
    assert_near(grads.w_hh[2], -0.0132971760, tolerance, &format!("{label} dL/dU_g"));
    assert_near(grads.b_ih[3], -0.0402086963, tolerance, &format!("{label} dL/db_o"));
}

/// Builds a 1-unit LSTM with the reference weights on input column `column` of `inputs`.
fn reference_cell(inputs: usize, column: usize) -> CellParams<f64> {
    let mut cell = CellParams::zeros(CellKind::Lstm, inputs, 1);
    for gate in 0..4 {
        cell.w_ih[gate * inputs + column] = W[gate];
        cell.w_hh[gate] = U[gate];
        cell.b_ih[gate] = B[gate];
    }
    cell
}

#[test]
fn lstm_unit_forward_and_gradients() {
    let cell = reference_cell(1, 0);
    let mut tape = LstmTape::new(1, 1);
    tape.reset(1, 3, &[0.1], &[-0.2]).unwrap();
    for x in XS {
        tape.step(&cell, &[x]).unwrap();
    }
    let (h3, c3) = (tape.h(3)[0], tape.c(3)[0]);
    assert_near(h3, H3, 1e-12, "h_3");
    assert_near(c3, C3, 1e-12, "c_3");
    assert_near(0.5 * (h3 - 1.0).powi(2) + 0.5 * c3 * c3, LOSS, 1e-12, "L");

    let mut grads = CellParams::zeros(CellKind::Lstm, 1, 1);
    tape.backward(&cell, &[0.0; 3], &[h3 - 1.0], &[c3], &mut grads, None).unwrap();
    assert_reference_gradients(&grads, 0, "LSTM");
}

/// Builds a two-region network of one unit per region, both LSTMs with the reference weights on
/// task channel 0 (which the STR reads as its input 0), and zero heads.
fn reference_two_region() -> TwoRegionParams<f64> {
    let mut params = TwoRegionParams::zeros(1, 1);
    params.rnn1 = reference_cell(4, 0);
    params.rnn2 = reference_cell(5, 0);
    params
}

fn reference_inputs() -> Vec<f64> {
    XS.iter().flat_map(|&x| [x, 0.0, 0.0, 0.0]).collect()
}

fn reference_state() -> TwoRegionState<f64> {
    TwoRegionState { batch: 1, h_ofc: vec![0.1], c_ofc: vec![-0.2], h_str: vec![0.1], c_str: vec![-0.2] }
}

#[test]
fn lstm_unit_in_both_regions() {
    let params = reference_two_region();
    let mut tape = TwoRegionTape::new(1, 1);
    tape.forward_batch(&params, &reference_inputs(), 3, &reference_state()).unwrap();
    let last = tape.final_state();
    for (h, c, region) in [(last.h_ofc[0], last.c_ofc[0], "OFC"), (last.h_str[0], last.c_str[0], "STR")] {
        assert_near(h, H3, 1e-12, &format!("{region} h_3"));
        assert_near(c, C3, 1e-12, &format!("{region} c_3"));
    }

    let d_final = TwoRegionState { batch: 1, h_ofc: vec![last.h_ofc[0] - 1.0], c_ofc: vec![last.c_ofc[0]], h_str: vec![last.h_str[0] - 1.0], c_str: vec![last.c_str[0]] };
    let mut grads = TwoRegionParams::zeros(1, 1);
    tape.backward(&params, &[0.0; 12], &[0.0; 18], Some(&d_final), &mut grads).unwrap();
    assert_reference_gradients(&grads.rnn1, 0, "OFC");
    assert_reference_gradients(&grads.rnn2, 0, "STR");
}

#[test]
fn str_cell_loss_reaches_ofc() {
    // L = ½ c_str,T²: no output and no hidden state enters the loss, so the OFC's gradient
    // flows only through the STR cell state and the OFC logits it reads.
    let mut params = reference_two_region();
    params.linear1.weight[0] = 0.7;
    params.linear1.weight[2] = -0.4;
    params.rnn2.w_ih[2] = 0.3;
    params.rnn2.w_ih[5 + 4] = 0.6;
    let loss = |p: &TwoRegionParams<f64>| {
        let mut tape = TwoRegionTape::new(1, 1);
        tape.forward_batch(p, &reference_inputs(), 3, &reference_state()).unwrap();
        0.5 * tape.final_state().c_str[0].powi(2)
    };

    let mut tape = TwoRegionTape::new(1, 1);
    tape.forward_batch(&params, &reference_inputs(), 3, &reference_state()).unwrap();
    let c_str = tape.final_state().c_str[0];
    let d_final = TwoRegionState { batch: 1, h_ofc: vec![0.0], c_ofc: vec![0.0], h_str: vec![0.0], c_str: vec![c_str] };
    let mut grads = TwoRegionParams::zeros(1, 1);
    tape.backward(&params, &[0.0; 12], &[0.0; 18], Some(&d_final), &mut grads).unwrap();

    let eps = 1e-6;
    let ofc_tensors = 6;
    let analytic: Vec<Vec<f64>> = grads.tensors()[..ofc_tensors].iter().map(|t| t.to_vec()).collect();
    let mut nonzero = 0;
    for (tensor, values) in analytic.iter().enumerate() {
        for (entry, &g) in values.iter().enumerate() {
            let mut plus = params.clone();
            plus.tensors_mut()[tensor][entry] += eps;
            let mut minus = params.clone();
            minus.tensors_mut()[tensor][entry] -= eps;
            let numeric = (loss(&plus) - loss(&minus)) / (2.0 * eps);
            let scale = g.abs().max(numeric.abs()).max(1e-4);
            assert!((g - numeric).abs() / scale < 1e-6, "OFC tensor {tensor} entry {entry}: {g} vs {numeric}");
            if g.abs() > 1e-8 {
                nonzero += 1;
            }
        }
    }
    assert!(nonzero >= 8, "only {nonzero} OFC gradients are non-zero");
}

// --- Adam bookkeeping: one step counter, bias correction once --------------------------------

#[test]
fn adam_constant_gradient_steps() {
    let mut adam = Adam::<f64>::new(1e-3);
    let (mut first, mut second) = (vec![0.0], vec![0.0]);
    adam.step(&mut [&mut first, &mut second], &[&[0.5], &[0.5]]).unwrap();
    assert_near(first[0], -9.9999998e-4, 1e-12, "parameter 1 after step 1");
    assert_near(second[0], -9.9999998e-4, 1e-12, "parameter 2 after step 1");
    adam.step(&mut [&mut first, &mut second], &[&[0.5], &[0.5]]).unwrap();
    assert_near(first[0], -1.99999996e-3, 1e-12, "parameter 1 after step 2");
    assert_near(second[0], -1.99999996e-3, 1e-12, "parameter 2 after step 2");
    assert_eq!(adam.steps(), 2);

    let mut scaled = vec![0.0, 0.0];
    Adam::<f64>::new(1e-3).step(&mut [&mut scaled], &[&[1e-6, 100.0]]).unwrap();
    assert_near(scaled[0], -9.90099e-4, 1e-9, "ε-dominated first step");
    assert_near(scaled[1], -9.99999e-4, 1e-9, "large-gradient first step");
}

#[test]
fn adam_f32_first_step() {
    let mut adam = Adam::<f32>::new(1e-3);
    let (mut first, mut second) = (vec![0.0f32], vec![0.0f32]);
    adam.step(&mut [&mut first, &mut second], &[&[0.5], &[0.5]]).unwrap();
    assert_near(first[0] as f64, -1e-3, 1e-9, "f32 parameter 1");
    assert_eq!(first, second);
}

// --- Log-softmax subtracts the maximum; logits of magnitude ~10³ ---------------------------

const LARGE_LOGITS: [f64; 10] = [-781.1664, -1043.7303, 890.2518, -1234.9999, -1622.5167, -2174.6855, -1304.8042, -1730.8314, -1072.6201, -1899.7662];
const LARGE_LOG_SOFTMAX: [f64; 10] = [-1671.4182, -1933.9821, 0.0, -2125.2517, -2512.7685, -3064.9373, -2195.0560, -2621.0832, -1962.8719, -2790.0180];

#[test]
fn log_softmax_large_logits_f64() {
    let mut out = [0.0; 10];
    log_softmax(&LARGE_LOGITS, &mut out).unwrap();
    for (k, (&got, &want)) in out.iter().zip(&LARGE_LOG_SOFTMAX).enumerate() {
        assert_near(got, want, 1e-4, &format!("log-softmax[{k}]"));
    }
    let mut pair = [0.0; 2];
    log_softmax(&[1000.0, 0.0], &mut pair).unwrap();
    assert_eq!(pair, [0.0, -1000.0]);

    let mut grad = [0.0; 10];
    masked_cross_entropy(&LARGE_LOGITS, 10, 10, &[0], &[true], 1.0, &mut grad).unwrap();
    assert!(grad.iter().all(|g| g.is_finite()));
    assert_near(grad[0], -1.0, 1e-12, "gradient at the target");
    assert_near(grad[2], 1.0, 1e-12, "gradient at the maximum");
}

#[test]
fn log_softmax_large_logits_f32() {
    let logits: Vec<f32> = LARGE_LOGITS.iter().map(|&v| v as f32).collect();
    let mut out = [0.0f32; 10];
    log_softmax(&logits, &mut out).unwrap();
    for (k, (&got, &want)) in out.iter().zip(&LARGE_LOG_SOFTMAX).enumerate() {
        assert_near(got as f64, want, 1e-3, &format!("f32 log-softmax[{k}]"));
    }
    let mut pair = [0.0f32; 2];
    log_softmax(&[1000.0f32, 0.0], &mut pair).unwrap();
    assert_eq!(pair, [0.0, -1000.0]);

    let mut grad = [0.0f32; 10];
    let loss = masked_cross_entropy(&logits, 10, 10, &[0], &[true], 1.0, &mut grad).unwrap();
    assert!(loss.is_finite());
    assert!(grad.iter().all(|g| g.is_finite()));
}

// --- Masked cross-entropy ----------------------------------------------------------------------

#[test]
fn cross_entropy_masked_mean() {
    let logits = [2.0, 0.0, f64::NEG_INFINITY, 0.0, 0.0, 1.0];
    let mut grad = [0.0; 6];
    let loss = masked_cross_entropy(&logits, 2, 2, &[0, 0, 1], &[true, false, true], 1.0, &mut grad).unwrap();
    assert_near(loss, 0.220095, 1e-6, "masked mean");

    // Per-step CE 0.126928 and 0.313262 over 2 valid steps; step 1 gives −(1 − σ(2)) / 2.
    assert_near(grad[0], -0.119203 / 2.0, 1e-6, "step 1 logit 0");
    assert_near(grad[1], 0.119203 / 2.0, 1e-6, "step 1 logit 1");
    assert_eq!(&grad[2..4], &[0.0, 0.0]);
}

#[test]
fn cross_entropy_per_step_values() {
    let logits = [2.0, 0.0, 0.0, 5.0, 0.0, 1.0];
    let mut grad = [0.0; 6];
    let all = masked_cross_entropy(&logits, 2, 2, &[0, 0, 1], &[true, true, true], 1.0, &mut grad).unwrap();
    assert_near(all, (0.126928 + 5.006715 + 0.313262) / 3.0, 1e-6, "mean of three steps");
    let mut one = [0.0; 2];
    let first = masked_cross_entropy(&logits[..2], 2, 2, &[0], &[true], 1.0, &mut one).unwrap();
    assert_near(first, 0.126928, 1e-6, "step 1 CE");
    assert_near(one[0], -0.119203, 1e-6, "step 1 gradient");
}

#[test]
fn cross_entropy_empty_mask_zero() {
    let logits = [2.0, 0.0, f64::NEG_INFINITY, 0.0, 0.0, 1.0];
    let mut grad = [0.0; 6];
    let loss = masked_cross_entropy(&logits, 2, 2, &[0, 0, 1], &[false; 3], 1.0, &mut grad).unwrap();
    assert_eq!(loss, 0.0);
    assert_eq!(grad, [0.0; 6]);
}

// --- Actor–critic window: stop-gradients and the entropy sign --------------------------------

/// Builds the outputs of two in-trial steps with the given policy logits (wait, opt-out) and
/// values.
fn two_step_outputs(logits: [f64; 2], values: [f64; 2]) -> Vec<f64> {
    let mut p = vec![0.0; 12];
    for k in 0..2 {
        p[k * 6] = logits[0];
        p[k * 6 + 1] = logits[1];
        p[k * 6 + 3] = values[k];
    }
    p
}

fn in_trial(action: usize, reward: f64) -> StepRecord {
    StepRecord { action, reward, in_iti: false, block: None }
}

#[test]
fn actor_term_skips_value() {
    let p = two_step_outputs([0.0, 0.0], [0.2, 5.0]);
    let config = ActorCriticConfig { gamma: 0.0, lambda_value: 0.0, lambda_entropy: 0.0, ..Default::default() };
    let (mut dp, mut dq) = (vec![0.0; 12], vec![0.0; 8]);
    let loss = actor_critic_window(&p, &[0.0; 8], &[in_trial(0, 1.0), in_trial(0, 0.0)], &config, &mut dp, &mut dq).unwrap();
    assert_near(loss.policy, 0.8 * std::f64::consts::LN_2, 1e-12, "actor loss −(G − φ) log π");
    assert_near(loss.policy, 0.554518, 1e-6, "actor loss");
    assert_near(dp[0], -0.4, 1e-12, "∂/∂θ");
    assert_eq!(dp[3], 0.0, "∂(actor)/∂φ must be 0");
    assert_eq!(dp[9], 0.0, "bootstrap value gets no actor gradient");
}

#[test]
fn actor_loss_skips_value_head() {
    let params = TwoRegionParams::<f64>::init(4, 5, 3);
    let mut tape = TwoRegionTape::new(4, 5);
    let steps = 6;
    let inputs: Vec<f64> = (0..steps * 4).map(|i| ((i as f64) * 0.7).sin()).collect();
    tape.forward_batch(&params, &inputs, steps, &TwoRegionState::zeros(1, 4, 5)).unwrap();
    let records: Vec<StepRecord> = (0..steps).map(|k| in_trial(k % 2, 0.1 * k as f64)).collect();
    let config = ActorCriticConfig { lambda_value: 0.0, lambda_entropy: 0.0, ..Default::default() };
    let (mut dp, mut dq) = (vec![0.0; steps * 6], vec![0.0; steps * 4]);
    actor_critic_window(tape.p(), tape.q(), &records, &config, &mut dp, &mut dq).unwrap();
    let mut grads = TwoRegionParams::zeros(4, 5);
    tape.backward(&params, &dq, &dp, None, &mut grads).unwrap();
    assert!(grads.linear2.weight[3 * 5..4 * 5].iter().all(|&g| g == 0.0), "value head row got actor gradient");
    assert_eq!(grads.linear2.bias[3], 0.0);
    assert!(grads.linear2.weight[..5].iter().any(|&g| g != 0.0), "policy head got no gradient");
}

#[test]
fn critic_semi_gradient_bootstrap() {
    let p = two_step_outputs([0.0, 0.0], [0.5, 2.0]);
    let steps = [in_trial(0, 1.0), in_trial(0, 0.0)];
    let mut config = ActorCriticConfig { gamma: 0.9, lambda_policy: 0.0, lambda_value: 0.5, lambda_entropy: 0.0, ..Default::default() };
    let (mut dp, mut dq) = (vec![0.0; 12], vec![0.0; 8]);
    let loss = actor_critic_window(&p, &[0.0; 8], &steps, &config, &mut dp, &mut dq).unwrap();
    assert_near(loss.value, 0.5 * 2.3 * 2.3, 1e-12, "½ δ²");
    assert_near(dp[3], -2.3, 1e-12, "∂/∂V(s)");
    assert_eq!(dp[9], 0.0, "∂/∂V(s′) must be 0");

    config.detach_bootstrap = false;
    let (mut dp, mut dq) = (vec![0.0; 12], vec![0.0; 8]);
    actor_critic_window(&p, &[0.0; 8], &steps, &config, &mut dp, &mut dq).unwrap();
    assert_near(dp[3], -2.3, 1e-12, "compat ∂/∂V(s)");
    assert_near(dp[9], 2.07, 1e-12, "compat ∂/∂V(s′) through the bootstrap");
}

#[test]
fn entropy_bonus_gradient_sign() {
    let mut p = vec![0.0; 6];
    p[0] = 1.0;
    let config = ActorCriticConfig { lambda_entropy: 0.01, ..Default::default() };
    let (mut dp, mut dq) = (vec![0.0; 6], vec![0.0; 4]);
    let loss = actor_critic_window(&p, &[0.0; 4], &[in_trial(0, 0.0)], &config, &mut dp, &mut dq).unwrap();
    assert_eq!(loss.in_trial_steps, 0);
    assert_near(dp[0], 0.00196612, 1e-8, "∂(−βH)/∂θ");
    assert_near(dp[0] + dp[1], 0.0, 1e-15, "softmax shift invariance");
    assert_eq!(dp[2], 0.0, "masked ITI logit");
}

// --- Masked entropy with 0 · log 0 = 0 --------------------------------------------------------

#[test]
fn masked_logit_finite_entropy() {
    let policy = Categorical::from_logits(&[0.0, 0.0, f64::NEG_INFINITY]).unwrap();
    assert_near(policy.entropy, std::f64::consts::LN_2, 1e-12, "entropy");
    assert_near(policy.log_probs[0], -std::f64::consts::LN_2, 1e-12, "log π(valid)");
    let grad = policy.entropy_grad();
    assert!(grad.iter().all(|g| g.is_finite()));
    assert_eq!(grad[2], 0.0);
    let grad = policy.log_prob_grad(0);
    assert!(grad.iter().all(|g| g.is_finite()));
    assert_eq!(grad[2], 0.0);
}

#[test]
fn masked_logit_minus_1e9_f32() {
    let policy = Categorical::from_logits(&[0.0f32, 0.0, -1e9]).unwrap();
    assert_near(policy.entropy, std::f64::consts::LN_2, 1e-12, "entropy");
    assert_eq!(policy.probs[2], 0.0);
    assert_eq!(policy.entropy_grad()[2], 0.0);
}

#[test]
fn fully_masked_policy_rejected() {
    let err = Categorical::from_logits(&[f64::NEG_INFINITY; 3]).unwrap_err();
    assert!(err.to_string().contains("exclude every action"), "{err}");
    let err = Categorical::masked(&[0.0, 0.0, 0.0], [false; 3]).unwrap_err();
    assert!(err.to_string().contains("exclude every action"), "{err}");
}

#[test]
fn actor_critic_rejects_disallowed_action() {
    let p = vec![0.0; 6];
    let (mut dp, mut dq) = (vec![0.0; 6], vec![0.0; 4]);
    let step = StepRecord { action: 2, reward: 0.0, in_iti: false, block: None };
    let err = actor_critic_window(&p, &[0.0; 4], &[step], &ActorCriticConfig::default(), &mut dp, &mut dq).unwrap_err();
    assert!(err.to_string().contains("probability 0"), "{err}");
}
