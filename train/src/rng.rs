//! Seeded sampling on top of xoshiro256++: the same seed gives the same numbers on every
//! machine (no platform-dependent library calls beyond `ln`, `sqrt`, `cos` of f64).

use rand_xoshiro::rand_core::{Rng as _, SeedableRng};
use rand_xoshiro::Xoshiro256PlusPlus;

// The separate streams of a run, each seed xor-ed with its own constant, so that initial
// weights, held-out checks, tests, the hold-out split and batches never share draws.
/// Initial weights.
pub(crate) const INIT_STREAM: u64 = 0x1111_0000_0000_0000;
/// Held-out checks.
pub(crate) const CHECK_STREAM: u64 = 0x2222_0000_0000_0000;
/// Test trials.
pub(crate) const TEST_STREAM: u64 = 0x3333_0000_0000_0000;
/// The hold-out split of a task's trials.
pub(crate) const HOLD_OUT_STREAM: u64 = 0x4444_0000_0000_0000;
/// A task's training batches.
pub(crate) const BATCH_STREAM: u64 = 0x5555_0000_0000_0000;

/// A seeded generator of uniform and normal draws.
#[derive(Debug, Clone)]
pub struct Rng(Xoshiro256PlusPlus);

impl Rng {
    /// The generator for `seed`.
    pub fn new(seed: u64) -> Self {
        Rng(Xoshiro256PlusPlus::seed_from_u64(seed))
    }

    /// Uniform on [0, 1), 53 random bits.
    pub fn uniform(&mut self) -> f64 {
        (self.0.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }

    /// Uniform on [lo, hi).
    pub fn range(&mut self, lo: f64, hi: f64) -> f64 {
        lo + (hi - lo) * self.uniform()
    }

    /// -1 or +1 with equal probability.
    pub fn sign(&mut self) -> f64 {
        if self.0.next_u64() >> 63 == 0 {
            -1.0
        } else {
            1.0
        }
    }

    /// N(mean, sd^2), by Box-Muller.
    pub fn normal(&mut self, mean: f64, sd: f64) -> f64 {
        let (a, b) = (1.0 - self.uniform(), self.uniform());
        mean + sd * (-2.0 * a.ln()).sqrt() * (2.0 * std::f64::consts::PI * b).cos()
    }

    /// `len` draws of N(mean, sd^2) as f32.
    pub fn normals(&mut self, len: usize, mean: f64, sd: f64) -> Vec<f32> {
        (0..len).map(|_| self.normal(mean, sd) as f32).collect()
    }
}
