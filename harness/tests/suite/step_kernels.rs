//! The fused step kernels (`forward_step`, `reverse_step`) on plain slices, on every
//! backend, at every length from 0 to 40 (straddling 1, 2, 4, 8 and 16 lanes, so every
//! tail path runs), against the formulas of docs/model.md evaluated with the reference's
//! neuron and gate in f64. One checker per kernel; one test per backend.

use spikegrad::{forward_step, reverse_step, Backend, Config, Error, Gate, Real, Step};
use spikegrad_reference as reference;
use spikegrad_reference::Neuron;

const LENGTHS: std::ops::Range<usize> = 0..41;

/// A fixed-period pattern of inputs: phases over the whole circle (many inside the
/// gate), currents on both sides of the rheobase, costates of both signs.
fn pattern(len: usize, salt: f64) -> Vec<f64> {
    (0..len).map(|i| ((i as f64 * 0.6180339887 + salt).fract() * 2.0 - 1.0) * 0.999).collect()
}

fn configs() -> [Config; 2] {
    [
        Config::new(0.5, 10.0, 30.0, Gate::RaisedCosine { delta: 0.8 }),
        Config::new(0.5, 10.0, 30.0, Gate::Boxcar { delta: 0.8 }),
    ]
}

fn reference_gate(config: &Config) -> reference::Gate {
    match config.gate {
        Gate::Boxcar { delta } => reference::Gate::Boxcar { delta },
        Gate::RaisedCosine { delta } => reference::Gate::RaisedCosine { delta },
        other => unreachable!("the reference has no gate {other:?}"),
    }
}

fn cast<T: Real>(x: &[f64]) -> Vec<T> {
    x.iter().map(|&x| T::from_f64(x)).collect()
}

/// Norm-wise agreement of `got` with `want`, to `tolerance` relative to max(1, max |want|).
fn assert_close<T: Real>(what: &str, got: &[T], want: &[f64], tolerance: f64) {
    let scale = want.iter().fold(1.0f64, |m, x| m.max(x.abs()));
    for (i, (g, w)) in got.iter().zip(want).enumerate() {
        assert!(
            (g.to_f64() - w).abs() <= tolerance * scale,
            "{what}[{i}] = {g:?}, want {w} (len {})",
            want.len()
        );
    }
}

fn tolerance<T: Real>() -> f64 {
    // One step: a few roundings of order-one terms; no amplification.
    if T::NAME == "f64" {
        1e-14
    } else {
        4e-6
    }
}

fn check_forward<T: Real>(backend: Backend) {
    for config in configs() {
        let step = Step::<T>::with_backend(&config, backend).unwrap();
        let gate = reference_gate(&config);
        for len in LENGTHS {
            let (v, s, current) = (
                pattern(len, 0.1),
                pattern(len, 0.2),
                pattern(len, 0.3).iter().map(|i| 2.0 * i).collect::<Vec<_>>(),
            );
            let (mut v_next, mut s_next) =
                (vec![T::from_f64(0.0); len], vec![T::from_f64(0.0); len]);
            forward_step(&step, &cast(&v), &cast(&s), &cast(&current), &mut v_next, &mut s_next)
                .unwrap();
            let dv: Vec<f64> = (0..len)
                .map(|i| config.h / config.tau * reference::Theta.f(v[i], current[i]))
                .collect();
            let want_v: Vec<f64> = (0..len).map(|i| reference::wrap(v[i] + dv[i])).collect();
            let want_s: Vec<f64> = (0..len)
                .map(|i| {
                    (1.0 - config.h / config.tau_s) * s[i] + gate.g(v[i]) * dv[i] / config.tau_s
                })
                .collect();
            assert_close(&format!("{} v_next", backend.name()), &v_next, &want_v, tolerance::<T>());
            assert_close(&format!("{} s_next", backend.name()), &s_next, &want_s, tolerance::<T>());
        }
    }
}

fn check_reverse<T: Real>(backend: Backend) {
    for config in configs() {
        let step = Step::<T>::with_backend(&config, backend).unwrap();
        let gate = reference_gate(&config);
        let (k, tau_s) = (config.h / config.tau, config.tau_s);
        for len in LENGTHS {
            let (v, current) =
                (pattern(len, 0.4), pattern(len, 0.5).iter().map(|i| 2.0 * i).collect::<Vec<_>>());
            let (lam_v_next, lam_s_next, d) =
                (pattern(len, 0.6), pattern(len, 0.7), pattern(len, 0.8));
            let mut lam_v = cast::<T>(&lam_v_next);
            let (mut e, mut lam_s) = (vec![T::from_f64(0.0); len], vec![T::from_f64(0.0); len]);
            reverse_step(
                &step,
                &cast(&v),
                &cast(&current),
                &mut lam_v,
                &cast(&lam_s_next),
                &cast(&d),
                &mut e,
                &mut lam_s,
            )
            .unwrap();
            let (mut want_e, mut want_lam_v, mut want_lam_s) =
                (vec![0.0; len], vec![0.0; len], vec![0.0; len]);
            for i in 0..len {
                let theta = reference::Theta;
                let dv = k * theta.f(v[i], current[i]);
                let a = lam_v_next[i] + gate.g(v[i]) * lam_s_next[i] / tau_s;
                want_e[i] = k * theta.df_di(v[i], current[i]) * a;
                want_lam_v[i] = lam_v_next[i]
                    + k * theta.df_dv(v[i], current[i]) * a
                    + gate.dg_dv(v[i]) * dv * lam_s_next[i] / tau_s;
                want_lam_s[i] = (1.0 - config.h / tau_s) * lam_s_next[i] + d[i];
            }
            assert_close(&format!("{} e", backend.name()), &e, &want_e, tolerance::<T>());
            assert_close(
                &format!("{} lam_v", backend.name()),
                &lam_v,
                &want_lam_v,
                tolerance::<T>(),
            );
            assert_close(
                &format!("{} lam_s", backend.name()),
                &lam_s,
                &want_lam_s,
                tolerance::<T>(),
            );
        }
    }
}

/// A non-finite input in any one lane gives an error naming exactly that lane, for
/// every lane position of a 19-long vector (body and tail lanes alike).
fn check_special_values<T: Real>(backend: Backend) {
    let config = configs()[0];
    let step = Step::<T>::with_backend(&config, backend).unwrap();
    let len = 19;
    for bad in [f64::NAN, f64::INFINITY, f64::NEG_INFINITY] {
        for lane in 0..len {
            let mut current = pattern(len, 0.3);
            current[lane] = bad;
            let (mut v_next, mut s_next) =
                (vec![T::from_f64(0.0); len], vec![T::from_f64(0.0); len]);
            let err = forward_step(
                &step,
                &cast(&pattern(len, 0.1)),
                &cast(&pattern(len, 0.2)),
                &cast(&current),
                &mut v_next,
                &mut s_next,
            )
            .unwrap_err();
            assert_eq!(
                err,
                Error::NonFiniteOutput { quantity: "v_next", index: lane },
                "{} {bad}",
                backend.name()
            );

            let mut lam_s_next = pattern(len, 0.7);
            lam_s_next[lane] = bad;
            let mut lam_v = cast::<T>(&pattern(len, 0.6));
            let (mut e, mut lam_s) = (vec![T::from_f64(0.0); len], vec![T::from_f64(0.0); len]);
            let err = reverse_step(
                &step,
                &cast(&pattern(len, 0.4)),
                &cast(&pattern(len, 0.5)),
                &mut lam_v,
                &cast(&lam_s_next),
                &cast(&pattern(len, 0.8)),
                &mut e,
                &mut lam_s,
            )
            .unwrap_err();
            assert_eq!(
                err,
                Error::NonFiniteOutput { quantity: "lam_s_next", index: lane },
                "{} {bad}",
                backend.name()
            );
        }
    }
    // Signed zeros and subnormals are ordinary finite inputs.
    let tiny = [0.0, -0.0, f64::MIN_POSITIVE / 8.0, -f64::MIN_POSITIVE / 8.0];
    let (mut v_next, mut s_next) = (vec![T::from_f64(0.0); 4], vec![T::from_f64(0.0); 4]);
    forward_step(&step, &cast(&tiny), &cast(&tiny), &cast(&tiny), &mut v_next, &mut s_next)
        .unwrap();
}

fn check_lengths_must_match<T: Real>(backend: Backend) {
    let step = Step::<T>::with_backend(&configs()[0], backend).unwrap();
    let z = |n| vec![T::from_f64(0.0); n];
    let err = forward_step(&step, &z(4), &z(4), &z(3), &mut z(4), &mut z(4)).unwrap_err();
    assert!(matches!(err, Error::ShapeMismatch { array: "current", .. }), "{err}");
    let err = reverse_step(&step, &z(4), &z(4), &mut z(4), &z(4), &z(4), &mut z(5), &mut z(4))
        .unwrap_err();
    assert!(matches!(err, Error::ShapeMismatch { array: "e", .. }), "{err}");
}

fn check_backend(backend: Backend) {
    check_forward::<f64>(backend);
    check_forward::<f32>(backend);
    check_reverse::<f64>(backend);
    check_reverse::<f32>(backend);
    check_special_values::<f64>(backend);
    check_special_values::<f32>(backend);
    check_lengths_must_match::<f32>(backend);
}

#[test]
fn scalar() {
    check_backend(Backend::scalar());
}

#[test]
fn scalar128b() {
    check_backend(Backend::scalar128b());
}

#[test]
fn scalar256b() {
    check_backend(Backend::scalar256b());
}

#[test]
fn scalar512b() {
    check_backend(Backend::scalar512b());
}

#[test]
fn v3_when_available() {
    match Backend::v3() {
        Some(backend) => check_backend(backend),
        None => eprintln!("skipped: this CPU has no AVX2 + FMA"),
    }
}

#[test]
fn detected_backend() {
    check_backend(Backend::detect());
}
