//! The activity-sparse form of the sweeps (docs/model.md section 8), exact: the gate g
//! and its slope g' vanish outside the active zone, so a step's synaptic increments
//! q_t = g(v_t) dv_t / tau_s are zero there and lam_s_{t+1} is read only there. With
//! gamma = 1 - h/tau_s,
//!
//! ```text
//! forward:  y_t = W s_t:   y_0 = W s_0,   y_{t+1} = gamma y_t + W q_t
//! reverse:  E_t = gamma E_{t+1} + e_t   (E_T = 0)
//!           D_t = gamma D_{t+1} + d_t   (D_T = d_T)
//!           lam_s_t = W^T E_t + D_t     (at active pairs; in full at t = 0)
//!           dL/dW = E_0 s_0^T + sum_t E_{t+1} q_t^T
//! ```
//!
//! so each of the three N x N products of a step becomes N work per active (neuron,
//! trial) pair. With per-neuron tau_s,j the recursions hold per group of neurons that
//! share one gamma (y and E are kept per group). Which path runs is [`SweepPath`]'s
//! choice; [`Automatic`](SweepPath::Automatic) measures the activity as it goes.
//!
//! A sparse step is split by trials into parts, one per thread: each part runs its
//! trials' whole step (elementwise kernel, zone scan, column operations) and keeps its
//! own dL/dW^T, so the parts share nothing they write. The parts' dL/dW^T are summed at
//! the end: the result depends on the thread count only through that sum's rounding.

use crate::error::Error;
use crate::gemm::{col_major, col_major_mut, product, StepProduct};
use crate::neuron::Neuron;
use crate::real::Real;
use crate::simd::active::{ActivePair, GatherColumns, ScatterColumns, ZoneScan};
use crate::simd::PerNeuronConstants;
use crate::step::Step;
use crate::workspace::{fit, zeroed};
use crate::Backend;
use faer::utils::thread::join_raw;
use faer::Accum;
use faer::Par;

/// Which form of the sweeps a [`Workspace`](crate::Workspace) runs. Both compute the same
/// gradient (docs/model.md section 8 is an identity, not an approximation); they differ
/// in rounding and in cost.
///
/// ```
/// use spikegrad::{SweepPath, Workspace};
/// let mut workspace = Workspace::<f32>::new();
/// assert_eq!(workspace.sweep_path(), SweepPath::Automatic);
/// workspace.set_sweep_path(SweepPath::Dense); // e.g. to time the dense path alone
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum SweepPath {
    /// Chosen from the measured activity: step by step in the forward sweep (probing a
    /// dense run every [`PROBE_STEPS`] steps), for the whole reverse sweep from the
    /// recorded run's activity. The default.
    #[default]
    Automatic,
    /// Three dense N x N products per step (docs/model.md sections 2-3).
    Dense,
    /// The activity-sparse form everywhere (docs/model.md section 8), however many
    /// neurons are active. The gradients of the constants
    /// ([`GradientOptions::with_constants`](crate::GradientOptions::with_constants))
    /// need lam_s at every pair: with them the reverse sweep runs dense. A network with
    /// more than [`MAX_GROUPS`] distinct per-neuron tau_s runs dense.
    ActivitySparse,
}

/// Steps between two measurements of the activity while the forward sweep runs dense
/// (and between the sampled steps of the reverse sweep's choice): a scan of the phases
/// costs about N B comparisons, against the dense step's N^2 B multiply-adds (not timed
/// apart: the S benchmarks ran their probes in this path).
pub const PROBE_STEPS: usize = 16;

/// The most distinct synaptic decays (per-neuron tau_s values) the sparse form runs
/// with: it keeps y and E per decay (G N B values each, G elementwise passes a step) and
/// turns sparse with G dense products; with more, the sweeps run dense.
pub const MAX_GROUPS: usize = 8;

/// Elements (N B) of a step below which a sparse step runs on one thread: a hand-off
/// to the thread pool costs a few microseconds, a step's elementwise work ~1 ns per
/// element.
const PARALLEL_MIN_ELEMENTS: usize = 4096;

/// Whether the activity-sparse step is cheaper than the dense one for `active` pairs
/// in the zone, N neurons, B trials and `groups` distinct synaptic decays: N per active
/// pair in column operations, each flop counted as 4 of a GEMM's (a chosen margin, not a
/// measured ratio: with it the automatic path picks the sparse form at the S benchmarks'
/// 19% activity, where it measured 1.4-2.7x faster than dense) and two elementwise
/// passes over N B per group, against N^2 B.
pub(crate) fn sparse_pays(n: usize, b: usize, groups: usize, active: usize) -> bool {
    let sparse = 4 * active * n + 2 * groups * n * b;
    sparse < n * n * b
}

/// x, or zero below the smallest normal number (as the step kernels flush their
/// outputs: a running sum that decays for thousands of steps would otherwise reach the
/// subnormal numbers, which cost a hundred cycles an operation).
#[inline(always)]
fn flush<T: Real>(x: T) -> T {
    if x < T::MIN_POSITIVE && x > -T::MIN_POSITIVE {
        T::from_f64(0.0)
    } else {
        x
    }
}

/// The buffers of one part (a run of trials) of a sparse step.
#[derive(Debug, Clone, Default)]
struct Part<T> {
    /// The part's indices (b N + j, b counted from its first trial) in the zone.
    zone: Vec<u32>,
    pairs: Vec<ActivePair<T>>,
    dots: Vec<T>,
    /// The part's share of dL/dW^T (row j = column j of dL/dW).
    dw_rows: Vec<T>,
}

/// What every part of a step reads.
#[derive(Clone, Copy)]
struct Shared<'a, T> {
    n: usize,
    groups: usize,
    half_width: T,
    backend: Backend,
    /// W^T (or (W * M)^T), row-major.
    rows: &'a [T],
    group_decay: &'a [T],
    group_of: &'a [u32],
    decay: &'a [T],
}

impl<T: Real> Shared<'_, T> {
    /// The pairs of `v` in the zone, into `part.zone`; their number.
    fn scan(&self, part: &mut Part<T>, v: &[T]) -> usize {
        part.zone.clear();
        let zone = &mut part.zone;
        self.backend.dispatch(ZoneScan { v, half_width: self.half_width, zone });
        part.zone.len()
    }

    /// The pairs of `part.zone` with q = s_next - gamma s (in f64 with one rounding, so
    /// that q is the kernel's increment to the rounding of s), each addressing its
    /// trial's column of its group in y (or E), laid out (B, G, N). Pairs with q = 0
    /// are kept (the reverse sweep reads lam_s there).
    fn collect_pairs(&self, part: &mut Part<T>, s_now: &[T], s_next: &[T]) {
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
    fn scatter(&self, part: &Part<T>, y: &mut [T]) {
        let (rows, n, pairs) = (self.rows, self.n, &part.pairs[..]);
        self.backend.dispatch(ScatterColumns { rows, n, pairs, y });
    }

    /// lam_s = W[:, j] . E + D at the part's pairs into `lam_s` (zero elsewhere), and
    /// q E into row j of the part's dL/dW^T.
    fn gather(&self, part: &mut Part<T>, e: &[T], d_sum: &[T], lam_s: &mut [T]) {
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

/// A buffer that the parts of a parallel region read and write at disjoint ranges
/// only: each part touches its own trials' values of every step, so no two parts' slices
/// overlap. (Safe code cannot split a (steps, B, N) buffer into per-trial pieces of every
/// step without allocating a list of them; this is that split, by offsets.)
#[derive(Clone, Copy)]
struct Disjoint<'a, T> {
    ptr: *mut T,
    len: usize,
    _buffer: core::marker::PhantomData<&'a mut [T]>,
}

// SAFETY: a `Disjoint` is a `&mut [T]` handed to several threads that each access a
// range no other accesses (the contract of `Disjoint::slice`); `T: Send` as for
// `&mut [T]`.
unsafe impl<T: Send> Send for Disjoint<'_, T> {}
// SAFETY: as above: shared between the parts, which access disjoint ranges.
unsafe impl<T: Send> Sync for Disjoint<'_, T> {}

impl<'a, T> Disjoint<'a, T> {
    fn new(buffer: &'a mut [T]) -> Self {
        Disjoint { ptr: buffer.as_mut_ptr(), len: buffer.len(), _buffer: core::marker::PhantomData }
    }

    /// The `len` values from `start`.
    ///
    /// # Safety
    /// No other slice of the same buffer that overlaps this one may be alive while
    /// this one is (the parts of a region use their own trials' ranges only).
    #[allow(clippy::mut_from_ref)]
    unsafe fn slice(&self, start: usize, len: usize) -> &'a mut [T] {
        assert!(start <= self.len && len <= self.len - start, "range within the buffer");
        // SAFETY: in bounds (asserted), and not aliased (the caller's contract).
        unsafe { core::slice::from_raw_parts_mut(self.ptr.add(start), len) }
    }
}

/// The per-neuron constants of the trials from `start` (in elements), `len` long.
fn constants_of<T>(
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
fn run_parts<T: Send, R: Send>(
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
fn earliest(
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
fn latest(a: Option<usize>, b: Option<usize>) -> Option<usize> {
    a.max(b)
}

/// Where a forward segment keeps its states.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Slots {
    /// Every step of a range from the given first step: v_t, s_t and I_t in slot t -
    /// first.
    Recorded(usize),
    /// v_t, s_t in slot t % 2, I_t in slot 0.
    Streaming,
}

impl Slots {
    pub(crate) fn state(self, t: usize) -> usize {
        match self {
            Slots::Recorded(first) => t - first,
            Slots::Streaming => t % 2,
        }
    }

    fn current(self, t: usize) -> usize {
        match self {
            Slots::Recorded(first) => t - first,
            Slots::Streaming => 0,
        }
    }
}

/// The steps of one parallel region of the sparse forward sweep, aligned to multiples of
/// it from step 0: the parts synchronise, and the automatic path decides whether to go
/// on sparse, once per segment. Fewer hand-offs to the thread pool than one per probe
/// (16 steps): A1's forward sweep measured 44-49 ms at 64 against 45-52 at 16, within
/// this machine's noise.
pub(crate) const SEGMENT_STEPS: usize = 4 * PROBE_STEPS;

/// The buffers and state of the activity-sparse path (in a workspace, reused).
#[derive(Debug, Clone, Default)]
pub(crate) struct Activity<T> {
    /// The path asked for.
    pub path: SweepPath,
    n: usize,
    nb: usize,
    /// Delta/2 as the gate kernels hold it (so the scan's set is theirs).
    half_width: T,
    /// gamma of each group of neurons sharing one synaptic decay.
    group_decay: Vec<T>,
    /// Group of each neuron.
    group_of: Vec<u32>,
    /// gamma of each neuron.
    decay: Vec<T>,
    /// Whether the sparse form can run: at most MAX_GROUPS decays, and G N B within the
    /// u32 offsets of the pairs.
    usable: bool,
    /// Whether the forward sweep's next step runs sparse (y holds W s_t).
    pub forward_sparse: bool,
    /// Whether this forward run measures the activity (not a checkpoint's rerun).
    measuring: bool,
    /// The pairs in the zone at the forward run's steps t = 0, PROBE_STEPS, ..., and
    /// how many such steps: the reverse sweep's automatic choice.
    probe_active: usize,
    probes: usize,
    /// y_t = W s_t of the forward sweep, (B, G, N).
    y: Vec<T>,
    /// E_t of the reverse sweep, (B, G, N) (apart from y: a checkpointed gradient reruns
    /// forward steps between reverse blocks).
    e_sum: Vec<T>,
    /// D_t, (B, N).
    d_sum: Vec<T>,
    /// A state restricted to one group, and a product's result (N B each).
    masked: Vec<T>,
    masked_product: Vec<T>,
    /// One per thread's share of the trials.
    parts: Vec<Part<T>>,
    /// Trials per part (the last may have fewer).
    per_part: usize,
    /// Threads of the sparse steps (one per part).
    threads: usize,
}

impl<T: Real> Activity<T> {
    /// Groups the neurons by synaptic decay (`decay_of(j)`), sets the zone's bound for a
    /// gate of width `delta`, and splits `b` trials of `n` neurons into parts for at
    /// most `threads` threads.
    pub fn prepare(
        &mut self,
        n: usize,
        b: usize,
        delta: f64,
        threads: usize,
        decay_of: impl Fn(usize) -> T,
    ) -> Result<(), Error> {
        (self.n, self.nb) = (n, n * b);
        self.half_width = T::from_f64(delta / 2.0);
        self.group_decay.clear();
        self.group_of.clear();
        self.decay.clear();
        self.forward_sparse = false;
        self.usable = true;
        for j in 0..n {
            let decay = decay_of(j);
            let group = match self.group_decay.iter().position(|&g| g == decay) {
                Some(group) => group,
                None if self.group_decay.len() < MAX_GROUPS => {
                    self.group_decay.push(decay);
                    self.group_decay.len() - 1
                }
                None => {
                    // Too many distinct decays: the sweeps run dense.
                    self.usable = false;
                    break;
                }
            };
            self.group_of.push(group as u32);
            self.decay.push(decay);
        }
        // The pairs address y and E with u32 offsets.
        let len = self.groups().checked_mul(self.nb);
        self.usable &= len.is_some_and(|len| len <= u32::MAX as usize);
        let parallel = threads > 1 && b > 1 && n * b >= PARALLEL_MIN_ELEMENTS;
        let wanted = if parallel { threads.min(b) } else { 1 };
        self.per_part = b.div_ceil(wanted).max(1);
        let count = b.div_ceil(self.per_part).max(1);
        self.parts.resize_with(count, Part::default);
        self.threads = count;
        // Every pair of a part's trials fits: the steps never allocate. (The first part
        // also scans whole steps for the automatic choice.)
        let most = |part: usize| if part == 0 { self.nb } else { self.per_part * n };
        for (index, part) in self.parts.iter_mut().enumerate() {
            let len = most(index);
            let fits = part.zone.try_reserve(len).is_ok()
                && part.pairs.try_reserve(len).is_ok()
                && part.dots.try_reserve(len).is_ok();
            if !fits {
                return Err(Error::TooLarge {
                    what: format!("allocating the activity-sparse path's {len} pairs failed"),
                });
            }
        }
        Ok(())
    }

    /// The path the sweeps take: the one asked for, or dense where the sparse one cannot
    /// run (too many distinct decays, or buffers its u32 offsets cannot address).
    fn effective_path(&self) -> SweepPath {
        if self.usable {
            self.path
        } else {
            SweepPath::Dense
        }
    }

    /// The number of distinct synaptic decays.
    fn groups(&self) -> usize {
        self.group_decay.len()
    }

    /// The parallelism of a sparse step: one thread per part.
    fn par(&self) -> Par {
        if self.threads > 1 {
            Par::rayon(self.threads)
        } else {
            Par::Seq
        }
    }

    fn shared<'a>(&'a self, backend: Backend, rows: &'a [T]) -> Shared<'a, T> {
        Shared {
            n: self.n,
            groups: self.groups(),
            half_width: self.half_width,
            backend,
            rows,
            group_decay: &self.group_decay,
            group_of: &self.group_of,
            decay: &self.decay,
        }
    }

    /// The number of pairs of `v` (one step, N B) in the zone.
    fn count(&mut self, backend: Backend, v: &[T]) -> usize {
        let mut part = core::mem::take(&mut self.parts[0]);
        let shared = self.shared(backend, &[]);
        let count = shared.scan(&mut part, v);
        self.parts[0] = part;
        count
    }

    /// Whether the sparse step pays at `active` pairs.
    fn pays(&self, active: usize) -> bool {
        sparse_pays(self.n, self.nb / self.n.max(1), self.groups(), active)
    }

    /// Starts a forward sweep from s_0: sparse from the first step when the path says
    /// so (y_0 = W s_0 per group), dense otherwise.
    pub fn start_forward(
        &mut self,
        backend: Backend,
        recurrent: &StepProduct<'_, T>,
        s0: &[T],
    ) -> Result<(), Error> {
        self.forward_sparse = false;
        (self.measuring, self.probe_active, self.probes) = (true, 0, 0);
        if self.effective_path() == SweepPath::ActivitySparse {
            self.dense_y(backend, recurrent, s0)?;
            self.forward_sparse = true;
        }
        Ok(())
    }

    /// y = W s per group, (B, G, N), by dense products (when the forward sweep turns
    /// sparse).
    fn dense_y(
        &mut self,
        backend: Backend,
        recurrent: &StepProduct<'_, T>,
        s: &[T],
    ) -> Result<(), Error> {
        let (n, nb, groups) = (self.n, self.nb, self.groups());
        zeroed(&mut self.y, groups * nb)?;
        if s.iter().all(|&x| x == T::from_f64(0.0)) {
            return Ok(());
        }
        if groups == 1 {
            recurrent.add(backend, s, &mut self.y);
            return Ok(());
        }
        fit(&mut self.masked, nb)?;
        zeroed(&mut self.masked_product, nb)?;
        for group in 0..groups {
            for (index, (m, &x)) in self.masked.iter_mut().zip(s).enumerate() {
                let inside = self.group_of[index % n] as usize == group;
                *m = if inside { x } else { T::from_f64(0.0) };
            }
            self.masked_product.fill(T::from_f64(0.0));
            recurrent.add(backend, &self.masked, &mut self.masked_product);
            for (trial, product) in self.masked_product.chunks_exact(n).enumerate() {
                self.y[(trial * groups + group) * n..][..n].copy_from_slice(product);
            }
        }
        Ok(())
    }

    /// The trial range of part `index`, in elements of one step: (start, len).
    fn trials_of(&self, index: usize) -> (usize, usize) {
        let b = self.nb / self.n.max(1);
        let first = (index * self.per_part).min(b);
        let last = (first + self.per_part).min(b);
        (first * self.n, (last - first) * self.n)
    }

    /// Sparse forward steps `steps` (a segment), every part in parallel over its own
    /// trials, each step: I_t = current + the sum of the groups' y_t, the Euler kernel
    /// into v_{t+1}, s_{t+1}, then y_{t+1} = gamma y_t + W q_t (`rows` = W^T). States
    /// and currents are in `v`, `s`, `current` as `slots` says. Then, on the automatic
    /// path, back to dense where the segment's activity no longer pays. `Err(t)`: the
    /// first step whose new state is not finite.
    #[allow(clippy::too_many_arguments)]
    pub fn forward_segment<N: Neuron>(
        &mut self,
        step: &Step<T, N>,
        per_neuron: Option<PerNeuronConstants<'_, T>>,
        rows: &[T],
        (v, s, current): (&mut [T], &mut [T], &mut [T]),
        slots: Slots,
        steps: core::ops::Range<usize>,
    ) -> Result<(), usize> {
        let mut parts = core::mem::take(&mut self.parts);
        let mut y = core::mem::take(&mut self.y);
        let shared = self.shared(step.backend(), rows);
        let (n, nb, groups) = (self.n, self.nb, shared.groups);
        let (v, s, current, y_all) =
            (Disjoint::new(v), Disjoint::new(s), Disjoint::new(current), Disjoint::new(&mut y));
        let work = |index: usize, part: &mut Part<T>| -> (Option<usize>, usize, usize) {
            let (start, len) = self.trials_of(index);
            let per_neuron = constants_of(per_neuron, start, len);
            // SAFETY (every `slice` below): part `index` touches only its own trials'
            // range [start, start + len) of each step's slot (and of y), which no other
            // part touches; the slots of t and t + 1 differ.
            let y = unsafe { y_all.slice(start * groups, len * groups) };
            let (mut active, mut probed) = (0, 0);
            for t in steps.clone() {
                let (now, next) = (slots.state(t) * nb + start, slots.state(t + 1) * nb + start);
                let (v_now, s_now) = unsafe { (&*v.slice(now, len), &*s.slice(now, len)) };
                let (v_next, s_next) = unsafe { (v.slice(next, len), s.slice(next, len)) };
                let current = unsafe { current.slice(slots.current(t) * nb + start, len) };
                // I_t = current + y_t, and y <- gamma y_t in the same pass (the increments
                // W q_t are added after the kernel).
                let trials = current.chunks_exact_mut(n).zip(y.chunks_exact_mut(groups * n));
                for (current, y) in trials {
                    for (y, &gamma) in y.chunks_exact_mut(n).zip(shared.group_decay) {
                        for (c, y) in current.iter_mut().zip(y) {
                            *c += *y;
                            *y = flush(gamma * *y);
                        }
                    }
                }
                if !step.forward_unchecked(per_neuron, v_now, s_now, current, v_next, s_next) {
                    return (Some(t), active, probed);
                }
                let count = shared.scan(part, v_now);
                active += count;
                if t % PROBE_STEPS == 0 {
                    probed += count;
                }
                shared.collect_pairs(part, s_now, s_next);
                shared.scatter(part, y);
            }
            (None, active, probed)
        };
        let (failed, active, probed) = run_parts(&mut parts, 0, self.par(), &work, &earliest);
        (self.parts, self.y) = (parts, y);
        let probes = steps.clone().filter(|t| t % PROBE_STEPS == 0).count();
        if self.measuring && probes > 0 {
            (self.probe_active, self.probes) = (self.probe_active + probed, self.probes + probes);
        }
        // Back to dense with a margin (hysteresis), so a borderline activity does not
        // switch every segment.
        let mean = active / steps.len().max(1);
        if self.effective_path() == SweepPath::Automatic && !self.pays(mean / 2) {
            self.forward_sparse = false;
        }
        failed.map_or(Ok(()), Err)
    }

    /// After a dense forward step t (v_t -> s_{t+1}): on the automatic path, every
    /// PROBE_STEPS steps, measure the activity and turn sparse where it pays (y_{t+1}
    /// = W s_{t+1} by dense products).
    pub fn after_dense_step(
        &mut self,
        t: usize,
        backend: Backend,
        recurrent: &StepProduct<'_, T>,
        v_now: &[T],
        s_next: &[T],
    ) -> Result<(), Error> {
        if self.effective_path() == SweepPath::Automatic && t % PROBE_STEPS == 0 {
            let active = self.count(backend, v_now);
            if self.measuring {
                (self.probe_active, self.probes) = (self.probe_active + active, self.probes + 1);
            }
            if self.pays(active) {
                self.dense_y(backend, recurrent, s_next)?;
                self.forward_sparse = true;
            }
        }
        Ok(())
    }

    /// Whether the reverse sweep runs sparse: as the path says, or, automatically, from
    /// the activity the last forward run measured at every PROBE_STEPS-th step. Never
    /// with the constants' gradients.
    pub fn reverse_runs_sparse(&self, constants: bool) -> bool {
        match self.effective_path() {
            _ if constants => false,
            SweepPath::Dense => false,
            SweepPath::ActivitySparse => true,
            SweepPath::Automatic => self.probes > 0 && self.pays(self.probe_active / self.probes),
        }
    }

    /// The forward sweep's state besides v and s: y_t (per group, (B, G, N)) when the
    /// next step runs sparse (empty otherwise), and whether it does. A checkpoint keeps
    /// it; see [`Activity::resume_forward`].
    pub fn forward_state(&self) -> (&[T], bool) {
        let len = if self.forward_sparse { self.groups() * self.nb } else { 0 };
        (&self.y[..len], self.forward_sparse)
    }

    /// The most values of [`Activity::forward_state`]'s y.
    pub fn forward_state_len(&self) -> usize {
        self.groups() * self.nb
    }

    /// Resumes a forward sweep from a checkpoint's [`Activity::forward_state`], without
    /// measuring the activity again (the reverse sweep's choice was made on the first
    /// run).
    pub fn resume_forward(&mut self, y: &[T], sparse: bool) -> Result<(), Error> {
        self.measuring = false;
        self.forward_sparse = sparse;
        if sparse {
            fit(&mut self.y, y.len())?;
            self.y.copy_from_slice(y);
        }
        Ok(())
    }

    /// Starts a sparse reverse sweep: E_T = 0 per group, D_T = `d_last` (= lam_s_T),
    /// every part's dL/dW^T = 0.
    pub fn start_reverse(&mut self, d_last: &[T]) -> Result<(), Error> {
        let (n, nb, groups) = (self.n, self.nb, self.groups());
        zeroed(&mut self.e_sum, groups * nb)?;
        fit(&mut self.d_sum, nb)?;
        self.d_sum.copy_from_slice(d_last);
        for part in &mut self.parts {
            zeroed(&mut part.dw_rows, n * n)?;
        }
        Ok(())
    }

    /// Sparse reverse steps t = end-1 down to `start` (one block), every part in
    /// parallel over its own trials, each step: lam_s_{t+1} = W^T E_{t+1} + D_{t+1} at
    /// the pairs in the zone of v_t (zero elsewhere, where the kernel does not read it)
    /// into `lam_s_next`, E_{t+1} q_t^T into the part's dL/dW^T, the reverse kernel (e_t
    /// into the block's `e`, lam_v_t; its lam_s output in `lam_s` is not used), then
    /// E_t = gamma E_{t+1} + e_t and D_t = gamma D_{t+1} + d_t. `v`, `s`, `current`,
    /// `d` and `e` hold step t at t - start (and `s` s_end after them).
    /// `Err(t)`: the first step (the latest t) with a non-finite kernel output or
    /// lam_s_{t+1}.
    #[allow(clippy::too_many_arguments)]
    pub fn reverse_block<N: Neuron>(
        &mut self,
        step: &Step<T, N>,
        per_neuron: Option<PerNeuronConstants<'_, T>>,
        rows: &[T],
        (v, s, current, d): (&[T], &[T], &[T], &[T]),
        (e, lam_s_next, lam_v, lam_s): (&mut [T], &mut [T], &mut [T], &mut [T]),
        steps: core::ops::Range<usize>,
    ) -> Result<(), usize> {
        let mut parts = core::mem::take(&mut self.parts);
        let (mut e_sum, mut d_sum) =
            (core::mem::take(&mut self.e_sum), core::mem::take(&mut self.d_sum));
        let shared = self.shared(step.backend(), rows);
        let (n, nb, groups) = (self.n, self.nb, shared.groups);
        let (e_all, e_sum_all, d_sum_all) =
            (Disjoint::new(e), Disjoint::new(&mut e_sum), Disjoint::new(&mut d_sum));
        let (lam_s_next, lam_v, lam_s) =
            (Disjoint::new(lam_s_next), Disjoint::new(lam_v), Disjoint::new(lam_s));
        let work = |index: usize, part: &mut Part<T>| -> Option<usize> {
            let (start, len) = self.trials_of(index);
            let per_neuron = constants_of(per_neuron, start, len);
            // SAFETY (every `slice` below): part `index` touches only its own trials'
            // range [start, start + len) of each step (and of E, D), which no other part
            // touches.
            let (e_sum, d_sum) = unsafe {
                (e_sum_all.slice(start * groups, len * groups), d_sum_all.slice(start, len))
            };
            let (lam_s_next, lam_v, lam_s) = unsafe {
                (lam_s_next.slice(start, len), lam_v.slice(start, len), lam_s.slice(start, len))
            };
            for t in steps.clone().rev() {
                let j = t - steps.start;
                let (v, current) = (&v[j * nb + start..][..len], &current[j * nb + start..][..len]);
                let (s_now, s_next) =
                    (&s[j * nb + start..][..len], &s[(j + 1) * nb + start..][..len]);
                let d = &d[j * nb + start..][..len];
                let e = unsafe { e_all.slice(j * nb + start, len) };
                shared.scan(part, v);
                shared.collect_pairs(part, s_now, s_next);
                shared.gather(part, e_sum, d_sum, lam_s_next);
                let finite =
                    step.reverse_unchecked(per_neuron, v, current, lam_s_next, d, lam_v, e, lam_s);
                if !finite {
                    return Some(t);
                }
                for (index, column) in e_sum.chunks_exact_mut(n).enumerate() {
                    let (trial, group) = (index / groups, index % groups);
                    let gamma = shared.group_decay[group];
                    let e = &e[trial * n..][..n];
                    column.iter_mut().zip(e).for_each(|(sum, &e)| *sum = flush(gamma * *sum + e));
                }
                for (sums, d) in d_sum.chunks_exact_mut(n).zip(d.chunks_exact(n)) {
                    let terms = sums.iter_mut().zip(d).zip(shared.decay);
                    terms.for_each(|((sum, &d), &gamma)| *sum = flush(gamma * *sum + d));
                }
            }
            None
        };
        let failed = run_parts(&mut parts, 0, self.par(), &work, &latest);
        (self.parts, self.e_sum, self.d_sum) = (parts, e_sum, d_sum);
        failed.map_or(Ok(()), Err)
    }

    /// The end of the sparse reverse sweep: lam_s_0 = W^T E_0 + D_0 in full into
    /// `lam_s0`, and dL/dW = E_0 s_0^T + the parts' sum_t E_{t+1} q_t^T into `dw`
    /// (row-major). With one synaptic decay, by products (`recurrent`: y += (W * M)^T x,
    /// the dense reverse sweep's, on at most `threads` threads); with several, column by
    /// column per group.
    #[allow(clippy::too_many_arguments)]
    pub fn finish_reverse(
        &mut self,
        backend: Backend,
        recurrent: &StepProduct<'_, T>,
        threads: usize,
        rows: &[T],
        s0: &[T],
        lam_s0: &mut [T],
        dw: &mut [T],
    ) -> Result<(), Error> {
        let (n, nb, groups) = (self.n, self.nb, self.groups());
        dw.fill(T::from_f64(0.0));
        if groups == 1 {
            for part in &self.parts {
                crate::transpose::add_transposed(&part.dw_rows, dw, n);
            }
            lam_s0.copy_from_slice(&self.d_sum);
            recurrent.add(backend, &self.e_sum, lam_s0);
            if s0.iter().any(|&x| x != T::from_f64(0.0)) {
                // dL/dW^T += s_0 E_0^T (a column-major view of row-major dL/dW is its
                // transpose).
                let b = nb / n.max(1);
                let (s0, e0) = (col_major(s0, n, b), col_major(&self.e_sum, n, b));
                product(threads, col_major_mut(dw, n, n), Accum::Add, s0, e0.transpose());
            }
            return Ok(());
        }
        let mut parts = core::mem::take(&mut self.parts);
        let shared = self.shared(backend, rows);
        for (index, part) in parts.iter_mut().enumerate() {
            let first = index * self.per_part;
            let trials = first..(first + self.per_part).min(nb / n.max(1));
            let range = trials.start * n..trials.end * n;
            part.zone.clear();
            part.zone.extend(0..range.len() as u32);
            part.pairs.clear();
            for local in 0..range.len() {
                let (trial, j) = (local / n, local % n);
                let column = ((trial * groups + self.group_of[j] as usize) * n) as u32;
                let q = s0[range.start + local];
                part.pairs.push(ActivePair { row: j as u32, column, q });
            }
            let e = &self.e_sum[range.start * groups..range.end * groups];
            shared.gather(part, e, &self.d_sum[range.clone()], &mut lam_s0[range]);
            // The part's rows now hold its share of the sum and of E_0 s_0^T.
            crate::transpose::add_transposed(&part.dw_rows, dw, n);
        }
        self.parts = parts;
        Ok(())
    }
}
