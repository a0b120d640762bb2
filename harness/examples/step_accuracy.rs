//! How far each step map (docs/model.md section 9) strays from the theta neuron's flow:
//! 64 neurons driven by I(t) = mean + amplitude sin(2 pi t / period) (means -3..3,
//! amplitudes 0..3, periods 20..200 ms; tau 10 ms) for 200 ms, stepped at h/tau = 0.1,
//! 0.05, 0.025 and 0.01 by the Euler and the midpoint step with the current held over
//! each step, against the same neurons stepped by the midpoint rule at a step 200 times
//! finer (the flow, to the digits shown). Prints the RMS error of the unwrapped phase (in
//! turns of 2) at the coarse steps' ends, and each map's multiplier 1 + dDelta_v/dv at the
//! rest phase for strongly inhibited neurons.
//!
//! `cargo run --release -p spikegrad-harness --example step_accuracy`

use spikegrad_reference::{Neuron, Theta, ThetaMidpoint};

const TAU: f64 = 10.0;
const DURATION: f64 = 200.0;
const NEURONS: usize = 64;

/// (mean, amplitude, period) of neuron j's drive, spread evenly.
fn drive(j: usize) -> (f64, f64, f64) {
    let x = |salt: f64| (j as f64 * 0.618_033_988_7 + salt).fract();
    (-3.0 + 6.0 * x(0.1), 3.0 * x(0.3), 20.0 + 180.0 * x(0.7))
}

/// The unwrapped phase of every neuron at each multiple of `h`, stepped by `neuron` with
/// `substeps` steps of h / substeps, the current held over each small step.
fn phases(neuron: &dyn Neuron, h: f64, substeps: usize) -> Vec<Vec<f64>> {
    let small = h / substeps as f64;
    let steps = (DURATION / h).round() as usize;
    (0..NEURONS)
        .map(|j| {
            let (mean, amplitude, period) = drive(j);
            let (mut v, mut unwrapped) = (-0.5, -0.5);
            let mut out = Vec::with_capacity(steps);
            for t in 0..steps * substeps {
                let time = t as f64 * small;
                let i = mean + amplitude * (2.0 * std::f64::consts::PI * time / period).sin();
                let dv = neuron.increment(v, i, small / TAU);
                unwrapped += dv;
                v = neuron.wrap(v + dv);
                if (t + 1) % substeps == 0 {
                    out.push(unwrapped);
                }
            }
            out
        })
        .collect()
}

fn main() {
    println!("h/tau   RMS phase error: Euler   midpoint");
    for ratio in [0.1, 0.05, 0.025, 0.01] {
        let h = ratio * TAU;
        let truth = phases(&ThetaMidpoint, h, 200);
        let error = |neuron: &dyn Neuron| {
            let got = phases(neuron, h, 1);
            let (mut sum, mut count) = (0.0, 0usize);
            for (a, b) in got.iter().zip(&truth) {
                for (x, y) in a.iter().zip(b) {
                    sum += (x - y).powi(2);
                    count += 1;
                }
            }
            (sum / count as f64).sqrt()
        };
        println!("{ratio:<7} {:>22.4} {:>10.4}", error(&Theta), error(&ThetaMidpoint));
    }
    println!("\nat h/tau = 0.1, multiplier 1 + dDelta_v/dv at the rest phase:");
    println!("I        Euler       midpoint");
    for i in [-1.0f64, -10.0, -40.0, -100.0, -1e4] {
        let rest = -((1.0 + i) / (1.0 - i)).acos() / std::f64::consts::PI;
        let m = |neuron: &dyn Neuron| 1.0 + neuron.increment_dv(rest, i, 0.1);
        println!("{i:<8} {:>9.4} {:>12.4}", m(&Theta), m(&ThetaMidpoint));
    }
}
