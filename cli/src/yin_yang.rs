//! `spikegrad make-task yin-yang DIR`: the Yin-Yang classification task (Kriener,
//! Goeltz & Petrovici, "The Yin-Yang dataset", NICE 2022) as a task folder, for the
//! README's worked example and the end-to-end tests.
//!
//! A point (x, y) uniform in the unit square, inside the circle of radius 1/2 about its
//! centre, is yin (0), yang (1) or one of the two dots (2); classes are drawn equally
//! often. The inputs are the four channels (x, y, 1 - x, 1 - y), held constant over the
//! trial; the loss is the cross-entropy of the readout averaged over the second half of
//! the trial. The dataset's paper reports about 64% for a linear classifier of the inputs.

use serde_json::json;
use spikegrad_io::npy;
use spikegrad_io::staging::{self, write_json, Staging, Writer};
use spikegrad_train::rng::Rng;
use std::path::Path;

const R_BIG: f64 = 0.5;
const R_SMALL: f64 = 0.1;

/// The class of (x, y): 0 yin, 1 yang, 2 dot (the dataset's published rule).
pub fn class(x: f64, y: f64) -> usize {
    let d_right = ((x - 1.5 * R_BIG).powi(2) + (y - R_BIG).powi(2)).sqrt();
    let d_left = ((x - 0.5 * R_BIG).powi(2) + (y - R_BIG).powi(2)).sqrt();
    if d_right < R_SMALL || d_left < R_SMALL {
        return 2;
    }
    let yin = d_right <= R_SMALL
        || (d_left > R_SMALL && d_left <= 0.5 * R_BIG)
        || (y > R_BIG && d_right > 0.5 * R_BIG);
    yin as usize
}

/// `trials` points, classes in turn 0, 1, 2, 0, ... (each by rejection sampling).
pub fn sample(trials: usize, seed: u64) -> Vec<(f64, f64, usize)> {
    let mut rng = Rng::new(seed);
    (0..trials)
        .map(|i| loop {
            let (x, y) = (rng.uniform(), rng.uniform());
            let inside = (x - R_BIG).powi(2) + (y - R_BIG).powi(2) <= R_BIG * R_BIG;
            if inside && class(x, y) == i % 3 {
                break (x, y, i % 3);
            }
        })
        .collect()
}

/// Writes the task folder: `config.json` (h 1 ms, tau 10 ms, tau_s 10 ms, raised cosine
/// of width 1, cross-entropy over steps 51..=100 of 100), `x.npy` (100, K, 4) float32 and
/// `labels.npy` (K,) int64.
pub fn write(dir: &Path, trials: usize, seed: u64) -> Result<String, String> {
    const STEPS: usize = 100;
    if trials == 0 {
        return Err("--trials 0: must be at least 1".into());
    }
    staging::check_out(&dir.display().to_string(), dir, Writer::MakeTask)
        .map_err(|e| e.to_string())?;
    // x.npy's values, held twice while written (values and bytes), and the points.
    let needed = trials as f64 * (STEPS as f64 * 4.0 * 4.0 * 2.0 + 64.0);
    if let Some(available) = spikegrad_train::memory::available_memory() {
        if needed > available as f64 {
            return Err(format!(
                "--trials {trials}: the task would need about {:.1} GB of memory and {:.1} GB \
                 are available",
                needed / 1e9,
                available as f64 / 1e9
            ));
        }
    }
    let points = sample(trials, seed);
    let mut x = Vec::with_capacity(STEPS * trials * 4);
    for _ in 0..STEPS {
        for &(px, py, _) in &points {
            x.extend([px, py, 1.0 - px, 1.0 - py].map(|v| v as f32));
        }
    }
    let labels: Vec<i64> = points.iter().map(|p| p.2 as i64).collect();
    let staging =
        Staging::new(dir, Writer::MakeTask).map_err(|e| format!("{}: {e}", dir.display()))?;
    let config = json!({ "h": 1.0, "tau": 10.0, "tau_s": 10.0, "gate": "raised_cosine", "delta": 1.0,
        "loss": { "kind": "cross_entropy", "from_step": STEPS / 2, "to_step": STEPS, "classes": 3 } });
    write_json(&staging.path().join("config.json"), &config).map_err(|e| e.to_string())?;
    npy::write(&staging.path().join("x.npy"), &[STEPS, trials, 4], &x)
        .map_err(|e| e.to_string())?;
    npy::write(&staging.path().join("labels.npy"), &[trials], &labels)
        .map_err(|e| e.to_string())?;
    staging.commit().map_err(|e| format!("{}: {e}", dir.display()))?;
    Ok(format!("yin-yang: {trials} trials of {STEPS} steps (seed {seed}) -> {}", dir.display()))
}
