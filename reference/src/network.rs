use crate::config::Config;
use crate::error::Error;

/// The trainable parameters (docs/model.md sections 1 and 5). Matrices are row-major
/// (numpy C order): `w[i * n + j]` = W_ij, `u[i * n_in + k]` = U_ik, `o[k * n + i]` = O_ki.
#[derive(Debug, Clone, PartialEq)]
pub struct Network {
    /// Number of neurons N.
    pub n: usize,
    /// Number of input channels n_in.
    pub n_in: usize,
    /// Number of readout channels n_out.
    pub n_out: usize,
    /// Recurrent weights W, (N, N).
    pub w: Vec<f64>,
    /// Input weights U, (N, n_in).
    pub u: Vec<f64>,
    /// Bias current I0, (N).
    pub i0: Vec<f64>,
    /// Readout O, (n_out, N).
    pub o: Vec<f64>,
    /// Connectivity mask M, (N, N), or `None` (all ones): the recurrent matrix used is
    /// W_eff = W * M, elementwise.
    pub w_mask: Option<Vec<f64>>,
    /// Per-neuron membrane time constants tau_j, (N), or `None` for the configuration's
    /// shared tau (docs/model.md section 5).
    pub tau: Option<Vec<f64>>,
    /// Per-neuron synaptic time constants tau_s,j, (N), or `None` for the shared tau_s.
    pub tau_s: Option<Vec<f64>>,
}

impl Network {
    /// tau_j: the per-neuron value, else the configuration's shared tau.
    pub fn tau_of(&self, cfg: &Config, j: usize) -> f64 {
        self.tau.as_ref().map_or(cfg.tau, |tau| tau[j])
    }

    /// tau_s,j: the per-neuron value, else the configuration's shared tau_s.
    pub fn tau_s_of(&self, cfg: &Config, j: usize) -> f64 {
        self.tau_s.as_ref().map_or(cfg.tau_s, |tau_s| tau_s[j])
    }

    /// W_eff_ij = W_ij M_ij (W_ij without a mask).
    pub fn w_eff(&self, i: usize, j: usize) -> f64 {
        let w = self.w[i * self.n + j];
        match &self.w_mask {
            Some(m) => w * m[i * self.n + j],
            None => w,
        }
    }
}

/// B independent trials of T steps: initial state, inputs and external currents.
/// Layouts (C order): `v0`, `s0` (B, N); `x` (T, B, n_in); `i_ext` (T, B, N).
#[derive(Debug, Clone, PartialEq)]
pub struct Batch {
    /// Number of trials B.
    pub b: usize,
    /// Number of steps T.
    pub t: usize,
    /// Initial phases v_0, (B, N).
    pub v0: Vec<f64>,
    /// Initial synaptic currents s_0, (B, N).
    pub s0: Vec<f64>,
    /// Inputs x_0 .. x_{T-1}, (T, B, n_in).
    pub x: Vec<f64>,
    /// External currents I_ext,0 .. I_ext,T-1, (T, B, N), or `None` (zero).
    pub i_ext: Option<Vec<f64>>,
}

/// Checks shapes and finiteness of a network and batch (docs/model.md section 4).
pub fn validate_data(net: &Network, batch: &Batch) -> Result<(), Error> {
    for (name, dim) in
        [("N", net.n), ("n_in", net.n_in), ("n_out", net.n_out), ("B", batch.b), ("T", batch.t)]
    {
        if dim == 0 {
            return Err(Error::EmptyDimension { name });
        }
    }
    let (n, n_in, n_out, b, t) = (net.n, net.n_in, net.n_out, batch.b, batch.t);
    let tbn = |last: usize| t.checked_mul(b).and_then(|tb| tb.checked_mul(last));
    let mut arrays: Vec<(&'static str, &[f64], String, Option<usize>)> = vec![
        ("W", &net.w, format!("(N, N) = ({n}, {n})"), n.checked_mul(n)),
        ("U", &net.u, format!("(N, n_in) = ({n}, {n_in})"), n.checked_mul(n_in)),
        ("I0", &net.i0, format!("(N) = ({n})"), Some(n)),
        ("O", &net.o, format!("(n_out, N) = ({n_out}, {n})"), n_out.checked_mul(n)),
    ];
    if let Some(mask) = &net.w_mask {
        arrays.push(("W_mask", mask, format!("(N, N) = ({n}, {n})"), n.checked_mul(n)));
    }
    if let Some(tau) = &net.tau {
        arrays.push(("tau", tau, format!("(N) = ({n})"), Some(n)));
    }
    if let Some(tau_s) = &net.tau_s {
        arrays.push(("tau_s", tau_s, format!("(N) = ({n})"), Some(n)));
    }
    arrays.extend([
        ("v0", &batch.v0[..], format!("(B, N) = ({b}, {n})"), b.checked_mul(n)),
        ("s0", &batch.s0[..], format!("(B, N) = ({b}, {n})"), b.checked_mul(n)),
        ("x", &batch.x[..], format!("(T, B, n_in) = ({t}, {b}, {n_in})"), tbn(n_in)),
    ]);
    if let Some(i_ext) = &batch.i_ext {
        arrays.push(("I_ext", i_ext, format!("(T, B, N) = ({t}, {b}, {n})"), tbn(n)));
    }
    for (array, data, expected, len) in arrays {
        check_array(array, data, expected, len)?;
    }
    Ok(())
}

/// Checks that `data` has `len` elements (shape `expected`, in words; `None` when the
/// product overflowed, which no real array matches) and no NaN or infinity.
pub(crate) fn check_array(
    array: &'static str,
    data: &[f64],
    expected: String,
    len: Option<usize>,
) -> Result<(), Error> {
    let expected_len = len.unwrap_or(usize::MAX);
    if data.len() != expected_len {
        return Err(Error::ShapeMismatch { array, expected, expected_len, got_len: data.len() });
    }
    if let Some(index) = data.iter().position(|x| !x.is_finite()) {
        return Err(Error::NonFiniteInput { array, index, value: data[index] });
    }
    Ok(())
}
