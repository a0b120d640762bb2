//! One complete passage of the phase through the gate's active zone deposits unit charge
//! (docs/model.md section 1): summing s_{t+1} = (1 - h/tau_s) s_t + g(v_t) dv_t / tau_s from
//! s_0 = 0 gives h sum_{t<T} s_t + tau_s s_T = sum_t g(v_t) dv_t, a Riemann sum of the
//! integral of g over one turn, which is 1. So the charge tends to 1 as h -> 0.

use spikegrad_reference::{forward, Batch, Config, Gate, Network};

/// A resting theta neuron (I0 = -0.5: rest at -acos(1/3)/pi ~ -0.392, threshold at
/// +0.392) started just past threshold, so it fires exactly once and returns to rest.
/// Returns (charge, number of spikes) over 300 ms at step `h`.
fn single_spike(gate: Gate, h: f64) -> (f64, usize) {
    let (tau, tau_s) = (20.0, 50.0); // tau as in the boxcar bound
    let steps = (300.0 / h).round() as usize;
    let cfg = Config { h, tau, tau_s, gate };
    let net = Network {
        n: 1,
        n_in: 1,
        n_out: 1,
        w: vec![0.0],
        u: vec![0.0],
        i0: vec![-0.5],
        o: vec![0.0],
        w_mask: None,
        tau: None,
        tau_s: None,
    };
    let batch =
        Batch { b: 1, t: steps, v0: vec![0.45], s0: vec![0.0], x: vec![0.0; steps], i_ext: None };
    let tr = forward(&cfg, &net, &batch).unwrap();
    let charge = h * tr.s[..steps].iter().map(|s| s[0]).sum::<f64>() + tau_s * tr.s[steps][0];
    // A spike is a step where the phase wraps from near +1 to near -1.
    let spikes = tr.v.windows(2).filter(|w| w[1][0] < w[0][0] - 1.0).count();
    let rest = -(1.0f64 / 3.0).acos() / std::f64::consts::PI;
    assert!(
        (tr.v[steps][0] - rest).abs() < 1e-3,
        "the neuron returns to rest, not {}",
        tr.v[steps][0]
    );
    (charge, spikes)
}

const STEPS: [f64; 7] = [0.4, 0.2, 0.1, 0.05, 0.025, 0.0125, 0.00625];

#[test]
fn one_spike_deposits_unit_charge_raised_cosine() {
    // The smooth gate vanishes with its derivative at both ends of the zone, so the
    // Riemann sum converges at second order: the error falls ~4x per halving of h
    // (measured: 7.3e-4 at h = 0.4, 3.4e-6 at h = 0.025).
    let gate = Gate::RaisedCosine { delta: 0.5 };
    let mut previous_error = f64::INFINITY;
    for h in STEPS {
        let (charge, spikes) = single_spike(gate, h);
        assert_eq!(spikes, 1, "h = {h}: exactly one spike");
        let error = (charge - 1.0).abs();
        assert!(error < previous_error / 3.0, "h = {h}: error {error}, previous {previous_error}");
        previous_error = error;
    }
    assert!(previous_error < 1e-6, "charge off by {previous_error} at the smallest h");
}

#[test]
fn one_spike_deposits_unit_charge_boxcar() {
    // The boxcar's Riemann sum errs at each of its two edges by at most one phase step
    // (at most 2h/tau here, where I < 1) times the height 1/Delta: first order, not
    // monotone in h (it depends on where the steps fall relative to the edges).
    let (delta, tau) = (0.5, 20.0);
    for h in STEPS {
        let (charge, spikes) = single_spike(Gate::Boxcar { delta }, h);
        assert_eq!(spikes, 1, "h = {h}: exactly one spike");
        let bound = 2.0 * (2.0 * h / tau) / delta;
        assert!((charge - 1.0).abs() <= bound, "h = {h}: charge {charge}, bound {bound}");
    }
}
