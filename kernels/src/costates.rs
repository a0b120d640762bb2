//! The reverse sweep's buffers (docs/model.md section 3): the costates lam_v and lam_s
//! of the step being gone back over and of the step after it, and, for a block of K
//! steps, the injected errors d_t and the kernel's e_t (the sums over t are one product
//! per block), with K B ones to sum e_t over a block's columns.

use crate::error::Error;
use crate::real::{first_non_finite, Real};
use crate::workspace::{fit, zeroed};

/// Buffers of the reverse sweep, reused across runs.
#[derive(Debug, Clone, Default)]
pub(crate) struct Costates<T> {
    /// lam_v: lam_v_{t+1} before a step's kernel, lam_v_t after (N B).
    lam_v: Vec<T>,
    /// lam_s_t, written by a step (N B).
    lam_s: Vec<T>,
    /// lam_s_{t+1}, read by a step (N B); lam_s_t after [`Costates::advance`].
    lam_s_next: Vec<T>,
    /// e_t for a block of steps, N x (K B).
    e: Vec<T>,
    /// d_t for a block of steps, N x (K B).
    d: Vec<T>,
    /// K B ones.
    ones: Vec<T>,
}

/// The buffers one dense reverse step reads and writes, for block column `j`.
pub(crate) struct CostateStep<'a, T> {
    /// lam_v_{t+1} in, lam_v_t out.
    pub lam_v: &'a mut [T],
    /// lam_s_t out.
    pub lam_s: &'a mut [T],
    /// lam_s_{t+1}.
    pub lam_s_next: &'a [T],
    /// d_t.
    pub d: &'a [T],
    /// e_t out.
    pub e: &'a mut [T],
}

/// The buffers of a block on the activity-sparse path, as it takes them.
pub(crate) type SparseCostates<'a, T> = (&'a mut [T], &'a mut [T], &'a mut [T], &'a mut [T]);

impl<T: Real> Costates<T> {
    /// Sized for `nb` = N B values per step and blocks of `block_steps` steps of `b`
    /// trials, with lam_v_T = 0.
    pub(crate) fn start(&mut self, nb: usize, b: usize, block_steps: usize) -> Result<(), Error> {
        fit(&mut self.e, block_steps * nb)?;
        fit(&mut self.d, block_steps * nb)?;
        fit(&mut self.ones, block_steps * b)?;
        self.ones.fill(T::from_f64(1.0));
        zeroed(&mut self.lam_v, nb)?;
        fit(&mut self.lam_s, nb)?;
        fit(&mut self.lam_s_next, nb)
    }

    /// lam_v: lam_v_0 once the sweep has finished.
    pub(crate) fn lam_v(&self) -> &[T] {
        &self.lam_v
    }

    /// lam_s_{t+1} of the next step to go back over: lam_s_T at the start, lam_s_0 at
    /// the end.
    pub(crate) fn lam_s_next(&self) -> &[T] {
        &self.lam_s_next
    }

    /// As [`Costates::lam_s_next`], to write.
    pub(crate) fn lam_s_next_mut(&mut self) -> &mut [T] {
        &mut self.lam_s_next
    }

    /// d_t of the block's steps, N B values per step.
    pub(crate) fn d_mut(&mut self) -> &mut [T] {
        &mut self.d
    }

    /// e_t of the block's first `len` values.
    pub(crate) fn e(&self, len: usize) -> &[T] {
        &self.e[..len]
    }

    /// `len` ones.
    pub(crate) fn ones(&self, len: usize) -> &[T] {
        &self.ones[..len]
    }

    /// The buffers of the step in block column `j` of `nb` values.
    pub(crate) fn step(&mut self, j: usize, nb: usize) -> CostateStep<'_, T> {
        CostateStep {
            lam_v: &mut self.lam_v,
            lam_s: &mut self.lam_s,
            lam_s_next: &self.lam_s_next,
            d: &self.d[j * nb..][..nb],
            e: &mut self.e[j * nb..][..nb],
        }
    }

    /// After a step: its lam_s_t is the next step's lam_s_{t+1}.
    pub(crate) fn advance(&mut self) {
        core::mem::swap(&mut self.lam_s, &mut self.lam_s_next);
    }

    /// d_t of the block, and e_t, lam_s_{t+1}, lam_v and lam_s for the sparse path.
    pub(crate) fn sparse(&mut self) -> (&[T], SparseCostates<'_, T>) {
        let buffers =
            (&mut self.e[..], &mut self.lam_s_next[..], &mut self.lam_v[..], &mut self.lam_s[..]);
        (&self.d, buffers)
    }

    /// Names the first non-finite quantity after the reverse kernel of step `t` flagged
    /// one (its e_t at `e_offset` in the block): lam_s_{t+1} (the previous product's
    /// result), then lam_v_t, then lam_s_t, in the reference's order.
    pub(crate) fn diagnose(&self, t: usize, e_offset: usize) -> Error {
        let nb = self.lam_v.len();
        if let Some(index) = first_non_finite(&self.lam_s_next) {
            return Error::NonFiniteGradient { quantity: "lam_s", step: Some(t + 1), index };
        }
        if let Some(index) = first_non_finite(&self.lam_v) {
            return Error::NonFiniteGradient { quantity: "lam_v", step: Some(t), index };
        }
        if let Some(index) = first_non_finite(&self.lam_s) {
            return Error::NonFiniteGradient { quantity: "lam_s", step: Some(t), index };
        }
        let index = first_non_finite(&self.e[e_offset..][..nb]).unwrap_or(0);
        Error::NonFiniteGradient { quantity: "e", step: Some(t), index }
    }
}
