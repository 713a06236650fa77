//! Initial states for the search.
//!
//! Three sources, in order of preference: states the network visited (a trajectory file),
//! trajectories simulated here under random input pulses, and random states. Every draw comes
//! from the named stream "fixed-point starts" of the run seed, so the same seed gives the same
//! starts.

use rand::Rng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, Normal};

use crate::error::{Error, Result};
use crate::io::Tensor;
use crate::model::RecurrentMap;
use crate::rng;

/// Name of the random stream every start draw comes from.
pub const STARTS_STREAM: &str = "fixed-point starts";

/// Default number of starts.
pub const DEFAULT_STARTS: usize = 1024;

/// Default standard deviation of the Gaussian noise added to sampled states, in state units.
/// Without noise, starts lie exactly on visited states, which cluster near the attractors
/// and rarely reach saddles. 0.05 is the noise behind the float64 reference counts of the
/// flip-flop fixtures (fixtures/pytorch/README.md), so results can be compared with them.
pub const DEFAULT_NOISE: f64 = 0.05;

/// Random input pulses used by [`starts_from_pulses`], like the flip-flop task's: on each step
/// each input channel independently gets `±amplitude` (equal odds) with `probability`, added
/// to the constant input.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PulseSettings {
    /// Number of simulated trajectories (default 64).
    pub n_trajectories: usize,
    /// Steps per trajectory (default 100).
    pub n_steps: usize,
    /// Probability of a pulse per channel and step (default 0.05).
    pub probability: f64,
    /// Pulse height (default 1).
    pub amplitude: f64,
}

impl Default for PulseSettings {
    fn default() -> Self {
        PulseSettings { n_trajectories: 64, n_steps: 100, probability: 0.05, amplitude: 1.0 }
    }
}

fn check_count_and_noise(n: usize, noise_std: f64) -> Result<Normal<f64>> {
    if n == 0 {
        return Err(Error::invalid("number of starts", "0 (expected at least 1)"));
    }
    if !(noise_std.is_finite() && noise_std >= 0.0) {
        return Err(Error::invalid(
            "start noise",
            format!("{noise_std} (expected a finite standard deviation >= 0)"),
        ));
    }
    Normal::new(0.0, noise_std)
        .map_err(|e| Error::invalid("start noise", format!("{noise_std} ({e})")))
}

/// Draws `n` rows with replacement from `rows` (each of length `dim`, flattened) and adds
/// `N(0, noise_std²)` noise to every coordinate.
fn sample_rows(
    rows: &[f64],
    dim: usize,
    n: usize,
    noise: &Normal<f64>,
    rng: &mut ChaCha8Rng,
) -> Vec<Vec<f64>> {
    let n_rows = rows.len() / dim;
    (0..n)
        .map(|_| {
            let row = rng.gen_range(0..n_rows);
            let mut x = rows[row * dim..(row + 1) * dim].to_vec();
            if noise.std_dev() > 0.0 {
                for xi in x.iter_mut() {
                    *xi += noise.sample(rng);
                }
            }
            x
        })
        .collect()
}

/// Samples `n` starts from a state tensor of shape `[n_traj, n_steps, state_dim]` or
/// `[n, state_dim]`, with replacement, plus `N(0, noise_std²)` noise per coordinate.
///
/// Errors when the shape does not end in `state_dim`, when the tensor is empty or contains a
/// non-finite value, or when `n` is 0 or the noise is negative or not finite.
pub fn starts_from_states(
    states: &Tensor,
    state_dim: usize,
    n: usize,
    noise_std: f64,
    seed: u64,
) -> Result<Vec<Vec<f64>>> {
    let noise = check_count_and_noise(n, noise_std)?;
    let shape = &states.shape;
    if !(shape.len() == 2 || shape.len() == 3) || shape.last() != Some(&state_dim) {
        return Err(Error::tensor(
            "states",
            format!(
                "shape {shape:?} (expected [n_traj, n_steps, {state_dim}] or [n, {state_dim}])"
            ),
        ));
    }
    if states.is_empty() {
        return Err(Error::tensor("states", format!("shape {shape:?} has no states")));
    }
    if let Some(position) = states.data.iter().position(|v| !v.is_finite()) {
        return Err(Error::tensor(
            "states",
            format!("state {} has a non-finite value", position / state_dim),
        ));
    }

    let mut rng = rng::stream(seed, STARTS_STREAM);
    Ok(sample_rows(&states.data, state_dim, n, &noise, &mut rng))
}

/// Simulates trajectories of `map` from the zero state under random input pulses added to
/// `input`, then samples `n` starts from the visited states as [`starts_from_states`] does.
/// A trajectory ends at its first non-finite state, and it is an error if no state is finite.
pub fn starts_from_pulses(
    map: &dyn RecurrentMap,
    input: &[f64],
    pulses: &PulseSettings,
    n: usize,
    noise_std: f64,
    seed: u64,
) -> Result<Vec<Vec<f64>>> {
    let noise = check_count_and_noise(n, noise_std)?;
    if input.len() != map.input_dim() {
        return Err(Error::invalid(
            "input",
            format!("length {} (expected {})", input.len(), map.input_dim()),
        ));
    }
    if pulses.n_trajectories == 0 || pulses.n_steps == 0 {
        return Err(Error::invalid(
            "pulse trajectories",
            format!(
                "{} trajectories of {} steps (expected at least 1 of each)",
                pulses.n_trajectories, pulses.n_steps
            ),
        ));
    }
    if !(0.0..=1.0).contains(&pulses.probability) || !pulses.amplitude.is_finite() {
        return Err(Error::invalid(
            "pulses",
            format!(
                "probability {} and amplitude {} (expected a probability in [0, 1] and a finite amplitude)",
                pulses.probability, pulses.amplitude
            ),
        ));
    }

    let dim = map.state_dim();
    let mut rng = rng::stream(seed, STARTS_STREAM);
    let mut visited: Vec<f64> = Vec::with_capacity(pulses.n_trajectories * pulses.n_steps * dim);
    let mut u = input.to_vec();
    let mut next = vec![0.0; dim];
    for _ in 0..pulses.n_trajectories {
        let mut x = vec![0.0; dim];
        for _ in 0..pulses.n_steps {
            for (channel, base) in u.iter_mut().zip(input) {
                *channel = base + pulse(pulses, &mut rng);
            }
            map.step(&x, &u, &mut next);
            if !next.iter().all(|v| v.is_finite()) {
                break;
            }
            x.copy_from_slice(&next);
            visited.extend_from_slice(&x);
        }
    }
    if visited.is_empty() {
        return Err(Error::Numerical(
            "every simulated state is non-finite; pass starting states instead".to_string(),
        ));
    }

    Ok(sample_rows(&visited, dim, n, &noise, &mut rng))
}

/// Returns `±amplitude` (equal odds) with the pulse probability, else 0.
fn pulse(pulses: &PulseSettings, rng: &mut ChaCha8Rng) -> f64 {
    if !rng.gen_bool(pulses.probability) {
        return 0.0;
    }
    if rng.gen_bool(0.5) {
        pulses.amplitude
    } else {
        -pulses.amplitude
    }
}

/// Draws `n` states with every coordinate from `N(0, std²)`.
pub fn random_starts(state_dim: usize, n: usize, std: f64, seed: u64) -> Result<Vec<Vec<f64>>> {
    let normal = check_count_and_noise(n, std)?;
    if state_dim == 0 {
        return Err(Error::invalid("state dimension", "0 (expected at least 1)"));
    }
    let mut rng = rng::stream(seed, STARTS_STREAM);
    Ok((0..n).map(|_| (0..state_dim).map(|_| normal.sample(&mut rng)).collect()).collect())
}
