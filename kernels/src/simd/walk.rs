//! The register walk every elementwise kernel shares: whole registers first, then the
//! tail through `partial_load` / `partial_store`, so the tail takes exactly the same
//! numeric path as the body (a partial register's missing lanes are zeros, whose
//! images are never stored).

use super::lanes;
use crate::real::Real;
use pulp::{Simd, WithSimd};

/// Where a register starts in the slices, and whether it is whole or the tail (for
/// per-element constants, which load the tail partially too).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Register {
    /// Index of the register's first element.
    pub offset: usize,
    /// false for the partial register at the end.
    pub whole: bool,
}

/// One elementwise rule over `I` input slices and `O` output slices: the outputs of
/// one register from the inputs' and the outputs' current values (a rule that only
/// writes an output ignores its current value; the compiler drops the unused load).
pub(crate) trait Lanewise<T: Real, const I: usize, const O: usize> {
    /// Whether [`walk`] reports that every output is finite (a running sum of
    /// (x - x), 0 for finite x and NaN otherwise: two operations per output, not a
    /// second pass).
    const CHECKED: bool;

    /// The outputs of the register at `at`.
    fn lanes<S: Simd>(
        &self,
        simd: S,
        at: Register,
        inputs: [T::Lanes<S>; I],
        outputs: [T::Lanes<S>; O],
    ) -> [T::Lanes<S>; O];
}

/// Applies `rule` to every element of `inputs` and `outputs` (all the length of
/// `inputs[0]`; the caller checks) and returns whether every output is finite (true when
/// the rule is not [`Lanewise::CHECKED`]).
#[inline(always)]
// One register index reads every input and writes every output: no single slice to
// iterate.
#[allow(clippy::needless_range_loop)]
pub(crate) fn walk<S: Simd, T: Real, R: Lanewise<T, I, O>, const I: usize, const O: usize>(
    simd: S,
    rule: &R,
    inputs: [&[T]; I],
    outputs: [&mut [T]; O],
) -> bool {
    let len = inputs.first().map_or(0, |x| x.len());
    let width = lanes::<S, T>();
    let registers = len / width;
    let heads = inputs.map(|x| &T::as_simd::<S>(x).0[..registers]);
    let tails = inputs.map(|x| &x[registers * width..len]);
    let outputs = outputs.map(|y| {
        let (head, tail) = T::as_mut_simd::<S>(&mut y[..len]);
        (&mut head[..registers], tail)
    });
    let zero = T::splat(simd, T::from_f64(0.0));
    let mut acc = zero;
    for r in 0..registers {
        let at = Register { offset: r * width, whole: true };
        let (mut x, mut old) = ([zero; I], [zero; O]);
        for i in 0..I {
            x[i] = heads[i][r];
        }
        for o in 0..O {
            old[o] = outputs[o].0[r];
        }
        let y = rule.lanes(simd, at, x, old);
        for o in 0..O {
            outputs[o].0[r] = y[o];
            if R::CHECKED {
                acc = T::vadd(simd, acc, T::vsub(simd, y[o], y[o]));
            }
        }
    }
    if registers * width < len {
        let at = Register { offset: registers * width, whole: false };
        let (mut x, mut old) = ([zero; I], [zero; O]);
        for i in 0..I {
            x[i] = T::partial_load(simd, tails[i]);
        }
        for o in 0..O {
            old[o] = T::partial_load(simd, outputs[o].1);
        }
        let y = rule.lanes(simd, at, x, old);
        for o in 0..O {
            T::partial_store(simd, outputs[o].1, y[o]);
            // Lanes past the tail hold the image of zeros: finite, so harmless here.
            if R::CHECKED {
                acc = T::vadd(simd, acc, T::vsub(simd, y[o], y[o]));
            }
        }
    }
    bytemuck::cast_slice::<T::Lanes<S>, T>(core::slice::from_ref(&acc))
        .iter()
        .all(|&x| x == T::from_f64(0.0))
}

/// A [`Lanewise`] rule over slices, as an operation for a backend's dispatch: returns
/// whether every output is finite (true for a rule that is not checked).
pub(crate) struct Elementwise<'a, T, R, const I: usize, const O: usize> {
    pub rule: R,
    pub inputs: [&'a [T]; I],
    pub outputs: [&'a mut [T]; O],
}

impl<T: Real, R: Lanewise<T, I, O>, const I: usize, const O: usize> WithSimd
    for Elementwise<'_, T, R, I, O>
{
    type Output = bool;

    #[inline(always)]
    fn with_simd<S: Simd>(self, simd: S) -> bool {
        walk(simd, &self.rule, self.inputs, self.outputs)
    }
}
