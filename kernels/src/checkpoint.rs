//! The gradient of a run too long to record: the forward sweep keeps a checkpoint of
//! its state every L steps (L ~ sqrt(T)) and one segment of L steps; the reverse sweep
//! reruns each segment from its checkpoint, last first, and goes back over it. Memory
//! O(sqrt(T) N B) instead of O(T N B), for about one more forward sweep of time.
//!
//! Bit for bit the recorded run's gradient on the same number of threads: segments start
//! at multiples of the reverse sweep's block length and of the sparse forward's segment
//! length (both aligned to multiples of their length from step 0), a rerun resumes the
//! forward's path choice from its checkpoint, the readouts and input currents of a
//! segment are products over whole steps, and the charge is summed step by step.

use crate::activity::SEGMENT_STEPS;
use crate::backward::{ReverseInputs, StateGradient};
use crate::error::Error;
use crate::gemm::block_steps;
use crate::network::{Batch, Dims, Network};
use crate::neuron::Neuron;
use crate::real::Real;
use crate::step::Step;
use crate::workspace::{fit, step_charge, Sweep, Workspace};

/// The steps per segment of a checkpointed gradient of `dims` whose recorded trajectory
/// ((3 T + 2) N B values of `value_bytes` each) exceeds `limit`; `None` where it fits,
/// or where no segment shorter than T exists. A multiple of the reverse sweep's block
/// and of the sparse forward's segment, near sqrt(T) (which minimises the checkpoints'
/// and the segment's memory together).
pub(crate) fn segment_steps(dims: Dims, value_bytes: usize, limit: Option<usize>) -> Option<usize> {
    let limit = limit?;
    let values = dims.t.checked_mul(3)?.checked_add(2)?.checked_mul(dims.nb());
    let recorded = values.and_then(|v| v.checked_mul(value_bytes));
    if recorded.is_some_and(|bytes| bytes <= limit) {
        return None;
    }
    let unit = lcm(SEGMENT_STEPS, block_steps(dims.b, dims.t));
    let root = (dims.t as f64).sqrt().ceil() as usize;
    let segment = root.div_ceil(unit).max(1) * unit;
    (segment < dims.t).then_some(segment)
}

fn lcm(a: usize, b: usize) -> usize {
    let gcd = |mut a: usize, mut b: usize| {
        while b != 0 {
            (a, b) = (b, a % b);
        }
        a
    };
    a / gcd(a, b) * b
}

impl<T: Real> Workspace<T> {
    /// The forward run of a checkpointed gradient (see the module's text), validated by
    /// the caller: a checkpoint at each segment's start, the readouts of every step, the
    /// charge; the last segment's states stay held.
    pub(crate) fn forward_checkpointed<N: Neuron>(
        &mut self,
        step: &Step<T, N>,
        net: &Network<'_, T>,
        batch: &Batch<'_, T>,
        dims: Dims,
        segment: usize,
    ) -> Result<(), Error> {
        self.dims = None;
        self.recorded = false;
        self.check_memory(dims, Sweep::Checkpointed { segment }, net)?;
        self.compile_constants(step, net, dims)?;
        self.prepare_weights(net, dims)?;
        self.start(batch, dims, segment + 1, segment)?;
        self.start_forward(step, net, batch, dims)?;
        let (nb, steps) = (dims.nb(), dims.t);
        let segments = steps.div_ceil(segment);
        let per_checkpoint = 2 * nb + self.activity.forward_state_len();
        fit(&mut self.checkpoints, segments * per_checkpoint)?;
        self.checkpoint_sparse.clear();
        if self.checkpoint_sparse.try_reserve(segments).is_err() {
            return Err(Error::TooLarge { what: format!("{segments} checkpoint flags") });
        }
        self.streamed_charge = 0.0;
        for k in 0..segments {
            let range = k * segment..((k + 1) * segment).min(steps);
            if k > 0 {
                // The last step of the previous segment is this one's first.
                let last = segment * nb;
                self.v.copy_within(last..last + nb, 0);
                self.s.copy_within(last..last + nb, 0);
            }
            let checkpoint = &mut self.checkpoints[k * per_checkpoint..][..per_checkpoint];
            let (y, sparse) = self.activity.forward_state();
            checkpoint[..nb].copy_from_slice(&self.v[..nb]);
            checkpoint[nb..2 * nb].copy_from_slice(&self.s[..nb]);
            checkpoint[2 * nb..][..y.len()].copy_from_slice(y);
            self.checkpoint_sparse.push(sparse);
            self.forward_range(step, net, batch, dims, range.clone(), true)?;
            let held = self.s[nb..(range.len() + 1) * nb].chunks_exact(nb);
            self.streamed_charge =
                held.fold(self.streamed_charge, |total, s| total + step_charge(s));
        }
        self.dims = Some(dims);
        Ok(())
    }

    /// The reverse sweep segment by segment, last first: each rerun from its checkpoint
    /// (the last is still held from the forward run), then gone back over.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn reverse_checkpointed<N: Neuron>(
        &mut self,
        step: &Step<T, N>,
        net: &Network<'_, T>,
        batch: &Batch<'_, T>,
        dims: Dims,
        segment: usize,
        readout_gradient: &[T],
        direct: StateGradient<'_, T>,
    ) -> Result<(), Error> {
        let (nb, steps) = (dims.nb(), dims.t);
        let segments = steps.div_ceil(segment);
        let per_checkpoint = 2 * nb + self.activity.forward_state_len();
        let plan = self.reverse_start(step, net, dims, readout_gradient, direct, true)?;
        let inputs = ReverseInputs { net, batch, readout_gradient, direct };
        for k in (0..segments).rev() {
            let range = k * segment..((k + 1) * segment).min(steps);
            if k + 1 < segments {
                let checkpoint = &self.checkpoints[k * per_checkpoint..][..per_checkpoint];
                self.v[..nb].copy_from_slice(&checkpoint[..nb]);
                self.s[..nb].copy_from_slice(&checkpoint[nb..2 * nb]);
                let sparse = self.checkpoint_sparse[k];
                let y_len = if sparse { per_checkpoint - 2 * nb } else { 0 };
                self.activity.resume_forward(&checkpoint[2 * nb..][..y_len], sparse)?;
                self.forward_range(step, net, batch, dims, range.clone(), false)?;
            }
            self.reverse_range(step, &inputs, dims, plan, range.clone(), range.start)?;
        }
        self.reverse_finish(step, net, dims, plan)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dims(n: usize, b: usize, t: usize) -> Dims {
        Dims { n, n_in: 1, n_out: 1, b, t }
    }

    #[test]
    fn segments_only_past_the_limit_and_aligned() {
        assert_eq!(segment_steps(dims(256, 1, 1_000_000), 4, None), None);
        assert_eq!(segment_steps(dims(256, 1, 1000), 4, Some(512 << 20)), None);
        // 10^6 steps of 256 neurons: 3 GB recorded; sqrt(T) = 1000 rounded up to a
        // multiple of lcm(64, 256).
        assert_eq!(segment_steps(dims(256, 1, 1_000_000), 4, Some(512 << 20)), Some(1024));
        // B = 3: blocks of 85 steps, lcm(64, 85) = 5440.
        assert_eq!(segment_steps(dims(8, 3, 100_000), 8, Some(1)), Some(5440));
        // No segment shorter than T: recorded.
        assert_eq!(segment_steps(dims(8, 1, 100), 8, Some(1)), None);
    }
}
