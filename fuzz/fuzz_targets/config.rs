//! Arbitrary h, tau, tau_s, Delta (any bit pattern, so NaN, infinities, zeros,
//! subnormals and huge values) and either gate: validation never panics, the kernels'
//! and the reference's validations agree, and they accept exactly what docs/model.md
//! section 4 allows.
#![no_main]

use libfuzzer_sys::fuzz_target;

fn allowed(h: f64, tau: f64, tau_s: f64, delta: f64) -> bool {
    let positive = |x: f64| x.is_finite() && x > 0.0;
    positive(h) && positive(tau) && positive(tau_s) && h < tau_s && delta > 0.0 && delta < 2.0 && 2.0 * h / tau <= delta / 2.0
}

fuzz_target!(|data: &[u8]| {
    if data.len() < 33 {
        return;
    }
    let word = |i: usize| f64::from_le_bytes(data[8 * i..8 * i + 8].try_into().unwrap());
    let (h, tau, tau_s, delta, boxcar) = (word(0), word(1), word(2), word(3), data[32] & 1 == 1);
    let gate = if boxcar { spikegrad::Gate::Boxcar { delta } } else { spikegrad::Gate::RaisedCosine { delta } };
    let kernels = spikegrad::Config::new(h, tau, tau_s, gate).validate();
    let gate = if boxcar { spikegrad_reference::Gate::Boxcar { delta } } else { spikegrad_reference::Gate::RaisedCosine { delta } };
    let reference = spikegrad_reference::Config { h, tau, tau_s, gate }.validate();
    assert_eq!(kernels.is_ok(), reference.is_ok(), "kernels {kernels:?}, reference {reference:?}");
    assert_eq!(kernels.is_ok(), allowed(h, tau, tau_s, delta), "{h} {tau} {tau_s} {delta}: {kernels:?}");
    if let (Err(a), Err(b)) = (kernels, reference) {
        assert_eq!(a.to_string(), b.to_string(), "the same message from both");
    }
});
