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

#![deny(clippy::undocumented_unsafe_blocks)]

use crate::error::Error;
use crate::real::Real;
use crate::workspace::fit;
use crate::Backend;
use faer::Par;

mod cost;
mod disjoint;
mod forward;
mod parts;
mod reverse;

pub(crate) use cost::sparse_pays;
use cost::PARALLEL_MIN_ELEMENTS;
use parts::{Part, Shared};

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
/// on sparse, once per segment: four probes, so fewer hand-offs to the thread pool than
/// one per probe, while the choice still follows the activity within 64 steps
/// (docs/benchmarks.md, "Thresholds").
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

    /// The trial range of part `index`, in elements of one step: (start, len).
    fn trials_of(&self, index: usize) -> (usize, usize) {
        let b = self.nb / self.n.max(1);
        let first = (index * self.per_part).min(b);
        let last = (first + self.per_part).min(b);
        (first * self.n, (last - first) * self.n)
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
}
