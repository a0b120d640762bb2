//! `spikegrad make-task yin-yang DIR`: the Yin-Yang classification task
//! ([`spikegrad_train::dataset::yin_yang`]) as a task folder, for the README's worked
//! example and the end-to-end tests.

use serde_json::json;
use spikegrad_io::npy;
use spikegrad_io::staging::{self, write_json, Staging, Writer};
use spikegrad_train::dataset::yin_yang::{self, CHANNELS, CLASSES, STEPS};
use std::path::Path;

/// Writes the task folder: `config.json` (h 1 ms, tau 10 ms, tau_s 10 ms, raised cosine
/// of width 1, cross-entropy over steps 51..=100 of 100), `x.npy` (100, K, 4) float32 and
/// `labels.npy` (K,) int64.
pub fn write(dir: &Path, trials: usize, seed: u64) -> Result<String, String> {
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
    let points = yin_yang::sample(trials, seed);
    let x = yin_yang::inputs(&points);
    let labels: Vec<i64> = points.iter().map(|p| p.2 as i64).collect();
    let staging =
        Staging::new(dir, Writer::MakeTask).map_err(|e| format!("{}: {e}", dir.display()))?;
    let config = json!({ "h": 1.0, "tau": 10.0, "tau_s": 10.0, "gate": "raised_cosine", "delta": 1.0,
        "loss": { "kind": "cross_entropy", "from_step": STEPS / 2, "to_step": STEPS, "classes": CLASSES } });
    write_json(&staging.path().join("config.json"), &config).map_err(|e| e.to_string())?;
    npy::write(&staging.path().join("x.npy"), &[STEPS, trials, CHANNELS], &x)
        .map_err(|e| e.to_string())?;
    npy::write(&staging.path().join("labels.npy"), &[trials], &labels)
        .map_err(|e| e.to_string())?;
    staging.commit().map_err(|e| format!("{}: {e}", dir.display()))?;
    Ok(format!("yin-yang: {trials} trials of {STEPS} steps (seed {seed}) -> {}", dir.display()))
}
