//! The N-bit flip-flop task: each input channel carries rare ±1 pulses, and the matching
//! output must hold the sign of the channel's most recent pulse.
//!
//! Every channel pulses at t = 0, so the target is defined from the first step. Later steps
//! pulse with probability `pulse_probability` per channel, each sign with probability 1/2.

use rand::Rng;

use super::batch::SupervisedBatch;
use crate::error::{Error, Result};
use crate::rng::stream;

/// Settings of a flip-flop dataset.
#[derive(Debug, Clone, PartialEq)]
pub struct FlipFlopConfig {
    /// Number of sequences.
    pub batch: usize,
    /// Steps per sequence.
    pub steps: usize,
    /// Number of independent bits (input channels = target columns).
    pub bits: usize,
    /// Probability of a pulse per channel per step after t = 0, in [0, 1].
    pub pulse_probability: f64,
    /// Seed of the stream `datasets/flipflop`.
    pub seed: u64,
}

impl Default for FlipFlopConfig {
    fn default() -> Self {
        Self {
            batch: 64,
            steps: 100,
            bits: 3,
            pulse_probability: 0.05,
            seed: 0,
        }
    }
}

/// Generates flip-flop inputs (pulses) and targets (held signs), `bits` columns each.
///
/// Every (sequence, step, channel) cell takes two uniforms, one for the pulse and one for
/// its sign, so sequences do not shift when the pulse probability changes.
pub fn flipflop_task(config: &FlipFlopConfig) -> Result<SupervisedBatch> {
    if config.batch == 0 || config.steps == 0 || config.bits == 0 {
        return Err(Error::invalid(
            "flip-flop size",
            format!(
                "{} sequences × {} steps × {} bits; expected at least 1 of each",
                config.batch, config.steps, config.bits
            ),
        ));
    }
    if !(0.0..=1.0).contains(&config.pulse_probability) {
        return Err(Error::invalid(
            "pulse probability",
            format!("{}; expected a value in [0, 1]", config.pulse_probability),
        ));
    }

    let mut rng = stream(config.seed, "datasets/flipflop");
    let mut data = SupervisedBatch::zeros(config.batch, config.steps, config.bits, config.bits);
    let mut held_sign = vec![0.0f32; config.bits];

    for b in 0..config.batch {
        for t in 0..config.steps {
            for (channel, held) in held_sign.iter_mut().enumerate() {
                let pulse_uniform: f64 = rng.gen();
                let sign_uniform: f64 = rng.gen();
                let sign = if sign_uniform < 0.5 { -1.0 } else { 1.0 };

                if t == 0 || pulse_uniform < config.pulse_probability {
                    data.input_mut(b, t)[channel] = sign;
                    *held = sign;
                }
                data.target_mut(b, t)[channel] = *held;
            }
        }
    }
    Ok(data)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets_hold_last_pulse() {
        let data = flipflop_task(&FlipFlopConfig::default()).unwrap();
        for b in 0..data.batch {
            for channel in 0..3 {
                let mut held_sign = 0.0;
                for t in 0..data.steps {
                    let pulse = data.input(b, t)[channel];
                    assert!(matches!(pulse, -1.0 | 0.0 | 1.0));
                    if t == 0 {
                        assert_ne!(pulse, 0.0, "no pulse at t = 0");
                    }
                    if pulse != 0.0 {
                        held_sign = pulse;
                    }
                    assert_eq!(data.target(b, t)[channel], held_sign);
                }
            }
        }
    }

    #[test]
    fn pulse_rate_matches_probability() {
        let config = FlipFlopConfig {
            batch: 200,
            steps: 500,
            ..FlipFlopConfig::default()
        };
        let data = flipflop_task(&config).unwrap();

        // Pulses after t = 0; tolerance is 5 standard errors of a binomial share.
        let cells = (config.batch * (config.steps - 1) * config.bits) as f64;
        let pulses = (0..config.batch)
            .flat_map(|b| (1..config.steps).map(move |t| (b, t)))
            .map(|(b, t)| data.input(b, t).iter().filter(|&&x| x != 0.0).count())
            .sum::<usize>() as f64;
        let rate = pulses / cells;
        assert!(
            (rate - 0.05).abs() < 5.0 * (0.05 * 0.95 / cells).sqrt(),
            "pulse rate {rate}"
        );
    }

    #[test]
    fn rejects_bad_config() {
        let empty = FlipFlopConfig {
            bits: 0,
            ..FlipFlopConfig::default()
        };
        assert!(flipflop_task(&empty)
            .unwrap_err()
            .to_string()
            .contains("0 bits"));
        let probability = FlipFlopConfig {
            pulse_probability: -0.5,
            ..FlipFlopConfig::default()
        };
        assert!(flipflop_task(&probability)
            .unwrap_err()
            .to_string()
            .contains("-0.5"));
    }
}
