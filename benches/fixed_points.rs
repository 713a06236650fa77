//! Whole fixed-point search (L-BFGS, Newton polish, dedup, Jacobians, eigendecompositions)
//! from 1024 starts on three PyTorch fixtures, with zero input. The flip-flop GRU-64 and tanh
//! RNN-64 start from states sampled from their trajectory files (noise 0.05, seed 0). The
//! random GRU-256 starts from its 1024 stored states.
//!
//! Run with `cargo bench --bench fixed_points`. The maps are local copies of PyTorch's cells,
//! shared with the integration tests, so the benchmark needs no model module.

#[path = "../tests/common/maps.rs"]
mod maps;

use criterion::{criterion_group, criterion_main, Criterion};
use rnn_dynamics::dynamics::fixed_points::{find_fixed_points, starts_from_states, FixedPointOptions};
use rnn_dynamics::io::read_tensor_file;
use rnn_dynamics::model::RecurrentMap;

fn states(file: &str, dim: usize) -> Vec<Vec<f64>> {
    let states = read_tensor_file(&maps::fixture(file)).unwrap();
    starts_from_states(states.get("states").unwrap(), dim, 1024, 0.05, 0).unwrap()
}

fn stored_starts(file: &str) -> Vec<Vec<f64>> {
    let file = read_tensor_file(&maps::fixture(file)).unwrap();
    let tensor = file.get("initial_states").unwrap();
    tensor.data.chunks(tensor.shape[1]).map(|row| row.to_vec()).collect()
}

fn bench_search(c: &mut Criterion, name: &str, map: &dyn RecurrentMap, starts: &[Vec<f64>]) {
    let input = vec![0.0; map.input_dim()];
    let opts = FixedPointOptions::default();
    c.bench_function(name, |b| {
        b.iter(|| find_fixed_points(map, &input, starts, &opts, None).unwrap())
    });
}

fn fixed_points(c: &mut Criterion) {
    let rnn = maps::load_tanh_rnn(&maps::fixture("flipflop_rnn64.safetensors"), "rnn.");
    bench_search(c, "flipflop_rnn64", &rnn, &states("flipflop_rnn64_states.safetensors", 64));

    let gru = maps::load_gru(&maps::fixture("flipflop_gru64.safetensors"), "rnn.");
    bench_search(c, "flipflop_gru64", &gru, &states("flipflop_gru64_states.safetensors", 64));

    let random = maps::load_gru(&maps::fixture("random_gru256.safetensors"), "");
    bench_search(c, "random_gru256", &random, &stored_starts("random_gru256_starts.safetensors"));
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(10);
    targets = fixed_points
}
criterion_main!(benches);
