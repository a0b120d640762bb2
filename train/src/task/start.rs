//! Where a run on a task starts: the split into training and held-out trials, the
//! batches, and a fresh model with scales read from the data.

use super::{Task, TaskOptions, SCORE_CHUNK};
use crate::error::check_non_negative;
use crate::memory::RunSize;
use crate::model::{InitScales, Model, Objective, Trials};
use crate::phase_step::{ModelStep, PhaseStep};
use crate::rng::{Rng, BATCH_STREAM, HOLD_OUT_STREAM, INIT_STREAM};
use crate::TrainError;

/// Held-out trials of a task given without held-out trials: a fifth, at most this many.
pub const MAX_HELD_OUT: usize = 2000;
/// Held-out trials whose runs the caller may record for figures.
pub const SHOWN_TRIALS: usize = 4;
/// Trials the synaptic currents of a fresh model are measured on (the first training
/// trials): enough for an RMS to a few percent, few enough to cost a check's time.
pub const MEASURED_TRIALS: usize = 64;

/// The sizes of a fresh model's currents, in the units of docs/model.md (a theta neuron
/// fires tonically for I > 0, and about once per pi tau at I = 1): what
/// [`initial_model`] draws W, U and O to.
#[derive(Debug, Clone, Copy, PartialEq)]
#[non_exhaustive]
pub struct StartScales {
    /// Standard deviation of the total input current U x.
    pub input_current: f64,
    /// Standard deviation of the recurrent current W s, with s the synaptic currents of
    /// the network without recurrence on the training data.
    pub recurrent_current: f64,
    /// Standard deviation of the readout O s, as a multiple of the target's RMS (MSE) or
    /// of 1 (classes, the linear loss).
    pub readout_scale: f64,
}

impl Default for StartScales {
    fn default() -> Self {
        StartScales { input_current: 2.0, recurrent_current: 0.15, readout_scale: 1.0 }
    }
}

impl StartScales {
    /// Checks that every scale is finite and >= 0 ([`TrainError::Option`]).
    pub fn check(&self) -> Result<(), TrainError> {
        check_non_negative(&[
            ("input_current", self.input_current),
            ("recurrent_current", self.recurrent_current),
            ("readout_scale", self.readout_scale),
        ])
    }
}

/// The fixed split of a task's K trials into (training, held-out) indices: a fifth held
/// out (at least 1, at most [`MAX_HELD_OUT`]); an error for K < 2.
pub fn split(k: usize) -> Result<(Vec<usize>, Vec<usize>), TrainError> {
    if k < 2 {
        return Err(TrainError::TooFewTrials);
    }
    let mut order: Vec<usize> = (0..k).collect();
    // The split does not depend on the seed: runs of different seeds are checked on the
    // same trials.
    let mut rng = Rng::new(HOLD_OUT_STREAM);
    for i in (1..k).rev() {
        let j = (rng.uniform() * (i + 1) as f64) as usize;
        order.swap(i, j.min(i));
    }
    let held = (k / 5).clamp(1, MAX_HELD_OUT);
    let held_out = order.split_off(k - held);
    Ok((order, held_out))
}

/// `b` distinct training trials for `iteration`, from a stream that depends only on the
/// seed and the iteration (so a resumed run draws what the uninterrupted one would).
pub(crate) fn draw_batch(
    train: &[usize],
    b: usize,
    seed: u64,
    iteration: usize,
    into: &mut Vec<usize>,
) {
    let mut rng =
        Rng::new(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ BATCH_STREAM ^ iteration as u64);
    into.clear();
    into.extend_from_slice(train);
    let b = b.min(train.len());
    for i in 0..b {
        let j = i + ((rng.uniform() * (train.len() - i) as f64) as usize).min(train.len() - i - 1);
        into.swap(i, j);
    }
    into.truncate(b);
}

/// The sizes of a run of `n` neurons on `task` with `train` training trials, for the
/// memory check ([`RunSize::check`]) before any work.
pub fn run_size(options: &TaskOptions, task: &Task, n: usize, train: usize) -> RunSize {
    RunSize {
        neurons: n,
        inputs: task.n_in,
        outputs: task.n_out,
        steps: task.t,
        batch: options.batch.min(train),
        held_trials: SCORE_CHUNK + SHOWN_TRIALS,
        evaluated_at_once: SCORE_CHUNK,
        recorded_at_once: MEASURED_TRIALS.max(SHOWN_TRIALS),
        extra_models: 1,
        trainers: 1,
        precision: options.precision,
    }
}

/// RMS of each column c of rows of `width` values, weighted by `weights` where given.
fn column_rms(values: &[f32], width: usize, c: usize, weights: Option<&[f32]>) -> f64 {
    let (mut sum, mut count) = (0.0, 0.0);
    for (i, &x) in values.iter().enumerate().skip(c).step_by(width) {
        let w = weights.map_or(1.0, |m| m[i] as f64);
        sum += w * (x as f64).powi(2);
        count += w;
    }
    if count > 0.0 {
        (sum / count).sqrt()
    } else {
        0.0
    }
}

/// RMS of all of `values` (0 for none).
fn rms(values: &[f32]) -> f64 {
    column_rms(values, 1, 0, None)
}

/// The RMS the readout should start with: the targets' (MSE), else 1.
fn target_scale(task: &Task) -> f64 {
    if task.objective != Objective::Mse {
        return 1.0;
    }
    let per: Vec<f64> = (0..task.n_out)
        .map(|c| column_rms(&task.target, task.n_out, c, Some(&task.mask)))
        .collect();
    Some(per.iter().sum::<f64>() / per.len() as f64).filter(|&m| m > 0.0).unwrap_or(1.0)
}

/// A fresh model of `n` neurons for `task` stepped by `step`, drawn from
/// `options.seed` with the sizes of `options.start` read against the data: I0 ~
/// N(-0.1, 0.5^2), a quiet, excitable start; each input channel's weights scaled by the
/// channel's RMS so that U x has standard deviation [`StartScales::input_current`]; then
/// the synaptic currents s of this network without recurrence are measured on the first
/// `train` trials, and W and O drawn so that W s has standard deviation
/// [`StartScales::recurrent_current`] and the readout O s that of the target times
/// [`StartScales::readout_scale`]. An error for an invalid task or scales, no neurons, or
/// training trials that are none or not the task's.
pub fn initial_model(
    task: &Task,
    train: &[usize],
    n: usize,
    step: PhaseStep,
    options: &TaskOptions,
) -> Result<Model, TrainError> {
    task.check()?;
    let start = options.start;
    start.check()?;
    if n == 0 {
        return Err(TrainError::option("neurons", n, "must be at least 1"));
    }
    if train.is_empty() {
        return Err(TrainError::option("train", "[]", "needs at least one trial"));
    }
    if let Some(&i) = train.iter().find(|&&i| i >= task.k) {
        let rule = format!("a trial index must be below K = {}", task.k);
        return Err(TrainError::option("train", i, rule));
    }
    let scales = InitScales {
        bias_mean: -0.1,
        bias_sd: 0.5,
        input_sd: 1.0,
        recurrent_gain: 0.0,
        readout_gain: 0.0,
    };
    let mut rng = Rng::new(options.seed ^ INIT_STREAM);
    let mut model = Model::quiet_start(task.config, n, task.n_in, task.n_out, scales, &mut rng);
    model.step = step;
    let channel_rms: Vec<f64> =
        (0..task.n_in).map(|c| column_rms(&task.x, task.n_in, c, None)).collect();
    let active = channel_rms.iter().filter(|&&r| r > 0.0).count().max(1) as f64;
    for row in model.u.chunks_exact_mut(task.n_in) {
        for (u, &r) in row.iter_mut().zip(&channel_rms) {
            let input = start.input_current;
            let sd = if r > 0.0 { input / (r * active.sqrt()) } else { input };
            *u = (*u as f64 * sd) as f32;
        }
    }
    // The synaptic currents without recurrence, on the first training trials.
    let measured = &train[..train.len().min(MEASURED_TRIALS)];
    let mut trials = Trials::default();
    task.gather(measured, &model, &mut trials);
    let stepper = ModelStep::<f32>::new(&task.config, model.step)?;
    let mut workspace = spikegrad::Workspace::new();
    stepper
        .forward(&mut workspace, &model.network(), &trials.batch(), spikegrad::Record::Trajectory)
        .map_err(TrainError::InitialRun)?;
    let trajectory = workspace.trajectory().expect("the run was recorded");
    let s: Vec<f32> =
        (1..=task.t).flat_map(|t| trajectory.s(t).expect("recorded").to_vec()).collect();
    // A silent network: the rate of a neuron driven at I = 1, 1/(pi tau).
    let s_rms = Some(rms(&s))
        .filter(|&r| r > 0.0)
        .unwrap_or(1.0 / (std::f64::consts::PI * task.config.tau));
    let root = (n as f64).sqrt();
    model.w = rng.normals(n * n, 0.0, start.recurrent_current / (s_rms * root));
    model.o =
        rng.normals(task.n_out * n, 0.0, start.readout_scale * target_scale(task) / (s_rms * root));
    if let Some(mask) = &task.w_mask {
        for (w, &m) in model.w.iter_mut().zip(mask) {
            *w *= m;
        }
        model.w_mask = Some(mask.clone());
    }
    Ok(model)
}

/// Adam's step scales of a model: the RMS of W, U, I0 and O, so that one learning rate
/// moves each by the same fraction of its size (an array of zeros: 1).
pub fn step_scales(model: &Model) -> [f64; 4] {
    [&model.w, &model.u, &model.i0, &model.o]
        .map(|a| Some(rms(a)).filter(|&r| r > 0.0).unwrap_or(1.0))
}
