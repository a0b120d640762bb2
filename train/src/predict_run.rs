//! Training predictive coding ([`crate::predict`]): one network with a cosine decay of
//! the learning rate, keeping the model of its best held-out check ([`train_network`]);
//! `train predict`'s pair, W learned and W = 0 ([`train_predict`]); and the sweep over
//! rate penalties of efficient coding ([`train_efficient_coding`]). Every network is
//! scored on the same test trials ([`PredictTest`]).

use crate::adam::cosine_decay;
use crate::error::{check_counts, check_positive};
use crate::gradient_norms::{GradientLog, NormSummary};
use crate::memory::RunSize;
use crate::model::{Model, Trials};
use crate::observer::{Control, Observer};
use crate::phase_step::PhaseStep;
use crate::predict::{self, Predict};
use crate::rng::{Rng, CHECK_STREAM, TEST_STREAM};
use crate::task::{self, TaskOptions};
use crate::MAX_SKIPPED_IN_A_ROW;
use crate::{Precision, Recording, Settings, TrainError, Trained, Trainer};
use spikegrad::Config;
use std::time::Instant;

/// Held-out trials of each check.
pub const CHECK_TRIALS: usize = 200;
/// Test trials, scored once per trained network.
pub const TEST_TRIALS: usize = 1000;
/// Test trials recorded for the firing rate (and figures).
pub const RECORDED_TRIALS: usize = 100;

/// The options of predictive coding; [`PredictOptions::default`] holds every default.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct PredictOptions {
    /// Seed of the initial weights and of the training trials (checks and test use
    /// streams of their own).
    pub seed: u64,
    /// Neurons N.
    pub neurons: usize,
    /// Trials per training batch.
    pub batch: usize,
    /// Training iterations of each network.
    pub max_iterations: usize,
    /// Adam's learning rate at the start, as a fraction of each array's size
    /// ([`crate::task::adam_settings`]; cosine decay to [`predict::LEARNING_RATE_FLOOR`] of
    /// it).
    pub learning_rate: f64,
    /// Iterations between held-out checks.
    pub eval_every: usize,
    /// Precision of the training gradient.
    pub precision: Precision,
    /// Train a membrane and a synaptic time constant per neuron (kept valid).
    pub train_time_constants: bool,
    /// How the phases are stepped.
    pub step: PhaseStep,
    /// The step h, in ms.
    pub h: f64,
    /// Membrane time constant tau, in ms.
    pub tau: f64,
    /// Synaptic time constant tau_s, in ms.
    pub tau_s: f64,
    /// Trial length, in ms.
    pub trial_ms: f64,
}

impl Default for PredictOptions {
    fn default() -> Self {
        PredictOptions {
            seed: 1,
            neurons: 64,
            batch: 32,
            max_iterations: 3000,
            learning_rate: TaskOptions::default().learning_rate,
            eval_every: 250,
            precision: Precision::F64,
            train_time_constants: false,
            step: PhaseStep::TRAINING,
            h: 1.0,
            tau: predict::TAU,
            tau_s: predict::TAU_S,
            trial_ms: predict::TRIAL_MS,
        }
    }
}

impl PredictOptions {
    /// Checks every option; the task and the model's constants.
    pub fn task(&self) -> Result<(Predict, Config), TrainError> {
        let counts = [
            ("neurons", self.neurons),
            ("batch", self.batch),
            ("max_iterations", self.max_iterations),
            ("eval_every", self.eval_every),
        ];
        check_counts(&counts)?;
        let (h, tau, tau_s, trial_ms) = (self.h, self.tau, self.tau_s, self.trial_ms);
        let positive = [
            ("learning_rate", self.learning_rate),
            ("h", h),
            ("tau", tau),
            ("tau_s", tau_s),
            ("trial_ms", trial_ms),
        ];
        check_positive(&positive)?;
        let task = Predict { h, duration_ms: trial_ms, time_scale_ms: predict::TIME_SCALE_MS };
        let config = task.config(tau, tau_s);
        config.validate().map_err(|error| TrainError::Constants { h, tau, tau_s, error })?;
        if trial_ms < h {
            let rule = format!("must be at least one step (h = {h})");
            return Err(TrainError::option("trial_ms", trial_ms, rule));
        }
        Ok((task, config))
    }

    /// The sizes of a run with `trainers` alive at once and `kept` trained models held
    /// besides them, for the memory check ([`RunSize::check`]) before any work.
    pub fn run_size(&self, trainers: usize, kept: usize) -> RunSize {
        let task = Predict {
            h: self.h,
            duration_ms: self.trial_ms,
            time_scale_ms: predict::TIME_SCALE_MS,
        };
        RunSize {
            neurons: self.neurons,
            inputs: predict::CHANNELS,
            outputs: predict::CHANNELS,
            steps: task.steps(),
            batch: self.batch,
            held_trials: CHECK_TRIALS + TEST_TRIALS + RECORDED_TRIALS,
            evaluated_at_once: TEST_TRIALS,
            recorded_at_once: RECORDED_TRIALS,
            extra_models: kept + 1,
            trainers,
            precision: self.precision,
        }
    }
}

/// Which network a check is of.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct NetworkKind {
    /// W learned (else W = 0, frozen).
    pub recurrent: bool,
    /// The rate penalty lambda it trains with.
    pub rate_penalty: f64,
}

/// One held-out check.
#[derive(Debug, Clone, PartialEq)]
pub struct PredictCheck {
    /// The network.
    pub network: NetworkKind,
    /// The iteration it followed.
    pub iteration: usize,
    /// The NMSE over the check's trials.
    pub nmse: f64,
    /// Seconds since the network started training.
    pub seconds: f64,
    /// The gradient norms of the steps since the check before.
    pub gradient_norms: NormSummary,
}

/// A trained network.
#[non_exhaustive]
pub struct PredictNetwork {
    /// Which one.
    pub kind: NetworkKind,
    /// Its trainer, the model the one of the best held-out check.
    pub trainer: Trainer,
    /// (iteration, batch loss).
    pub losses: Vec<(usize, f64)>,
    /// The held-out checks.
    pub checks: Vec<PredictCheck>,
    /// The iteration whose model was kept.
    pub kept: usize,
    /// The gradient norms of the whole run.
    pub gradient_norms: NormSummary,
}

/// Trains one network of `kind` on `task` with `options`, keeping the model of its best
/// held-out check (trials separate from the test trials). It starts from `train task`'s
/// fresh start ([`crate::task::initial_model`], W = 0 for a network without
/// recurrence) and trains with its steps and clipping ([`crate::task::adam_settings`]).
pub fn train_network(
    options: &PredictOptions,
    task: &Predict,
    config: Config,
    kind: NetworkKind,
    observer: &mut dyn Observer<PredictCheck>,
) -> Result<PredictNetwork, TrainError> {
    let started = Instant::now();
    let (n, step) = (options.neurons, options.step);
    // `train task`'s fresh start, read from the first training trials (the stream of the
    // seed), without recurrence for W = 0.
    let first = task.task(config, task::MEASURED_TRIALS, step, &mut Rng::new(options.seed));
    let mut start = TaskOptions::default();
    (start.seed, start.train_time_constants) = (options.seed, options.train_time_constants);
    if !kind.recurrent {
        start.start.recurrent_current = 0.0;
    }
    let measured: Vec<usize> = (0..first.k).collect();
    let model = task::initial_model(&first, &measured, n, step, &start)?;
    let settings = Settings {
        trained: Trained { w: kind.recurrent, ..Trained::ALL },
        precision: options.precision,
        ..task::adam_settings(task::step_scales(&model), &start, options.learning_rate)
    };
    let mut trainer = Trainer::new(model, settings)?;
    let (max_iterations, steps) = (options.max_iterations, task.steps());
    let mut rng = Rng::new(options.seed);
    let mut trials = Trials {
        rate_penalty: kind.rate_penalty,
        ..Trials::new(&trainer.model, options.batch, steps)
    };
    let mut check = Trials::new(&trainer.model, CHECK_TRIALS, steps);
    task.sample(&mut Rng::new(options.seed ^ CHECK_STREAM), &mut check);
    let (mut losses, mut checks, mut norms) = (Vec::new(), Vec::new(), GradientLog::new());
    let mut best: Option<(f64, usize, Model)> = None;
    for iteration in 1..=max_iterations {
        let progress = (iteration - 1) as f64 / max_iterations as f64;
        let rate = cosine_decay(options.learning_rate, predict::LEARNING_RATE_FLOOR, progress);
        trainer.set_learning_rate(rate);
        task.sample(&mut rng, &mut trials);
        let report = trainer.train_step(&trials)?;
        if trainer.skipped_in_a_row() >= MAX_SKIPPED_IN_A_ROW {
            return Err(TrainError::Stalled { iteration });
        }
        norms.record(&report);
        losses.push((iteration, report.loss));
        let mut answer = observer.step(iteration, &report, &trainer);
        if iteration % options.eval_every == 0 || iteration == max_iterations {
            let (readout, _) = trainer.evaluate(&check)?;
            let nmse = task.nmse(readout, &check);
            let seconds = started.elapsed().as_secs_f64();
            let c = PredictCheck {
                network: kind,
                iteration,
                nmse,
                seconds,
                gradient_norms: norms.check(),
            };
            if observer.check(&c) == Control::Stop {
                answer = Control::Stop;
            }
            checks.push(c);
            if best.as_ref().is_none_or(|(b, _, _)| -nmse > *b) {
                best = Some((-nmse, iteration, trainer.model.clone()));
            }
        }
        if answer == Control::Stop {
            return Err(TrainError::Cancelled { iteration });
        }
    }
    let (_, kept, model) = best.expect("the last iteration is checked");
    trainer.model = model;
    let gradient_norms = norms.run();
    Ok(PredictNetwork { kind, trainer, losses, checks, kept, gradient_norms })
}

/// The test: [`TEST_TRIALS`] trials for the NMSE and [`RECORDED_TRIALS`] for the firing
/// rate (and figures), drawn from the test stream, never seen in training or checks.
pub struct PredictTest {
    task: Predict,
    test: Trials,
    /// The recorded trials.
    pub shown: Trials,
}

/// A trained network's test figures.
#[non_exhaustive]
pub struct Assessment {
    /// NMSE over whole test trials.
    pub nmse: f64,
    /// NMSE from 50 ms on (after the start from rest), when trials are longer than that.
    pub nmse_from_50ms: Option<f64>,
    /// Spikes per neuron per second over the recorded trials.
    pub firing_rate_hz: f64,
    /// The recorded trials' run.
    pub recording: Recording,
}

impl PredictTest {
    /// Draws the test trials for `model` (any of the task's networks: they share sizes).
    pub fn new(task: Predict, model: &Model, seed: u64) -> Self {
        let steps = task.steps();
        let mut test = Trials::new(model, TEST_TRIALS, steps);
        task.sample(&mut Rng::new(seed ^ TEST_STREAM), &mut test);
        let mut shown = Trials::new(model, RECORDED_TRIALS, steps);
        task.sample(&mut Rng::new(seed ^ TEST_STREAM ^ 1), &mut shown);
        PredictTest { task, test, shown }
    }

    /// Scores `trainer`'s model.
    pub fn assess(&self, trainer: &mut Trainer) -> Result<Assessment, TrainError> {
        let (task, test) = (&self.task, &self.test);
        let settled = (50.0 / task.h).round() as usize;
        let readout = trainer.evaluate(test)?.0;
        let nmse = task.nmse(readout, test);
        let nmse_from_50ms = (settled < test.t).then(|| task.nmse_from(readout, test, settled));
        let recording = trainer.record(&self.shown)?;
        let firing_rate_hz = recording.firing_rate(task.h);
        Ok(Assessment { nmse, nmse_from_50ms, firing_rate_hz, recording })
    }
}

/// A trained and tested network.
#[non_exhaustive]
pub struct Tested {
    /// The network.
    pub network: PredictNetwork,
    /// Its test figures.
    pub test: Assessment,
}

/// `train predict`'s run: W learned and W = 0 at one rate penalty.
#[non_exhaustive]
pub struct PredictRun {
    /// The task.
    pub task: Predict,
    /// W learned.
    pub learned: Tested,
    /// W = 0.
    pub plain: Tested,
    /// The test trials both were recorded on.
    pub shown: Trials,
    /// Seconds from the start to the end of the tests.
    pub seconds: f64,
}

/// Trains predictive coding with `options` at `rate_penalty` (lambda >= 0): a network
/// with W learned, then one with W = 0, each tested.
pub fn train_predict(
    options: &PredictOptions,
    rate_penalty: f64,
    observer: &mut dyn Observer<PredictCheck>,
) -> Result<PredictRun, TrainError> {
    let started = Instant::now();
    let (task, config) = options.task()?;
    check_penalty("rate_penalty", rate_penalty)?;
    // The W-learned trainer is kept while the W = 0 one trains.
    options.run_size(2, 0).check().map_err(TrainError::TooLarge)?;
    let kind = |recurrent| NetworkKind { recurrent, rate_penalty };
    let learned = train_network(options, &task, config, kind(true), observer)?;
    let plain = train_network(options, &task, config, kind(false), observer)?;
    let test = PredictTest::new(task, &learned.trainer.model, options.seed);
    let [learned, plain] = [learned, plain].map(|mut network| {
        let tested = test.assess(&mut network.trainer);
        tested.map(|test| Tested { network, test })
    });
    let (learned, plain) = (learned?, plain?);
    let seconds = started.elapsed().as_secs_f64();
    Ok(PredictRun { task, learned, plain, shown: test.shown, seconds })
}

/// A rate penalty: finite and >= 0.
fn check_penalty(name: &'static str, lambda: f64) -> Result<(), TrainError> {
    if lambda.is_finite() && lambda >= 0.0 {
        Ok(())
    } else {
        Err(TrainError::option(name, lambda, "must be a finite number >= 0"))
    }
}

/// Efficient coding's run: a network with W learned and one with W = 0 per rate
/// penalty, all tested on the same trials.
#[non_exhaustive]
pub struct EfficientCodingRun {
    /// The task.
    pub task: Predict,
    /// Per penalty, in the order given: (W learned, W = 0).
    pub networks: Vec<(Tested, Tested)>,
    /// Seconds from the start to the end of the last test.
    pub seconds: f64,
}

/// Trains predictive coding at each of `penalties` (each >= 0, none twice), once with W
/// learned and once with W = 0, one trainer at a time.
pub fn train_efficient_coding(
    options: &PredictOptions,
    penalties: &[f64],
    observer: &mut dyn Observer<PredictCheck>,
) -> Result<EfficientCodingRun, TrainError> {
    let started = Instant::now();
    let (task, config) = options.task()?;
    if penalties.is_empty() {
        return Err(TrainError::option("penalties", "[]", "give at least one value"));
    }
    for (k, &lambda) in penalties.iter().enumerate() {
        check_penalty("penalties", lambda)?;
        if penalties[..k].contains(&lambda) {
            return Err(TrainError::option("penalties", lambda, "given twice"));
        }
    }
    // One trainer at a time; every trained network is kept until the end.
    options.run_size(1, 2 * penalties.len()).check().map_err(TrainError::TooLarge)?;
    let mut test: Option<PredictTest> = None;
    let mut networks = Vec::new();
    for &rate_penalty in penalties {
        let mut pair = Vec::new();
        for recurrent in [true, false] {
            let kind = NetworkKind { recurrent, rate_penalty };
            let mut network = train_network(options, &task, config, kind, observer)?;
            let test = test.get_or_insert_with(|| {
                PredictTest::new(task, &network.trainer.model, options.seed)
            });
            let assessment = test.assess(&mut network.trainer)?;
            pair.push(Tested { network, test: assessment });
        }
        let plain = pair.pop().expect("two networks");
        networks.push((pair.pop().expect("two networks"), plain));
    }
    Ok(EfficientCodingRun { task, networks, seconds: started.elapsed().as_secs_f64() })
}

/// Efficient coding's default rate penalties: from none to one that roughly halves the
/// rate of W = 0.
pub const DEFAULT_PENALTIES: [f64; 4] = [0.0, 1e5, 1e6, 1e7];

/// The NMSE at which efficient coding compares the two codes.
pub const NMSE_BAR: f64 = 0.05;

/// One tested network of efficient coding.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CodePoint {
    /// Its rate penalty lambda.
    pub rate_penalty: f64,
    /// Its test NMSE.
    pub nmse: f64,
    /// Its firing rate, in Hz.
    pub firing_rate_hz: f64,
}

impl EfficientCodingRun {
    /// The test figures of the networks with W learned (`recurrent`) or W = 0, in the
    /// order of the penalties.
    pub fn points(&self, recurrent: bool) -> Vec<CodePoint> {
        self.networks
            .iter()
            .map(|(learned, plain)| if recurrent { learned } else { plain })
            .map(|t| CodePoint {
                rate_penalty: t.network.kind.rate_penalty,
                nmse: t.test.nmse,
                firing_rate_hz: t.test.firing_rate_hz,
            })
            .collect()
    }
}

/// The point of lowest firing rate among `points` whose NMSE is at most `bar`: the
/// fewest spikes a code needs for that error.
pub fn fewest_spikes(points: &[CodePoint], bar: f64) -> Option<CodePoint> {
    points
        .iter()
        .filter(|p| p.nmse <= bar)
        .copied()
        .min_by(|a, b| a.firing_rate_hz.total_cmp(&b.firing_rate_hz))
}
