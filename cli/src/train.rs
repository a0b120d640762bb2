//! `spikegrad train xor` and `spikegrad train predict`: the paper's two tasks.

use crate::options::{check_count, check_fits, check_non_negative, check_out, check_positive};
use crate::plots::{self, RasterPanel};
use indicatif::{ProgressBar, ProgressStyle};
use serde_json::json;
use spikegrad::Config;
use spikegrad_io::case::LossFile;
use spikegrad_io::model_folder;
use spikegrad_io::staging::{write_json, Staging, Writer};
use spikegrad_io::task_run::norms_json;
use spikegrad_io::xor_output;
use spikegrad_train::adam::{cosine_decay, Clip};
use spikegrad_train::gradient_norms::{GradientLog, NormSummary};
use spikegrad_train::memory::RunSize;
use spikegrad_train::model::{InitScales, Model, Trials};
use spikegrad_train::observer::{Control, Observer};
use spikegrad_train::phase_step::PhaseStep;
use spikegrad_train::predict::{self, Predict};
use spikegrad_train::rng::Rng;
use spikegrad_train::xor::{self, XorScore};
use spikegrad_train::xor_run::{self, train_xor, XorCheck, XorOptions};
use spikegrad_train::{
    Precision, Recording, Settings, StepReport, TimeConstantRange, TrainError, Trained, Trainer,
    MAX_SKIPPED_IN_A_ROW,
};
use std::path::{Path, PathBuf};
use std::time::Instant;

/// Settings shared by both tasks.
#[derive(Debug, Clone, clap::Args)]
pub struct Common {
    /// Seed of the initial weights and of the training trials (held-out trials use others).
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Output folder [default: runs/<task>-<seed>].
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
    /// Adam's learning rate.
    #[arg(long, default_value_t = 5e-3)]
    pub learning_rate: f64,
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
    /// Checks every option before any work (`task`: the default output folder's name),
    /// naming the option at fault; returns the output folder.
    pub(crate) fn check(&self, task: &str, writer: Writer) -> Result<PathBuf, String> {
        check_count("--neurons", self.neurons)?;
        if let Some(batch) = self.batch {
            check_count("--batch", batch)?;
        }
        if let Some(iterations) = self.max_iterations {
            check_count("--max-iterations", iterations)?;
        }
        check_count("--eval-every", self.eval_every)?;
        check_positive("--learning-rate", self.learning_rate)?;
        let out =
            self.out.clone().unwrap_or_else(|| PathBuf::from(format!("runs/{task}-{}", self.seed)));
        check_out("--out", &out, writer)?;
        Ok(out)
    }

    /// The gradient precision asked for, or the task's `default`.
    fn precision_or(&self, default: Precision) -> Precision {
        self.precision.map_or(default, Precision::from)
    }

    /// The range of trained time constants, if they are trained.
    fn time_constants(&self) -> Option<TimeConstantRange> {
        self.train_time_constants.then_some(TimeConstantRange::VALID)
    }
}

/// Test trials of both tasks, scored once after training.
const TEST_TRIALS: usize = 1000;
/// Held-out trials of each predictive-coding check.
const PREDICT_CHECK_TRIALS: usize = 200;
/// Predictive-coding test trials recorded for the firing rate and the raster.
const PREDICT_RECORDED_TRIALS: usize = 100;

// Seeds of the separate streams, derived from the run's seed.
const INIT_STREAM: u64 = 0x1111_0000_0000_0000;
const CHECK_STREAM: u64 = 0x2222_0000_0000_0000;
const TEST_STREAM: u64 = 0x3333_0000_0000_0000;

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
/// drawn where the mask is positive (MSE trials; none for other losses).
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
        .map(|(k, title)| RasterPanel {
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
                    (0..rec.n).filter(move |&i| rec.spiked(t, k, i)).map(move |i| (time(t + 1), i))
                })
                .collect(),
            readout: (0..n_out)
                .flat_map(|c| {
                    let at = |t: usize| (t * trials.b + k) * n_out + c;
                    let masked =
                        (0..trials.t).filter(|&t| trials.mask.get(at(t)).is_some_and(|&m| m > 0.0));
                    [
                        (
                            format!("readout {c}"),
                            (0..trials.t)
                                .map(|t| (time(t + 1), rec.readout[at(t)] as f64))
                                .collect(),
                        ),
                        (
                            format!("target {c}"),
                            masked.map(|t| (time(t + 1), trials.target[at(t)] as f64)).collect(),
                        ),
                    ]
                })
                .collect(),
        })
        .collect()
}

/// The model of the best held-out check so far: (score, iteration, model).
#[derive(Default)]
pub(crate) struct BestCheck(Option<(f64, usize, Model)>);

impl BestCheck {
    /// Keeps a copy of `model` if `score` beats every score offered before (offer the
    /// negation of a score where lower is better).
    fn offer(&mut self, score: f64, iteration: usize, model: &Model) {
        if self.0.as_ref().is_none_or(|(best, _, _)| score > *best) {
            self.0 = Some((score, iteration, model.clone()));
        }
    }
}

/// One training step; an error if the last [`MAX_SKIPPED_IN_A_ROW`] steps were all skipped.
pub(crate) fn train_step(
    trainer: &mut Trainer,
    trials: &Trials,
    iteration: usize,
) -> Result<StepReport, String> {
    let report = trainer.train_step(trials).map_err(|e| e.to_string())?;
    if trainer.skipped_in_a_row() >= MAX_SKIPPED_IN_A_ROW {
        return Err(format!(
            "training stalled at iteration {iteration}: the last {MAX_SKIPPED_IN_A_ROW} gradients were \
             all non-finite (the run or its costates overflow); try --precision f64, a smaller \
             --learning-rate, or (predict) slower neurons with a larger --tau"
        ));
    }
    Ok(report)
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
    /// The quiet, excitable random start ([`xor::INIT`]): gradient descent must find the
    /// memory.
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
    restart_after: usize,
    initial: XorStart,
) -> Result<String, String> {
    let mut options = XorOptions::default();
    options.seed = common.seed;
    options.neurons = common.neurons;
    options.batch = common.batch.unwrap_or(options.batch);
    options.max_iterations = common.max_iterations.unwrap_or(options.max_iterations);
    options.learning_rate = common.learning_rate;
    options.eval_every = common.eval_every;
    options.precision = common.precision_or(options.precision);
    options.train_time_constants = common.train_time_constants;
    options.step = common.step.into();
    options.h = h;
    options.restart_after = restart_after;
    options.start = initial.into();
    let out = common.check("xor", Writer::TrainXor)?;
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

/// `train predict`'s default batch.
const PREDICT_BATCH: usize = 32;
/// `train predict`'s default iterations (each network).
pub(crate) const PREDICT_ITERATIONS: usize = 3000;

/// A finished predictive-coding run.
pub(crate) struct PredictRun {
    /// The trainer, its model the one of the best held-out check.
    pub trainer: Trainer,
    /// (iteration, batch loss).
    pub losses: Vec<(f64, f64)>,
    /// The held-out checks.
    pub checks: Vec<serde_json::Value>,
    /// The iteration whose model was kept.
    pub kept: usize,
    /// The gradient norms of the whole run.
    pub gradient_norms: NormSummary,
}

/// Trains one predictive-coding network with a cosine learning-rate decay (to
/// [`predict::LEARNING_RATE_FLOOR`] of the rate), keeping the model of the best
/// held-out check (trials separate from the test trials).
pub(crate) fn train_predict(
    common: &Common,
    task: &Predict,
    config: Config,
    recurrent: bool,
    rate_penalty: f64,
    progress_label: &str,
) -> Result<PredictRun, String> {
    let start = Instant::now();
    let scales = InitScales {
        recurrent_gain: if recurrent { predict::INIT.recurrent_gain } else { 0.0 },
        ..predict::INIT
    };
    let model = Model::quiet_start(
        config,
        common.neurons,
        predict::CHANNELS,
        predict::CHANNELS,
        scales,
        &mut Rng::new(common.seed ^ INIT_STREAM),
    );
    let model = Model { step: common.step.into(), ..model };
    let settings = Settings {
        clip: Clip::PerParameter(1.0),
        trained: Trained { w: recurrent, ..Trained::ALL },
        precision: common.precision_or(Precision::F64),
        time_constants: common.time_constants(),
        ..Settings::new(common.learning_rate)
    };
    let mut trainer = Trainer::new(model, settings).map_err(|e| e.to_string())?;
    let (batch, max_iterations, steps) = (
        common.batch.unwrap_or(PREDICT_BATCH),
        common.max_iterations.unwrap_or(PREDICT_ITERATIONS),
        task.steps(),
    );
    let mut rng = Rng::new(common.seed);
    let mut trials = Trials { rate_penalty, ..Trials::new(&trainer.model, batch, steps) };
    let mut check = Trials::new(&trainer.model, PREDICT_CHECK_TRIALS, steps);
    task.sample(&mut Rng::new(common.seed ^ CHECK_STREAM), &mut check);
    let bar = progress(max_iterations);
    let (mut losses, mut checks) = (Vec::new(), Vec::new());
    let mut best = BestCheck::default();
    let mut norms = GradientLog::new();
    for iteration in 1..=max_iterations {
        let progress = (iteration - 1) as f64 / max_iterations as f64;
        trainer.set_learning_rate(cosine_decay(
            common.learning_rate,
            predict::LEARNING_RATE_FLOOR,
            progress,
        ));
        task.sample(&mut rng, &mut trials);
        let report = train_step(&mut trainer, &trials, iteration)?;
        norms.record(&report);
        losses.push((iteration as f64, report.loss));
        if iteration % common.eval_every == 0 || iteration == max_iterations {
            let (readout, _) = trainer.evaluate(&check).map_err(|e| e.to_string())?;
            let nmse = task.nmse(readout, &check);
            let window = norms.check();
            checks.push(json!({ "iteration": iteration, "nmse": nmse, "seconds": start.elapsed().as_secs_f64(), "gradient_norms": norms_json(&window) }));
            note(
                &bar,
                format!(
                    "{progress_label} iteration {iteration}: held-out NMSE {nmse:.4}; {window}"
                ),
            );
            best.offer(-nmse, iteration, &trainer.model);
        }
        bar.set_message(format!("{progress_label} loss {:.3}", report.loss));
        bar.inc(1);
    }
    bar.finish_and_clear();
    let (_, kept, model) = best.0.expect("the last iteration is checked");
    trainer.model = model;
    Ok(PredictRun { trainer, losses, checks, kept, gradient_norms: norms.run() })
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
    /// The sizes of a predictive-coding run of `task` ([`RunSize`]): `trainers` alive at
    /// once, `kept` trained models held besides them.
    pub(crate) fn size(
        &self,
        common: &Common,
        task: &Predict,
        trainers: usize,
        kept: usize,
    ) -> (String, RunSize) {
        let batch = common.batch.unwrap_or(PREDICT_BATCH);
        let label = format!(
            "--neurons {}, --batch {batch}, --h {}, --trial-ms {}",
            common.neurons, self.h, self.trial_ms
        );
        let size = RunSize {
            neurons: common.neurons,
            inputs: predict::CHANNELS,
            outputs: predict::CHANNELS,
            steps: task.steps(),
            batch,
            held_trials: PREDICT_CHECK_TRIALS + TEST_TRIALS + PREDICT_RECORDED_TRIALS,
            evaluated_at_once: TEST_TRIALS,
            recorded_at_once: PREDICT_RECORDED_TRIALS,
            extra_models: kept + 1,
            trainers,
            precision: common.precision_or(Precision::F64),
        };
        (label, size)
    }

    /// Checks the options, naming the one at fault; the task and the model's constants.
    pub(crate) fn task(&self) -> Result<(Predict, Config), String> {
        let PredictOptions { h, tau, tau_s, trial_ms } = *self;
        for (option, value) in
            [("--h", h), ("--tau", tau), ("--tau-s", tau_s), ("--trial-ms", trial_ms)]
        {
            check_positive(option, value)?;
        }
        let task = Predict { h, duration_ms: trial_ms, time_scale_ms: predict::TIME_SCALE_MS };
        let config = task.config(tau, tau_s);
        config.validate().map_err(|e| format!("--h {h}, --tau {tau}, --tau-s {tau_s}: {e}"))?;
        if trial_ms < h {
            return Err(format!("--trial-ms {trial_ms}: must be at least one step (h = {h})"));
        }
        Ok((task, config))
    }
}

/// The predictive-coding test: 1000 trials for the NMSE and 100 for the firing rate
/// (and the raster), drawn from the test stream, never seen in training or checks.
pub(crate) struct PredictTest {
    task: Predict,
    test: Trials,
    shown: Trials,
}

/// A trained network's test figures.
pub(crate) struct Assessment {
    /// NMSE over whole test trials.
    pub nmse: f64,
    /// NMSE from 50 ms on (after the start from rest), when trials are longer than that.
    pub nmse_from_50ms: Option<f64>,
    /// Spikes per neuron per second over the shown trials.
    pub firing_rate_hz: f64,
    /// The shown trials, recorded.
    pub recording: Recording,
}

impl PredictTest {
    /// Draws the test trials for `model` (any of the task's networks: they share sizes).
    pub(crate) fn new(task: Predict, model: &Model, seed: u64) -> Self {
        let steps = task.steps();
        let mut test = Trials::new(model, TEST_TRIALS, steps);
        task.sample(&mut Rng::new(seed ^ TEST_STREAM), &mut test);
        let mut shown = Trials::new(model, PREDICT_RECORDED_TRIALS, steps);
        task.sample(&mut Rng::new(seed ^ TEST_STREAM ^ 1), &mut shown);
        PredictTest { task, test, shown }
    }

    /// Scores `trainer`'s model.
    pub(crate) fn assess(&self, trainer: &mut Trainer) -> Result<Assessment, String> {
        let (task, test) = (&self.task, &self.test);
        let settled = (50.0 / task.h).round() as usize;
        let readout = trainer.evaluate(test).map_err(|e| e.to_string())?.0;
        let nmse = task.nmse(readout, test);
        let nmse_from_50ms = (settled < test.t).then(|| task.nmse_from(readout, test, settled));
        let recording = trainer.record(&self.shown).map_err(|e| e.to_string())?;
        let firing_rate_hz = recording.firing_rate(task.h);
        Ok(Assessment { nmse, nmse_from_50ms, firing_rate_hz, recording })
    }
}

/// Writes a predictive-coding network to `dir` (which exists) as a model folder whose
/// config.json records the task and the rate penalty it was trained with.
pub(crate) fn save_predict_model(
    dir: &std::path::Path,
    model: &Model,
    task: &Predict,
    rate_penalty: f64,
) -> Result<(), String> {
    let task_json = json!({ "name": "predict", "duration_ms": task.duration_ms, "time_scale_ms": task.time_scale_ms, "channels": predict::CHANNELS, "neurons": model.n });
    let loss = LossFile { rate_penalty, ..LossFile::default() };
    model_folder::save(dir, model, Some(&loss), task_json).map_err(|e| e.to_string())
}

/// `spikegrad train predict`.
pub fn predict(
    common: &Common,
    options: &PredictOptions,
    rate_penalty: f64,
) -> Result<String, String> {
    let start = Instant::now();
    let out = common.check("predict", Writer::TrainPredict)?;
    let (task, config) = options.task()?;
    check_non_negative("--rate-penalty", rate_penalty)?;
    // The W-learned trainer is kept while the W = 0 one trains.
    let (label, size) = options.size(common, &task, 2, 0);
    check_fits(&label, &size)?;
    let run = train_predict(common, &task, config, true, rate_penalty, "recurrent")?;
    let plain_run = train_predict(common, &task, config, false, rate_penalty, "W = 0")?;
    let (mut trainer, mut plain) = (run.trainer, plain_run.trainer);
    let test = PredictTest::new(task, &trainer.model, common.seed);
    let learned = test.assess(&mut trainer)?;
    let w0 = test.assess(&mut plain)?;
    let bracket = |x: Option<f64>| x.map_or(String::new(), |x| format!(" ({x:.4} from 50 ms)"));
    let wall = start.elapsed().as_secs_f64();

    let staging =
        Staging::new(&out, Writer::TrainPredict).map_err(|e| format!("{}: {e}", out.display()))?;
    let dir = staging.path();
    let precision = common.precision_or(Precision::F64).name();
    save_predict_model(dir, &trainer.model, &task, rate_penalty)?;
    std::fs::create_dir(dir.join("w0")).map_err(|e| e.to_string())?;
    save_predict_model(&dir.join("w0"), &plain.model, &task, rate_penalty)?;
    let metrics = json!({
        "task": "predict", "seed": common.seed, "iterations": trainer.updates() + trainer.skipped(), "skipped_steps": trainer.skipped(), "wall_seconds": wall,
        "batch": common.batch.unwrap_or(PREDICT_BATCH), "rate_penalty": rate_penalty, "learning_rate": common.learning_rate, "learning_rate_floor": predict::LEARNING_RATE_FLOOR, "gradient_precision": precision,
        "kept_iteration": run.kept, "time_constants": model_folder::time_constants_json(&trainer.model),
        "test": { "trials": TEST_TRIALS, "nmse": learned.nmse, "nmse_from_50ms": learned.nmse_from_50ms, "firing_rate_hz": learned.firing_rate_hz },
        "w0": { "test_nmse": w0.nmse, "test_nmse_from_50ms": w0.nmse_from_50ms, "firing_rate_hz": w0.firing_rate_hz, "skipped_steps": plain.skipped(), "kept_iteration": plain_run.kept, "checks": plain_run.checks, "gradient_norms": norms_json(&plain_run.gradient_norms) },
        "checks": run.checks, "gradient_norms": norms_json(&run.gradient_norms),
    });
    write_json(&dir.join("metrics.json"), &metrics).map_err(|e| e.to_string())?;
    plots::lines(
        &dir.join("loss.svg"),
        "training loss (predictive coding)",
        "iteration",
        "loss",
        &[("recurrent", smooth(&run.losses, 25)), ("W = 0", smooth(&plain_run.losses, 25))],
        false,
    )?;
    let titles: Vec<String> = (0..3).map(|k| format!("held-out trial {k}")).collect();
    plots::rasters(
        &dir.join("raster.svg"),
        &panels(&learned.recording, &test.shown, task.h, &titles, 2, 2),
        trainer.model.n,
        task.duration_ms,
    )?;
    staging.commit().map_err(|e| format!("{}: {e}", out.display()))?;
    Ok(format!(
        "predict seed {}: test NMSE {:.4}{} at {:.1} Hz (W = 0: {:.4}{} at {:.1} Hz), {} skipped steps, {:.0} s -> {}",
        common.seed,
        learned.nmse,
        bracket(learned.nmse_from_50ms),
        learned.firing_rate_hz,
        w0.nmse,
        bracket(w0.nmse_from_50ms),
        w0.firing_rate_hz,
        trainer.skipped() + plain.skipped(),
        wall,
        out.display()
    ))
}
