//! Reusable buffers for the trial-level sweeps, the views they hand out, and the memory
//! a run needs (checked, and allocated fallibly, before any work).

use crate::error::Error;
use crate::network::Dims;
use crate::real::Real;

/// dL/d(everything) of docs/model.md sections 3, 5 and 6, in the layouts of
/// [`Network`](crate::Network) and [`Batch`](crate::Batch).
#[derive(Debug, Clone, Default, PartialEq)]
#[non_exhaustive]
pub struct Gradient<T> {
    /// The loss L whose gradient this is (accumulated in f64). After
    /// [`Workspace::backward`], the linear functional sum_t (G_t . o_t + D_t . s_t) of
    /// the caller's dL/do = G and dL/ds = D.
    pub loss: f64,
    /// dL/dW, (N, N) (masked, with a connectivity mask).
    pub w: Vec<T>,
    /// dL/dU, (N, n_in).
    pub u: Vec<T>,
    /// dL/dI0, (N).
    pub i0: Vec<T>,
    /// dL/dO, (n_out, N).
    pub o: Vec<T>,
    /// dL/dv_0 = lam_v_0, (B, N).
    pub v0: Vec<T>,
    /// dL/ds_0 = lam_s_0, (B, N).
    pub s0: Vec<T>,
    /// dL/dx_t = U^T e_t, (T, B, n_in), if [`GradientOptions::with_input`] asked for
    /// it; empty otherwise.
    pub x: Vec<T>,
    /// The error current e_t = dL/dI_t, which is dL/dI_ext,t, (T, B, N), if
    /// [`GradientOptions::with_current`] asked for it; empty otherwise.
    pub current: Vec<T>,
}

/// Which gradients beyond the parameters' and the initial state's a workspace computes.
/// Both cost memory of the size of the inputs (and little time), so they are opt-in.
///
/// ```
/// use spikegrad::{GradientOptions, Workspace};
/// let mut workspace = Workspace::<f64>::new();
/// workspace.set_gradient_options(GradientOptions::default().with_input(true).with_current(true));
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct GradientOptions {
    /// Compute dL/dx ([`Gradient::x`]).
    pub input: bool,
    /// Compute dL/dI_t ([`Gradient::current`]).
    pub current: bool,
}

impl GradientOptions {
    /// The same options, with dL/dx computed or not.
    pub fn with_input(self, input: bool) -> Self {
        GradientOptions { input, ..self }
    }

    /// The same options, with dL/dI_t (= dL/dI_ext) computed or not.
    pub fn with_current(self, current: bool) -> Self {
        GradientOptions { current, ..self }
    }
}

/// The states of the last recorded forward run: v_t and s_t for t = 0..=T, I_t and the
/// readout o_{t+1} for t = 0..T, each step laid out like `v0` (B, N) or, for the
/// readout, (B, n_out). An index out of range gives `None`.
#[derive(Debug, Clone, Copy)]
pub struct Trajectory<'a, T> {
    n: usize,
    n_out: usize,
    b: usize,
    t: usize,
    v: &'a [T],
    s: &'a [T],
    current: &'a [T],
    readout: &'a [T],
}

impl<'a, T> Trajectory<'a, T> {
    /// Number of steps T.
    pub fn steps(&self) -> usize {
        self.t
    }

    fn slot(values: &'a [T], t: usize, slots: usize, len: usize) -> Option<&'a [T]> {
        (t < slots).then(|| &values[t * len..][..len])
    }

    /// v_t, (B, N), for t in 0..=T.
    pub fn v(&self, t: usize) -> Option<&'a [T]> {
        Self::slot(self.v, t, self.t + 1, self.n * self.b)
    }

    /// s_t, (B, N), for t in 0..=T.
    pub fn s(&self, t: usize) -> Option<&'a [T]> {
        Self::slot(self.s, t, self.t + 1, self.n * self.b)
    }

    /// I_t, (B, N), for t in 0..T.
    pub fn current(&self, t: usize) -> Option<&'a [T]> {
        Self::slot(self.current, t, self.t, self.n * self.b)
    }

    /// o_{t+1} = O s_{t+1}, (B, n_out), for t in 0..T (the layout of a target).
    pub fn readout(&self, t: usize) -> Option<&'a [T]> {
        Self::slot(self.readout, t, self.t, self.n_out * self.b)
    }
}

/// Buffers reused across calls, so that a training loop allocates nothing after its
/// first iteration: grown when a larger problem arrives, never shrunk.
///
/// ```
/// use spikegrad::{Batch, Config, Gate, Loss, Network, Step, Workspace};
///
/// let config = Config::new(1.0, 20.0, 50.0, Gate::RaisedCosine { delta: 1.0 });
/// let step = Step::<f32>::new(&config)?;
/// let (w, u, i0, o) = ([0.0, 20.0, -20.0, 0.0], [1.5, 0.0], [-0.2, -0.2], [30.0, -30.0]);
/// let net = Network::new(2, 1, 1, &w, &u, &i0, &o);
/// let t = 100;
/// let (x, target, mask) = (vec![1.0; t], vec![0.5; t], vec![1.0; t]);
/// let batch = Batch::new(1, t, &[-0.4, -0.4], &[0.0, 0.0], &x);
/// let mut workspace = Workspace::new();
/// let gradient = workspace.gradient(&step, &net, &batch, &Loss::mse(&target, &mask))?;
/// assert!(gradient.loss > 0.0 && gradient.u[0] != 0.0);
/// # Ok::<(), spikegrad::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct Workspace<T> {
    pub(crate) threads: usize,
    pub(crate) options: GradientOptions,
    /// The most bytes the buffers of one run may take.
    pub(crate) memory_limit: Option<usize>,
    /// The dimensions of the last successful forward run.
    pub(crate) dims: Option<Dims>,
    /// Whether the buffers hold that run's whole trajectory (T + 1 slots) or two slots.
    pub(crate) recorded: bool,
    /// sum over t = 1..T, trials and neurons of s_t, for a run that was not recorded
    /// and was asked to count it (`Workspace::loss` with a rate penalty).
    pub(crate) streamed_charge: f64,
    /// v_t for every held t, N B each.
    pub(crate) v: Vec<T>,
    /// s_t for every held t.
    pub(crate) s: Vec<T>,
    /// I_t for every held t.
    pub(crate) current: Vec<T>,
    /// o_{t+1}, n_out x (T B) column-major = (T, B, n_out).
    pub(crate) readout: Vec<T>,
    /// dL/do_{t+1} of a built-in loss, same layout.
    pub(crate) readout_gradient: Vec<T>,
    /// W * M, row-major, when the network has a connectivity mask.
    pub(crate) w_effective: Vec<T>,
    /// (W * M)^T, row-major, for the row-accumulating product kernel.
    pub(crate) w_transposed: Vec<T>,
    pub(crate) lam_v: Vec<T>,
    pub(crate) lam_s: Vec<T>,
    pub(crate) lam_s_next: Vec<T>,
    /// e_t for a block of steps, N x (K B).
    pub(crate) e_block: Vec<T>,
    /// d_t for a block of steps, N x (K B).
    pub(crate) d_block: Vec<T>,
    /// K B ones, to sum e over a block with one product.
    pub(crate) ones: Vec<T>,
    pub(crate) gradient: Gradient<T>,
}

impl<T: Real> Default for Workspace<T> {
    fn default() -> Self {
        Self::new()
    }
}

/// What a call will run, for the memory it needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Sweep {
    /// A forward run keeping two steps of state.
    Streaming,
    /// A forward run keeping every step.
    Recorded,
    /// A recorded forward run and the reverse sweep.
    Gradient,
}

/// Resizes without shrinking capacity, allocating only when a larger problem arrives;
/// an allocation that fails is [`Error::TooLarge`], not an abort.
pub(crate) fn fit<T: Real>(buffer: &mut Vec<T>, len: usize) -> Result<(), Error> {
    if len > buffer.len() && buffer.try_reserve_exact(len - buffer.len()).is_err() {
        return Err(Error::TooLarge {
            what: format!("allocating {len} {} values failed: not enough memory", T::NAME),
        });
    }
    buffer.resize(len, T::from_f64(0.0));
    Ok(())
}

/// `fit`, then every element zero.
pub(crate) fn zeroed<T: Real>(buffer: &mut Vec<T>, len: usize) -> Result<(), Error> {
    fit(buffer, len)?;
    buffer.fill(T::from_f64(0.0));
    Ok(())
}

impl<T: Real> Workspace<T> {
    /// An empty workspace using both cores for large products (the rayon pool's size).
    pub fn new() -> Self {
        Self::with_threads(0)
    }

    /// An empty workspace whose matrix products use at most `threads` threads (1:
    /// sequential; 0: the rayon pool's size). Small products always run on one thread.
    pub fn with_threads(threads: usize) -> Self {
        let threads = if threads == 0 { rayon_threads() } else { threads };
        Workspace {
            threads,
            options: GradientOptions::default(),
            memory_limit: physical_memory(),
            dims: None,
            recorded: false,
            streamed_charge: 0.0,
            v: Vec::new(),
            s: Vec::new(),
            current: Vec::new(),
            readout: Vec::new(),
            readout_gradient: Vec::new(),
            w_effective: Vec::new(),
            w_transposed: Vec::new(),
            lam_v: Vec::new(),
            lam_s: Vec::new(),
            lam_s_next: Vec::new(),
            e_block: Vec::new(),
            d_block: Vec::new(),
            ones: Vec::new(),
            gradient: Gradient::default(),
        }
    }

    /// The number of threads large products may use.
    pub fn threads(&self) -> usize {
        self.threads
    }

    /// Chooses which optional gradients later calls compute.
    pub fn set_gradient_options(&mut self, options: GradientOptions) {
        self.options = options;
    }

    /// The optional gradients this workspace computes.
    pub fn gradient_options(&self) -> GradientOptions {
        self.options
    }

    /// The readout o_{t+1} = O s_{t+1} of the last successful forward run, recorded or
    /// not, laid out (T, B, n_out).
    pub fn readout(&self) -> Option<&[T]> {
        let dims = self.dims?;
        Some(&self.readout[..dims.t * dims.b * dims.n_out])
    }

    /// The states of the last forward run, if it was recorded (and succeeded).
    pub fn trajectory(&self) -> Option<Trajectory<'_, T>> {
        let dims = self.dims?;
        self.recorded.then(|| Trajectory {
            n: dims.n,
            n_out: dims.n_out,
            b: dims.b,
            t: dims.t,
            v: &self.v,
            s: &self.s,
            current: &self.current,
            readout: &self.readout,
        })
    }

    /// sum over t = 1..T, trials and neurons of s_t of the last forward run: the total
    /// charge, B N T times the mean rate R of docs/model.md section 6.
    pub(crate) fn charge(&self) -> f64 {
        match self.dims {
            Some(dims) if self.recorded => {
                let nb = dims.nb();
                self.s[nb..(dims.t + 1) * nb].iter().map(|x| x.to_f64()).sum()
            }
            _ => self.streamed_charge,
        }
    }

    /// Refuses a run whose buffers would not fit in memory, before allocating any:
    /// the values `sweep` needs for `dims` (with a connectivity mask if `masked`) must
    /// be addressable. Allocation failures past this check are refused by [`fit`].
    pub(crate) fn check_memory(&self, dims: Dims, sweep: Sweep, masked: bool) -> Result<(), Error> {
        let Dims { n, n_in, n_out, b, t } = dims;
        let p = crate::network::product;
        let steps_held = if sweep == Sweep::Streaming { Some(2) } else { t.checked_add(1) };
        let currents_held = if sweep == Sweep::Streaming { Some(1) } else { Some(t) };
        let gradient = sweep == Sweep::Gradient;
        let block = crate::gemm::block_steps(b, t);
        // Values of each buffer; `Some(0)` for one this run does not use.
        let parts = [
            steps_held.and_then(|slots| p(&[2, slots, n, b])),
            currents_held.and_then(|slots| p(&[slots, n, b])),
            p(&[2, t, b, n_out]),
            p(&[2, n, n]),
            if masked { p(&[n, n]) } else { Some(0) },
            if gradient { p(&[5, n, b]) } else { Some(0) },
            if gradient { p(&[2, block, n, b]) } else { Some(0) },
            if gradient { p(&[block, b]) } else { Some(0) },
            if gradient { p(&[n, n + n_in + 1 + n_out]) } else { Some(0) },
            if gradient && self.options.input { p(&[t, b, n_in]) } else { Some(0) },
            if gradient && self.options.current { p(&[t, b, n]) } else { Some(0) },
        ];
        let total = parts.into_iter().try_fold(0usize, |sum, part| sum.checked_add(part?));
        let bytes = total.and_then(|values| values.checked_mul(core::mem::size_of::<T>()));
        let shape = || format!("T = {t}, N = {n}, B = {b}, n_in = {n_in}, n_out = {n_out}");
        let limit = self.memory_limit.unwrap_or(isize::MAX as usize);
        match bytes {
            Some(bytes) if bytes <= limit => Ok(()),
            Some(bytes) => Err(Error::TooLarge {
                what: format!(
                    "the buffers of this run ({}, {}) need {:.3} GB, more than the \
                     workspace's memory limit of {:.3} GB",
                    shape(),
                    T::NAME,
                    bytes as f64 / 1e9,
                    limit as f64 / 1e9
                ),
            }),
            None => Err(Error::TooLarge {
                what: format!(
                    "the buffers of this run ({}) hold more {} values than memory can address",
                    shape(),
                    T::NAME
                ),
            }),
        }
    }

    /// Sets the most memory, in bytes, that the buffers of one run may take; a run that
    /// needs more is refused with [`Error::TooLarge`] before anything is allocated.
    /// `None`: no limit but addressability. The default is this machine's physical
    /// memory where the system says what it is (Linux), else `None`.
    pub fn set_memory_limit(&mut self, bytes: Option<usize>) {
        self.memory_limit = bytes;
    }

    /// The memory limit of [`Workspace::set_memory_limit`].
    pub fn memory_limit(&self) -> Option<usize> {
        self.memory_limit
    }
}

/// Physical memory in bytes, from `/proc/meminfo` (read once), where there is one.
fn physical_memory() -> Option<usize> {
    static MEMORY: std::sync::OnceLock<Option<usize>> = std::sync::OnceLock::new();
    *MEMORY.get_or_init(|| {
        let text = std::fs::read_to_string("/proc/meminfo").ok()?;
        let line = text.lines().find(|line| line.starts_with("MemTotal:"))?;
        let kib: usize = line.split_whitespace().nth(1)?.parse().ok()?;
        kib.checked_mul(1024)
    })
}

fn rayon_threads() -> usize {
    match faer::Par::rayon(0) {
        faer::Par::Rayon(n) => n.get(),
        faer::Par::Seq => 1,
    }
}
