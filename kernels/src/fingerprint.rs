//! A fingerprint of a run's inputs, so that [`Workspace::backward`](crate::Workspace::backward)
//! refuses a network, batch or step other than the recorded run's: its reverse sweep reads
//! the recorded states, and other parameters would give the gradient of no run.

use crate::network::{Batch, Network};
use crate::neuron::Neuron;
use crate::real::Real;
use crate::step::Step;

/// FNV-1a over 64-bit words: cheap (one multiply per value, next to the N^2 B T of a
/// sweep), allocation-free, and any change of a value or of an optional array's
/// presence changes it with probability 1 - 2^-64 for all practical purposes.
struct Hasher(u64);

impl Hasher {
    fn word(&mut self, word: u64) {
        self.0 = (self.0 ^ word).wrapping_mul(0x0000_0100_0000_01b3);
    }

    fn values<T: Real>(&mut self, values: &[T]) {
        self.word(values.len() as u64);
        values.iter().for_each(|v| self.word(v.to_f64().to_bits()));
    }

    fn optional<T: Real>(&mut self, values: Option<&[T]>) {
        match values {
            Some(values) => self.values(values),
            None => self.word(u64::MAX),
        }
    }
}

/// The fingerprint of everything a forward run's states depend on: the step's
/// configuration, the network's parameters, mask and time constants, and the batch's
/// initial state, inputs and external current.
pub(crate) fn fingerprint<T: Real, N: Neuron>(
    step: &Step<T, N>,
    net: &Network<'_, T>,
    batch: &Batch<'_, T>,
) -> u64 {
    let mut hasher = Hasher(0xcbf2_9ce4_8422_2325);
    let config = step.config();
    for value in [config.h, config.tau, config.tau_s, config.gate.delta()] {
        hasher.word(value.to_bits());
    }
    config.gate.name().bytes().for_each(|byte| hasher.word(byte.into()));
    for dim in [net.n, net.n_in, net.n_out, batch.b, batch.t] {
        hasher.word(dim as u64);
    }
    for values in [net.w, net.u, net.i0, net.o, batch.v0, batch.s0, batch.x] {
        hasher.values(values);
    }
    for values in [net.w_mask, net.tau, net.tau_s, batch.i_ext] {
        hasher.optional(values);
    }
    hasher.0
}
