//! `spikegrad run MODEL DIR`: a saved model on new inputs, streamed over trials
//! ([`spikegrad_io::model_run`]), with `raster.svg` of the first trials.

use crate::options::check_out;
use crate::plots;
use crate::train::panels;
use spikegrad_io::model_run::{self, RunError, RunSummary};
use spikegrad_io::staging::Writer;
use std::path::Path;

/// `raster.svg` of the first trials of a run.
fn raster(dir: &Path, run: &RunSummary) -> Result<(), Box<dyn std::error::Error>> {
    let Some(shown) = &run.shown else { return Ok(()) };
    let titles: Vec<String> = (0..shown.trials.b)
        .map(|i| {
            let mut title = format!("trial {i}");
            if let Some(p) = run.predicted.get(i) {
                title += &format!(": predicted class {p}");
            }
            if let Some(l) = run.labels.as_ref().map(|l| l[i]) {
                title += &format!(", label {l}");
            }
            title
        })
        .collect();
    let panels = panels(&shown.recording, &shown.trials, run.h, &titles, run.n_in, run.n_out);
    Ok(plots::rasters(&dir.join("raster.svg"), &panels, run.neurons, run.steps as f64 * run.h)?)
}

/// `spikegrad run`.
pub fn run(
    model_dir: &Path,
    dir: &Path,
    out: Option<&Path>,
    trials_per_chunk: Option<usize>,
) -> Result<String, String> {
    let out = out.map_or_else(|| model_run::default_out(dir), Path::to_path_buf);
    if !dir.is_dir() {
        let what = "not a folder (x.npy and optional I_ext.npy, labels.npy)";
        return Err(format!("{}: {what}", dir.display()));
    }
    if trials_per_chunk == Some(0) {
        return Err("--trials-per-chunk 0: must be at least 1".into());
    }
    check_out("--out", &out, Writer::Run)?;
    let run = model_run::run(model_dir, dir, &out, trials_per_chunk, Some(&raster)).map_err(
        |e| match e {
            RunError::NoTrialsPerChunk => "--trials-per-chunk 0: must be at least 1".into(),
            e => e.to_string(),
        },
    )?;
    let accuracy = run.accuracy.map_or(String::new(), |a| format!(", accuracy {:.2}%", 100.0 * a));
    Ok(format!(
        "run: {} trials of {} steps, {} spikes ({:.1} Hz){accuracy}, {:.1} s -> {}",
        run.trials,
        run.steps,
        run.spikes,
        run.firing_rate_hz,
        run.seconds,
        out.display()
    ))
}
