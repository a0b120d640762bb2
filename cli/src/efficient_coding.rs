//! `spikegrad train efficient-coding`: the paper's claim that learned spike interactions
//! make a code efficient, measured. The predictive-coding network (`train predict`) is
//! trained at several strengths lambda of the rate penalty (docs/model.md section 6),
//! once with W learned and once with W = 0; every trained network is scored on the same
//! held-out trials, and held-out NMSE is plotted against firing rate: the better code
//! reaches the same error with fewer spikes.

use crate::plots;
use crate::train::{predict_line, progress, train_error, Bar, Common, PredictOptions};
use spikegrad_io::predict_output;
use spikegrad_io::staging::Writer;
use spikegrad_train::predict_run::{
    fewest_spikes, train_efficient_coding, CodePoint, PredictCheck, NMSE_BAR,
};
use std::path::Path;

/// `train efficient-coding`'s options.
#[derive(Debug, Clone, clap::Args)]
pub struct Options {
    #[command(flatten)]
    common: Common,
    #[command(flatten)]
    task: PredictOptions,
    /// The rate penalties lambda (comma-separated, each >= 0): one network with W learned
    /// and one with W = 0 per value.
    #[arg(long, value_delimiter = ',', default_values_t = spikegrad_train::predict_run::DEFAULT_PENALTIES)]
    penalties: Vec<f64>,
}

/// "X Hz (lambda L, NMSE E)", or what the best point reached when none is under the bar.
fn describe(points: &[CodePoint], bar: f64) -> String {
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
    let common = &options.common;
    let out = common.output("efficient-coding", Writer::TrainEfficientCoding)?;
    let library = options.task.library(common);
    // One trainer at a time; every trained network is kept until the folder is written.
    options.task.check(&library, 1, 2 * options.penalties.len())?;
    let line = |c: &PredictCheck| {
        let kind = if c.network.recurrent { "W learned" } else { "W = 0" };
        predict_line(&format!("lambda {} {kind}", c.network.rate_penalty), c)
    };
    let mut observer = Bar { bar: progress(library.max_iterations), line };
    let result = train_efficient_coding(&library, &options.penalties, &mut observer);
    observer.bar.finish_and_clear();
    let run = result.map_err(|e| train_error(&e))?;
    let (learned, plain) = (run.points(true), run.points(false));
    let figure = |dir: &Path| -> Result<(), Box<dyn std::error::Error>> {
        let curve = |points: &[CodePoint]| {
            let mut xy: Vec<(f64, f64)> =
                points.iter().map(|p| (p.firing_rate_hz, p.nmse)).collect();
            xy.sort_by(|a, b| a.0.total_cmp(&b.0));
            xy
        };
        let rates = learned.iter().chain(&plain).map(|p| p.firing_rate_hz);
        let (low, high) = rates.fold((f64::INFINITY, 0.0f64), |(l, h), r| (l.min(r), h.max(r)));
        Ok(plots::lines(
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
        )?)
    };
    // Written once everything is trained: an interrupted run leaves nothing behind.
    predict_output::write_efficient_coding(&out, &library, &run, Some(&figure))
        .map_err(|e| e.to_string())?;
    let ratio = fewest_spikes(&learned, NMSE_BAR)
        .zip(fewest_spikes(&plain, NMSE_BAR))
        .map(|(l, p)| l.firing_rate_hz / p.firing_rate_hz);
    let verdict = ratio.map_or(String::new(), |r| format!("; learned / W = 0: {r:.2}"));
    Ok(format!(
        "efficient coding seed {}: fewest spikes at NMSE <= {NMSE_BAR}: W learned {}, W = 0 {}{verdict}; {:.0} s -> {}",
        common.seed,
        describe(&learned, NMSE_BAR),
        describe(&plain, NMSE_BAR),
        run.seconds,
        out.display()
    ))
}
