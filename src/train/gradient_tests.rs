//! Every analytic gradient of the trainer against central finite differences in f64.

use rand::Rng;

use super::params::{CellKind, CellParams, TwoRegionParams};
use super::two_region::{TwoRegionState, TwoRegionTape};
use super::{GruTape, LstmTape, RnnTape};

/// Step of the central differences; truncation error ~ε² and rounding ~1e-16/ε stay far below
/// the 1e-6 relative tolerance.
const EPS: f64 = 1e-5;
const TOLERANCE: f64 = 1e-6;

fn random(len: usize, seed: u64, name: &str) -> Vec<f64> {
    let mut rng = crate::rng::stream(seed, name);
    (0..len).map(|_| rng.gen_range(-1.0..1.0)).collect()
}

fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

/// Relative error with a floor of 1e-4 on the scale, so entries that are zero up to rounding
/// compare absolutely.
fn assert_close(analytic: f64, numeric: f64, what: &str) {
    let scale = analytic.abs().max(numeric.abs()).max(1e-4);
    let error = (analytic - numeric).abs() / scale;
    assert!(error < TOLERANCE, "{what}: analytic {analytic:e}, numeric {numeric:e}, relative error {error:e}");
}

/// Checks every entry of every tensor: `tensors(p)` lists the tensors to perturb.
fn check_all<P: Clone>(
    params: &P,
    grads: &[Vec<f64>],
    tensors_mut: impl Fn(&mut P) -> Vec<&mut [f64]>,
    loss: impl Fn(&P) -> f64,
    label: &str,
) {
    let count = tensors_mut(&mut params.clone()).len();
    assert_eq!(count, grads.len());
    for tensor in 0..count {
        for entry in 0..grads[tensor].len() {
            let mut plus = params.clone();
            tensors_mut(&mut plus)[tensor][entry] += EPS;
            let mut minus = params.clone();
            tensors_mut(&mut minus)[tensor][entry] -= EPS;
            let numeric = (loss(&plus) - loss(&minus)) / (2.0 * EPS);
            assert_close(grads[tensor][entry], numeric, &format!("{label} tensor {tensor} entry {entry}"));
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Single cells: loss = Σ_t w_t · h_t + Σ u · h_T (+ ½ Σ c_T² for the LSTM).

struct CellCase {
    batch: usize,
    steps: usize,
    input: usize,
    hidden: usize,
    x: Vec<f64>,
    h0: Vec<f64>,
    c0: Vec<f64>,
    w: Vec<f64>,
    u: Vec<f64>,
}

impl CellCase {
    fn new(batch: usize, steps: usize, input: usize, hidden: usize, seed: u64) -> Self {
        let state = batch * hidden;
        CellCase {
            batch,
            steps,
            input,
            hidden,
            x: random(steps * batch * input, seed, "x"),
            h0: random(state, seed, "h0"),
            c0: random(state, seed, "c0"),
            w: random(steps * state, seed, "w"),
            u: random(state, seed, "u"),
        }
    }
}

fn lstm_loss(case: &CellCase, params: &CellParams<f64>) -> f64 {
    let mut tape = LstmTape::new(case.input, case.hidden);
    tape.reset(case.batch, case.steps, &case.h0, &case.c0).unwrap();
    let step_len = case.batch * case.input;
    let mut loss = 0.0;
    for t in 0..case.steps {
        let h = tape.step(params, &case.x[t * step_len..(t + 1) * step_len]).unwrap();
        let state = h.len();
        loss += dot(h, &case.w[t * state..(t + 1) * state]);
    }
    let c_final = tape.c(case.steps);
    loss + dot(tape.h(case.steps), &case.u) + 0.5 * dot(c_final, c_final)
}

fn check_lstm(batch: usize, steps: usize, seed: u64) {
    let case = CellCase::new(batch, steps, 3, 4, seed);
    let params = CellParams::<f64>::init(CellKind::Lstm, 3, 4, &mut crate::rng::stream(seed, "params"));
    for t in params.tensors() {
        assert!(t.iter().any(|&v| v != 0.0));
    }

    let mut tape = LstmTape::new(3, 4);
    tape.reset(batch, steps, &case.h0, &case.c0).unwrap();
    for t in 0..steps {
        tape.step(&params, &case.x[t * batch * 3..(t + 1) * batch * 3]).unwrap();
    }
    let c_final = tape.c(steps).to_vec();
    let mut grads = CellParams::zeros(CellKind::Lstm, 3, 4);
    let mut dx = vec![0.0; steps * batch * 3];
    tape.backward(&params, &case.w, &case.u, &c_final, &mut grads, Some(&mut dx)).unwrap();
    let (dh0, dc0) = tape.initial_state_grad();
    let (dh0, dc0) = (dh0.to_vec(), dc0.to_vec());

    let grads_list: Vec<Vec<f64>> = grads.tensors().iter().map(|t| t.to_vec()).collect();
    check_all(&params, &grads_list, |p| p.tensors_mut().into_iter().collect(), |p| lstm_loss(&case, p), "LSTM");

    // Inputs and initial state.
    let inputs_grads = vec![dx, dh0, dc0];
    check_all(
        &case_inputs(&case),
        &inputs_grads,
        |c| vec![c.x.as_mut_slice(), c.h0.as_mut_slice(), c.c0.as_mut_slice()],
        |c| lstm_loss(&c.to_case(&case), &params),
        "LSTM inputs",
    );
}

#[derive(Clone)]
struct CaseInputs {
    x: Vec<f64>,
    h0: Vec<f64>,
    c0: Vec<f64>,
}

impl CaseInputs {
    fn to_case(&self, base: &CellCase) -> CellCase {
        CellCase { x: self.x.clone(), h0: self.h0.clone(), c0: self.c0.clone(), w: base.w.clone(), u: base.u.clone(), ..*base }
    }
}

fn case_inputs(case: &CellCase) -> CaseInputs {
    CaseInputs { x: case.x.clone(), h0: case.h0.clone(), c0: case.c0.clone() }
}

#[test]
fn lstm_gradient_batched() {
    check_lstm(3, 5, 1);
}

#[test]
fn lstm_gradient_batch_one() {
    check_lstm(1, 6, 2);
}

fn gru_or_rnn_loss(kind: CellKind, case: &CellCase, params: &CellParams<f64>) -> f64 {
    let step_len = case.batch * case.input;
    let mut loss = 0.0;
    let final_h: Vec<f64>;
    match kind {
        CellKind::Gru => {
            let mut tape = GruTape::new(case.input, case.hidden);
            tape.reset(case.batch, case.steps, &case.h0).unwrap();
            for t in 0..case.steps {
                let h = tape.step(params, &case.x[t * step_len..(t + 1) * step_len]).unwrap();
                loss += dot(h, &case.w[t * h.len()..(t + 1) * h.len()]);
            }
            final_h = tape.h(case.steps).to_vec();
        }
        _ => {
            let mut tape = RnnTape::new(case.input, case.hidden);
            tape.reset(case.batch, case.steps, &case.h0).unwrap();
            for t in 0..case.steps {
                let h = tape.step(params, &case.x[t * step_len..(t + 1) * step_len]).unwrap();
                loss += dot(h, &case.w[t * h.len()..(t + 1) * h.len()]);
            }
            final_h = tape.h(case.steps).to_vec();
        }
    }
    loss + dot(&final_h, &case.u) + 0.5 * dot(&final_h, &final_h)
}

fn check_gru_or_rnn(kind: CellKind, batch: usize, steps: usize, seed: u64) {
    let (n_in, n_h) = (3, 4);
    let case = CellCase::new(batch, steps, n_in, n_h, seed);
    let params = CellParams::<f64>::init(kind, n_in, n_h, &mut crate::rng::stream(seed, "params"));
    let mut grads = CellParams::zeros(kind, n_in, n_h);
    let mut dx = vec![0.0; steps * batch * n_in];
    let dh0 = match kind {
        CellKind::Gru => {
            let mut tape = GruTape::new(n_in, n_h);
            tape.reset(batch, steps, &case.h0).unwrap();
            for t in 0..steps {
                tape.step(&params, &case.x[t * batch * n_in..(t + 1) * batch * n_in]).unwrap();
            }
            let dh_final: Vec<f64> = tape.h(steps).iter().zip(&case.u).map(|(h, u)| h + u).collect();
            tape.backward(&params, &case.w, &dh_final, &mut grads, Some(&mut dx)).unwrap();
            tape.initial_state_grad().to_vec()
        }
        _ => {
            let mut tape = RnnTape::new(n_in, n_h);
            tape.reset(batch, steps, &case.h0).unwrap();
            for t in 0..steps {
                tape.step(&params, &case.x[t * batch * n_in..(t + 1) * batch * n_in]).unwrap();
            }
            let dh_final: Vec<f64> = tape.h(steps).iter().zip(&case.u).map(|(h, u)| h + u).collect();
            tape.backward(&params, &case.w, &dh_final, &mut grads, Some(&mut dx)).unwrap();
            tape.initial_state_grad().to_vec()
        }
    };

    let grads_list: Vec<Vec<f64>> = grads.tensors().iter().map(|t| t.to_vec()).collect();
    check_all(&params, &grads_list, |p| p.tensors_mut().into_iter().collect(), |p| gru_or_rnn_loss(kind, &case, p), &format!("{kind:?}"));
    check_all(
        &case_inputs(&case),
        &[dx, dh0],
        |c| vec![c.x.as_mut_slice(), c.h0.as_mut_slice()],
        |c| gru_or_rnn_loss(kind, &c.to_case(&case), &params),
        &format!("{kind:?} inputs"),
    );
}

#[test]
fn gru_gradient_batched() {
    check_gru_or_rnn(CellKind::Gru, 3, 5, 3);
}

#[test]
fn gru_gradient_batch_one() {
    check_gru_or_rnn(CellKind::Gru, 1, 6, 4);
}

#[test]
fn rnn_gradient_batched() {
    check_gru_or_rnn(CellKind::RnnTanh, 3, 5, 5);
}

#[test]
fn rnn_gradient_batch_one() {
    check_gru_or_rnn(CellKind::RnnTanh, 1, 6, 6);
}

// ---------------------------------------------------------------------------------------------
// Two-region network: loss = Σ wq·q + Σ wp·p + Σ wf·h_final + ½ Σ c_final² over both regions.

struct TwoRegionCase {
    batch: usize,
    steps: usize,
    inputs: Vec<f64>,
    state: TwoRegionState<f64>,
    wq: Vec<f64>,
    wp: Vec<f64>,
    wf_ofc: Vec<f64>,
    wf_str: Vec<f64>,
    /// Multiplies the final-state terms (0 leaves only the output terms).
    final_weight: f64,
}

const H1: usize = 3;
const H2: usize = 4;

impl TwoRegionCase {
    fn new(batch: usize, steps: usize, seed: u64) -> Self {
        let rows = batch * steps;
        TwoRegionCase {
            batch,
            steps,
            inputs: random(rows * 4, seed, "inputs"),
            state: TwoRegionState::uniform(batch, H1, H2, &mut crate::rng::stream(seed, "state")),
            wq: random(rows * 4, seed, "wq"),
            wp: random(rows * 6, seed, "wp"),
            wf_ofc: random(batch * H1, seed, "wf_ofc"),
            wf_str: random(batch * H2, seed, "wf_str"),
            final_weight: 1.0,
        }
    }

    fn loss(&self, params: &TwoRegionParams<f64>, state: &TwoRegionState<f64>) -> f64 {
        let mut tape = TwoRegionTape::new(H1, H2);
        tape.forward_batch(params, &self.inputs, self.steps, state).unwrap();
        let f = tape.final_state();
        let final_terms = dot(&f.h_ofc, &self.wf_ofc) + dot(&f.h_str, &self.wf_str) + 0.5 * dot(&f.c_ofc, &f.c_ofc) + 0.5 * dot(&f.c_str, &f.c_str);
        dot(tape.q(), &self.wq) + dot(tape.p(), &self.wp) + self.final_weight * final_terms
    }

    fn gradients(&self, params: &TwoRegionParams<f64>) -> (TwoRegionParams<f64>, TwoRegionState<f64>) {
        let mut tape = TwoRegionTape::new(H1, H2);
        tape.forward_batch(params, &self.inputs, self.steps, &self.state).unwrap();
        let f = tape.final_state();
        let scale = |v: &[f64]| v.iter().map(|x| x * self.final_weight).collect::<Vec<f64>>();
        let d_final = TwoRegionState { batch: self.batch, h_ofc: scale(&self.wf_ofc), c_ofc: scale(&f.c_ofc), h_str: scale(&self.wf_str), c_str: scale(&f.c_str) };
        let mut grads = TwoRegionParams::zeros(H1, H2);
        tape.backward(params, &self.wq, &self.wp, Some(&d_final), &mut grads).unwrap();
        (grads, tape.initial_state_grad())
    }
}

fn check_two_region(case: &TwoRegionCase, params: &TwoRegionParams<f64>, label: &str) -> TwoRegionParams<f64> {
    let (grads, d_state) = case.gradients(params);
    let grads_list: Vec<Vec<f64>> = grads.tensors().iter().map(|t| t.to_vec()).collect();
    check_all(params, &grads_list, |p| p.tensors_mut(), |p| case.loss(p, &case.state), label);

    let state_grads = vec![d_state.h_ofc, d_state.c_ofc, d_state.h_str, d_state.c_str];
    check_all(
        &case.state,
        &state_grads,
        |s| vec![s.h_ofc.as_mut_slice(), s.c_ofc.as_mut_slice(), s.h_str.as_mut_slice(), s.c_str.as_mut_slice()],
        |s| case.loss(params, s),
        &format!("{label} initial state"),
    );
    grads
}

#[test]
fn two_region_gradient_batched() {
    let params = TwoRegionParams::<f64>::init(H1, H2, 7);
    check_two_region(&TwoRegionCase::new(3, 5, 7), &params, "two-region B=3");
}

#[test]
fn two_region_gradient_batch_one() {
    let params = TwoRegionParams::<f64>::init(H1, H2, 8);
    check_two_region(&TwoRegionCase::new(1, 7, 8), &params, "two-region B=1");
}

#[test]
fn two_region_str_loss_reaches_ofc() {
    // Only the STR outputs carry loss, so every OFC gradient comes through the logits q[0..3].
    let params = TwoRegionParams::<f64>::init(H1, H2, 9);
    let mut case = TwoRegionCase::new(2, 5, 9);
    case.wq.iter_mut().for_each(|w| *w = 0.0);
    case.final_weight = 0.0;
    let grads = check_two_region(&case, &params, "STR→OFC");
    assert!(grads.rnn1.w_hh.iter().any(|g| g.abs() > 1e-6), "OFC got no gradient from the STR loss");
    // The integration output q[3] does not feed the STR, so its head row gets nothing.
    assert!(grads.linear1.weight[3 * H1..4 * H1].iter().all(|&g| g == 0.0));
    assert_eq!(grads.linear1.bias[3], 0.0);
}

#[test]
fn truncated_window_matches_constant_start() {
    // Window 1 runs from a random state; window 2 starts from its final state. The window-2
    // gradient must equal the finite differences of window 2 alone with that start held fixed,
    // and differ from the full-BPTT gradient through both windows.
    let params = TwoRegionParams::<f64>::init(H1, H2, 10);
    let first = TwoRegionCase::new(1, 4, 10);
    let mut tape = TwoRegionTape::new(H1, H2);
    tape.forward_batch(&params, &first.inputs, first.steps, &first.state).unwrap();
    let carried = tape.final_state();

    let mut second = TwoRegionCase::new(1, 4, 11);
    second.state = carried;
    let truncated = check_two_region(&second, &params, "truncated window");

    let full_loss = |p: &TwoRegionParams<f64>| {
        let mut tape = TwoRegionTape::new(H1, H2);
        tape.forward_batch(p, &first.inputs, first.steps, &first.state).unwrap();
        second.loss(p, &tape.final_state())
    };
    let mut plus = params.clone();
    plus.rnn1.w_hh[0] += EPS;
    let mut minus = params.clone();
    minus.rnn1.w_hh[0] -= EPS;
    let full = (full_loss(&plus) - full_loss(&minus)) / (2.0 * EPS);
    assert!((full - truncated.rnn1.w_hh[0]).abs() > 1e-6, "full {full} equals truncated {}", truncated.rnn1.w_hh[0]);
}

// ---------------------------------------------------------------------------------------------
// Batched against batch-1 runs, and thread-count independence, at sizes that take the parallel
// paths (the two-region pipeline from B · 4H · H ≥ 2¹⁶, weight products above 2²¹
// multiply–adds).

fn run_batch<T: super::Real>(params: &TwoRegionParams<T>, inputs: &[T], steps: usize, state: &TwoRegionState<T>, wp: &[T]) -> (Vec<T>, TwoRegionParams<T>) {
    let mut tape = TwoRegionTape::new(params.ofc_hidden(), params.str_hidden());
    tape.forward_batch(params, inputs, steps, state).unwrap();
    let p = tape.p().to_vec();
    let dq = vec![T::ZERO; tape.q().len()];
    let mut grads = TwoRegionParams::zeros(params.ofc_hidden(), params.str_hidden());
    tape.backward(params, &dq, &wp[..p.len()], None, &mut grads).unwrap();
    (p, grads)
}

#[test]
fn batched_run_equals_sum_of_single_runs() {
    let (hidden, batch, steps) = (128, 64, 3);
    let params = TwoRegionParams::<f64>::init(hidden, hidden, 12);
    let inputs = random(batch * steps * 4, 12, "inputs");
    let state = TwoRegionState::uniform(batch, hidden, hidden, &mut crate::rng::stream(12, "state"));
    let wp = random(batch * steps * 6, 12, "wp");
    let (p_batch, grads_batch) = run_batch(&params, &inputs, steps, &state, &wp);

    let mut grads_sum = TwoRegionParams::<f64>::zeros(hidden, hidden);
    for b in 0..batch {
        let one_state = TwoRegionState {
            batch: 1,
            h_ofc: state.h_ofc[b * hidden..(b + 1) * hidden].to_vec(),
            c_ofc: state.c_ofc[b * hidden..(b + 1) * hidden].to_vec(),
            h_str: state.h_str[b * hidden..(b + 1) * hidden].to_vec(),
            c_str: state.c_str[b * hidden..(b + 1) * hidden].to_vec(),
        };
        // Time-major weights of sequence b.
        let one_wp: Vec<f64> = (0..steps).flat_map(|t| wp[(t * batch + b) * 6..(t * batch + b + 1) * 6].to_vec()).collect();
        let (p_one, grads_one) = run_batch(&params, &inputs[b * steps * 4..(b + 1) * steps * 4], steps, &one_state, &one_wp);
        for t in 0..steps {
            for k in 0..6 {
                let batched = p_batch[(t * batch + b) * 6 + k];
                assert!((batched - p_one[t * 6 + k]).abs() < 1e-12, "output b={b} t={t} k={k}");
            }
        }
        for (sum, one) in grads_sum.tensors_mut().into_iter().zip(grads_one.tensors()) {
            sum.iter_mut().zip(one).for_each(|(s, o)| *s += o);
        }
    }
    for (tensor, (batched, summed)) in grads_batch.tensors().iter().zip(grads_sum.tensors()).enumerate() {
        for (entry, (a, b)) in batched.iter().zip(summed).enumerate() {
            assert!((a - b).abs() < 1e-10, "tensor {tensor} entry {entry}: {a} vs {b}");
        }
    }
}

#[test]
fn results_do_not_depend_on_thread_count() {
    // Batch 64 takes the pipeline and the split weight products; batch 1 at 128 units takes
    // the pipeline of an RL window's backward pass.
    for (hidden, batch, steps) in [(128, 64, 4), (128, 1, 20)] {
        let params = TwoRegionParams::<f32>::init(hidden, hidden, 13);
        let inputs: Vec<f32> = random(batch * steps * 4, 13, "inputs").iter().map(|&v| v as f32).collect();
        let wp: Vec<f32> = random(batch * steps * 6, 13, "wp").iter().map(|&v| v as f32).collect();
        let state = TwoRegionState::uniform(batch, hidden, hidden, &mut crate::rng::stream(13, "state"));
        let run = |threads: usize| {
            let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap();
            pool.install(|| run_batch(&params, &inputs, steps, &state, &wp))
        };
        let (p1, g1) = run(1);
        for threads in [2, 3] {
            let (p, g) = run(threads);
            assert_eq!(p1, p, "outputs at batch {batch}, {threads} threads");
            assert_eq!(g1, g, "gradients at batch {batch}, {threads} threads");
        }
    }
}

#[test]
fn tape_reused_after_nan_window_matches_fresh_tape() {
    // The gate products overwrite the tape's gate rows without reading them, so NaN left by a
    // diverged window must not reach the next one.
    for (hidden, batch, steps) in [(8, 3, 5), (8, 1, 5), (128, 64, 3)] {
        let params = TwoRegionParams::<f32>::init(hidden, hidden, 14);
        let inputs: Vec<f32> = random(batch * steps * 4, 14, "inputs").iter().map(|&v| v as f32).collect();
        let state = TwoRegionState::uniform(batch, hidden, hidden, &mut crate::rng::stream(14, "state"));

        let mut fresh = TwoRegionTape::new(hidden, hidden);
        fresh.forward_batch(&params, &inputs, steps, &state).unwrap();

        let mut reused = TwoRegionTape::new(hidden, hidden);
        let nan_inputs = vec![f32::NAN; inputs.len()];
        reused.forward_batch(&params, &nan_inputs, steps, &state).unwrap();
        assert!(reused.p().iter().all(|v| v.is_nan()), "the diverged window at batch {batch} is not NaN");
        reused.forward_batch(&params, &inputs, steps, &state).unwrap();

        assert_eq!(fresh.q(), reused.q(), "q at batch {batch}");
        assert_eq!(fresh.p(), reused.p(), "p at batch {batch}");
    }
}
