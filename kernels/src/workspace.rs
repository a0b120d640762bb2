//! Reusable buffers for the trial-level sweeps, and the views they hand out.

use crate::network::Dims;
use crate::real::Real;

/// dL/d(everything) of MODEL.md section 3, in the layouts of
/// [`Network`](crate::Network) and [`Batch`](crate::Batch).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Gradient<T> {
    /// The loss L at which the gradient was taken (accumulated in f64).
    pub loss: f64,
    /// dL/dW, (N, N).
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
}

/// The states of the last recorded forward run: v_t and s_t for t = 0..=T, I_t and the
/// readout o_{t+1} for t = 0..T, each step laid out like `v0` (B, N) / `target` (B, n_out).
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

    /// v_t, (B, N), for t in 0..=T.
    pub fn v(&self, t: usize) -> &'a [T] {
        &self.v[t * self.n * self.b..][..self.n * self.b]
    }

    /// s_t, (B, N), for t in 0..=T.
    pub fn s(&self, t: usize) -> &'a [T] {
        &self.s[t * self.n * self.b..][..self.n * self.b]
    }

    /// I_t, (B, N), for t in 0..T.
    pub fn current(&self, t: usize) -> &'a [T] {
        &self.current[t * self.n * self.b..][..self.n * self.b]
    }

    /// o_{t+1} = O s_{t+1}, (B, n_out), for t in 0..T (the layout of `target`).
    pub fn readout(&self, t: usize) -> &'a [T] {
        &self.readout[t * self.n_out * self.b..][..self.n_out * self.b]
    }
}

/// Buffers reused across calls, so that a training loop allocates nothing after its
/// first iteration: grown when a larger problem arrives, never shrunk.
///
/// ```
/// use spikegrad::{Batch, Config, Gate, Network, Step, Workspace};
///
/// let config = Config { h: 1.0, tau: 20.0, tau_s: 50.0, gate: Gate::RaisedCosine { delta: 1.0 } };
/// let step = Step::<f32>::new(&config)?;
/// let (n, t) = (2, 100);
/// let net = Network {
///     n, n_in: 1, n_out: 1,
///     w: &[0.0, 20.0, -20.0, 0.0], u: &[1.5, 0.0], i0: &[-0.2, -0.2], o: &[30.0, -30.0],
/// };
/// let (x, target, mask) = (vec![1.0; t], vec![0.5; t], vec![1.0; t]);
/// let batch = Batch { b: 1, t, v0: &[-0.4, -0.4], s0: &[0.0, 0.0], x: &x, target: &target, mask: &mask };
/// let mut workspace = Workspace::new();
/// let gradient = workspace.gradient(&step, &net, &batch)?;
/// assert!(gradient.loss > 0.0 && gradient.u[0] != 0.0);
/// # Ok::<(), spikegrad::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct Workspace<T> {
    pub(crate) threads: usize,
    pub(crate) dims: Option<Dims>,
    /// Whether the buffers hold a whole recorded trajectory (`steps_held` = T + 1) or
    /// only two slots.
    pub(crate) recorded: bool,
    /// v_t for every held t, N B each.
    pub(crate) v: Vec<T>,
    /// s_t for every held t.
    pub(crate) s: Vec<T>,
    /// I_t for every held t.
    pub(crate) current: Vec<T>,
    /// o_{t+1}, n_out x (T B) column-major = (T, B, n_out).
    pub(crate) readout: Vec<T>,
    /// r_{t+1} = (h/B) m (o - ohat), same layout.
    pub(crate) residual: Vec<T>,
    pub(crate) lam_v: Vec<T>,
    pub(crate) lam_s: Vec<T>,
    pub(crate) lam_s_next: Vec<T>,
    /// W^T, row-major, for the row-accumulating product kernel.
    pub(crate) w_transposed: Vec<T>,
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

/// Resizes without shrinking capacity: allocates only when a larger problem arrives.
pub(crate) fn fit<T: Real>(buffer: &mut Vec<T>, len: usize) {
    buffer.resize(len, T::from_f64(0.0));
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
            dims: None,
            recorded: false,
            v: Vec::new(),
            s: Vec::new(),
            current: Vec::new(),
            readout: Vec::new(),
            residual: Vec::new(),
            lam_v: Vec::new(),
            w_transposed: Vec::new(),
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

    /// The readout o_{t+1} = O s_{t+1} of the last successful forward run, recorded or
    /// not, laid out like `target`: (T, B, n_out).
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
}

fn rayon_threads() -> usize {
    match faer::Par::rayon(0) {
        faer::Par::Rayon(n) => n.get(),
        faer::Par::Seq => 1,
    }
}
