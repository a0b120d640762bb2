//! The parts of a sparse step: each part is a run of trials with its own buffers, run on
//! its own thread, and what they all read.

use crate::real::Real;
use crate::simd::active::{ActivePair, GatherColumns, ScatterColumns, ZoneScan};
use crate::simd::PerNeuronConstants;
use crate::Backend;
use faer::utils::thread::join_raw;
use faer::Par;

/// x, or zero below the smallest normal number (as the step kernels flush their
/// outputs: a running sum that decays for thousands of steps would otherwise reach the
/// subnormal numbers, which cost a hundred cycles an operation).
#[inline(always)]
pub(super) fn flush<T: Real>(x: T) -> T {
    if x < T::MIN_POSITIVE && x > -T::MIN_POSITIVE {
        T::from_f64(0.0)
    } else {
        x
    }
}

/// The buffers of one part (a run of trials) of a sparse step.
#[derive(Debug, Clone, Default)]
pub(super) struct Part<T> {
    /// The part's indices (b N + j, b counted from its first trial) in the zone.
    pub(super) zone: Vec<u32>,
    pub(super) pairs: Vec<ActivePair<T>>,
    pub(super) dots: Vec<T>,
    /// The part's share of dL/dW^T (row j = column j of dL/dW).
    pub(super) dw_rows: Vec<T>,
}

/// What every part of a step reads.
#[derive(Clone, Copy)]
pub(super) struct Shared<'a, T> {
    pub(super) n: usize,
    pub(super) groups: usize,
    pub(super) half_width: T,
    pub(super) backend: Backend,
    /// W^T (or (W * M)^T), row-major.
    pub(super) rows: &'a [T],
    pub(super) group_decay: &'a [T],
    pub(super) group_of: &'a [u32],
    pub(super) decay: &'a [T],
}

impl<T: Real> Shared<'_, T> {
    /// The pairs of `v` in the zone, into `part.zone`; their number.
    pub(super) fn scan(&self, part: &mut Part<T>, v: &[T]) -> usize {
        part.zone.clear();
        let zone = &mut part.zone;
        self.backend.dispatch(ZoneScan { v, half_width: self.half_width, zone });
        part.zone.len()
    }

    /// The pairs of `part.zone` with q = s_next - gamma s (in f64 with one rounding, so
    /// that q is the kernel's increment to the rounding of s), each addressing its
    /// trial's column of its group in y (or E), laid out (B, G, N). Pairs with q = 0
    /// are kept (the reverse sweep reads lam_s there).
    pub(super) fn collect_pairs(&self, part: &mut Part<T>, s_now: &[T], s_next: &[T]) {
        let (n, groups) = (self.n, self.groups);
        part.pairs.clear();
        for &index in &part.zone {
            let index = index as usize;
            let (trial, j) = (index / n, index % n);
            let gamma = self.decay[j].to_f64();
            let q = (-gamma).mul_add(s_now[index].to_f64(), s_next[index].to_f64());
            let column = (trial * groups + self.group_of[j] as usize) * n;
            let (row, column, q) = (j as u32, column as u32, T::from_f64(q));
            part.pairs.push(ActivePair { row, column, q });
        }
    }

    /// y += W q over the part's pairs.
    pub(super) fn scatter(&self, part: &Part<T>, y: &mut [T]) {
        let (rows, n, pairs) = (self.rows, self.n, &part.pairs[..]);
        self.backend.dispatch(ScatterColumns { rows, n, pairs, y });
    }

    /// lam_s = W[:, j] . E + D at the part's pairs into `lam_s` (zero elsewhere), and
    /// q E into row j of the part's dL/dW^T.
    pub(super) fn gather(&self, part: &mut Part<T>, e: &[T], d_sum: &[T], lam_s: &mut [T]) {
        // Within the capacity reserved by `prepare`: no allocation.
        part.dots.resize(part.pairs.len(), T::from_f64(0.0));
        let (rows, n, pairs) = (self.rows, self.n, &part.pairs[..]);
        let (dw_rows, dots) = (&mut part.dw_rows[..], &mut part.dots[..]);
        self.backend.dispatch(GatherColumns { rows, n, pairs, e, dw_rows, dots });
        lam_s.fill(T::from_f64(0.0));
        for (pair, &dot) in part.pairs.iter().zip(&part.dots) {
            let index = pair.column as usize / (self.groups * n) * n + pair.row as usize;
            lam_s[index] = dot + d_sum[index];
        }
    }
}

/// The per-neuron constants of the trials from `start` (in elements), `len` long.
pub(super) fn constants_of<T>(
    c: Option<PerNeuronConstants<'_, T>>,
    start: usize,
    len: usize,
) -> Option<PerNeuronConstants<'_, T>> {
    c.map(|c| PerNeuronConstants {
        k: &c.k[start..][..len],
        decay: &c.decay[start..][..len],
        inv_tau_s: &c.inv_tau_s[start..][..len],
    })
}

/// Runs `work(index, part)` on every part, in parallel (two halves at a time, on
/// faer's thread pool, as the products run), and folds the results with `combine`.
pub(super) fn run_parts<T: Send, R: Send>(
    parts: &mut [Part<T>],
    first: usize,
    par: Par,
    work: &(impl Fn(usize, &mut Part<T>) -> R + Sync),
    combine: &(impl Fn(R, R) -> R + Sync),
) -> R {
    if let [part] = parts {
        return work(first, part);
    }
    let mid = parts.len() / 2;
    let (left, right) = parts.split_at_mut(mid);
    let (mut left_result, mut right_result) = (None, None);
    join_raw(
        |par| left_result = Some(run_parts(left, first, par, work, combine)),
        |par| right_result = Some(run_parts(right, first + mid, par, work, combine)),
        par,
    );
    match (left_result, right_result) {
        (Some(a), Some(b)) => combine(a, b),
        _ => unreachable!("join_raw runs both halves"),
    }
}

/// Two parts' forward runs as one: the first failing step (the earliest) and the sums
/// of their counts of active pairs (at every step, at the probed steps).
pub(super) fn earliest(
    a: (Option<usize>, usize, usize),
    b: (Option<usize>, usize, usize),
) -> (Option<usize>, usize, usize) {
    let failed = match (a.0, b.0) {
        (Some(x), Some(y)) => Some(x.min(y)),
        (x, y) => x.or(y),
    };
    (failed, a.1 + b.1, a.2 + b.2)
}

/// The first failing step of two parts' reverse runs (the latest t).
pub(super) fn latest(a: Option<usize>, b: Option<usize>) -> Option<usize> {
    a.max(b)
}
