//! Which pulp backend runs the step kernels: detected once at run time, or chosen
//! explicitly (tests and benchmarks run every backend the CPU has, including pulp's
//! portable 128/256/512-bit emulations, so every lane width's tail logic is exercised).

use pulp::{Simd, WithSimd};

/// A SIMD backend for the elementwise kernels: an opaque handle, obtained from
/// [`Backend::detect`] (the fastest this CPU runs) or from one of the explicit
/// constructors (for tests and benchmarks that exercise every lane width).
#[derive(Debug, Clone, Copy)]
pub struct Backend(Kind);

#[derive(Debug, Clone, Copy)]
enum Kind {
    /// One lane, plain scalar code.
    Scalar,
    /// Portable 4 x f32 / 2 x f64 lanes.
    Scalar128b,
    /// Portable 8 x f32 / 4 x f64 lanes.
    Scalar256b,
    /// Portable 16 x f32 / 8 x f64 lanes.
    Scalar512b,
    /// x86-64-v3: AVX2 + FMA, 8 x f32 / 4 x f64 lanes.
    #[cfg(any(target_arch = "x86", target_arch = "x86_64"))]
    V3(pulp::x86::V3),
    /// Whatever `pulp::Arch` picks on other architectures.
    Arch(pulp::Arch),
}

impl Backend {
    /// The fastest backend this CPU supports (checked once per call; cheap).
    pub fn detect() -> Backend {
        Backend::v3().unwrap_or(Backend(Kind::Arch(pulp::Arch::new())))
    }

    /// One lane, plain scalar code.
    pub fn scalar() -> Backend {
        Backend(Kind::Scalar)
    }

    /// Portable 4 x f32 / 2 x f64 lanes, on any CPU.
    pub fn scalar128b() -> Backend {
        Backend(Kind::Scalar128b)
    }

    /// Portable 8 x f32 / 4 x f64 lanes, on any CPU.
    pub fn scalar256b() -> Backend {
        Backend(Kind::Scalar256b)
    }

    /// Portable 16 x f32 / 8 x f64 lanes, on any CPU.
    pub fn scalar512b() -> Backend {
        Backend(Kind::Scalar512b)
    }

    /// The AVX2 + FMA backend (x86-64-v3), if this CPU has it.
    pub fn v3() -> Option<Backend> {
        #[cfg(any(target_arch = "x86", target_arch = "x86_64"))]
        if let Some(v3) = pulp::x86::V3::try_new() {
            return Some(Backend(Kind::V3(v3)));
        }
        None
    }

    /// Every backend this CPU can run: the four portable ones, then V3 if present.
    pub fn all_available() -> Vec<Backend> {
        let mut all = vec![
            Backend::scalar(),
            Backend::scalar128b(),
            Backend::scalar256b(),
            Backend::scalar512b(),
        ];
        all.extend(Backend::v3());
        all
    }

    /// A short name for logs and benchmark ids.
    pub fn name(&self) -> &'static str {
        match self.0 {
            Kind::Scalar => "scalar",
            Kind::Scalar128b => "scalar128b",
            Kind::Scalar256b => "scalar256b",
            Kind::Scalar512b => "scalar512b",
            #[cfg(any(target_arch = "x86", target_arch = "x86_64"))]
            Kind::V3(_) => "v3 (avx2+fma)",
            Kind::Arch(_) => "pulp::Arch",
        }
    }

    /// Runs `op` on this backend, with the backend's target features enabled.
    #[inline(always)]
    pub(crate) fn dispatch<Op: WithSimd>(self, op: Op) -> Op::Output {
        match self.0 {
            Kind::Scalar => Simd::vectorize(pulp::Scalar::new(), op),
            Kind::Scalar128b => Simd::vectorize(pulp::Scalar128b, op),
            Kind::Scalar256b => Simd::vectorize(pulp::Scalar256b, op),
            Kind::Scalar512b => Simd::vectorize(pulp::Scalar512b, op),
            #[cfg(any(target_arch = "x86", target_arch = "x86_64"))]
            Kind::V3(v3) => Simd::vectorize(v3, op),
            Kind::Arch(arch) => arch.dispatch(op),
        }
    }
}
