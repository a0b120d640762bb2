//! Borrowed views of the parameters and the trials, and their validation.

use crate::error::Error;
use crate::real::Real;

/// The trainable parameters (MODEL.md section 1), borrowed. Matrices are row-major
/// (numpy C order): `w[i * n + j]` = W_ij, `u[i * n_in + k]` = U_ik, `o[k * n + i]` = O_ki.
#[derive(Debug, Clone, Copy)]
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
}

/// B independent trials of T steps, borrowed. C order: `v0`, `s0` (B, N); `x`
/// (T, B, n_in); `target`, `mask` (T, B, n_out), where time index t of `target` and
/// `mask` holds step t + 1. Equivalently, in column-major terms, the state of a step is
/// an N x B matrix (each trial's neurons contiguous) and `x` is n_in x (T B).
#[derive(Debug, Clone, Copy)]
pub struct Batch<'a, T> {
    /// Number of trials B.
    pub b: usize,
    /// Number of steps T.
    pub t: usize,
    /// Initial phases v_0, (B, N).
    pub v0: &'a [T],
    /// Initial synaptic currents s_0, (B, N).
    pub s0: &'a [T],
    /// Inputs x_0 .. x_{T-1}, (T, B, n_in).
    pub x: &'a [T],
    /// Targets ohat_1 .. ohat_T, (T, B, n_out).
    pub target: &'a [T],
    /// Mask m_1 .. m_T in [0, 1], (T, B, n_out).
    pub mask: &'a [T],
}

impl<T: Real> Network<'_, T> {
    /// Checks that `batch` fits this network and that both are valid input (MODEL.md
    /// section 4: shapes, finite values, the mask in [0, 1], an addressable trajectory),
    /// with the errors the sweeps would return; for callers that split or convert a
    /// batch before running it.
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

/// Checks shapes, finiteness and the mask range (MODEL.md section 4); returns the dims.
pub(crate) fn validate<T: Real>(net: &Network<'_, T>, batch: &Batch<'_, T>) -> Result<Dims, Error> {
    for (name, dim) in
        [("N", net.n), ("n_in", net.n_in), ("n_out", net.n_out), ("B", batch.b), ("T", batch.t)]
    {
        if dim == 0 {
            return Err(Error::EmptyDimension { name });
        }
    }
    let (n, n_in, n_out, b, t) = (net.n, net.n_in, net.n_out, batch.b, batch.t);
    let product = |dims: &[usize]| dims.iter().try_fold(1usize, |acc, &d| acc.checked_mul(d));
    let arrays: [(&'static str, &[T], String, Option<usize>); 9] = [
        ("W", net.w, format!("(N, N) = ({n}, {n})"), product(&[n, n])),
        ("U", net.u, format!("(N, n_in) = ({n}, {n_in})"), product(&[n, n_in])),
        ("I0", net.i0, format!("(N) = ({n})"), Some(n)),
        ("O", net.o, format!("(n_out, N) = ({n_out}, {n})"), product(&[n_out, n])),
        ("v0", batch.v0, format!("(B, N) = ({b}, {n})"), product(&[b, n])),
        ("s0", batch.s0, format!("(B, N) = ({b}, {n})"), product(&[b, n])),
        ("x", batch.x, format!("(T, B, n_in) = ({t}, {b}, {n_in})"), product(&[t, b, n_in])),
        (
            "target",
            batch.target,
            format!("(T, B, n_out) = ({t}, {b}, {n_out})"),
            product(&[t, b, n_out]),
        ),
        (
            "mask",
            batch.mask,
            format!("(T, B, n_out) = ({t}, {b}, {n_out})"),
            product(&[t, b, n_out]),
        ),
    ];
    for (array, data, expected, len) in arrays {
        // A product that overflows usize can never match a real slice's length.
        let expected_len = len.unwrap_or(usize::MAX);
        if data.len() != expected_len {
            return Err(Error::ShapeMismatch {
                array,
                expected,
                expected_len,
                got_len: data.len(),
            });
        }
        if let Some(index) = data.iter().position(|x| !x.is_finite()) {
            return Err(Error::NonFiniteInput { array, index, value: data[index].to_f64() });
        }
    }
    let (zero, one) = (T::from_f64(0.0), T::from_f64(1.0));
    if let Some(index) = batch.mask.iter().position(|&m| !(m >= zero && m <= one)) {
        return Err(Error::MaskOutOfRange { index, value: batch.mask[index].to_f64() });
    }
    // The trajectory holds (T + 1) N B values; make sure that is addressable.
    if product(&[t + 1, n, b])
        .is_none_or(|len| len > isize::MAX as usize / core::mem::size_of::<T>())
    {
        return Err(Error::TooLarge {
            what: format!("the trajectory holds (T + 1) N B values with T = {t}, N = {n}, B = {b}, more than memory can address"),
        });
    }
    Ok(Dims { n, n_in, n_out, b, t })
}
