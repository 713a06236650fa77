//! Named random streams.
//!
//! Each purpose (task trials, block switches, ITIs, actions, initial states, datasets,
//! fixed-point starts, ...) draws from its own ChaCha8 stream. A stream's seed is a hash of
//! the run seed and the stream's name, so adding draws to one stream changes no other.

use rand_chacha::ChaCha8Rng;
use rand::SeedableRng;
use sha2::{Digest, Sha256};

/// Returns the ChaCha8 generator for the stream `name` of the run seeded with `seed`.
pub fn stream(seed: u64, name: &str) -> ChaCha8Rng {
    let mut hasher = Sha256::new();
    hasher.update(seed.to_le_bytes());
    hasher.update(name.as_bytes());
    let digest = hasher.finalize();

    let mut key = [0u8; 32];
    key.copy_from_slice(&digest);
    ChaCha8Rng::from_seed(key)
}

/// Returns the stream `name` with a numeric index (one per network, trajectory or start),
/// for purposes that need many independent but reproducible generators.
pub fn indexed_stream(seed: u64, name: &str, index: u64) -> ChaCha8Rng {
    stream(seed, &format!("{name}/{index}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::Rng;

    #[test]
    fn stream_same_name_same_draws() {
        let a: Vec<u32> = stream(7, "trials").sample_iter(rand::distributions::Standard).take(5).collect();
        let b: Vec<u32> = stream(7, "trials").sample_iter(rand::distributions::Standard).take(5).collect();
        assert_eq!(a, b);
    }

    #[test]
    fn stream_names_are_independent() {
        let a: u64 = stream(7, "trials").gen();
        let b: u64 = stream(7, "actions").gen();
        let c: u64 = stream(8, "trials").gen();
        assert_ne!(a, b);
        assert_ne!(a, c);
    }
}
