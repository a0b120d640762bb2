//! The training loop on a task: Adam with a cosine decay, held-out checks that keep the
//! best model and back off to it when they fall, patience, a time limit, checkpoints,
//! and the observer's answers.

use super::back_off::{fell, BACK_OFF_RATE, FALLEN_CHECKS};
use super::observer::{RunState, TaskObserver};
use super::plan::{ChosenBy, Plan};
use super::probe::{plan_fresh, plan_given, Fresh};
use super::progress::{Best, Check, Progress};
use super::score::checked_score;
use super::start::{draw_batch, step_scales, SHOWN_TRIALS};
use super::{Score, Task, TaskOptions};
use crate::adam::{cosine_decay, AdamState};
use crate::model::{Model, Trials};
use crate::observer::Control;
use crate::phase_step::PhaseStep;
use crate::TrainError;
use crate::{Recording, Settings, TimeConstantRange, Trainer, MAX_SKIPPED_IN_A_ROW};
use std::time::Instant;

/// Which trials a run trains on and which it checks on.
#[derive(Debug, Clone)]
pub struct Split<'a> {
    /// Training trials of the task.
    pub train: Vec<usize>,
    /// The task the held-out trials come from (the trained one, or another).
    pub held_out_task: &'a Task,
    /// The held-out trials of `held_out_task`.
    pub held_out: Vec<usize>,
}

impl<'a> Split<'a> {
    /// Checks that there are training and held-out trials and that every index names a
    /// trial of its task (of `task`, the trained one, for [`Split::train`]).
    pub fn check(&self, task: &Task) -> Result<(), TrainError> {
        let sets = [
            ("split.train", &self.train, task.k),
            ("split.held_out", &self.held_out, self.held_out_task.k),
        ];
        for (name, indices, k) in sets {
            if indices.is_empty() {
                return Err(TrainError::option(name, "[]", "needs at least one trial"));
            }
            if let Some(&i) = indices.iter().find(|&&i| i >= k) {
                return Err(TrainError::option(
                    name,
                    i,
                    format!("a trial index must be below K = {k}"),
                ));
            }
        }
        Ok(())
    }

    /// A fixed part of `task`'s own trials held out ([`super::split`]).
    pub fn within(task: &'a Task) -> Result<Self, TrainError> {
        let (train, held_out) = super::split(task.k)?;
        Ok(Split { train, held_out_task: task, held_out })
    }

    /// Every trial of `task` trained on, every trial of `held_out` checked on.
    pub fn separate(task: &Task, held_out: &'a Task) -> Self {
        Split {
            train: (0..task.k).collect(),
            held_out_task: held_out,
            held_out: (0..held_out.k).collect(),
        }
    }
}

/// A saved run to go on with.
#[derive(Debug, Clone)]
pub struct Resume {
    /// Adam's state.
    pub optimizer: AdamState,
    /// The run's record.
    pub progress: Progress,
    /// The model of its best check (`None`: the record's best is forgotten).
    pub best: Option<Model>,
}

/// What a run starts from.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum StartFrom {
    /// A fresh model of `neurons` stepped by `step`, drawn by [`super::initial_model`]
    /// after the probes have chosen its recurrent scale and the learning rate.
    Drawn {
        /// Neurons N.
        neurons: usize,
        /// The step map.
        step: PhaseStep,
    },
    /// This model, with a fresh optimiser.
    Model(Model),
    /// This model, going on with a saved run.
    Resumed(Model, Box<Resume>),
}

/// Where a run starts.
#[derive(Debug, Clone)]
pub struct Start {
    /// The model trained from.
    pub from: StartFrom,
    /// When the run started: the time limit counts from here (e.g. before the task was
    /// read).
    pub started: Instant,
}

impl Start {
    /// A start from `model`, with a fresh optimiser, now.
    pub fn fresh(model: Model) -> Self {
        Start { from: StartFrom::Model(model), started: Instant::now() }
    }

    /// A start from a model of `neurons` drawn for the task, now.
    pub fn drawn(neurons: usize, step: PhaseStep) -> Self {
        Start { from: StartFrom::Drawn { neurons, step }, started: Instant::now() }
    }
}

/// Why the training loop ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Stopped {
    /// All iterations ran.
    Iterations,
    /// [`TaskOptions::time_limit`].
    TimeLimit,
    /// [`TaskOptions::pause_at`].
    Pause,
    /// [`TaskOptions::patience`] checks without a better score.
    Patience,
    /// Every one of the last [`MAX_SKIPPED_IN_A_ROW`] gradients was not finite.
    Stall,
}

impl Stopped {
    /// "iterations", "time limit", "pause", "patience" or "stall".
    pub fn name(self) -> &'static str {
        match self {
            Stopped::Iterations => "iterations",
            Stopped::TimeLimit => "time limit",
            Stopped::Pause => "pause",
            Stopped::Patience => "patience",
            Stopped::Stall => "stall",
        }
    }
}

/// A finished run.
#[non_exhaustive]
pub struct TaskRun {
    /// The last model trained, with Adam's state (what a checkpoint resumes).
    pub trainer: Trainer,
    /// The kept model: the best held-out check's (the last one when no check ran).
    pub best: Model,
    /// The run's record.
    pub progress: Progress,
    /// Why it ended.
    pub stopped: Stopped,
    /// The kept model's held-out score, scored again at the end ...
    pub score: Score,
    /// ... over this many held-out trials.
    pub held_out: usize,
    /// The first few held-out trials (indices into the held-out task) ...
    pub shown: Vec<usize>,
    /// ... as a batch for the kept model ...
    pub shown_trials: Trials,
    /// ... and the kept model's run on them (`None` when it does not run finitely).
    pub recording: Option<Recording>,
    /// The kept model's firing rate on them, in Hz (NaN without a recording).
    pub firing_rate: f64,
    /// Seconds of training, counting resumed runs.
    pub seconds: f64,
}

/// Adam's settings of a run at `learning_rate` from a model of step scales `scales`
/// ([`super::step_scales`]): every parameter trained, each step scaled by the
/// parameter's size and the readout's by its own rate
/// ([`TaskOptions::readout_learning_rate`]), clipped, in the precision and with the
/// time constants the options say.
pub fn adam_settings(scales: [f64; 4], options: &TaskOptions, learning_rate: f64) -> Settings {
    // The readout's rate, as a factor on the scale of O (Adam has one rate).
    let readout_factor = options.readout_learning_rate / learning_rate;
    Settings {
        step_scales: [scales[0], scales[1], scales[2], scales[3] * readout_factor],
        precision: options.precision,
        time_constants: options.train_time_constants.then_some(TimeConstantRange::VALID),
        clip: options.clip,
        ..Settings::new(learning_rate)
    }
}

/// The trainer of a run at `learning_rate` ([`adam_settings`]).
pub(crate) fn trainer(
    model: Model,
    scales: [f64; 4],
    options: &TaskOptions,
    learning_rate: f64,
) -> Result<Trainer, TrainError> {
    Ok(Trainer::new(model, adam_settings(scales, options, learning_rate))?)
}

/// The loop's state: the trainer, the best model so far, the record and its plan.
struct Run<'a> {
    trainer: Trainer,
    best: Model,
    progress: Progress,
    plan: Plan,
    options: &'a TaskOptions,
    started: Instant,
    /// When this process's iterations began, and the iteration they began after: the
    /// pace the run keeps.
    pace: (Instant, usize),
}

/// The share of the time limit a plan fitted to it is kept within when the run is
/// slower than planned.
const PACE_SHARE: f64 = 0.97;

impl Run<'_> {
    /// Shortens a plan whose iterations the time limit chose when the run has fallen
    /// behind the pace it was planned at (the machine got busier, the probes ran
    /// faster): the schedule then still decays to its end within the limit, where the
    /// limit would cut it at a large learning rate. Tells the observer the new plan.
    fn keep_pace(&mut self, iteration: usize, observer: &mut dyn TaskObserver) {
        let o = self.options;
        let timed =
            matches!(self.plan.chosen_by.iterations, ChosenBy::TimeLimit | ChosenBy::TimeLeft);
        let (since, from) = self.pace;
        if o.iterations.is_some() || o.time_limit <= 0.0 || !timed || iteration <= from {
            return;
        }
        let per_iteration = since.elapsed().as_secs_f64() / (iteration - from) as f64;
        let left = PACE_SHARE * o.time_limit - self.started.elapsed().as_secs_f64();
        let fits = iteration + (left.max(0.0) / per_iteration) as usize;
        if fits < self.plan.iterations {
            self.plan.iterations = fits.max(iteration + 1);
            self.plan.chosen_by.iterations = ChosenBy::TimeLeft;
            self.progress.plan = Some(self.plan.clone());
            observer.planned(&self.plan);
        }
    }

    fn seconds(&self) -> f64 {
        self.progress.seconds_before + self.started.elapsed().as_secs_f64()
    }

    fn checkpoint(&self, observer: &mut dyn TaskObserver) -> Result<(), TrainError> {
        let state = RunState {
            trainer: &self.trainer,
            best: &self.best,
            progress: &self.progress,
            seconds: self.seconds(),
        };
        observer.checkpoint(state).map_err(TrainError::Checkpoint)
    }

    /// A held-out check after `iteration`: keeps the model if it is the best so far;
    /// whether patience has run out, or the observer said stop.
    fn check(
        &mut self,
        split: &Split,
        iteration: usize,
        observer: &mut dyn TaskObserver,
    ) -> Control {
        let s = checked_score(&mut self.trainer, split.held_out_task, &split.held_out);
        let seconds = self.seconds();
        let p = &mut self.progress;
        let norms = Some(p.norms.check());
        let check = Check { iteration, score: s, seconds, gradient_norms: norms };
        p.checks.push(check.clone());
        let answer = observer.check(&check);
        match p.best {
            Some(best) if !s.beats(&best.score) => {
                p.since_improved += 1;
                let fallen = fell(&s, &best.score, split.held_out.len());
                p.fallen = if fallen { p.fallen + 1 } else { 0 };
            }
            _ => {
                p.best = Some(Best { score: s, iteration });
                (p.since_improved, p.fallen) = (0, 0);
                self.best = self.trainer.model.clone();
            }
        }
        answer
    }

    /// Goes back to the best check's model with fresh optimiser moments at
    /// [`BACK_OFF_RATE`] times the learning rate (docs of [`super::fell`]), and says so.
    fn back_off(
        &mut self,
        iteration: usize,
        observer: &mut dyn TaskObserver,
    ) -> Result<(), TrainError> {
        let p = &mut self.progress;
        p.back_offs.push(iteration);
        p.fallen = 0;
        let rate = self.plan.learning_rate * p.rate_factor();
        let skipped = self.trainer.skipped;
        self.trainer = trainer(self.best.clone(), p.step_scales, self.options, rate)?;
        // The run's count of skipped steps goes on across the new trainer.
        self.trainer.skipped = skipped;
        if let Some(best) = p.best {
            observer.note(&format!(
                "iteration {iteration}: {FALLEN_CHECKS} held-out checks in a row fell below \
                 the best ({}, iteration {}); going on from that model at {BACK_OFF_RATE} \
                 times the learning rate ({rate:.3e} before the decay)",
                best.score, best.iteration
            ));
        }
        Ok(())
    }

    /// One iteration: a step of Adam on a fresh batch. `Err(Stopped::Stall)` when the
    /// last gradients were all not finite.
    fn iterate(
        &mut self,
        task: &Task,
        split: &Split,
        buffers: &mut (Vec<usize>, Trials),
        observer: &mut dyn TaskObserver,
    ) -> Result<Result<Control, Stopped>, TrainError> {
        let (o, plan) = (self.options, &self.plan);
        let iteration = self.progress.iteration + 1;
        let fraction = (iteration - 1) as f64 / plan.iterations as f64;
        let rate = plan.learning_rate * self.progress.rate_factor();
        self.trainer.set_learning_rate(cosine_decay(rate, o.final_rate, fraction));
        let (batch, trials) = buffers;
        draw_batch(&split.train, o.batch, self.progress.seed, iteration, batch);
        task.gather(batch, &self.trainer.model, trials);
        let report = self.trainer.train_step(trials)?;
        if self.trainer.skipped_in_a_row() >= MAX_SKIPPED_IN_A_ROW {
            observer.note(&format!(
                "warning: training stalled at iteration {iteration}: the last \
                 {MAX_SKIPPED_IN_A_ROW} gradients were all non-finite (the run or its costates \
                 overflow); ending the run with the best model so far (try the f64 precision \
                 or a smaller learning rate)"
            ));
            return Ok(Err(Stopped::Stall));
        }
        let p = &mut self.progress;
        p.iteration = iteration;
        p.losses.push((iteration, report.loss));
        p.norms.record(&report);
        let mut answer = observer.step(iteration, &report, &self.trainer);
        if iteration % self.plan.eval_every == 0 || iteration == self.plan.iterations {
            if self.check(split, iteration, observer) == Control::Stop {
                answer = Control::Stop;
            }
            self.keep_pace(iteration, observer);
            if self.progress.fallen >= FALLEN_CHECKS {
                self.back_off(iteration, observer)?;
            }
            if self.options.patience > 0 && self.progress.since_improved >= self.options.patience {
                return Ok(Err(Stopped::Patience));
            }
        }
        Ok(Ok(answer))
    }
}

/// Trains on `task` from `start` with `options`, checking on `split`'s held-out trials,
/// and tells `observer` how it goes; the run keeps the model of its best check, and backs
/// off to it at half the rate when the checks fall clearly below it ([`super::fell`]). A drawn
/// start first runs the probes its options leave open ([`super::Probes`]); the run's
/// [`Plan`] (learning rate, iterations, checks) is then fixed, told to the observer and
/// kept in the record. Stops after the plan's iterations (counting a resumed run's), or
/// earlier by patience, time limit, pause or stall ([`Stopped`]); when the observer says
/// stop, saves a checkpoint and returns [`TrainError::Cancelled`].
pub fn train(
    task: &Task,
    split: &Split,
    start: Start,
    options: &TaskOptions,
    observer: &mut dyn TaskObserver,
) -> Result<TaskRun, TrainError> {
    options.check()?;
    task.check()?;
    split.held_out_task.check()?;
    split.check(task)?;
    let Start { from, started } = start;
    let (model, resume, plan) = match from {
        StartFrom::Drawn { neurons, step } => {
            let fresh = Fresh { neurons, step };
            let (plan, model) = plan_fresh(task, split, fresh, options, started, observer)?;
            (model, None, plan)
        }
        StartFrom::Model(model) => {
            let plan = plan_given(task, split, &model, options, started)?;
            (model, None, plan)
        }
        StartFrom::Resumed(model, resume) => {
            let plan = match resume.progress.plan.clone() {
                Some(plan) => resumed_plan(plan, options),
                None => plan_given(task, split, &model, options, started)?,
            };
            (model, Some(*resume), plan)
        }
    };
    let (mut progress, optimizer, best) = match resume {
        Some(Resume { optimizer, mut progress, best }) => {
            if best.is_none() {
                progress.best = None;
            }
            (progress, Some(optimizer), best)
        }
        None => (Progress::new(options.seed, step_scales(&model)), None, None),
    };
    progress.plan = Some(plan.clone());
    observer.planned(&plan);
    let best = best.unwrap_or_else(|| model.clone());
    let mut trainer = trainer(model, progress.step_scales, options, plan.learning_rate)?;
    if let Some(state) = optimizer {
        trainer.restore_optimizer(state).map_err(TrainError::Resume)?;
    }
    let pace = (Instant::now(), progress.iteration);
    let mut run = Run { trainer, best, progress, plan, options, started, pace };
    let stopped = train_loop(&mut run, task, split, observer)?;
    finish(run, split, stopped)
}

/// The plan of a resumed run: its saved one, with what `options` give in its place (the
/// iterations, the checks, a learning rate given without probes).
fn resumed_plan(mut plan: Plan, options: &TaskOptions) -> Plan {
    if let Some(iterations) = options.iterations {
        (plan.iterations, plan.chosen_by.iterations) = (iterations, ChosenBy::Option);
    }
    if let Some(eval_every) = options.eval_every {
        plan.eval_every = eval_every;
    }
    if options.probes.learning_rates.is_empty() {
        (plan.learning_rate, plan.chosen_by.learning_rate) =
            (options.learning_rate, ChosenBy::Option);
    }
    plan
}

/// The iterations of [`train`], until one of [`Stopped`] (or a cancellation).
fn train_loop(
    run: &mut Run,
    task: &Task,
    split: &Split,
    observer: &mut dyn TaskObserver,
) -> Result<Stopped, TrainError> {
    let o = run.options;
    let mut last_checkpoint = Instant::now();
    let mut buffers = (Vec::new(), Trials::default());
    while run.progress.iteration < run.plan.iterations {
        if o.time_limit > 0.0 && run.started.elapsed().as_secs_f64() >= o.time_limit {
            return Ok(Stopped::TimeLimit);
        }
        if o.pause_at.is_some_and(|pause| run.progress.iteration >= pause) {
            return Ok(Stopped::Pause);
        }
        let answer = match run.iterate(task, split, &mut buffers, observer)? {
            Ok(answer) => answer,
            Err(stopped) => return Ok(stopped),
        };
        if answer == Control::Stop {
            run.checkpoint(observer)?;
            return Err(TrainError::Cancelled { iteration: run.progress.iteration });
        }
        if last_checkpoint.elapsed().as_secs_f64() >= 60.0 * o.checkpoint_minutes {
            run.checkpoint(observer)?;
            last_checkpoint = Instant::now();
        }
    }
    Ok(Stopped::Iterations)
}

/// The end of a run: the kept model scored again, and run on the first held-out trials.
fn finish(run: Run, split: &Split, stopped: Stopped) -> Result<TaskRun, TrainError> {
    let Run { mut trainer, best, progress, started, .. } = run;
    let current = std::mem::replace(&mut trainer.model, best.clone());
    let score = checked_score(&mut trainer, split.held_out_task, &split.held_out);
    let shown: Vec<usize> = split.held_out.iter().copied().take(SHOWN_TRIALS).collect();
    let mut shown_trials = Trials::default();
    split.held_out_task.gather(&shown, &trainer.model, &mut shown_trials);
    // A model whose run overflows still has its result (without the recording).
    let recording = trainer.record(&shown_trials).ok();
    let firing_rate =
        recording.as_ref().map_or(f64::NAN, |r| r.firing_rate(split.held_out_task.config.h));
    trainer.model = current;
    let seconds = progress.seconds_before + started.elapsed().as_secs_f64();
    Ok(TaskRun {
        trainer,
        best,
        progress,
        stopped,
        score,
        held_out: split.held_out.len(),
        shown,
        shown_trials,
        recording,
        firing_rate,
        seconds,
    })
}
