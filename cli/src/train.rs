//! `spikegrad train xor` and `spikegrad train predict`: the paper's two tasks.

use crate::options::{check_fits, check_out};
use crate::plots::{self, RasterPanel};
use indicatif::{ProgressBar, ProgressStyle};
use spikegrad_io::predict_output;
use spikegrad_io::staging::Writer;
use spikegrad_io::xor_output;
use spikegrad_train::model::{Objective, Trials};
use spikegrad_train::observer::{Control, Observer};
use spikegrad_train::phase_step::PhaseStep;
use spikegrad_train::predict;
use spikegrad_train::predict_run::{self, train_predict, PredictCheck, PredictNetwork};
use spikegrad_train::xor::{self, XorScore};
use spikegrad_train::xor_run::{self, train_xor, XorCheck, XorOptions};
use spikegrad_train::{
    Precision, Recording, StepReport, TrainError, Trainer, MAX_SKIPPED_IN_A_ROW,
};
use std::path::{Path, PathBuf};

/// Settings shared by both tasks.
#[derive(Debug, Clone, clap::Args)]
pub struct Common {
    /// Seed of the initial weights and of the training trials (held-out trials use others).
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Output folder [default: runs/TASK-SEED].
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Neurons N.
    #[arg(long, default_value_t = 64)]
    pub neurons: usize,
    /// Trials per training batch.
    #[arg(long)]
    pub batch: Option<usize>,
    /// Largest number of training iterations.
    #[arg(long)]
    pub max_iterations: Option<usize>,
    /// Adam's learning rate [default: 0.005 for `xor` from the latch start; else 0.003, a
    /// fraction of each array's size].
    #[arg(long)]
    pub learning_rate: Option<f64>,
    /// Iterations between held-out checks.
    #[arg(long, default_value_t = 250)]
    pub eval_every: usize,
    /// Precision of the training gradient [default: f32 for xor, f64 for predict].
    #[arg(long, value_enum)]
    pub precision: Option<GradientPrecision>,
    /// Train a membrane and a synaptic time constant per neuron (in log space, kept valid:
    /// tau_j >= 4h/Delta, tau_s,j > h), starting from the task's shared ones; the saved
    /// model then holds tau.npy and tau_s.npy.
    #[arg(long)]
    pub train_time_constants: bool,
    /// How the phases are stepped (docs/model.md section 9): the explicit Euler step, or
    /// the midpoint step, stable for every current; the saved model records it.
    #[arg(long, value_enum, default_value_t = StepChoice::from(PhaseStep::TRAINING))]
    pub step: StepChoice,
}

/// `--step`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum StepChoice {
    /// The explicit Euler step (h/tau) f(v, I).
    Euler,
    /// The midpoint step: keeps resting neurons at rest and contracts towards rest for
    /// every current, where Euler's costates grow under strong inhibition.
    Midpoint,
}

impl From<PhaseStep> for StepChoice {
    fn from(step: PhaseStep) -> StepChoice {
        match step {
            PhaseStep::Midpoint => StepChoice::Midpoint,
            _ => StepChoice::Euler,
        }
    }
}

impl From<StepChoice> for PhaseStep {
    fn from(choice: StepChoice) -> PhaseStep {
        match choice {
            StepChoice::Euler => PhaseStep::Euler,
            StepChoice::Midpoint => PhaseStep::Midpoint,
        }
    }
}

/// `--precision`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum GradientPrecision {
    /// f32: fastest; steps whose costates overflow are skipped.
    F32,
    /// f64: about half the speed; finite where f32 overflows.
    F64,
}

impl From<GradientPrecision> for Precision {
    fn from(choice: GradientPrecision) -> Precision {
        match choice {
            GradientPrecision::F32 => Precision::F32,
            GradientPrecision::F64 => Precision::F64,
        }
    }
}

impl Common {
    /// The output folder (`task`: the default's name), checked before any work; the
    /// other options are checked by the training loop's options.
    pub(crate) fn output(&self, task: &str, writer: Writer) -> Result<PathBuf, String> {
        let out =
            self.out.clone().unwrap_or_else(|| PathBuf::from(format!("runs/{task}-{}", self.seed)));
        check_out("--out", &out, writer)?;
        Ok(out)
    }

    /// The gradient precision asked for, or the task's `default`.
    fn precision_or(&self, default: Precision) -> Precision {
        self.precision.map_or(default, Precision::from)
    }
}

pub(crate) fn progress(total: usize) -> ProgressBar {
    let bar = ProgressBar::new(total as u64);
    bar.set_style(
        ProgressStyle::with_template(
            "{elapsed_precise} [{bar:30}] {pos}/{len} it  {msg}  ETA {eta}",
        )
        .expect("valid template")
        .progress_chars("=> "),
    );
    bar
}

/// Raster panels for the first trials of a recording, one per title; the target is
/// drawn where the mask is positive (MSE trials), and a classifier's panel marks its
/// scored window and the class it reads out there.
pub(crate) fn panels(
    rec: &Recording,
    trials: &Trials,
    h: f64,
    titles: &[String],
    n_in: usize,
    n_out: usize,
) -> Vec<RasterPanel> {
    let time = |step: usize| step as f64 * h;
    titles
        .iter()
        .enumerate()
        .map(|(k, title)| {
            let at = |t: usize, c: usize| (t * trials.b + k) * n_out + c;
            let readouts: Vec<Vec<(f64, f64)>> = (0..n_out)
                .map(|c| {
                    (0..trials.t).map(|t| (time(t + 1), rec.readout[at(t, c)] as f64)).collect()
                })
                .collect();
            let scored = |t: usize, c: usize| trials.mask.get(at(t, c)).is_some_and(|&m| m > 0.0);
            let targets = (0..n_out)
                .map(|c| {
                    let masked = (0..trials.t).filter(|&t| scored(t, c));
                    masked.map(|t| (time(t + 1), trials.target[at(t, c)] as f64)).collect()
                })
                .collect();
            let classified = match trials.objective {
                Objective::CrossEntropy { from_step, to_step } if to_step <= trials.t => {
                    // The window's sum: its argmax is the mean's.
                    let summed = |c: usize| {
                        let window = from_step..to_step;
                        window.map(|t| rec.readout[at(t, c)] as f64).sum::<f64>()
                    };
                    let class = (0..n_out).max_by(|&a, &b| summed(a).total_cmp(&summed(b)));
                    class.map(|class| ((time(from_step), time(to_step)), class))
                }
                _ => None,
            };
            RasterPanel {
                title: title.clone(),
                inputs: (0..n_in)
                    .map(|c| {
                        (0..trials.t)
                            .map(|t| (time(t), trials.x[(t * trials.b + k) * n_in + c] as f64))
                            .collect()
                    })
                    .collect(),
                spikes: (0..trials.t)
                    .flat_map(|t| {
                        (0..rec.n)
                            .filter(move |&i| rec.spiked(t, k, i))
                            .map(move |i| (time(t + 1), i))
                    })
                    .collect(),
                readouts,
                targets,
                classified,
            }
        })
        .collect()
}

/// A line above the progress bar, or on stderr when there is no bar (not a terminal).
pub(crate) fn note(bar: &ProgressBar, line: String) {
    if bar.is_hidden() {
        eprintln!("{line}");
    } else {
        bar.println(line);
    }
}

fn fmt_score(s: &XorScore) -> String {
    let p = s.per_pattern.map(|x| format!("{:.1}", 100.0 * x));
    format!(
        "{:.1}% (patterns --,-+,+-,++: {}/{}/{}/{}), median signed readout {:.2}",
        100.0 * s.overall,
        p[0],
        p[1],
        p[2],
        p[3],
        s.median_signed
    )
}

/// `train xor --start`: the initial network.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum XorStart {
    /// Self-exciting clusters ([`spikegrad_train::latch::LatchStart::XOR`]): the memory is
    /// in the start; training learns the readout and tunes the rest.
    Latch,
    /// Unstructured random weights, `train task`'s fresh start and schedule: gradient
    /// descent must find the memory.
    Random,
}

impl From<XorStart> for xor_run::XorStart {
    fn from(start: XorStart) -> Self {
        match start {
            XorStart::Latch => xor_run::XorStart::Latch,
            XorStart::Random => xor_run::XorStart::Random,
        }
    }
}

/// An error of a training loop in the command line's words: options as flags.
pub(crate) fn train_error(e: &TrainError) -> String {
    match e {
        TrainError::Option { name, value, rule } => {
            format!("--{} {value}: {rule}", name.replace('_', "-"))
        }
        TrainError::Constants { h, tau, tau_s, error } => {
            format!("--h {h}, --tau {tau}, --tau-s {tau_s}: {error}")
        }
        TrainError::Stalled { iteration } => format!(
            "training stalled at iteration {iteration}: the last {MAX_SKIPPED_IN_A_ROW} gradients were \
             all non-finite (the run or its costates overflow); try --precision f64, a smaller \
             --learning-rate, or (predict) slower neurons with a larger --tau"
        ),
        e => e.to_string(),
    }
}

/// The command line's observer of a loop without checkpoints: a progress bar and a line
/// per check.
pub(crate) struct Bar<F> {
    pub bar: ProgressBar,
    /// The line of a check.
    pub line: F,
}

impl<C, F: Fn(&C) -> String> Observer<C> for Bar<F> {
    fn step(&mut self, iteration: usize, report: &StepReport, trainer: &Trainer) -> Control {
        self.bar.set_message(format!("loss {:.2}  skipped {}", report.loss, trainer.skipped()));
        self.bar.set_position(iteration as u64);
        Control::Continue
    }

    fn check(&mut self, check: &C) -> Control {
        note(&self.bar, (self.line)(check));
        Control::Continue
    }

    fn note(&mut self, line: &str) {
        note(&self.bar, line.to_string());
    }
}

/// `spikegrad train xor`.
pub fn xor(
    common: &Common,
    h: f64,
    restart_after: Option<usize>,
    initial: XorStart,
) -> Result<String, String> {
    let mut options = XorOptions::new(initial.into());
    options.seed = common.seed;
    options.neurons = common.neurons;
    options.batch = common.batch.unwrap_or(options.batch);
    options.max_iterations = common.max_iterations.unwrap_or(options.max_iterations);
    options.learning_rate = common.learning_rate.unwrap_or(options.learning_rate);
    options.eval_every = common.eval_every;
    options.precision = common.precision_or(options.precision);
    options.train_time_constants = common.train_time_constants;
    options.step = common.step.into();
    options.h = h;
    options.restart_after = restart_after.unwrap_or(options.restart_after);
    let out = common.output("xor", Writer::TrainXor)?;
    options.check().map_err(|e| train_error(&e))?;
    let label = format!("--neurons {}, --batch {}, --h {h}", options.neurons, options.batch);
    check_fits(&label, &options.run_size())?;
    let line = |c: &XorCheck| {
        let (i, score, norms) = (c.iteration, fmt_score(&c.score), c.gradient_norms);
        format!("iteration {i}: held-out check {score}; {norms}")
    };
    let mut observer = Bar { bar: progress(options.max_iterations), line };
    let result = train_xor(&options, &mut observer);
    observer.bar.finish_and_clear();
    let run = result.map_err(|e| train_error(&e))?;
    let titles: Vec<String> = run
        .shown
        .iter()
        .map(|d| format!("a1 = {:+}, a2 = {:+}, t2 = {:.0} ms", d.a1, d.a2, d.t2))
        .collect();
    let figures = |dir: &Path| -> Result<(), Box<dyn std::error::Error>> {
        let losses: Vec<(f64, f64)> = run.losses.iter().map(|&(i, l)| (i as f64, l)).collect();
        let smoothed = smooth(&losses, 25);
        plots::lines(
            &dir.join("loss.svg"),
            "training loss (delayed-memory XOR)",
            "iteration",
            "loss",
            &[("batch loss", losses), ("25-iteration mean", smoothed)],
            false,
        )?;
        let panels = panels(&run.shown_recording, &run.shown_trials, h, &titles, 2, 1);
        Ok(plots::rasters(&dir.join("raster.svg"), &panels, run.trainer.model.n, xor::TRIAL_MS)?)
    };
    xor_output::write(&out, &options, &run, Some(&figures)).map_err(|e| e.to_string())?;
    Ok(format!(
        "xor seed {}: test accuracy {} after {} iterations ({} restarts, {} skipped), {:.1} Hz, {:.0} s -> {}",
        common.seed,
        fmt_score(&run.test),
        run.iterations,
        run.restarts.len(),
        run.trainer.skipped(),
        run.firing_rate,
        run.seconds,
        out.display()
    ))
}

/// Running mean over `window` points.
pub(crate) fn smooth(series: &[(f64, f64)], window: usize) -> Vec<(f64, f64)> {
    series
        .windows(window.min(series.len()).max(1))
        .map(|w| {
            (
                w[w.len() - 1].0,
                w.iter().map(|p| p.1).filter(|y| y.is_finite()).sum::<f64>() / w.len() as f64,
            )
        })
        .collect()
}

/// The predictive-coding task's options, shared by `train predict` and `train
/// efficient-coding`.
#[derive(Debug, Clone, clap::Args)]
pub struct PredictOptions {
    /// Euler step h (ms).
    #[arg(long, default_value_t = 1.0)]
    pub h: f64,
    /// Membrane time constant tau (ms).
    #[arg(long, default_value_t = predict::TAU)]
    pub tau: f64,
    /// Synaptic time constant tau_s (ms).
    #[arg(long, default_value_t = predict::TAU_S)]
    pub tau_s: f64,
    /// Trial length (ms).
    #[arg(long, default_value_t = predict::TRIAL_MS)]
    pub trial_ms: f64,
}

impl PredictOptions {
    /// The library's options: these and the common ones, over its defaults.
    pub(crate) fn library(&self, common: &Common) -> predict_run::PredictOptions {
        let mut o = predict_run::PredictOptions::default();
        o.seed = common.seed;
        o.neurons = common.neurons;
        o.batch = common.batch.unwrap_or(o.batch);
        o.max_iterations = common.max_iterations.unwrap_or(o.max_iterations);
        o.learning_rate = common.learning_rate.unwrap_or(o.learning_rate);
        o.eval_every = common.eval_every;
        o.precision = common.precision_or(o.precision);
        o.train_time_constants = common.train_time_constants;
        o.step = common.step.into();
        (o.h, o.tau, o.tau_s, o.trial_ms) = (self.h, self.tau, self.tau_s, self.trial_ms);
        o
    }

    /// Checks the options and that a run of `trainers` alive at once and `kept` models
    /// besides fits in memory, naming the options at fault.
    pub(crate) fn check(
        &self,
        options: &predict_run::PredictOptions,
        trainers: usize,
        kept: usize,
    ) -> Result<(), String> {
        options.task().map_err(|e| train_error(&e))?;
        let label = format!(
            "--neurons {}, --batch {}, --h {}, --trial-ms {}",
            options.neurons, options.batch, self.h, self.trial_ms
        );
        check_fits(&label, &options.run_size(trainers, kept))
    }
}

/// The line of a predictive-coding check, the network named by `label`.
pub(crate) fn predict_line(label: &str, c: &PredictCheck) -> String {
    let (i, nmse, norms) = (c.iteration, c.nmse, c.gradient_norms);
    format!("{label} iteration {i}: held-out NMSE {nmse:.4}; {norms}")
}

/// `spikegrad train predict`.
pub fn predict(
    common: &Common,
    options: &PredictOptions,
    rate_penalty: f64,
) -> Result<String, String> {
    let out = common.output("predict", Writer::TrainPredict)?;
    let library = options.library(common);
    options.check(&library, 2, 0)?;
    let line =
        |c: &PredictCheck| predict_line(if c.network.recurrent { "recurrent" } else { "W = 0" }, c);
    let mut observer = Bar { bar: progress(library.max_iterations), line };
    let result = train_predict(&library, rate_penalty, &mut observer);
    observer.bar.finish_and_clear();
    let run = result.map_err(|e| train_error(&e))?;
    let (learned, plain) = (&run.learned, &run.plain);
    let figures = |dir: &Path| -> Result<(), Box<dyn std::error::Error>> {
        let smoothed = |network: &PredictNetwork| {
            let losses: Vec<(f64, f64)> =
                network.losses.iter().map(|&(i, l)| (i as f64, l)).collect();
            smooth(&losses, 25)
        };
        plots::lines(
            &dir.join("loss.svg"),
            "training loss (predictive coding)",
            "iteration",
            "loss",
            &[("recurrent", smoothed(&learned.network)), ("W = 0", smoothed(&plain.network))],
            false,
        )?;
        let titles: Vec<String> = (0..3).map(|k| format!("held-out trial {k}")).collect();
        let h = run.task.h;
        let panels = panels(&learned.test.recording, &run.shown, h, &titles, 2, 2);
        let n = learned.network.trainer.model.n;
        Ok(plots::rasters(&dir.join("raster.svg"), &panels, n, run.task.duration_ms)?)
    };
    predict_output::write_predict(&out, &library, rate_penalty, &run, Some(&figures))
        .map_err(|e| e.to_string())?;
    let bracket = |x: Option<f64>| x.map_or(String::new(), |x| format!(" ({x:.4} from 50 ms)"));
    let skipped = learned.network.trainer.skipped() + plain.network.trainer.skipped();
    Ok(format!(
        "predict seed {}: test NMSE {:.4}{} at {:.1} Hz (W = 0: {:.4}{} at {:.1} Hz), {} skipped steps, {:.0} s -> {}",
        common.seed,
        learned.test.nmse,
        bracket(learned.test.nmse_from_50ms),
        learned.test.firing_rate_hz,
        plain.test.nmse,
        bracket(plain.test.nmse_from_50ms),
        plain.test.firing_rate_hz,
        skipped,
        run.seconds,
        out.display()
    ))
}
