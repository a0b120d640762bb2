//! Probes: short runs that choose a run's learning rate and the recurrent scale of its
//! fresh model on the user's own data, scored on the held-out trials.
//!
//! Each probe is a complete short run, with the cosine decay of the full run compressed
//! into its iterations: a probe at a constant rate would favour small rates, whose
//! early progress is steadier, although a larger rate decayed at the end often ends
//! better. The search is by coordinates: every learning rate at the middle recurrent
//! scale, then the other recurrent scales at the best rate. Only a probe that has
//! clearly learned ([`learned`]) can win: on a task that no probe's few iterations can
//! learn (a memory beyond the time constants, such as the suite's XOR), every probe
//! scores about what a readout of zero does, the ranking is noise, and the option's
//! value stands.

use super::back_off::{fell, LOSS_RISE};
use super::observer::{RunState, TaskObserver};
use super::pace::{Pace, CHECKS, UNTIMED_ITERATIONS};
use super::plan::{Choices, ChosenBy, Plan, Probe};
use super::start::step_scales;
use super::{Check, Score, Split, Start, Task, TaskOptions};
use crate::model::{Model, Objective};
use crate::observer::{Control, Observer};
use crate::{StepReport, TrainError, Trainer};
use std::time::Instant;

/// The share of a run's time limit its probes may take together.
pub const PROBE_SHARE: f64 = 0.2;
/// The fewest iterations of a probe whose length is left open.
pub const MIN_PROBE_ITERATIONS: usize = 50;
/// The most iterations of a probe whose length is left open (also its length without a
/// time limit).
pub const MAX_PROBE_ITERATIONS: usize = 300;

/// The candidates the probes of a drawn start choose among. An empty list leaves the
/// setting to its option ([`TaskOptions::learning_rate`],
/// [`super::StartScales::recurrent_current`]); no probe runs when the lists leave a
/// single setting, nor for a start from a model given or resumed.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Probes {
    /// Learning rates tried.
    pub learning_rates: Vec<f64>,
    /// Recurrent scales of the fresh model tried (a model given keeps its own).
    pub recurrent_currents: Vec<f64>,
    /// Iterations of each probe. `None`: as many as fit in [`PROBE_SHARE`] of the time
    /// limit, within [`MIN_PROBE_ITERATIONS`, `MAX_PROBE_ITERATIONS`], and no more than
    /// their [`PROBE_SHARE`] of [`TaskOptions::iterations`] when those are given.
    pub iterations: Option<usize>,
    /// Neurons of the fresh model when no probe has learned ([`learned`]), if fewer than
    /// [`TaskOptions::neurons`] and the task fixes no N (`W_mask`, `I_ext`): a task that
    /// the probes' iterations cannot start to learn (a memory to find) needs iterations
    /// above all, and a smaller network runs more of them in the time limit. `None`: N
    /// stands ([`TaskOptions::set_neurons`]).
    pub fallback_neurons: Option<usize>,
}

impl Default for Probes {
    fn default() -> Self {
        Probes {
            learning_rates: vec![1e-3, 3e-3, 1e-2, 3e-2],
            recurrent_currents: Vec::new(),
            iterations: None,
            fallback_neurons: Some(64),
        }
    }
}

impl Probes {
    /// No probes: every setting from its option.
    pub fn none() -> Self {
        Probes {
            learning_rates: Vec::new(),
            recurrent_currents: Vec::new(),
            iterations: None,
            fallback_neurons: None,
        }
    }

    /// Checks the candidates ([`TrainError::Option`]).
    pub fn check(&self) -> Result<(), TrainError> {
        let lists = [
            ("probe_learning_rates", &self.learning_rates, 0.0),
            ("probe_recurrent_currents", &self.recurrent_currents, -1.0),
        ];
        for (name, list, above) in lists {
            if let Some(&bad) = list.iter().find(|&&x| !(x.is_finite() && x > above)) {
                let rule = if above == 0.0 {
                    "each must be finite and > 0"
                } else {
                    "each must be finite and >= 0"
                };
                return Err(TrainError::option(name, bad, rule));
            }
        }
        if self.iterations == Some(0) {
            return Err(TrainError::option("probe_iterations", 0, "must be at least 1"));
        }
        if self.fallback_neurons == Some(0) {
            return Err(TrainError::option("fallback_neurons", 0, "must be at least 1"));
        }
        Ok(())
    }
}

/// The observer of a probe: the caller's, told every training step (so it can stop the
/// probe) and the notes, but not the probe's checks or checkpoints.
struct Probing<'a> {
    caller: &'a mut dyn TaskObserver,
}

impl Observer<Check> for Probing<'_> {
    fn step(&mut self, iteration: usize, report: &StepReport, trainer: &Trainer) -> Control {
        self.caller.step(iteration, report, trainer)
    }

    fn check(&mut self, _check: &Check) -> Control {
        Control::Continue
    }

    fn note(&mut self, line: &str) {
        self.caller.note(line);
    }
}

impl TaskObserver for Probing<'_> {
    fn checkpoint(
        &mut self,
        _state: RunState<'_>,
    ) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
        Ok(())
    }
}

/// A trainer of `model` at the options' learning rate, its step scales from the model.
pub(crate) fn trainer_at_start(model: Model, options: &TaskOptions) -> Result<Trainer, TrainError> {
    let scales = step_scales(&model);
    super::run::trainer(model, scales, options, options.learning_rate)
}

/// Whether a probe's held-out `score` on `task` has clearly learned beyond `untrained`,
/// the score of the model it started from, and beyond a readout that knows nothing (an
/// NMSE of 1 for a readout of zero; a cross-entropy of ln n_out for equal readouts):
/// that baseline has fallen clearly below it ([`super::fell`], on `trials` held-out
/// trials), or, at an accuracy no lower, its loss is above the probe's by more than
/// [`super::LOSS_RISE`] of it (a task the untrained model already classifies).
pub fn learned(score: &Score, untrained: &Score, task: &Task, trials: usize) -> bool {
    let mut baseline = *untrained;
    baseline.nmse = untrained.nmse.map(|e| e.min(1.0));
    if let Objective::CrossEntropy { .. } = task.objective {
        baseline.loss = baseline.loss.min((task.n_out.max(1) as f64).ln());
    }
    let surer = match (score.accuracy, baseline.accuracy) {
        (Some(a), Some(b)) => a >= b && baseline.loss - score.loss > LOSS_RISE * score.loss.abs(),
        _ => false,
    };
    fell(&baseline, score, trials) || surer
}

/// The iterations of each of `count` probes that take [`PROBE_SHARE`] of a run's
/// `total` (at least 1).
fn probe_share(total: usize, count: usize) -> usize {
    ((PROBE_SHARE * total as f64 / count as f64) as usize).max(1)
}

/// One probe: a complete run of `iterations` at `learning_rate` from a fresh model of
/// `neurons` at `recurrent_current`.
fn probe(
    task: &Task,
    split: &Split,
    fresh: Fresh,
    options: &TaskOptions,
    (learning_rate, recurrent_current): (f64, f64),
    iterations: usize,
    observer: &mut dyn TaskObserver,
) -> Result<Probe, TrainError> {
    let mut o = options.clone();
    o.probes = Probes::none();
    o.learning_rate = learning_rate;
    o.start.recurrent_current = recurrent_current;
    (o.iterations, o.eval_every, o.patience) = (Some(iterations), Some(iterations), 0);
    (o.time_limit, o.pause_at) = (0.0, None);
    let model = fresh.model(task, split, &o)?;
    let started = Instant::now();
    let mut probing = Probing { caller: observer };
    let run = match super::train(task, split, Start::fresh(model), &o, &mut probing) {
        // Stopped before the run's first iteration.
        Err(TrainError::Cancelled { .. }) => return Err(TrainError::Cancelled { iteration: 0 }),
        run => run?,
    };
    Ok(Probe {
        learning_rate,
        recurrent_current,
        iterations,
        score: run.score,
        seconds: started.elapsed().as_secs_f64(),
    })
}

/// A fresh model's size and step map.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Fresh {
    /// Neurons N.
    pub neurons: usize,
    /// The step map.
    pub step: crate::phase_step::PhaseStep,
}

impl Fresh {
    fn model(self, task: &Task, split: &Split, options: &TaskOptions) -> Result<Model, TrainError> {
        super::initial_model(task, &split.train, self.neurons, self.step, options)
    }
}

/// The iterations of a run of `options` and the iterations between its checks: given,
/// else fitted to what remains of the time limit since `started` at `pace` (asked only
/// then; [`Pace::fit`]), else [`UNTIMED_ITERATIONS`]; with what chose the iterations.
fn iterations(
    options: &TaskOptions,
    started: Instant,
    pace: impl FnOnce() -> Result<Pace, TrainError>,
) -> Result<(usize, ChosenBy, usize), TrainError> {
    let (n, by, checks) = match options.iterations {
        Some(i) => (i, ChosenBy::Option, CHECKS),
        None if options.time_limit > 0.0 => {
            let remaining = options.time_limit - started.elapsed().as_secs_f64();
            let (n, checks) = pace()?.fit(remaining, MIN_PROBE_ITERATIONS);
            (n, ChosenBy::TimeLimit, checks)
        }
        None => (UNTIMED_ITERATIONS, ChosenBy::Untimed, CHECKS),
    };
    Ok((n, by, options.eval_every.unwrap_or(n.div_ceil(checks)).max(1)))
}

/// The plan of a run from `model`, given: its learning rate from the options, its
/// iterations fitted to the time limit since `started` when left open.
pub(crate) fn plan_given(
    task: &Task,
    split: &Split,
    model: &Model,
    options: &TaskOptions,
    started: Instant,
) -> Result<Plan, TrainError> {
    let pace = || Ok(Pace::measure(task, split, model.clone(), options)?.0);
    let (n, by, every) = iterations(options, started, pace)?;
    let mut plan = Plan::new(model.n, options.learning_rate, f64::NAN, n, Some(every));
    plan.chosen_by.iterations = by;
    Ok(plan)
}

/// The iterations of each of `count` probes: [`Probes::iterations`], else as many as fit
/// in [`PROBE_SHARE`] of the time limit at `pace` (or [`MAX_PROBE_ITERATIONS`] without a
/// limit), and no more than their share of the iterations when those are given.
fn probe_length(pace: Pace, options: &TaskOptions, count: usize) -> usize {
    if let Some(length) = options.probes.iterations {
        return length;
    }
    let length = if options.time_limit > 0.0 {
        // Each probe also checks its end and scores its kept model: two checks.
        let share = PROBE_SHARE * options.time_limit / count as f64 - 2.0 * pace.check;
        ((share / pace.step).max(0.0) as usize).clamp(MIN_PROBE_ITERATIONS, MAX_PROBE_ITERATIONS)
    } else {
        MAX_PROBE_ITERATIONS
    };
    options.iterations.map_or(length, |total| length.min(probe_share(total, count)))
}

/// The pace of a run after `probes` ran: their training steps' (each probe's time
/// less its two checks), else `measured`.
fn pace_after(probes: &[Probe], measured: Pace) -> Pace {
    match probes.iter().map(|p| p.iterations).sum::<usize>() {
        0 => measured,
        done => {
            let training: f64 = probes.iter().map(|p| p.seconds - 2.0 * measured.check).sum();
            Pace { step: (training / done as f64).max(0.5 * measured.step), ..measured }
        }
    }
}

/// The plan of a fresh run and its model. When `options` leave a choice open, the
/// probes run: every learning rate at the middle recurrent scale, then the other
/// recurrent scales at the best rate; the best held-out score (accuracy, then loss)
/// among the probes that [`learned`] wins, and the options' values stand when none
/// did (and the model has [`Probes::fallback_neurons`], where they apply). The
/// iterations are then fitted to what remains of the time limit since `started` at the
/// probes' pace (measured again for a smaller model).
pub(crate) fn plan_fresh(
    task: &Task,
    split: &Split,
    fresh: Fresh,
    options: &TaskOptions,
    started: Instant,
    observer: &mut dyn TaskObserver,
) -> Result<(Plan, Model), TrainError> {
    let p = &options.probes;
    let or = |list: &[f64], option: f64| if list.is_empty() { vec![option] } else { list.to_vec() };
    let rates = or(&p.learning_rates, options.learning_rate);
    let scales = or(&p.recurrent_currents, options.start.recurrent_current);
    let middle = scales[(scales.len() - 1) / 2];
    let count = rates.len() + scales.len() - 1;
    // `o` holds the best setting so far: the options' until a probe learns.
    let mut o = options.clone();
    o.start.recurrent_current = middle;
    let (mut probes, mut untrained) = (Vec::<Probe>::new(), None);
    // Whether a probe of the rates, and one of the other scales, learned.
    let mut learned_any = [false; 2];
    let (measured, start) = Pace::measure(task, split, fresh.model(task, split, &o)?, &o)?;
    if count > 1 {
        let length = probe_length(measured, &o, count);
        untrained = Some(start);
        let held_out = (split.held_out_task, split.held_out.len());
        let learns = |p: &Probe| learned(&p.score, &start, held_out.0, held_out.1);
        let sweep = rates.iter().map(|&r| (Some(r), middle));
        let others = scales.iter().filter(|&&s| s != middle).map(|&s| (None, s));
        for (k, (rate, scale)) in sweep.chain(others).enumerate() {
            // The other recurrent scales run at the rate the sweep chose.
            let rate = rate.unwrap_or(o.learning_rate);
            let result = probe(task, split, fresh, options, (rate, scale), length, observer)?;
            observer.probed(&result, (k + 1, count));
            let best = probes.iter().filter(|b| learns(b)).all(|b| result.score.beats(&b.score));
            if learns(&result) && best {
                (o.learning_rate, o.start.recurrent_current) = (rate, scale);
                learned_any[usize::from(k >= rates.len())] = true;
            }
            probes.push(result);
        }
    }
    if !learned_any.contains(&true) {
        o.start.recurrent_current = options.start.recurrent_current;
    }
    let none_learned = count > 1 && !learned_any.contains(&true);
    let smaller = options.probes.fallback_neurons.filter(|&m| {
        let fixes_n = task.w_mask.is_some() || !task.i_ext.is_empty();
        none_learned && m < fresh.neurons && fresh.neurons == options.neurons && !fixes_n
    });
    let (fresh, measured) = match smaller {
        Some(neurons) => {
            let fresh = Fresh { neurons, ..fresh };
            (fresh, Pace::measure(task, split, fresh.model(task, split, &o)?, &o)?.0)
        }
        None => (fresh, pace_after(&probes, measured)),
    };
    let (n, by, every) = iterations(options, started, || Ok(measured))?;
    let model = fresh.model(task, split, &o)?;
    let mut plan =
        Plan::new(fresh.neurons, o.learning_rate, o.start.recurrent_current, n, Some(every));
    let by_probes = |open: usize, learned: bool| match (open > 1, learned) {
        (false, _) => ChosenBy::Option,
        (true, true) => ChosenBy::Probes,
        (true, false) => ChosenBy::NoProbeLearned,
    };
    // The scale is the probes' choice when a probe of the rates learned (at the middle
    // scale) or one of the other scales did.
    plan.chosen_by = Choices {
        neurons: if smaller.is_some() { ChosenBy::NoProbeLearned } else { ChosenBy::Option },
        learning_rate: by_probes(rates.len(), learned_any[0]),
        recurrent_current: by_probes(scales.len(), learned_any[0] || learned_any[1]),
        iterations: by,
    };
    (plan.probes, plan.untrained) = (probes, untrained);
    Ok((plan, model))
}
