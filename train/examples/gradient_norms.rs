//! The distribution of training gradient norms with each step map (docs/model.md section
//! 9): the predictive-coding task (the efficient-coding networks without a rate penalty:
//! h 1 ms, tau 10, tau_s 10, N 64, B 32, 1000 ms trials, f64 gradients, each parameter
//! clipped alone) and the delayed-memory XOR from the unstructured random start (h 2 ms,
//! tau 20, tau_s 100, N 64, B 64, f32 gradients, one global clip), the same seed and
//! settings for both maps. Prints the median, 99th percentile and largest global norm
//! before clipping, the skipped (non-finite) steps, and the task's held-out score at the
//! end (NMSE on 200 trials; XOR accuracy on 1000).
//!
//! `cargo run --release -p spikegrad-train --example gradient_norms -- [ITERATIONS]`
//! (default 300 per run).

use spikegrad_train::adam::Clip;
use spikegrad_train::model::{Model, Trials};
use spikegrad_train::phase_step::PhaseStep;
use spikegrad_train::predict::{self, Predict};
use spikegrad_train::rng::Rng;
use spikegrad_train::xor::{self, Xor};
use spikegrad_train::{Precision, Settings, Trainer};

/// (median, 99th percentile, largest) of the finite norms, and the count of the others.
fn summary(norms: &[f64]) -> (f64, f64, f64, usize) {
    let mut finite: Vec<f64> = norms.iter().copied().filter(|x| x.is_finite()).collect();
    finite.sort_by(f64::total_cmp);
    let at = |q: f64| finite.get(((finite.len() as f64 - 1.0) * q).round() as usize).copied();
    let skipped = norms.len() - finite.len();
    (
        at(0.5).unwrap_or(f64::NAN),
        at(0.99).unwrap_or(f64::NAN),
        at(1.0).unwrap_or(f64::NAN),
        skipped,
    )
}

fn report(task: &str, step: PhaseStep, norms: &[f64], score: String) {
    let (median, p99, max, skipped) = summary(norms);
    println!(
        "{task:<10} {:<9} median {median:>9.3e}  p99 {p99:>9.3e}  max {max:>9.3e}  skipped {skipped:>4}  {score}",
        step.name()
    );
}

fn predictive_coding(step: PhaseStep, iterations: usize) {
    let task = Predict { h: 1.0, duration_ms: 1000.0, time_scale_ms: predict::TIME_SCALE_MS };
    let config = task.config(predict::TAU, predict::TAU_S);
    let mut rng = Rng::new(1);
    let model = Model { step, ..Model::quiet_start(config, 64, 2, 2, predict::INIT, &mut rng) };
    let settings = Settings {
        clip: Clip::PerParameter(1.0),
        precision: Precision::F64,
        ..Settings::new(5e-3)
    };
    let mut trainer = Trainer::new(model, settings).expect("valid model");
    let (mut trials, mut check) = (
        Trials::new(&trainer.model, 32, task.steps()),
        Trials::new(&trainer.model, 200, task.steps()),
    );
    task.sample(&mut Rng::new(2), &mut check);
    let mut norms = Vec::with_capacity(iterations);
    for _ in 0..iterations {
        task.sample(&mut rng, &mut trials);
        norms.push(trainer.train_step(&trials).expect("trials fit").gradient_norm);
    }
    let score = match trainer.evaluate(&check) {
        Ok((readout, _)) => format!("held-out NMSE {:.4}", task.nmse(readout, &check)),
        Err(e) => format!("held-out run failed: {e}"),
    };
    report("predict", step, &norms, score);
}

fn xor_random_start(step: PhaseStep, iterations: usize) {
    let task = Xor { h: 2.0 };
    let mut rng = Rng::new(1);
    let model = Model { step, ..Model::quiet_start(task.config(), 64, 2, 1, xor::INIT, &mut rng) };
    let settings = Settings { clip: Clip::GlobalNorm(1.0), ..Settings::new(5e-3) };
    let mut trainer = Trainer::new(model, settings).expect("valid model");
    let (mut trials, mut check) = (
        Trials::new(&trainer.model, 64, task.steps()),
        Trials::new(&trainer.model, 1000, task.steps()),
    );
    let drawn = task.sample(&mut Rng::new(2), &mut check);
    let mut norms = Vec::with_capacity(iterations);
    for _ in 0..iterations {
        task.sample(&mut rng, &mut trials);
        norms.push(trainer.train_step(&trials).expect("trials fit").gradient_norm);
    }
    let score = match trainer.evaluate(&check) {
        Ok((readout, _)) => format!("held-out accuracy {:.3}", task.score(readout, &drawn).overall),
        Err(e) => format!("held-out run failed: {e}"),
    };
    report("xor random", step, &norms, score);
}

fn main() {
    let iterations = std::env::args().nth(1).and_then(|a| a.parse().ok()).unwrap_or(300);
    for step in PhaseStep::ALL {
        predictive_coding(step, iterations);
    }
    for step in PhaseStep::ALL {
        xor_random_start(step, iterations);
    }
}
