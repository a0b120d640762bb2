use crate::error::Error;

/// The trainable parameters (MODEL.md section 1). Matrices are row-major (numpy C order):
/// `w[i * n + j]` = W_ij, `u[i * n_in + k]` = U_ik, `o[k * n + i]` = O_ki.
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
}

/// B independent trials of T steps: initial state, inputs, targets and mask.
/// Layouts (C order): `v0`, `s0` (B, N); `x` (T, B, n_in); `target`, `mask` (T, B, n_out),
/// where time index t of `target` and `mask` holds step t + 1.
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
    /// Targets ohat_1 .. ohat_T, (T, B, n_out).
    pub target: Vec<f64>,
    /// Mask m_1 .. m_T in [0, 1], (T, B, n_out).
    pub mask: Vec<f64>,
}

/// Checks shapes and finiteness of a network and batch (MODEL.md section 4).
pub fn validate_data(net: &Network, batch: &Batch) -> Result<(), Error> {
    for (name, dim) in
        [("N", net.n), ("n_in", net.n_in), ("n_out", net.n_out), ("B", batch.b), ("T", batch.t)]
    {
        if dim == 0 {
            return Err(Error::EmptyDimension { name });
        }
    }
    let (n, n_in, n_out, b, t) = (net.n, net.n_in, net.n_out, batch.b, batch.t);
    let arrays: [(&'static str, &[f64], String, Option<usize>); 9] = [
        ("W", &net.w, format!("(N, N) = ({n}, {n})"), n.checked_mul(n)),
        ("U", &net.u, format!("(N, n_in) = ({n}, {n_in})"), n.checked_mul(n_in)),
        ("I0", &net.i0, format!("(N) = ({n})"), Some(n)),
        ("O", &net.o, format!("(n_out, N) = ({n_out}, {n})"), n_out.checked_mul(n)),
        ("v0", &batch.v0, format!("(B, N) = ({b}, {n})"), b.checked_mul(n)),
        ("s0", &batch.s0, format!("(B, N) = ({b}, {n})"), b.checked_mul(n)),
        (
            "x",
            &batch.x,
            format!("(T, B, n_in) = ({t}, {b}, {n_in})"),
            t.checked_mul(b).and_then(|tb| tb.checked_mul(n_in)),
        ),
        (
            "target",
            &batch.target,
            format!("(T, B, n_out) = ({t}, {b}, {n_out})"),
            t.checked_mul(b).and_then(|tb| tb.checked_mul(n_out)),
        ),
        (
            "mask",
            &batch.mask,
            format!("(T, B, n_out) = ({t}, {b}, {n_out})"),
            t.checked_mul(b).and_then(|tb| tb.checked_mul(n_out)),
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
            return Err(Error::NonFiniteInput { array, index, value: data[index] });
        }
    }
    if let Some(index) = batch.mask.iter().position(|m| !(0.0..=1.0).contains(m)) {
        return Err(Error::MaskOutOfRange { index, value: batch.mask[index] });
    }
    Ok(())
}
