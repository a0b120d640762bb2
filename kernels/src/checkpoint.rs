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

use crate::activity::{SweepPath, SEGMENT_STEPS};
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

/// The checkpoints of a checkpointed gradient: per segment, v and s at its start (N B
/// each), the sparse forward's y (or nothing: a fixed length per checkpoint), and
/// whether its first step ran sparse.
#[derive(Debug, Clone, Default)]
pub(crate) struct Checkpoints<T> {
    /// Values per checkpoint.
    len: usize,
    /// N B.
    nb: usize,
    values: Vec<T>,
    sparse: Vec<bool>,
}

impl<T: Real> Checkpoints<T> {
    /// Room for `segments` checkpoints of v and s (`nb` values each) and `y_len` more.
    fn start(&mut self, segments: usize, nb: usize, y_len: usize) -> Result<(), Error> {
        (self.len, self.nb) = (2 * nb + y_len, nb);
        fit(&mut self.values, segments * self.len)?;
        self.sparse.clear();
        if self.sparse.try_reserve(segments).is_err() {
            return Err(Error::TooLarge { what: format!("{segments} checkpoint flags") });
        }
        Ok(())
    }

    /// Writes checkpoint `k` (the next one: checkpoints are saved in order).
    fn save(&mut self, k: usize, v: &[T], s: &[T], (y, sparse): (&[T], bool)) {
        let nb = self.nb;
        let checkpoint = &mut self.values[k * self.len..][..self.len];
        checkpoint[..nb].copy_from_slice(v);
        checkpoint[nb..2 * nb].copy_from_slice(s);
        checkpoint[2 * nb..][..y.len()].copy_from_slice(y);
        debug_assert_eq!(self.sparse.len(), k);
        self.sparse.push(sparse);
    }

    /// Checkpoint `k`: v, s, the sparse forward's y (empty where its first step ran
    /// dense) and whether it ran sparse.
    fn load(&self, k: usize) -> (&[T], &[T], &[T], bool) {
        let nb = self.nb;
        let checkpoint = &self.values[k * self.len..][..self.len];
        let sparse = self.sparse[k];
        let y = if sparse { &checkpoint[2 * nb..] } else { &[][..] };
        (&checkpoint[..nb], &checkpoint[nb..2 * nb], y, sparse)
    }
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
        self.forget_run();
        self.check_memory(dims, Sweep::Checkpointed { segment }, net)?;
        self.compile_constants(step, net, dims)?;
        let sparse = self.activity.path != SweepPath::Dense;
        self.weights.prepare(net, dims.b, sparse)?;
        self.states.start(batch, dims, segment + 1, segment)?;
        self.start_forward(step, net, batch, dims)?;
        let (nb, steps) = (dims.nb(), dims.t);
        let segments = steps.div_ceil(segment);
        self.checkpoints.start(segments, nb, self.activity.forward_state_len())?;
        self.streamed_charge = 0.0;
        for k in 0..segments {
            let range = k * segment..((k + 1) * segment).min(steps);
            if k > 0 {
                // The last step of the previous segment is this one's first.
                self.states.carry(segment);
            }
            let first = self.states.slot(0);
            self.checkpoints.save(k, first.v, first.s, self.activity.forward_state());
            self.forward_range(step, net, batch, dims, range.clone(), true)?;
            let held = self.states.s(1..range.len() + 1).chunks_exact(nb);
            self.streamed_charge =
                held.fold(self.streamed_charge, |total, s| total + step_charge(s));
        }
        self.keep_run(dims, None);
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
        let steps = dims.t;
        let segments = steps.div_ceil(segment);
        let plan = self.reverse_start(step, net, dims, readout_gradient, direct, true)?;
        let inputs = ReverseInputs { net, batch, readout_gradient, direct };
        for k in (0..segments).rev() {
            let range = k * segment..((k + 1) * segment).min(steps);
            if k + 1 < segments {
                let (v, s, y, sparse) = self.checkpoints.load(k);
                self.states.restore(v, s);
                self.activity.resume_forward(y, sparse)?;
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
