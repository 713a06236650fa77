//! Training throughput of the two-region network, the three measurements of the PyTorch peer
//! script (`torch_window.py`): one 500-step RL window at batch 1 (stepped, backward, Adam), one
//! intermediate-kindergarten epoch (batch 100 × 652 steps) and the RL regulariser batch
//! (1000 × 45 steps), at 256 and 64 units per region.
//!
//! Run: `cargo bench --bench training`. Inputs are stand-ins with the real shapes.

use criterion::{criterion_group, criterion_main, Criterion};
use rand::Rng;

use rnn_dynamics::train::losses::ALL_SUPERVISED;
use rnn_dynamics::train::policy::Categorical;
use rnn_dynamics::train::{supervised_backward, ActorCriticConfig, Adam, RlWindow, StepRecord, TwoRegionParams, TwoRegionState, TwoRegionTape};

const WINDOW: usize = 500;

fn rl_window(params: &mut TwoRegionParams<f32>, window: &mut RlWindow<f32>, adam: &mut Adam<f32>, records: &mut Vec<StepRecord>, seed: u64) {
    let (h1, h2) = (params.ofc_hidden(), params.str_hidden());
    let mut rng = rnn_dynamics::rng::stream(seed, "actions");
    let state = TwoRegionState::uniform(1, h1, h2, &mut rnn_dynamics::rng::stream(seed, "state"));
    window.begin(&state).unwrap();
    records.clear();
    for step in 0..WINDOW {
        let x = [0.0, 0.0, 0.1 * (step % 7) as f32, 0.0];
        let out = window.forward_step(params, &x).unwrap();
        let policy = Categorical::masked(&out.p[..3], [true, true, false]).unwrap();
        let action = if rng.gen::<f64>() < policy.probs[0] { 0 } else { 1 };
        records.push(StepRecord { action, reward: 0.05, in_iti: false, block: None });
    }
    window.actor_critic_backward(params, records, &ActorCriticConfig::default()).unwrap();
    let grads = window.grads().clone();
    adam.step(&mut params.tensors_mut(), &grads.tensors()).unwrap();
}

struct SupervisedData {
    inputs: Vec<f32>,
    targets: Vec<f32>,
    batch: usize,
    steps: usize,
}

fn supervised_data(batch: usize, steps: usize) -> SupervisedData {
    let mut rng = rnn_dynamics::rng::stream(0, "bench data");
    SupervisedData {
        inputs: (0..batch * steps * 4).map(|_| rng.gen_range(-1.0..1.0)).collect(),
        targets: (0..batch * steps * 3).map(|_| rng.gen_range(-1.0..1.0)).collect(),
        batch,
        steps,
    }
}

fn supervised_epoch(params: &mut TwoRegionParams<f32>, tape: &mut TwoRegionTape<f32>, grads: &mut TwoRegionParams<f32>, adam: &mut Adam<f32>, data: &SupervisedData) {
    let state = TwoRegionState::uniform(data.batch, params.ofc_hidden(), params.str_hidden(), &mut rnn_dynamics::rng::stream(0, "state"));
    grads.fill_zero();
    supervised_backward(tape, params, &data.inputs, &data.targets, data.steps, &state, ALL_SUPERVISED, 1.0, grads).unwrap();
    adam.step(&mut params.tensors_mut(), &grads.tensors()).unwrap();
}

fn training(c: &mut Criterion) {
    for hidden in [256, 64] {
        let mut group = c.benchmark_group(format!("two_region_{hidden}"));
        group.sample_size(10);
        group.measurement_time(std::time::Duration::from_secs(8));
        group.warm_up_time(std::time::Duration::from_secs(1));

        let mut params = TwoRegionParams::<f32>::init(hidden, hidden, 0);
        let mut adam = Adam::new(1e-4);
        let mut window = RlWindow::new(hidden, hidden, WINDOW);
        let mut records = Vec::with_capacity(WINDOW);
        let mut seed = 0;
        group.bench_function("rl_window_500x1", |b| {
            b.iter(|| {
                seed += 1;
                rl_window(&mut params, &mut window, &mut adam, &mut records, seed)
            })
        });

        let mut tape = TwoRegionTape::new(hidden, hidden);
        let mut grads = TwoRegionParams::zeros(hidden, hidden);
        for (name, batch, steps) in [("kindergarten_epoch_100x652", 100, 652), ("regulariser_1000x45", 1000, 45)] {
            let data = supervised_data(batch, steps);
            group.bench_function(name, |b| b.iter(|| supervised_epoch(&mut params, &mut tape, &mut grads, &mut adam, &data)));
        }
        group.finish();
    }
}

criterion_group!(benches, training);
criterion_main!(benches);
