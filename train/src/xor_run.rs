//! Training the delayed-memory XOR ([`crate::xor`]): Adam from a latch or a random start,
//! held-out checks that must pass twice in a row, restarts from fresh weights, and an
//! independent test set scored at the end.

use crate::adam::{cosine_decay, Clip};
use crate::error::{check_counts, check_positive};
use crate::gradient_norms::{GradientLog, NormSummary};
use crate::latch::LatchStart;
use crate::memory::RunSize;
use crate::model::{Model, Trials};
use crate::observer::{Control, Observer};
use crate::phase_step::PhaseStep;
use crate::rng::{Rng, CHECK_STREAM, INIT_STREAM, TEST_STREAM};
use crate::task::{self, TaskOptions};
use crate::xor::{self, Xor, XorScore, XorTrial};
use crate::{
    Precision, Recording, Settings, TimeConstantRange, TrainError, Trainer, MAX_SKIPPED_IN_A_ROW,
};
use std::time::Instant;

/// Held-out trials of each check.
pub const CHECK_TRIALS: usize = 1000;
/// Test trials, scored once after training.
pub const TEST_TRIALS: usize = 1000;
/// Trials recorded for the firing rate (one of each pattern kept for figures).
pub const RECORDED_TRIALS: usize = 200;

/// Passing held-out checks in a row that end a run, the second after training at
/// [`xor::SETTLING_RATE`] times the rate: margins are thin and accuracy moves between
/// checks, so one pass can be a lucky moment.
const PASSES_IN_A_ROW: usize = 2;

/// The median signed readout a held-out check asks for: the task's bar is 0.5 on fresh
/// trials, and a check of 1000 trials can be a little luckier than them.
const CHECK_MEDIAN_SIGNED: f64 = 0.6;

/// Whether a held-out check has the accuracy a pass asks for: overall >= 0.995 and every
/// pattern >= 0.98.
fn accurate(s: &XorScore) -> bool {
    s.overall >= 0.995 && s.per_pattern.iter().all(|&p| p >= 0.98)
}

/// Whether a held-out check passes: [`accurate`], and a median signed readout of at least
/// [`CHECK_MEDIAN_SIGNED`] (the readout goes most of the way to its target, not just to
/// the right side of zero).
fn passes(s: &XorScore) -> bool {
    accurate(s) && s.median_signed >= CHECK_MEDIAN_SIGNED
}

/// The initial network.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum XorStart {
    /// Self-exciting clusters ([`LatchStart::XOR`]): the memory is in the start; training
    /// learns the readout and tunes the rest.
    Latch,
    /// Unstructured random weights: `train task`'s fresh start ([`task::initial_model`]),
    /// read from the first training trials, trained with its steps, clipping and cosine
    /// decay ([`TaskOptions::default`]): gradient descent must find the memory.
    Random,
}

impl XorStart {
    /// "latch" or "random".
    pub fn name(self) -> &'static str {
        match self {
            XorStart::Latch => "latch",
            XorStart::Random => "random",
        }
    }

    /// How a model from this start is trained: from latches, each parameter's gradient
    /// clipped alone and Adam's steps scaled by [`xor::LATCH_STEP_SCALES`] (the readout
    /// learns fast, the latches are only tuned); from the random start as `train task`
    /// trains: one global clip, each array stepped by the same fraction of its size, the
    /// readout at its own rate ([`task::step_scales`]).
    fn settings(self, model: &Model, learning_rate: f64) -> Settings {
        match self {
            XorStart::Latch => Settings {
                clip: Clip::PerParameter(1.0),
                step_scales: xor::LATCH_STEP_SCALES,
                ..Settings::new(learning_rate)
            },
            XorStart::Random => task::adam_settings(
                task::step_scales(model),
                &TaskOptions::default(),
                learning_rate,
            ),
        }
    }

    /// An initial model of `n` neurons stepped by `step`, drawn from `seed`'s streams.
    fn model(self, task: &Xor, n: usize, step: PhaseStep, seed: u64) -> Result<Model, TrainError> {
        let model = match self {
            XorStart::Latch => {
                LatchStart::XOR.model(task.config(), n, 1, &mut Rng::new(seed ^ INIT_STREAM))?
            }
            XorStart::Random => {
                // Read from the first training trials (the stream of `seed`), as `train
                // task` reads its fresh start from its own.
                let first = task.task(task::MEASURED_TRIALS, step, &mut Rng::new(seed));
                let options = TaskOptions { seed, ..TaskOptions::default() };
                let all: Vec<usize> = (0..first.k).collect();
                task::initial_model(&first, &all, n, step, &options)?
            }
        };
        Ok(Model { step, ..model })
    }
}

/// The options of [`train_xor`]; [`XorOptions::new`] holds the defaults of each start, and
/// [`XorOptions::default`] those of the random start.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct XorOptions {
    /// Seed of the initial weights and of the training trials (checks and test use
    /// streams of their own).
    pub seed: u64,
    /// Neurons N.
    pub neurons: usize,
    /// Trials per training batch.
    pub batch: usize,
    /// Largest number of training iterations, over all restarts.
    pub max_iterations: usize,
    /// Adam's learning rate.
    pub learning_rate: f64,
    /// Iterations between held-out checks.
    pub eval_every: usize,
    /// Precision of the training gradient.
    pub precision: Precision,
    /// Train a membrane and a synaptic time constant per neuron, each at most the
    /// task's ([`xor::TIME_CONSTANT_CEILING`]).
    pub train_time_constants: bool,
    /// How the phases are stepped.
    pub step: PhaseStep,
    /// The step h, in ms.
    pub h: f64,
    /// Restart from fresh initial weights after this many iterations without a held-out
    /// check above [`xor::ESCAPED`] (0: never).
    pub restart_after: usize,
    /// The initial network.
    pub start: XorStart,
}

impl Default for XorOptions {
    fn default() -> Self {
        XorOptions::new(XorStart::Random)
    }
}

impl XorOptions {
    /// The defaults of a run from `start`. From the latch start: a constant rate (settling
    /// once accurate), restarts after [`xor::RESTART_AFTER`]. From the random start:
    /// `train task`'s learning rate and batch ([`TaskOptions::default`]), a cosine decay
    /// over [`xor::RANDOM_ITERATIONS`], and no restarts (the decay spans the run).
    pub fn new(start: XorStart) -> Self {
        let latch = XorOptions {
            seed: 1,
            neurons: 64,
            batch: 64,
            max_iterations: xor::MAX_ITERATIONS,
            learning_rate: 5e-3,
            eval_every: 250,
            precision: Precision::F32,
            train_time_constants: false,
            step: PhaseStep::TRAINING,
            h: 2.0,
            restart_after: xor::RESTART_AFTER,
            start: XorStart::Latch,
        };
        match start {
            XorStart::Latch => latch,
            XorStart::Random => {
                let defaults = TaskOptions::default();
                XorOptions {
                    batch: defaults.batch,
                    max_iterations: xor::RANDOM_ITERATIONS,
                    learning_rate: defaults.learning_rate,
                    restart_after: 0,
                    start,
                    ..latch
                }
            }
        }
    }

    /// Checks every option (and the constants `h` gives); the error names the first at
    /// fault.
    pub fn check(&self) -> Result<(), TrainError> {
        let counts = [
            ("neurons", self.neurons),
            ("batch", self.batch),
            ("max_iterations", self.max_iterations),
            ("eval_every", self.eval_every),
        ];
        check_counts(&counts)?;
        check_positive(&[("learning_rate", self.learning_rate), ("h", self.h)])?;
        let config = Xor { h: self.h }.config();
        config.validate().map_err(|e| TrainError::option("h", self.h, e.to_string()))
    }

    /// The sizes of the run, for the memory check ([`RunSize::check`]) before any work.
    pub fn run_size(&self) -> RunSize {
        RunSize {
            neurons: self.neurons,
            inputs: 2,
            outputs: 1,
            steps: Xor { h: self.h }.steps(),
            batch: self.batch,
            held_trials: CHECK_TRIALS + TEST_TRIALS + RECORDED_TRIALS + xor::PATTERNS.len(),
            evaluated_at_once: CHECK_TRIALS.max(TEST_TRIALS),
            recorded_at_once: RECORDED_TRIALS,
            extra_models: 1,
            trainers: 1,
            precision: self.precision,
        }
    }
}

/// One held-out check.
#[derive(Debug, Clone, PartialEq)]
pub struct XorCheck {
    /// The iteration it followed.
    pub iteration: usize,
    /// The mean loss over the check's trials.
    pub loss: f64,
    /// Accuracy and readout.
    pub score: XorScore,
    /// Seconds since the run started.
    pub seconds: f64,
    /// The gradient norms of the steps since the check before.
    pub gradient_norms: NormSummary,
}

/// A finished run.
#[non_exhaustive]
pub struct XorRun {
    /// The kept model (the passing check's, else the most accurate check's), its trainer.
    pub trainer: Trainer,
    /// The settings it trained with.
    pub settings: Settings,
    /// Iterations trained, over all attempts.
    pub iterations: usize,
    /// The iterations after which training restarted from fresh weights.
    pub restarts: Vec<usize>,
    /// The iteration of the second passing check in a row, if one passed.
    pub passed_at: Option<usize>,
    /// The iteration of the kept model.
    pub kept: usize,
    /// (iteration, batch loss) of every iteration.
    pub losses: Vec<(usize, f64)>,
    /// Every held-out check.
    pub checks: Vec<XorCheck>,
    /// The gradient norms of the whole run.
    pub gradient_norms: NormSummary,
    /// The kept model's mean loss on the independent test trials ...
    pub test_loss: f64,
    /// ... and its score there.
    pub test: XorScore,
    /// Its firing rate over [`RECORDED_TRIALS`] trials, in Hz.
    pub firing_rate: f64,
    /// One trial of each pattern (those drawn), in [`xor::PATTERNS`]' order ...
    pub shown: Vec<XorTrial>,
    /// ... as a batch ...
    pub shown_trials: Trials,
    /// ... and the kept model's run on them.
    pub shown_recording: Recording,
    /// Seconds from the start to the end of the test.
    pub seconds: f64,
}

/// Trains the delayed-memory XOR with `options`, telling `observer` of each step and
/// check (it can stop the run: [`TrainError::Cancelled`]). The run ends after two
/// passing checks in a row or [`XorOptions::max_iterations`], keeping the passing model
/// or else the most accurate check's; the learning rate follows [`XorOptions::new`]'s
/// schedule of the start; it restarts from fresh weights after
/// [`XorOptions::restart_after`] iterations without a check above [`xor::ESCAPED`].
pub fn train_xor(
    options: &XorOptions,
    observer: &mut dyn Observer<XorCheck>,
) -> Result<XorRun, TrainError> {
    let started = Instant::now();
    options.check()?;
    options.run_size().check().map_err(TrainError::TooLarge)?;
    let task = Xor { h: options.h };
    let (tau_ceiling, tau_s_ceiling) = xor::TIME_CONSTANT_CEILING;
    let time_constants = TimeConstantRange { tau: (0.0, tau_ceiling), tau_s: (0.0, tau_s_ceiling) };
    // Attempt k (from 0) starts from the initial weights drawn from its own streams.
    let fresh = |attempt: u64| -> Result<(Trainer, Settings), TrainError> {
        let (n, step) = (options.neurons, options.step);
        let model = options.start.model(&task, n, step, options.seed ^ attempt)?;
        let settings = Settings {
            precision: options.precision,
            time_constants: options.train_time_constants.then_some(time_constants),
            ..options.start.settings(&model, options.learning_rate)
        };
        Ok((Trainer::new(model, settings)?, settings))
    };
    let mut run = Loop::new(options, fresh(0)?, started);
    run.train(&task, &fresh, observer)?;
    run.finish(&task)
}

/// The state of [`train_xor`]'s loop.
struct Loop<'a> {
    options: &'a XorOptions,
    trainer: Trainer,
    /// The settings of the attempt's trainer.
    settings: Settings,
    started: Instant,
    losses: Vec<(usize, f64)>,
    checks: Vec<XorCheck>,
    restarts: Vec<usize>,
    passed_at: Option<usize>,
    norms: GradientLog,
    /// The most accurate check so far: (score, iteration, model), kept if no attempt
    /// passes.
    best: Option<(f64, usize, Model)>,
}

impl<'a> Loop<'a> {
    fn new(
        options: &'a XorOptions,
        (trainer, settings): (Trainer, Settings),
        started: Instant,
    ) -> Self {
        Loop {
            options,
            trainer,
            settings,
            started,
            losses: Vec::new(),
            checks: Vec::new(),
            restarts: Vec::new(),
            passed_at: None,
            norms: GradientLog::new(),
            best: None,
        }
    }

    /// The iterations, until two passing checks in a row or the budget.
    fn train(
        &mut self,
        task: &Xor,
        fresh: &dyn Fn(u64) -> Result<(Trainer, Settings), TrainError>,
        observer: &mut dyn Observer<XorCheck>,
    ) -> Result<(), TrainError> {
        let o = self.options;
        let steps = task.steps();
        let mut rng = Rng::new(o.seed);
        let mut trials = Trials::new(&self.trainer.model, o.batch, steps);
        let mut check = Trials::new(&self.trainer.model, CHECK_TRIALS, steps);
        let check_drawn = task.sample(&mut Rng::new(o.seed ^ CHECK_STREAM), &mut check);
        // The attempt's start or its last check above the plateaus; whether it trains at
        // the settling rate.
        let (mut escaped_at, mut passes_in_a_row, mut settling) = (0, 0, false);
        for iteration in 1..=o.max_iterations {
            if o.restart_after > 0 && iteration - 1 - escaped_at >= o.restart_after {
                observer.note(&format!(
                    "iteration {iteration}: no held-out check above {:.0}% within {} \
                     iterations, restarting from fresh initial weights",
                    100.0 * xor::ESCAPED,
                    o.restart_after
                ));
                self.restarts.push(iteration - 1);
                (escaped_at, settling) = (iteration - 1, false);
                (self.trainer, self.settings) = fresh(self.restarts.len() as u64)?;
            }
            self.trainer.set_learning_rate(self.rate(iteration, settling));
            task.sample(&mut rng, &mut trials);
            let report = self.trainer.train_step(&trials)?;
            if self.trainer.skipped_in_a_row() >= MAX_SKIPPED_IN_A_ROW {
                return Err(TrainError::Stalled { iteration });
            }
            self.norms.record(&report);
            self.losses.push((iteration, report.loss));
            let mut answer = observer.step(iteration, &report, &self.trainer);
            if iteration % o.eval_every == 0 || iteration == o.max_iterations {
                let (readout, loss) = self.trainer.evaluate(&check)?;
                let score = task.score(readout, &check_drawn);
                let gradient_norms = self.norms.check();
                let seconds = self.started.elapsed().as_secs_f64();
                let c = XorCheck { iteration, loss, score, seconds, gradient_norms };
                if observer.check(&c) == Control::Stop {
                    answer = Control::Stop;
                }
                self.checks.push(c);
                self.offer(&score, iteration);
                if score.overall >= xor::ESCAPED {
                    escaped_at = iteration;
                }
                passes_in_a_row = if passes(&score) { passes_in_a_row + 1 } else { 0 };
                if passes_in_a_row == PASSES_IN_A_ROW {
                    self.passed_at = Some(iteration);
                    return Ok(());
                }
                settling |= accurate(&score);
            }
            if answer == Control::Stop {
                return Err(TrainError::Cancelled { iteration });
            }
        }
        Ok(())
    }

    /// The learning rate of `iteration`: from the latch start the option's, at
    /// [`xor::SETTLING_RATE`] times it once `settling`; from the random start a cosine
    /// decay from it to `train task`'s final fraction over the run.
    fn rate(&self, iteration: usize, settling: bool) -> f64 {
        let o = self.options;
        match o.start {
            XorStart::Latch if settling => o.learning_rate * xor::SETTLING_RATE,
            XorStart::Latch => o.learning_rate,
            XorStart::Random => {
                let fraction = (iteration - 1) as f64 / o.max_iterations as f64;
                cosine_decay(o.learning_rate, TaskOptions::default().final_rate, fraction)
            }
        }
    }

    /// Keeps the model if its check is the most accurate so far; among equally accurate
    /// ones (accuracy moves in steps of 1/1000), the one whose readout goes furthest to
    /// its target.
    fn offer(&mut self, score: &XorScore, iteration: usize) {
        let margin = score.median_signed.clamp(-1.0, 1.0);
        let margin = if margin.is_nan() { 0.0 } else { margin };
        let value = score.overall + 1e-4 * margin;
        if self.best.as_ref().is_none_or(|(best, _, _)| value > *best) {
            self.best = Some((value, iteration, self.trainer.model.clone()));
        }
    }

    /// The kept model, scored on the independent test trials and recorded.
    fn finish(mut self, task: &Xor) -> Result<XorRun, TrainError> {
        let (seed, steps) = (self.options.seed, task.steps());
        let iterations = self.losses.len();
        let kept = match (self.passed_at, self.best.take()) {
            (Some(iteration), _) => iteration,
            (None, Some((_, iteration, model))) => {
                self.trainer.model = model;
                iteration
            }
            (None, None) => iterations,
        };
        // An independent test set, never seen by the stopping rule.
        let trainer = &mut self.trainer;
        let mut test = Trials::new(&trainer.model, TEST_TRIALS, steps);
        let test_drawn = task.sample(&mut Rng::new(seed ^ TEST_STREAM), &mut test);
        let (readout, test_loss) = trainer.evaluate(&test)?;
        let score = task.score(readout, &test_drawn);
        let seconds = self.started.elapsed().as_secs_f64();
        // One trial of each pattern, recorded for figures; firing rate over 200 trials.
        let mut recorded = Trials::new(&trainer.model, RECORDED_TRIALS, steps);
        let drawn = task.sample(&mut Rng::new(seed ^ TEST_STREAM ^ 1), &mut recorded);
        let firing_rate = trainer.record(&recorded)?.firing_rate(task.h);
        let order: Vec<usize> = xor::PATTERNS
            .iter()
            .filter_map(|&p| drawn.iter().position(|d| (d.a1, d.a2) == p))
            .collect();
        let mut four = Trials::new(&trainer.model, order.len(), steps);
        for (k, &src) in order.iter().enumerate() {
            for t in 0..steps {
                four.x[(t * four.b + k) * 2..][..2]
                    .copy_from_slice(&recorded.x[(t * recorded.b + src) * 2..][..2]);
                four.target[t * four.b + k] = recorded.target[t * recorded.b + src];
                four.mask[t * four.b + k] = recorded.mask[t * recorded.b + src];
            }
        }
        let shown_recording = trainer.record(&four)?;
        Ok(XorRun {
            gradient_norms: self.norms.run(),
            trainer: self.trainer,
            settings: self.settings,
            iterations,
            restarts: self.restarts,
            passed_at: self.passed_at,
            kept,
            losses: self.losses,
            checks: self.checks,
            test_loss,
            test: score,
            firing_rate,
            shown: order.iter().map(|&k| drawn[k]).collect(),
            shown_trials: four,
            shown_recording,
            seconds,
        })
    }
}
