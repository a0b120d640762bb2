//! Training the delayed-memory XOR ([`crate::xor`]): Adam from a latch or a random start,
//! held-out checks that must pass twice in a row, restarts from fresh weights, and an
//! independent test set scored at the end.

use crate::adam::Clip;
use crate::error::{check_counts, check_positive};
use crate::gradient_norms::{GradientLog, NormSummary};
use crate::latch::LatchStart;
use crate::memory::RunSize;
use crate::model::{Model, Trials};
use crate::observer::{Control, Observer};
use crate::phase_step::PhaseStep;
use crate::rng::{Rng, CHECK_STREAM, INIT_STREAM, TEST_STREAM};
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

/// Whether a held-out check passes: overall >= 0.995, every pattern >= 0.98, and a median
/// signed readout of at least [`CHECK_MEDIAN_SIGNED`] (the readout goes most of the way to
/// its target, not just to the right side of zero).
fn passes(s: &XorScore) -> bool {
    s.overall >= 0.995
        && s.per_pattern.iter().all(|&p| p >= 0.98)
        && s.median_signed >= CHECK_MEDIAN_SIGNED
}

/// The initial network.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum XorStart {
    /// Self-exciting clusters ([`LatchStart::XOR`]): the memory is in the start; training
    /// learns the readout and tunes the rest.
    Latch,
    /// The quiet, excitable random start ([`xor::INIT`]): gradient descent must find the
    /// memory.
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
    /// learns fast, the latches are only tuned); from a random start, one global clip and
    /// equal steps.
    fn settings(self, learning_rate: f64) -> Settings {
        match self {
            XorStart::Latch => Settings {
                clip: Clip::PerParameter(1.0),
                step_scales: xor::LATCH_STEP_SCALES,
                ..Settings::new(learning_rate)
            },
            XorStart::Random => {
                Settings { clip: Clip::GlobalNorm(1.0), ..Settings::new(learning_rate) }
            }
        }
    }

    /// An initial model drawn from `rng`.
    fn model(self, task: &Xor, n: usize, rng: &mut Rng) -> Result<Model, TrainError> {
        match self {
            XorStart::Latch => LatchStart::XOR.model(task.config(), n, 1, rng),
            XorStart::Random => Ok(Model::quiet_start(task.config(), n, 2, 1, xor::INIT, rng)),
        }
    }
}

/// The options of [`train_xor`]; [`XorOptions::default`] holds every default.
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
    /// Restart from fresh initial weights when the checks have not passed after this many
    /// iterations (0: never).
    pub restart_after: usize,
    /// The initial network.
    pub start: XorStart,
}

impl Default for XorOptions {
    fn default() -> Self {
        XorOptions {
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
        }
    }
}

impl XorOptions {
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
/// passing checks in a row or [`XorOptions::max_iterations`]; it restarts from fresh
/// weights after [`XorOptions::restart_after`] iterations without a pass.
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
    let settings = Settings {
        precision: options.precision,
        time_constants: options.train_time_constants.then_some(time_constants),
        ..options.start.settings(options.learning_rate)
    };
    // Attempt k (from 0) starts from the initial weights drawn from its own stream.
    let fresh = |attempt: u64| -> Result<Trainer, TrainError> {
        let mut init = Rng::new(options.seed ^ INIT_STREAM ^ attempt);
        let model = options.start.model(&task, options.neurons, &mut init)?;
        Ok(Trainer::new(Model { step: options.step, ..model }, settings)?)
    };
    let trainer = fresh(0)?;
    let mut run = Loop::new(options, trainer, started);
    run.train(&task, &fresh, observer)?;
    run.finish(&task, settings)
}

/// The state of [`train_xor`]'s loop.
struct Loop<'a> {
    options: &'a XorOptions,
    trainer: Trainer,
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
    fn new(options: &'a XorOptions, trainer: Trainer, started: Instant) -> Self {
        Loop {
            options,
            trainer,
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
        fresh: &dyn Fn(u64) -> Result<Trainer, TrainError>,
        observer: &mut dyn Observer<XorCheck>,
    ) -> Result<(), TrainError> {
        let o = self.options;
        let steps = task.steps();
        let mut rng = Rng::new(o.seed);
        let mut trials = Trials::new(&self.trainer.model, o.batch, steps);
        let mut check = Trials::new(&self.trainer.model, CHECK_TRIALS, steps);
        let check_drawn = task.sample(&mut Rng::new(o.seed ^ CHECK_STREAM), &mut check);
        let (mut attempt_start, mut passes_in_a_row) = (0, 0);
        for iteration in 1..=o.max_iterations {
            if o.restart_after > 0
                && iteration - 1 - attempt_start >= o.restart_after
                && passes_in_a_row == 0
            {
                observer.note(&format!(
                    "iteration {iteration}: no two passing checks in a row within {} \
                     iterations, restarting from fresh initial weights",
                    o.restart_after
                ));
                self.restarts.push(iteration - 1);
                attempt_start = iteration - 1;
                self.trainer = fresh(self.restarts.len() as u64)?;
            }
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
                passes_in_a_row = if passes(&score) { passes_in_a_row + 1 } else { 0 };
                if passes_in_a_row == PASSES_IN_A_ROW {
                    self.passed_at = Some(iteration);
                    return Ok(());
                }
                if passes_in_a_row == 1 {
                    self.trainer.set_learning_rate(o.learning_rate * xor::SETTLING_RATE);
                }
            }
            if answer == Control::Stop {
                return Err(TrainError::Cancelled { iteration });
            }
        }
        Ok(())
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
    fn finish(mut self, task: &Xor, settings: Settings) -> Result<XorRun, TrainError> {
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
            settings,
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
