//! Borrowed views of the parameters and the trials, and their validation.

use crate::error::Error;
use crate::real::Real;

/// The trainable parameters (docs/model.md sections 1 and 5), borrowed. Matrices are
/// row-major (numpy C order): `w[i * n + j]` = W_ij, `u[i * n_in + k]` = U_ik,
/// `o[k * n + i]` = O_ki.
///
/// Built with [`Network::new`] from named [`Parameters`] and, for a fixed connectivity, [`Network::with_mask`];
/// the fields are public to read.
#[derive(Debug, Clone, Copy)]
#[non_exhaustive]
pub struct Network<'a, T> {
    /// Number of neurons N.
    pub n: usize,
    /// Number of input channels n_in.
    pub n_in: usize,
    /// Number of readout channels n_out.
    pub n_out: usize,
    /// Recurrent weights W, (N, N).
    pub w: &'a [T],
    /// Input weights U, (N, n_in).
    pub u: &'a [T],
    /// Bias current I0, (N).
    pub i0: &'a [T],
    /// Readout O, (n_out, N).
    pub o: &'a [T],
    /// Connectivity mask M, (N, N), or `None` for all-to-all: the recurrent matrix used
    /// is W * M (elementwise), and dL/dW is masked alike (docs/model.md section 5).
    pub w_mask: Option<&'a [T]>,
    /// Per-neuron membrane time constants tau_j, (N), or `None` for the step's shared
    /// tau (docs/model.md section 5).
    pub tau: Option<&'a [T]>,
    /// Per-neuron synaptic time constants tau_s,j, (N), or `None` for the step's shared
    /// tau_s.
    pub tau_s: Option<&'a [T]>,
}

/// A network's shape and parameters by name, the argument of [`Network::new`]: slices of
/// one type that a positional constructor would let a caller swap silently (U and I0
/// have the same length when n_in = 1). Row-major as [`Network`]'s fields.
///
/// ```
/// use spikegrad::{Network, Parameters};
/// let (w, u, i0, o) = ([0.0; 4], [1.0, 1.0], [0.1, 0.1], [1.0, -1.0]);
/// let net = Network::new(Parameters { n: 2, n_in: 1, n_out: 1, w: &w, u: &u, i0: &i0, o: &o });
/// assert_eq!(net.u, &[1.0, 1.0]);
/// ```
#[derive(Debug, Clone, Copy)]
pub struct Parameters<'a, T> {
    /// Number of neurons N.
    pub n: usize,
    /// Number of input channels n_in.
    pub n_in: usize,
    /// Number of readout channels n_out.
    pub n_out: usize,
    /// Recurrent weights W, (N, N).
    pub w: &'a [T],
    /// Input weights U, (N, n_in).
    pub u: &'a [T],
    /// Bias current I0, (N).
    pub i0: &'a [T],
    /// Readout O, (n_out, N).
    pub o: &'a [T],
}

impl<'a, T> Network<'a, T> {
    /// A fully connected network of the given shape and parameters. Shapes and values
    /// are checked when a sweep runs (or by [`Network::check`]), so this cannot fail.
    ///
    /// # Example
    ///
    /// ```
    /// use spikegrad::{Network, Parameters};
    /// let (w, u, i0, o) = (vec![0.0f32; 9], vec![1.0; 6], vec![-0.1; 3], vec![1.0; 3]);
    /// let net = Network::new(Parameters { n: 3, n_in: 2, n_out: 1, w: &w, u: &u, i0: &i0, o: &o });
    /// assert!(net.w_mask.is_none() && net.tau.is_none());
    /// ```
    pub fn new(parameters: Parameters<'a, T>) -> Self {
        let Parameters { n, n_in, n_out, w, u, i0, o } = parameters;
        Network { n, n_in, n_out, w, u, i0, o, w_mask: None, tau: None, tau_s: None }
    }

    /// The shape and parameters this network was built from, to build another that
    /// differs in some of them (`Parameters { o: &other_o, ..net.parameters() }`).
    pub fn parameters(&self) -> Parameters<'a, T> {
        let Network { n, n_in, n_out, w, u, i0, o, .. } = *self;
        Parameters { n, n_in, n_out, w, u, i0, o }
    }

    /// The same network with connectivity mask `w_mask` (N, N), any finite values
    /// (typically 0 and 1): I_t uses W * M, and dL/dW = (sum_t e_t s_t^T) * M.
    ///
    /// # Example
    ///
    /// ```
    /// use spikegrad::{Network, Parameters};
    /// let (w, u, i0, o) = ([0.5f64; 4], [1.0, 1.0], [0.0, 0.0], [1.0, 1.0]);
    /// let no_self = [0.0, 1.0, 1.0, 0.0]; // M_ii = 0: no self-connections
    /// let net = Network::new(Parameters { n: 2, n_in: 1, n_out: 1, w: &w, u: &u, i0: &i0, o: &o })
    ///     .with_mask(&no_self);
    /// assert_eq!(net.w_mask, Some(&no_self[..]));
    /// ```
    pub fn with_mask(self, w_mask: &'a [T]) -> Self {
        Network { w_mask: Some(w_mask), ..self }
    }

    /// The same network with a membrane time constant per neuron, `tau` (N), in place
    /// of the step's shared tau: neuron j integrates tau_j dv/dt = f(v, I). Each tau_j
    /// must keep the jump rule with the step's h, gate and neuron,
    /// (h/tau_j) max f(1, I) <= Delta/2 (checked when a sweep runs:
    /// [`Error::InvalidTimeConstant`]).
    ///
    /// # Example
    ///
    /// ```
    /// use spikegrad::{Batch, Config, Gate, Inputs, Network, Parameters, Record, Step, Workspace};
    /// let step = Step::<f64>::new(&Config::new(1.0, 20.0, 50.0, Gate::RaisedCosine { delta: 1.0 }))?;
    /// let (w, u, i0, o) = ([0.0; 4], [1.0, 1.0], [0.1, 0.1], [1.0, 1.0]);
    /// let (tau, tau_s) = ([10.0, 40.0], [5.0, 200.0]); // a fast and a slow neuron
    /// let net = Network::new(Parameters { n: 2, n_in: 1, n_out: 1, w: &w, u: &u, i0: &i0, o: &o }).with_tau(&tau).with_tau_s(&tau_s);
    /// let x = vec![0.0; 400];
    /// let mut workspace = Workspace::new();
    /// workspace.forward(&step, &net, &Batch::new(Inputs { b: 1, t: 400, v0: &[0.0, 0.0], s0: &[0.0, 0.0], x: &x }), Record::Trajectory)?;
    /// // Both fire tonically (I0 > 0); the faster membrane crosses the gate more often.
    /// let s = workspace.trajectory().unwrap();
    /// let charge = |j: usize| (1..=400).map(|t| s.s(t).unwrap()[j]).sum::<f64>();
    /// assert!(charge(0) > charge(1));
    ///
    /// let too_fast = [1.0, 40.0]; // (h/tau) 2 = 2 > Delta/2
    /// let bad = Network::new(Parameters { n: 2, n_in: 1, n_out: 1, w: &w, u: &u, i0: &i0, o: &o }).with_tau(&too_fast);
    /// let x = vec![0.0; 4];
    /// let error = workspace.forward(&step, &bad, &Batch::new(Inputs { b: 1, t: 4, v0: &[0.0; 2], s0: &[0.0; 2], x: &x }), Record::Readout);
    /// assert!(error.unwrap_err().to_string().starts_with("invalid time constant: tau[0] = 1"));
    /// # Ok::<(), spikegrad::Error>(())
    /// ```
    pub fn with_tau(self, tau: &'a [T]) -> Self {
        Network { tau: Some(tau), ..self }
    }

    /// The same network with a synaptic time constant per neuron, `tau_s` (N), in place
    /// of the step's shared tau_s: neuron j's synapse decays as
    /// tau_s,j ds_j/dt = -s_j + g(v_j) dv_j/dt. Each must exceed the step's h (checked when
    /// a sweep runs: [`Error::InvalidTimeConstant`]). The example of
    /// [`Network::with_tau`] sets both.
    pub fn with_tau_s(self, tau_s: &'a [T]) -> Self {
        Network { tau_s: Some(tau_s), ..self }
    }
}

/// B independent trials of T steps, borrowed. C order: `v0`, `s0` (B, N); `x`
/// (T, B, n_in); `i_ext` (T, B, N). Equivalently, in column-major terms, the state of a
/// step is an N x B matrix (each trial's neurons contiguous) and `x` is n_in x (T B).
///
/// Built with [`Batch::new`] from named [`Inputs`] and, for an external current, [`Batch::with_external_current`];
/// the fields are public to read. What the readout should do is the business of a
/// [`Loss`](crate::Loss), not of the batch.
#[derive(Debug, Clone, Copy)]
#[non_exhaustive]
pub struct Batch<'a, T> {
    /// Number of trials B.
    pub b: usize,
    /// Number of steps T.
    pub t: usize,
    /// Initial phases v_0, (B, N): points on the circle, so any finite value is taken
    /// modulo 2 into [-1, 1) before the first step (docs/model.md section 2).
    pub v0: &'a [T],
    /// Initial synaptic currents s_0, (B, N).
    pub s0: &'a [T],
    /// Inputs x_0 .. x_{T-1}, (T, B, n_in).
    pub x: &'a [T],
    /// External currents I_ext,0 .. I_ext,T-1, (T, B, N), or `None`:
    /// I_t = I0 + W s_t + U x_t + I_ext,t (docs/model.md section 5).
    pub i_ext: Option<&'a [T]>,
}

/// B trials' shape, initial state and inputs by name, the argument of [`Batch::new`].
/// C order as [`Batch`]'s fields.
#[derive(Debug, Clone, Copy)]
pub struct Inputs<'a, T> {
    /// Number of trials B.
    pub b: usize,
    /// Number of steps T.
    pub t: usize,
    /// Initial phases v_0, (B, N): a phase in [-1, 1), where +-1 is the spike; any finite
    /// value is taken modulo 2 (docs/model.md section 2).
    pub v0: &'a [T],
    /// Initial synaptic currents s_0, (B, N): zero for a network at rest.
    pub s0: &'a [T],
    /// Inputs x_0 .. x_{T-1}, (T, B, n_in).
    pub x: &'a [T],
}

impl<'a, T> Batch<'a, T> {
    /// `b` trials of `t` steps from initial state (`v0`, `s0`) with inputs `x`. Shapes
    /// and values are checked when a sweep runs, so this cannot fail.
    ///
    /// # Example
    ///
    /// ```
    /// use spikegrad::{Batch, Inputs};
    /// let (b, t, n, n_in) = (2, 100, 3, 1);
    /// // At rest: phase -0.5 (between the rest and the threshold), no synaptic current.
    /// let (v0, s0, x) = (vec![-0.5f64; b * n], vec![0.0; b * n], vec![1.0; t * b * n_in]);
    /// let batch = Batch::new(Inputs { b, t, v0: &v0, s0: &s0, x: &x });
    /// assert!(batch.i_ext.is_none());
    /// ```
    pub fn new(inputs: Inputs<'a, T>) -> Self {
        let Inputs { b, t, v0, s0, x } = inputs;
        Batch { b, t, v0, s0, x, i_ext: None }
    }

    /// The shape, initial state and inputs this batch was built from, to build another
    /// that differs in some of them (`Inputs { x: &other_x, ..batch.inputs() }`).
    pub fn inputs(&self) -> Inputs<'a, T> {
        let Batch { b, t, v0, s0, x, .. } = *self;
        Inputs { b, t, v0, s0, x }
    }

    /// The same trials with an external current `i_ext` (T, B, N) added to every
    /// neuron's input current, for a network fed by another layer or framework. The
    /// example of [`Workspace::forward`](crate::Workspace::forward) drives a neuron so.
    pub fn with_external_current(self, i_ext: &'a [T]) -> Self {
        Batch { i_ext: Some(i_ext), ..self }
    }
}

impl<T: Real> Network<'_, T> {
    /// Checks that `batch` fits this network and that both are valid input
    /// (docs/model.md section 4: no empty dimension, every array of its shape, every
    /// value finite), with the errors the sweeps would return; for callers that split
    /// or convert a batch before running it.
    ///
    /// # Errors
    ///
    /// [`Error::EmptyDimension`], [`Error::ShapeMismatch`] (naming the array, its
    /// expected shape and both lengths), [`Error::NonFiniteInput`] (naming the array and
    /// the index).
    ///
    /// # Example
    ///
    /// ```
    /// use spikegrad::{Batch, Error, Inputs, Network, Parameters};
    /// let (w, u, i0, o) = ([0.0f32; 4], [1.0, 1.0], [0.0, 0.0], [1.0, 1.0]);
    /// let net = Network::new(Parameters { n: 2, n_in: 1, n_out: 1, w: &w, u: &u, i0: &i0, o: &o });
    /// let x = vec![0.0; 9]; // T B n_in = 10 expected
    /// let batch = Batch::new(Inputs { b: 1, t: 10, v0: &[0.0; 2], s0: &[0.0; 2], x: &x });
    /// let error = net.check(&batch).unwrap_err();
    /// assert!(matches!(error, Error::ShapeMismatch { array: "x", got_len: 9, .. }));
    /// ```
    pub fn check(&self, batch: &Batch<'_, T>) -> Result<(), Error> {
        validate(self, batch).map(|_| ())
    }
}

/// The dimensions of a problem.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Dims {
    pub n: usize,
    pub n_in: usize,
    pub n_out: usize,
    pub b: usize,
    pub t: usize,
}

impl Dims {
    /// N B, the length of one step's state.
    pub fn nb(&self) -> usize {
        self.n * self.b
    }
}

/// The product of `dims`, or `None` if it overflows `usize`.
pub(crate) fn product(dims: &[usize]) -> Option<usize> {
    dims.iter().try_fold(1usize, |acc, &d| acc.checked_mul(d))
}

/// Checks that `data` has `len` elements (shape `expected()`, in words, formatted only
/// for the error: validation allocates nothing) and no NaN or infinity. A `len` of
/// `None` (a product that overflowed) matches no real slice.
pub(crate) fn check_array<T: Real>(
    array: &'static str,
    data: &[T],
    expected: impl FnOnce() -> String,
    len: Option<usize>,
) -> Result<(), Error> {
    let expected_len = len.unwrap_or(usize::MAX);
    if data.len() != expected_len {
        let expected = expected();
        return Err(Error::ShapeMismatch { array, expected, expected_len, got_len: data.len() });
    }
    match crate::real::first_non_finite(data) {
        Some(index) => Err(Error::NonFiniteInput { array, index, value: data[index].to_f64() }),
        None => Ok(()),
    }
}

/// Checks dimensions, shapes and finiteness of a network and batch (docs/model.md
/// section 4); returns the dims.
pub(crate) fn validate<T: Real>(net: &Network<'_, T>, batch: &Batch<'_, T>) -> Result<Dims, Error> {
    for (name, dim) in
        [("N", net.n), ("n_in", net.n_in), ("n_out", net.n_out), ("B", batch.b), ("T", batch.t)]
    {
        if dim == 0 {
            return Err(Error::EmptyDimension { name });
        }
    }
    let (n, n_in, n_out, b, t) = (net.n, net.n_in, net.n_out, batch.b, batch.t);
    check_array("W", net.w, || format!("(N, N) = ({n}, {n})"), product(&[n, n]))?;
    check_array("U", net.u, || format!("(N, n_in) = ({n}, {n_in})"), product(&[n, n_in]))?;
    check_array("I0", net.i0, || format!("(N) = ({n})"), Some(n))?;
    check_array("O", net.o, || format!("(n_out, N) = ({n_out}, {n})"), product(&[n_out, n]))?;
    if let Some(mask) = net.w_mask {
        check_array("W_mask", mask, || format!("(N, N) = ({n}, {n})"), product(&[n, n]))?;
    }
    if let Some(tau) = net.tau {
        check_array("tau", tau, || format!("(N) = ({n})"), Some(n))?;
    }
    if let Some(tau_s) = net.tau_s {
        check_array("tau_s", tau_s, || format!("(N) = ({n})"), Some(n))?;
    }
    check_array("v0", batch.v0, || format!("(B, N) = ({b}, {n})"), product(&[b, n]))?;
    check_array("s0", batch.s0, || format!("(B, N) = ({b}, {n})"), product(&[b, n]))?;
    let x_shape = || format!("(T, B, n_in) = ({t}, {b}, {n_in})");
    check_array("x", batch.x, x_shape, product(&[t, b, n_in]))?;
    if let Some(i_ext) = batch.i_ext {
        check_array(
            "I_ext",
            i_ext,
            || format!("(T, B, N) = ({t}, {b}, {n})"),
            product(&[t, b, n]),
        )?;
    }
    Ok(Dims { n, n_in, n_out, b, t })
}
