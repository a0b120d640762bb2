//! The forward sweep's states (docs/model.md section 2): v_t, s_t and I_t in slots of N
//! B values (every step of a recorded run, two steps of a streaming run, one segment of
//! a checkpointed one), and the readouts o_{t+1} of every step, (T, B, n_out).

use crate::error::Error;
use crate::forward::wrap_phase;
use crate::network::{Batch, Dims};
use crate::real::Real;
use crate::workspace::fit;

/// The state buffers of a forward run, reused across runs.
#[derive(Debug, Clone, Default)]
pub(crate) struct States<T> {
    /// N B values per slot, set by [`States::start`].
    nb: usize,
    /// v_t, one slot per held step.
    v: Vec<T>,
    /// s_t, one slot per held step.
    s: Vec<T>,
    /// I_t, one slot per held step.
    current: Vec<T>,
    /// o_{t+1}, n_out x (T B) column-major = (T, B, n_out).
    readout: Vec<T>,
}

/// One slot's v, s and I (N B values each).
pub(crate) struct Slot<'a, T> {
    pub v: &'a [T],
    pub s: &'a [T],
    pub current: &'a [T],
}

/// What one dense forward step reads and writes: v_t and s_t, its I_t (the input
/// current on entry), and v_{t+1}, s_{t+1}.
pub(crate) struct StepSlots<'a, T> {
    pub v: &'a [T],
    pub s: &'a [T],
    pub current: &'a mut [T],
    pub v_next: &'a mut [T],
    pub s_next: &'a mut [T],
}

/// Slot `now` for reading and slot `next` for writing of a buffer of `len`-long slots.
fn two_slots<T>(buffer: &mut [T], now: usize, next: usize, len: usize) -> (&[T], &mut [T]) {
    debug_assert_ne!(now, next);
    if now < next {
        let (head, tail) = buffer.split_at_mut(next * len);
        (&head[now * len..][..len], &mut tail[..len])
    } else {
        let (head, tail) = buffer.split_at_mut(now * len);
        (&tail[..len], &mut head[next * len..][..len])
    }
}

impl<T: Real> States<T> {
    /// Buffers for `slots` steps of state and `currents` steps of input current (and the
    /// readout of every step), with (v_0, s_0) in slot 0.
    pub(crate) fn start(
        &mut self,
        batch: &Batch<'_, T>,
        dims: Dims,
        slots: usize,
        currents: usize,
    ) -> Result<(), Error> {
        let nb = dims.nb();
        self.nb = nb;
        fit(&mut self.v, slots * nb)?;
        fit(&mut self.s, slots * nb)?;
        fit(&mut self.current, currents * nb)?;
        fit(&mut self.readout, dims.t * dims.b * dims.n_out)?;
        // v_0 is a phase on the circle, taken modulo 2 into [-1, 1) like every later
        // phase (docs/model.md section 2): the step kernels' sin/cos(pi v) assume that
        // range. A phase already in range is kept bit for bit.
        for (slot, &v) in self.v[..nb].iter_mut().zip(batch.v0) {
            *slot = wrap_phase(v);
        }
        self.s[..nb].copy_from_slice(batch.s0);
        Ok(())
    }

    /// v, s and I of slot `slot`.
    pub(crate) fn slot(&self, slot: usize) -> Slot<'_, T> {
        let nb = self.nb;
        Slot {
            v: &self.v[slot * nb..][..nb],
            s: &self.s[slot * nb..][..nb],
            current: &self.current[slot * nb..][..nb],
        }
    }

    /// v, s and I from slot `slot` to the end of the buffers.
    pub(crate) fn held_from(&self, slot: usize) -> Slot<'_, T> {
        let at = slot * self.nb;
        Slot { v: &self.v[at..], s: &self.s[at..], current: &self.current[at..] }
    }

    /// s of the slots `slots`, one after another.
    pub(crate) fn s(&self, slots: core::ops::Range<usize>) -> &[T] {
        &self.s[slots.start * self.nb..slots.end * self.nb]
    }

    /// The input currents of the first `slots` slots, to write.
    pub(crate) fn currents_mut(&mut self, slots: usize) -> &mut [T] {
        &mut self.current[..slots * self.nb]
    }

    /// The buffers of a dense step from state slot `now` to slot `next`, with its
    /// input current in slot `current`.
    pub(crate) fn step(&mut self, now: usize, next: usize, current: usize) -> StepSlots<'_, T> {
        let nb = self.nb;
        let (v, v_next) = two_slots(&mut self.v, now, next, nb);
        let (s, s_next) = two_slots(&mut self.s, now, next, nb);
        StepSlots { v, s, current: &mut self.current[current * nb..][..nb], v_next, s_next }
    }

    /// The whole buffers v, s and I, for the activity-sparse forward segments (which
    /// address slots themselves).
    pub(crate) fn all_mut(&mut self) -> (&mut [T], &mut [T], &mut [T]) {
        (&mut self.v, &mut self.s, &mut self.current)
    }

    /// Copies v and s of slot `slot` into slot 0 (a segment's last step is the next
    /// segment's first).
    pub(crate) fn carry(&mut self, slot: usize) {
        let (nb, at) = (self.nb, slot * self.nb);
        self.v.copy_within(at..at + nb, 0);
        self.s.copy_within(at..at + nb, 0);
    }

    /// Sets v and s of slot 0 (a checkpoint's).
    pub(crate) fn restore(&mut self, v: &[T], s: &[T]) {
        let nb = self.nb;
        self.v[..nb].copy_from_slice(v);
        self.s[..nb].copy_from_slice(s);
    }

    /// The readouts `values` (indices into (T, B, n_out)).
    pub(crate) fn readout(&self, values: core::ops::Range<usize>) -> &[T] {
        &self.readout[values]
    }

    /// The readouts `values` to write, beside s of the slots `slots` (o_{t+1} = O s_{t+1}
    /// reads the one and writes the other).
    pub(crate) fn readout_and_s(
        &mut self,
        values: core::ops::Range<usize>,
        slots: core::ops::Range<usize>,
    ) -> (&mut [T], &[T]) {
        (&mut self.readout[values], &self.s[slots.start * self.nb..slots.end * self.nb])
    }

    /// The whole buffers v, s, I and readout, for a [`Trajectory`](crate::Trajectory).
    pub(crate) fn buffers(&self) -> [&[T]; 4] {
        [&self.v, &self.s, &self.current, &self.readout]
    }
}
