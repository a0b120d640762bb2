//! `spikegrad train efficient-coding`: the paper's claim that learned spike interactions
//! make a code efficient, measured. The predictive-coding network (`train predict`) is
//! trained at several strengths lambda of the rate penalty (docs/model.md section 6),
//! once with W learned and once with W = 0; every trained network is scored on the same
//! held-out trials, and held-out NMSE is plotted against firing rate: the better code
//! reaches the same error with fewer spikes.

use crate::options::{check_fits, check_non_negative};
use crate::plots;
use crate::train::{self, save_predict_model, Common, PredictOptions, PredictTest};
use serde_json::json;
use spikegrad_io::staging::{write_json, Staging, Writer};
use std::time::Instant;

/// The NMSE at which the two codes are compared (#13's bar).
pub const NMSE_BAR: f64 = 0.05;

/// `train efficient-coding`'s options.
#[derive(Debug, Clone, clap::Args)]
pub struct Options {
    #[command(flatten)]
    common: Common,
    #[command(flatten)]
    task: PredictOptions,
    /// The rate penalties lambda (comma-separated, each >= 0): one network with W learned
    /// and one with W = 0 per value.
    #[arg(long, value_delimiter = ',', default_values_t = DEFAULT_PENALTIES)]
    penalties: Vec<f64>,
}

/// Default penalties: from none to one that roughly halves the rate of W = 0 (README,
/// "Efficient coding").
pub const DEFAULT_PENALTIES: [f64; 4] = [0.0, 1e5, 1e6, 1e7];

/// One network's test figures.
#[derive(Debug, Clone, Copy)]
struct Point {
    rate_penalty: f64,
    nmse: f64,
    firing_rate_hz: f64,
}

/// The lowest firing rate among `points` whose NMSE is at most `bar`.
fn fewest_spikes(points: &[Point], bar: f64) -> Option<Point> {
    points
        .iter()
        .filter(|p| p.nmse <= bar)
        .copied()
        .min_by(|a, b| a.firing_rate_hz.total_cmp(&b.firing_rate_hz))
}

/// "X Hz (lambda L, NMSE E)", or what the best point reached when none is under the bar.
fn describe(points: &[Point], bar: f64) -> String {
    match fewest_spikes(points, bar) {
        Some(p) => {
            format!("{:.1} Hz (lambda {}, NMSE {:.4})", p.firing_rate_hz, p.rate_penalty, p.nmse)
        }
        None => {
            let best = points.iter().min_by(|a, b| a.nmse.total_cmp(&b.nmse));
            best.map_or("no network".into(), |p| {
                format!(
                    "none at NMSE <= {bar} (best {:.4} at {:.1} Hz, lambda {})",
                    p.nmse, p.firing_rate_hz, p.rate_penalty
                )
            })
        }
    }
}

/// `spikegrad train efficient-coding`.
pub fn run(options: &Options) -> Result<String, String> {
    let start = Instant::now();
    let common = &options.common;
    let out = common.check("efficient-coding", Writer::TrainEfficientCoding)?;
    let (task, config) = options.task.task()?;
    if options.penalties.is_empty() {
        return Err("--penalties: give at least one value".into());
    }
    for (k, &lambda) in options.penalties.iter().enumerate() {
        check_non_negative("--penalties", lambda)?;
        if options.penalties[..k].contains(&lambda) {
            return Err(format!("--penalties: {lambda} is given twice"));
        }
    }
    // One trainer at a time; every trained network is kept until the folder is written.
    let (label, size) = options.task.size(common, &task, 1, 2 * options.penalties.len());
    check_fits(&label, &size)?;
    let (mut learned, mut plain, mut rows, mut models) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    let mut test = None;
    for &lambda in &options.penalties {
        let mut row = json!({ "rate_penalty": lambda });
        for (recurrent, name, points) in
            [(true, "learned", &mut learned), (false, "w0", &mut plain)]
        {
            let kind = if recurrent { "W learned" } else { "W = 0" };
            let label = format!("lambda {lambda} {kind}");
            let mut run = train::train_predict(common, &task, config, recurrent, lambda, &label)?;
            let test =
                test.get_or_insert_with(|| PredictTest::new(task, &run.trainer.model, common.seed));
            let scored = test.assess(&mut run.trainer)?;
            points.push(Point {
                rate_penalty: lambda,
                nmse: scored.nmse,
                firing_rate_hz: scored.firing_rate_hz,
            });
            let folder = format!("{name}-{lambda}");
            row[name] = json!({ "test_nmse": scored.nmse, "test_nmse_from_50ms": scored.nmse_from_50ms,
                "firing_rate_hz": scored.firing_rate_hz, "kept_iteration": run.kept,
                "skipped_steps": run.trainer.skipped(), "model": folder,
                "gradient_norms": spikegrad_io::task_run::norms_json(&run.gradient_norms) });
            models.push((folder, lambda, run.trainer.model));
        }
        rows.push(row);
    }
    let (best_learned, best_plain) =
        (fewest_spikes(&learned, NMSE_BAR), fewest_spikes(&plain, NMSE_BAR));
    let ratio = match (best_learned, best_plain) {
        (Some(l), Some(p)) => Some(l.firing_rate_hz / p.firing_rate_hz),
        _ => None,
    };
    let wall = start.elapsed().as_secs_f64();
    let metrics = json!({
        "task": "efficient-coding", "seed": common.seed, "nmse_bar": NMSE_BAR, "wall_seconds": wall,
        "iterations_per_network": common.max_iterations.unwrap_or(train::PREDICT_ITERATIONS), "neurons": common.neurons,
        "fewest_spikes_at_bar": { "learned_hz": best_learned.map(|p| p.firing_rate_hz), "w0_hz": best_plain.map(|p| p.firing_rate_hz), "learned_over_w0": ratio },
        "networks": rows,
    });
    // Written once everything is trained: an interrupted run leaves nothing behind.
    let staging = Staging::new(&out, Writer::TrainEfficientCoding)
        .map_err(|e| format!("{}: {e}", out.display()))?;
    let dir = staging.path();
    for (folder, lambda, model) in &models {
        let path = dir.join(folder);
        std::fs::create_dir(&path).map_err(|e| format!("{}: {e}", path.display()))?;
        save_predict_model(&path, model, &task, *lambda)?;
    }
    write_json(&dir.join("metrics.json"), &metrics).map_err(|e| e.to_string())?;
    let curve = |points: &[Point]| {
        let mut xy: Vec<(f64, f64)> = points.iter().map(|p| (p.firing_rate_hz, p.nmse)).collect();
        xy.sort_by(|a, b| a.0.total_cmp(&b.0));
        xy
    };
    let rates = learned.iter().chain(&plain).map(|p| p.firing_rate_hz);
    let (low, high) = rates.fold((f64::INFINITY, 0.0f64), |(l, h), r| (l.min(r), h.max(r)));
    plots::lines(
        &dir.join("efficiency.svg"),
        "efficient coding: held-out NMSE against firing rate (one network per rate penalty)",
        "firing rate (Hz)",
        "held-out NMSE",
        &[
            ("W learned", curve(&learned)),
            ("W = 0", curve(&plain)),
            ("NMSE 0.05", vec![(low, NMSE_BAR), (high, NMSE_BAR)]),
        ],
        true,
    )?;
    staging.commit().map_err(|e| format!("{}: {e}", out.display()))?;
    let verdict = ratio.map_or(String::new(), |r| format!("; learned / W = 0: {r:.2}"));
    Ok(format!(
        "efficient coding seed {}: fewest spikes at NMSE <= {NMSE_BAR}: W learned {}, W = 0 {}{verdict}; {:.0} s -> {}",
        common.seed,
        describe(&learned, NMSE_BAR),
        describe(&plain, NMSE_BAR),
        wall,
        out.display()
    ))
}
