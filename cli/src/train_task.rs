//! `spikegrad train task DIR`: training on the user's own data (a task folder,
//! [`crate::task_folder`]), with checkpoints that a later run resumes from.
//!
//! The output folder holds the model of the best held-out check at its top level (a model
//! folder, [`crate::model_folder`]), `metrics.json`, the figures, and `checkpoint/`: the
//! latest model with Adam's state and the run's progress. Both are written every
//! `--checkpoint-minutes` and at the end, each time into a fresh folder renamed over the
//! old one, so an interrupted run leaves its last checkpoint whole.

use crate::options::{check_count, check_fits, check_out, check_positive};
use crate::plots;
use crate::train::{
    norms_json, note, panels, progress, smooth, train_step, GradientPrecision, StepChoice,
    MAX_SKIPPED_IN_A_ROW,
};
use serde_json::json;
use spikegrad_io::model_folder::{self, SavedModel};
use spikegrad_io::staging::{recover, write_json, Staging, Writer};
use spikegrad_io::task_folder::{self, TaskData};
use spikegrad_train::adam::{cosine_decay, Clip};
use spikegrad_train::gradient_norms::GradientLog;
use spikegrad_train::memory::RunSize;
use spikegrad_train::model::{Model, Objective, Trials};
use spikegrad_train::phase_step::{ModelStep, PhaseStep};
use spikegrad_train::rng::Rng;
use spikegrad_train::{Precision, Settings, TimeConstantRange, Trainer};
use std::path::{Path, PathBuf};
use std::time::Instant;

/// `spikegrad train task`'s options.
#[derive(Debug, Clone, clap::Args)]
pub struct TaskOptions {
    /// The task folder: config.json, x.npy (T, K, n_in) and the loss's files.
    pub dir: PathBuf,
    /// Output folder [default: runs/<task folder's name>-<seed>]; replaced whole.
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// A task folder of held-out trials for the checks and the stopping rule [default:
    /// a fixed fifth of DIR's trials, at most 2000, held out].
    #[arg(long)]
    pub val: Option<PathBuf>,
    /// Neurons N [default: 128, or the N that I_ext.npy / W_mask.npy / --init fix].
    #[arg(long)]
    pub neurons: Option<usize>,
    /// Training iterations (the total, counting those of a resumed run).
    #[arg(long, default_value_t = 3000)]
    pub iterations: usize,
    /// Trials per training batch (all training trials when fewer).
    #[arg(long, default_value_t = 32)]
    pub batch: usize,
    /// Adam's step on W, U and I0 (and ln tau, ln tau_s when trained) as a fraction of
    /// each array's RMS at the start; cosine decay to a tenth at the last iteration.
    #[arg(long, default_value_t = 1e-3)]
    pub learning_rate: f64,
    /// Adam's step on the readout O as a fraction of its RMS at the start (the loss is
    /// convex in O, and O must grow well beyond its start), decayed alike.
    #[arg(long, default_value_t = 0.1)]
    pub readout_learning_rate: f64,
    /// Seed of the initial weights and of the batches.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Precision of the training gradient.
    #[arg(long, value_enum, default_value = "f32")]
    pub precision: GradientPrecision,
    /// Start from a saved model; a checkpoint (an output folder of this command) is
    /// resumed with its optimiser state.
    #[arg(long)]
    pub init: Option<PathBuf>,
    /// Train a membrane and a synaptic time constant per neuron (kept valid).
    #[arg(long)]
    pub train_time_constants: bool,
    /// How the phases are stepped (docs/model.md section 9) [default: the task's
    /// config.json "step", else euler]; the saved model records it.
    #[arg(long, value_enum)]
    pub step: Option<StepChoice>,
    /// Iterations between held-out checks.
    #[arg(long, default_value_t = 50)]
    pub eval_every: usize,
    /// Stop after this many checks without a better held-out score (0: never).
    #[arg(long, default_value_t = 20)]
    pub patience: usize,
    /// Minutes between checkpoints.
    #[arg(long, default_value_t = 2.0)]
    pub checkpoint_minutes: f64,
    /// Stop training after this many seconds (0: no limit); the run then ends as after
    /// its last iteration, and `--init` can resume it.
    #[arg(long, default_value_t = 270.0)]
    pub time_limit: f64,
    /// End this process after this iteration, as an interruption would (the checkpoint
    /// saved; the schedule still follows --iterations), so a long run can be split into
    /// parts resumed with --init.
    #[arg(long)]
    pub pause_at: Option<usize>,
}

/// Held-out trials used without `--val`: a fifth of the task's, at most this many.
const MAX_HELD_OUT: usize = 2000;
/// Trials per forward run when scoring (bounds the memory of a check).
const SCORE_CHUNK: usize = 256;
/// Held-out trials drawn in the raster.
const SHOWN_TRIALS: usize = 4;
/// The split of held-out trials does not depend on --seed, so runs of different seeds
/// are checked on the same trials.
const HOLD_OUT_STREAM: u64 = 0x4444_0000_0000_0000;
const INIT_STREAM: u64 = 0x1111_0000_0000_0000;
const BATCH_STREAM: u64 = 0x5555_0000_0000_0000;

/// Standard deviation of the total input current U x at the start (units of docs/model.md:
/// a theta neuron fires tonically for I > 0, and about once per pi tau at I = 1).
const INPUT_CURRENT: f64 = 2.0;
/// Recurrent weights W ~ N(0, (RECURRENT / (s_rms sqrt N))^2), with s_rms the RMS of the
/// synaptic currents of the network without recurrence on the training data: W s starts
/// with standard deviation about RECURRENT.
const RECURRENT: f64 = 0.5;
/// Trials the synaptic currents are measured on at the start.
const MEASURED_TRIALS: usize = 64;

/// The held-out score of a model.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Score {
    /// Mean loss per trial.
    loss: f64,
    /// Classification accuracy (cross-entropy).
    accuracy: Option<f64>,
    /// Normalised error sum m (o - ohat)^2 / sum m ohat^2 (MSE).
    nmse: Option<f64>,
}

impl Score {
    /// Whether this score beats `other`: accuracy first, then loss; a NaN loss never wins.
    fn beats(&self, other: &Score) -> bool {
        let loss = |s: &Score| if s.loss.is_nan() { f64::INFINITY } else { s.loss };
        match (self.accuracy, other.accuracy) {
            (Some(a), Some(b)) if a != b => a > b,
            _ => loss(self) < loss(other),
        }
    }

    fn json(&self) -> serde_json::Value {
        json!({ "loss": finite_or_null(self.loss), "accuracy": self.accuracy, "nmse": self.nmse.map(finite_or_null) })
    }

    fn from_json(value: &serde_json::Value) -> Option<Score> {
        Some(Score {
            loss: value.get("loss")?.as_f64().unwrap_or(f64::INFINITY),
            accuracy: value.get("accuracy").and_then(|a| a.as_f64()),
            nmse: value.get("nmse").and_then(|a| a.as_f64()),
        })
    }

    fn text(&self) -> String {
        match self.accuracy {
            Some(a) => format!("accuracy {:.2}%, loss {:.4}", 100.0 * a, self.loss),
            None => match self.nmse {
                Some(nmse) => format!("NMSE {nmse:.4}, loss {:.5}", self.loss),
                None => format!("loss {:.5}", self.loss),
            },
        }
    }
}

fn finite_or_null(x: f64) -> serde_json::Value {
    if x.is_finite() {
        json!(x)
    } else {
        serde_json::Value::Null
    }
}

/// The class of every trial of a readout (T, B, n_out): the channel of the largest mean
/// readout over steps from_step + 1 ..= to_step (readout index t holds step t + 1).
pub fn predictions(readout: &[f32], b: usize, n_out: usize, from: usize, to: usize) -> Vec<usize> {
    (0..b)
        .map(|k| {
            let mean = |c: usize| -> f64 {
                (from..to).map(|t| readout[(t * b + k) * n_out + c] as f64).sum()
            };
            (0..n_out).map(|c| (c, mean(c))).fold((0, f64::MIN), |best, (c, m)| {
                if m > best.1 {
                    (c, m)
                } else {
                    best
                }
            })
        })
        .map(|(c, _)| c)
        .collect()
}

/// The score of the trainer's model on trials `indices` of `data`, in chunks; a run
/// that is not finite scores an infinite loss (and no correct trial). The loss is the
/// mean per trial (for the linear loss, a sum over trials, the sum over the count; a
/// rate penalty there counts once per chunk of [`SCORE_CHUNK`] trials).
fn score(trainer: &mut Trainer, data: &TaskData, indices: &[usize]) -> Score {
    let (mut loss, mut correct, mut error, mut power) = (0.0, 0usize, 0.0, 0.0);
    let mut trials = Trials::default();
    for chunk in indices.chunks(SCORE_CHUNK) {
        data.gather(chunk, &trainer.model, &mut trials);
        match trainer.evaluate(&trials) {
            Ok((readout, chunk_loss)) => match data.objective {
                Objective::CrossEntropy { from_step, to_step } => {
                    loss += chunk_loss * chunk.len() as f64;
                    let predicted =
                        predictions(readout, chunk.len(), data.n_out, from_step, to_step);
                    correct += predicted.iter().zip(&trials.labels).filter(|(p, l)| p == l).count();
                }
                Objective::Mse => {
                    loss += chunk_loss * chunk.len() as f64;
                    for ((&o, &y), &m) in readout.iter().zip(&trials.target).zip(&trials.mask) {
                        error += m as f64 * (o as f64 - y as f64).powi(2);
                        power += m as f64 * (y as f64).powi(2);
                    }
                }
                _ => loss += chunk_loss,
            },
            Err(_) => {
                loss = f64::INFINITY;
                error = f64::INFINITY;
            }
        }
    }
    let accuracy = matches!(data.objective, Objective::CrossEntropy { .. })
        .then(|| correct as f64 / indices.len() as f64);
    let nmse = (data.objective == Objective::Mse && power > 0.0).then(|| error / power);
    Score { loss: loss / indices.len() as f64, accuracy, nmse }
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

/// A fresh model for `data` with scales chosen from the data and the constants (README):
/// I0 ~ N(-0.1, 0.5^2), a quiet, excitable start; each input channel's weights scaled by
/// the channel's RMS so that U x has standard deviation [`INPUT_CURRENT`]; then the
/// synaptic currents s of this network without recurrence are measured on the first
/// training trials, and W and O drawn so that W s has standard deviation [`RECURRENT`]
/// and the readout O s that of the target (1 for classes and the linear loss).
fn initial_model(
    data: &TaskData,
    train: &[usize],
    n: usize,
    seed: u64,
    step: PhaseStep,
) -> Result<Model, String> {
    let target_scale = match data.objective {
        Objective::Mse => {
            let per: Vec<f64> = (0..data.n_out)
                .map(|c| column_rms(&data.target, data.n_out, c, Some(&data.mask)))
                .collect();
            Some(per.iter().sum::<f64>() / per.len() as f64).filter(|&m| m > 0.0).unwrap_or(1.0)
        }
        _ => 1.0,
    };
    let scales = spikegrad_train::model::InitScales {
        bias_mean: -0.1,
        bias_sd: 0.5,
        input_sd: 1.0,
        recurrent_gain: 0.0,
        readout_gain: 0.0,
    };
    let mut rng = Rng::new(seed ^ INIT_STREAM);
    let mut model = Model::quiet_start(data.config, n, data.n_in, data.n_out, scales, &mut rng);
    model.step = step;
    let channel_rms: Vec<f64> =
        (0..data.n_in).map(|c| column_rms(&data.x, data.n_in, c, None)).collect();
    let active = channel_rms.iter().filter(|&&r| r > 0.0).count().max(1) as f64;
    for row in model.u.chunks_exact_mut(data.n_in) {
        for (u, &r) in row.iter_mut().zip(&channel_rms) {
            let sd = if r > 0.0 { INPUT_CURRENT / (r * active.sqrt()) } else { INPUT_CURRENT };
            *u = (*u as f64 * sd) as f32;
        }
    }
    // The synaptic currents without recurrence, on the first training trials.
    let measured = &train[..train.len().min(MEASURED_TRIALS)];
    let mut trials = Trials::default();
    data.gather(measured, &model, &mut trials);
    let step = ModelStep::<f32>::new(&data.config, model.step).map_err(|e| e.to_string())?;
    let mut workspace = spikegrad::Workspace::new();
    step.forward(&mut workspace, &model.network(), &trials.batch(), true)
        .map_err(|e| format!("the initial network does not run on the task's trials: {e}"))?;
    let trajectory = workspace.trajectory().expect("recorded");
    let s: Vec<f32> =
        (1..=data.t).flat_map(|t| trajectory.s(t).expect("recorded").to_vec()).collect();
    // A silent network: the rate of a neuron driven at I = 1, 1/(pi tau).
    let s_rms = Some(rms(&s))
        .filter(|&r| r > 0.0)
        .unwrap_or(1.0 / (std::f64::consts::PI * data.config.tau));
    let root = (n as f64).sqrt();
    model.w = rng.normals(n * n, 0.0, RECURRENT / (s_rms * root));
    model.o = rng.normals(data.n_out * n, 0.0, target_scale / (s_rms * root));
    if let Some(mask) = &data.w_mask {
        for (w, &m) in model.w.iter_mut().zip(mask) {
            *w *= m;
        }
        model.w_mask = Some(mask.clone());
    }
    Ok(model)
}

/// Adam's step scales of a model (README): the RMS of W, U, I0 and O, so that one
/// learning rate moves each by the same fraction of its size (an array of zeros: 1).
fn step_scales(model: &Model) -> [f64; 4] {
    [&model.w, &model.u, &model.i0, &model.o]
        .map(|a| Some(rms(a)).filter(|&r| r > 0.0).unwrap_or(1.0))
}

/// The held-out split without `--val`: (training, held-out) trial indices.
fn split(k: usize) -> (Vec<usize>, Vec<usize>) {
    let mut order: Vec<usize> = (0..k).collect();
    let mut rng = Rng::new(HOLD_OUT_STREAM);
    for i in (1..k).rev() {
        let j = (rng.uniform() * (i + 1) as f64) as usize;
        order.swap(i, j.min(i));
    }
    let held = (k / 5).clamp(1, MAX_HELD_OUT);
    let held_out = order.split_off(k - held);
    (order, held_out)
}

/// `b` distinct training trials for `iteration`, from a stream that depends only on the
/// seed and the iteration (so a resumed run draws what the uninterrupted one would).
fn draw_batch(train: &[usize], b: usize, seed: u64, iteration: usize, into: &mut Vec<usize>) {
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

/// Where a run starts.
struct Start {
    model: Model,
    /// Optimiser state and progress, when resuming.
    resume: Option<(spikegrad_train::adam::AdamState, serde_json::Value)>,
    /// The best model so far, when resuming an output folder.
    best: Option<Model>,
    /// What `--init` did, for the user.
    said: Option<String>,
}

/// Checks that a saved model fits the task: constants, channels, N, mask.
fn check_init_fits(
    init: &Path,
    saved: &SavedModel,
    data: &TaskData,
    neurons: Option<usize>,
    step: PhaseStep,
) -> Result<(), String> {
    let m = &saved.model;
    let err = |what: String| Err(format!("--init {}: {what}", init.display()));
    if m.step != step {
        return err(format!(
            "it steps by {:?} (its config.json) and this run by {:?}; give --step {}",
            m.step.name(),
            step.name(),
            m.step.name()
        ));
    }
    let (a, b) = (&m.config, &data.config);
    let shared = |per_neuron: bool, x: f64, y: f64| per_neuron || x == y;
    if a.h != b.h
        || a.gate != b.gate
        || !shared(m.tau.is_some(), a.tau, b.tau)
        || !shared(m.tau_s.is_some(), a.tau_s, b.tau_s)
    {
        let (a, b) = (task_folder::describe(a), task_folder::describe(b));
        return err(format!("its constants ({a}) differ from the task's ({b}) in config.json"));
    }
    if m.n_in != data.n_in {
        return err(format!(
            "n_in = {} differs from the task's n_in = {} (x.npy)",
            m.n_in, data.n_in
        ));
    }
    if m.n_out != data.n_out {
        return err(format!(
            "n_out = {} differs from the task's {} (readout channels or classes)",
            m.n_out, data.n_out
        ));
    }
    if let Some(n) = neurons.filter(|&n| n != m.n) {
        return err(format!("N = {} differs from --neurons {n}", m.n));
    }
    if let Some((n, file)) = data.n_fixed.filter(|&(n, _)| n != m.n) {
        return err(format!("N = {} differs from the task's N = {n} ({file})", m.n));
    }
    if data.w_mask.is_some() && data.w_mask != m.w_mask {
        return err("its W_mask.npy differs from the task's".into());
    }
    Ok(())
}

/// The step map of the run: `--step`, else the task's config.json.
fn step_of(options: &TaskOptions, data: &TaskData) -> PhaseStep {
    options.step.map_or(data.step, PhaseStep::from)
}

/// Checks, before any work, that a run of `n` neurons on `data` fits in memory
/// ([`RunSize`]); `n_from` names where N comes from, for the error.
fn check_memory(
    options: &TaskOptions,
    data: &TaskData,
    n: usize,
    train: usize,
    n_from: &str,
) -> Result<(), String> {
    let size = RunSize {
        neurons: n,
        inputs: data.n_in,
        outputs: data.n_out,
        steps: data.t,
        batch: options.batch.min(train),
        held_trials: SCORE_CHUNK + SHOWN_TRIALS,
        evaluated_at_once: SCORE_CHUNK,
        recorded_at_once: MEASURED_TRIALS.max(SHOWN_TRIALS),
        extra_models: 1,
        trainers: 1,
        precision: Precision::from(options.precision),
    };
    check_fits(&format!("{n_from}, --batch {}", options.batch), &size)
}

/// The model and state a run starts from.
fn start(options: &TaskOptions, data: &TaskData, train: &[usize]) -> Result<Start, String> {
    let Some(init) = &options.init else {
        let n = options.neurons.or(data.n_fixed.map(|f| f.0)).unwrap_or(128);
        if let Some((fixed, file)) = data.n_fixed.filter(|&(f, _)| f != n) {
            return Err(format!("--neurons {n}: the task's {file} fixes N = {fixed}"));
        }
        let n_from = match (options.neurons, data.n_fixed) {
            (Some(_), _) => format!("--neurons {n}"),
            (None, Some((_, file))) => format!("N = {n} (from {file})"),
            (None, None) => format!("N = {n} (the default)"),
        };
        check_memory(options, data, n, train.len(), &n_from)?;
        let model = initial_model(data, train, n, options.seed, step_of(options, data))?;
        return Ok(Start { model, resume: None, best: None, said: None });
    };
    let load = |dir: &Path| {
        model_folder::load(dir).map_err(|e| format!("--init {}", model_folder::error_at(dir, &e)))
    };
    // An output folder of this command resumes from its checkpoint; a checkpoint folder
    // from itself; any other model folder gives only the weights.
    let checkpoint = init.join("checkpoint");
    let (current, best) = if checkpoint.join(model_folder::OPTIMIZER).is_dir() {
        (checkpoint, Some(load(init)?.model))
    } else {
        (init.clone(), None)
    };
    let saved = load(&current)?;
    check_init_fits(&current, &saved, data, options.neurons, step_of(options, data))?;
    let n_from = format!("--init {} (N = {})", init.display(), saved.model.n);
    check_memory(options, data, saved.model.n, train.len(), &n_from)?;
    let resume = model_folder::load_optimizer(&current, &saved.model, options.train_time_constants)
        .map_err(|e| format!("--init {}", model_folder::error_at(&current, &e)))?;
    let said = match &resume {
        Some((_, progress)) => format!(
            "resuming {} at iteration {} with its optimiser state",
            current.display(),
            progress["iteration"].as_u64().unwrap_or(0)
        ),
        None => format!(
            "starting from the weights of {} (it has no optimiser state: Adam starts afresh, \
             at iteration 0)",
            current.display()
        ),
    };
    Ok(Start { model: saved.model, resume, best, said: Some(said) })
}

/// What the output folder records of the run so far.
struct Progress {
    /// Adam's step scales of W, U, I0, O.
    step_scales: [f64; 4],
    iteration: usize,
    best: Option<(Score, usize)>,
    since_improved: usize,
    losses: Vec<(f64, f64)>,
    checks: Vec<serde_json::Value>,
    /// Seconds of training before this process (resumed runs).
    seconds_before: f64,
    /// Gradient norms since this process started (a resumed run's earlier steps are
    /// in its checks).
    norms: GradientLog,
}

impl Progress {
    fn json(&self, seconds: f64, seed: u64) -> serde_json::Value {
        json!({
            "seed": seed, "step_scales": self.step_scales, "iteration": self.iteration, "since_improved": self.since_improved,
            "best": self.best.map(|(s, i)| json!({ "iteration": i, "score": s.json() })),
            "losses": self.losses.iter().map(|&(i, l)| json!([i, finite_or_null(l)])).collect::<Vec<_>>(),
            "checks": self.checks, "seconds": seconds,
        })
    }

    fn from_json(value: &serde_json::Value) -> Progress {
        let best = value["best"].as_object().and_then(|b| {
            Some((Score::from_json(b.get("score")?)?, b.get("iteration")?.as_u64()? as usize))
        });
        let losses = value["losses"]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|p| Some((p[0].as_f64()?, p[1].as_f64().unwrap_or(f64::NAN))))
                    .collect()
            })
            .unwrap_or_default();
        Progress {
            step_scales: [1.0; 4],
            iteration: value["iteration"].as_u64().unwrap_or(0) as usize,
            best,
            since_improved: value["since_improved"].as_u64().unwrap_or(0) as usize,
            losses,
            checks: value["checks"].as_array().cloned().unwrap_or_default(),
            seconds_before: value["seconds"].as_f64().unwrap_or(0.0),
            norms: GradientLog::new(),
        }
    }
}

/// Checks every option, naming the one at fault; returns the output folder.
fn check_options(options: &TaskOptions) -> Result<PathBuf, String> {
    if let Some(n) = options.neurons {
        check_count("--neurons", n)?;
    }
    check_count("--iterations", options.iterations)?;
    check_count("--batch", options.batch)?;
    check_count("--eval-every", options.eval_every)?;
    check_positive("--learning-rate", options.learning_rate)?;
    check_positive("--readout-learning-rate", options.readout_learning_rate)?;
    check_positive("--checkpoint-minutes", options.checkpoint_minutes)?;
    if !(options.time_limit.is_finite() && options.time_limit >= 0.0) {
        return Err(format!(
            "--time-limit {}: must be a finite number of seconds >= 0",
            options.time_limit
        ));
    }
    // A checkpoint whose replacement a kill interrupted is put back first.
    if let Some(init) = &options.init {
        recover(init).map_err(|e| format!("--init {}: {e}", init.display()))?;
    }
    for (option, dir) in [
        ("DIR", Some(&options.dir)),
        ("--val", options.val.as_ref()),
        ("--init", options.init.as_ref()),
    ] {
        if let Some(dir) = dir.filter(|d| !d.is_dir()) {
            return Err(format!("{option} {}: not a folder", dir.display()));
        }
    }
    let name = options
        .dir
        .canonicalize()
        .ok()
        .and_then(|d| d.file_name().map(|n| n.to_string_lossy().into_owned()))
        .unwrap_or_else(|| "task".into());
    let out = options
        .out
        .clone()
        .unwrap_or_else(|| PathBuf::from(format!("runs/{name}-{}", options.seed)));
    check_out("--out", &out, Writer::TrainTask)?;
    Ok(out)
}

/// Writes the figures into a folder.
type Figures<'a> = dyn Fn(&Path) -> Result<(), String> + 'a;

/// Everything written into the output folder.
struct Output<'a> {
    out: &'a Path,
    data: &'a TaskData,
    options: &'a TaskOptions,
    precision: Precision,
}

impl Output<'_> {
    /// The task's record in config.json.
    fn task_json(&self, n: usize) -> serde_json::Value {
        json!({ "name": "task", "folder": self.data.dir.display().to_string(), "steps": self.data.t, "neurons": n })
    }

    /// Writes the whole folder (best model, metrics, checkpoint; figures when `final_`)
    /// into a staging folder renamed over the old one.
    fn write(
        &self,
        trainer: &Trainer,
        best: &Model,
        progress: &Progress,
        seconds: f64,
        summary: serde_json::Value,
        figures: Option<&Figures>,
    ) -> Result<(), String> {
        let staging = Staging::new(self.out, Writer::TrainTask)
            .map_err(|e| format!("{}: {e}", self.out.display()))?;
        let dir = staging.path();
        let loss = Some(&self.data.loss);
        model_folder::save(dir, best, loss, self.task_json(best.n)).map_err(|e| e.to_string())?;
        let checkpoint = dir.join("checkpoint");
        std::fs::create_dir(&checkpoint).map_err(|e| format!("checkpoint: {e}"))?;
        model_folder::save(&checkpoint, &trainer.model, loss, self.task_json(trainer.model.n))
            .map_err(|e| e.to_string())?;
        let state = progress.json(seconds, self.options.seed);
        model_folder::save_optimizer(&checkpoint, &trainer.optimizer_state(), &state)
            .map_err(|e| e.to_string())?;
        let o = self.options;
        let metrics = json!({
            "task": self.data.dir.display().to_string(), "finished": figures.is_some(), "seed": o.seed,
            "iterations": progress.iteration, "kept_iteration": progress.best.map(|b| b.1),
            "held_out": summary, "neurons": best.n, "batch": o.batch, "learning_rate": o.learning_rate, "readout_learning_rate": o.readout_learning_rate,
            "gradient_precision": self.precision.name(), "skipped_steps": trainer.skipped(),
            "wall_seconds": seconds, "checks": progress.checks, "gradient_norms": norms_json(&progress.norms.run()),
        });
        write_json(&dir.join("metrics.json"), &metrics).map_err(|e| e.to_string())?;
        if let Some(figures) = figures {
            figures(dir)?;
        }
        staging.commit().map_err(|e| format!("{}: {e}", self.out.display()))
    }
}

/// `spikegrad train task`.
pub fn run(options: &TaskOptions) -> Result<String, String> {
    let clock = Instant::now();
    let out = check_options(options)?;
    let data = task_folder::load(&options.dir).map_err(|e| e.to_string())?;
    let val =
        options.val.as_deref().map(task_folder::load).transpose().map_err(|e| e.to_string())?;
    if let Some(val) = &val {
        data.check_compatible(val).map_err(|e| e.to_string())?;
    }
    let (train, held_out) = match &val {
        Some(val) => ((0..data.k).collect::<Vec<_>>(), (0..val.k).collect::<Vec<_>>()),
        None if data.k < 2 => {
            return Err(format!(
                "{}: K = 1 trial: hold-out needs at least 2 (give more trials, or --val)",
                data.dir.join("x.npy").display()
            ))
        }
        None => split(data.k),
    };
    let check_data = val.as_ref().unwrap_or(&data);
    let Start { model, resume, best: resumed_best, said } = start(options, &data, &train)?;
    let precision = Precision::from(options.precision);
    // A resumed run keeps the step scales it started with.
    let saved_scales = resume.as_ref().and_then(|(_, p)| {
        let a = p["step_scales"].as_array()?;
        let v: Vec<f64> = a.iter().filter_map(|x| x.as_f64()).collect();
        <[f64; 4]>::try_from(v).ok().filter(|s| s.iter().all(|x| x.is_finite() && *x > 0.0))
    });
    let scales = saved_scales.unwrap_or_else(|| step_scales(&model));
    // The readout's rate, as a factor on the scale of O (Adam has one rate).
    let readout_factor = options.readout_learning_rate / options.learning_rate;
    let settings = Settings {
        step_scales: [scales[0], scales[1], scales[2], scales[3] * readout_factor],
        precision,
        time_constants: options.train_time_constants.then_some(TimeConstantRange::VALID),
        clip: Clip::PerParameter(1.0),
        ..Settings::new(options.learning_rate)
    };
    let mut trainer = Trainer::new(model, settings).map_err(|e| e.to_string())?;
    let bar = progress(options.iterations);
    let mut progress_so_far = Progress {
        step_scales: scales,
        iteration: 0,
        best: None,
        since_improved: 0,
        losses: Vec::new(),
        checks: Vec::new(),
        seconds_before: 0.0,
        norms: GradientLog::new(),
    };
    let mut seed = options.seed;
    let mut best_model = trainer.model.clone();
    if let Some((state, saved)) = resume {
        trainer.restore_optimizer(state).map_err(|e| {
            format!(
                "--init {}: its optimiser state does not fit this run ({e}); resume with the same \
                 --train-time-constants, or start from its weights by giving its model without \
                 the optimizer folder",
                options.init.as_ref().expect("resuming").display()
            )
        })?;
        progress_so_far = Progress { step_scales: scales, ..Progress::from_json(&saved) };
        seed = saved["seed"].as_u64().unwrap_or(seed);
        match resumed_best {
            Some(model) => best_model = model,
            None => progress_so_far.best = None,
        }
    }
    // Said once everything it announces has been checked and restored.
    if let Some(said) = &said {
        note(&bar, said.clone());
    }
    let output = Output { out: &out, data: &data, options, precision };
    let p = &mut progress_so_far;
    bar.set_position(p.iteration as u64);
    let mut last_checkpoint = Instant::now();
    let mut trials = Trials::default();
    let mut batch = Vec::new();
    let mut stopped = "iterations";
    let seconds = |p: &Progress| p.seconds_before + clock.elapsed().as_secs_f64();
    while p.iteration < options.iterations {
        if options.time_limit > 0.0 && clock.elapsed().as_secs_f64() >= options.time_limit {
            stopped = "time limit";
            break;
        }
        if options.pause_at.is_some_and(|pause| p.iteration >= pause) {
            stopped = "pause";
            break;
        }
        let iteration = p.iteration + 1;
        let fraction = (iteration - 1) as f64 / options.iterations as f64;
        trainer.set_learning_rate(cosine_decay(options.learning_rate, 0.1, fraction));
        draw_batch(&train, options.batch, seed, iteration, &mut batch);
        data.gather(&batch, &trainer.model, &mut trials);
        let report = match train_step(&mut trainer, &trials, iteration) {
            Ok(report) => report,
            // Every recent gradient overflowed: the run ends here, keeping what it has.
            Err(stalled) if trainer.skipped_in_a_row() >= MAX_SKIPPED_IN_A_ROW => {
                note(
                    &bar,
                    format!("warning: {stalled}; ending the run with the best model so far"),
                );
                stopped = "stall";
                break;
            }
            Err(e) => return Err(e),
        };
        p.iteration = iteration;
        p.losses.push((iteration as f64, report.loss));
        p.norms.record(&report);
        if iteration % options.eval_every == 0 || iteration == options.iterations {
            let s = score(&mut trainer, check_data, &held_out);
            let window = p.norms.check();
            p.checks
                .push(json!({ "iteration": iteration, "score": s.json(), "seconds": seconds(p),
                "gradient_norms": norms_json(&window) }));
            note(&bar, format!("iteration {iteration}: held-out {}; {window}", s.text()));
            if p.best.is_none_or(|(b, _)| s.beats(&b)) {
                p.best = Some((s, iteration));
                p.since_improved = 0;
                best_model = trainer.model.clone();
            } else {
                p.since_improved += 1;
                if options.patience > 0 && p.since_improved >= options.patience {
                    stopped = "patience";
                    bar.inc(1);
                    break;
                }
            }
        }
        if last_checkpoint.elapsed().as_secs_f64() >= 60.0 * options.checkpoint_minutes {
            let summary = json!({ "best": p.best.map(|(s, i)| json!({ "iteration": i, "score": s.json() })) });
            output.write(&trainer, &best_model, p, seconds(p), summary, None)?;
            last_checkpoint = Instant::now();
        }
        bar.set_message(format!("loss {:.4}  skipped {}", report.loss, trainer.skipped()));
        bar.inc(1);
    }
    bar.finish_and_clear();

    // The kept model: the best check's, scored again for the record (or the current one
    // when no check ran).
    let current = trainer.model.clone();
    trainer.model = best_model.clone();
    let final_score = score(&mut trainer, check_data, &held_out);
    let shown: Vec<usize> = held_out.iter().copied().take(SHOWN_TRIALS).collect();
    let mut shown_trials = Trials::default();
    check_data.gather(&shown, &trainer.model, &mut shown_trials);
    // A model whose run overflows still gets its folder (without the raster).
    let recording = trainer.record(&shown_trials).ok();
    let rate = recording.as_ref().map_or(f64::NAN, |r| r.firing_rate(data.config.h));
    trainer.model = current;
    let wall = seconds(p);
    let source = match &val {
        Some(val) => format!("{} (--val, all its {} trials)", val.dir.display(), val.k),
        None => format!(
            "{} ({} of its {} trials, held out from training by a fixed split)",
            data.dir.display(),
            held_out.len(),
            data.k
        ),
    };
    let summary = json!({ "trials": held_out.len(), "from": source,
        "score": final_score.json(), "firing_rate_hz": finite_or_null(rate), "stopped": stopped });
    let h = data.config.h;
    let titles: Vec<String> = shown
        .iter()
        .enumerate()
        .map(|(i, &k)| match shown_trials.labels.get(i) {
            Some(label) => format!("held-out trial {k}: class {label}"),
            None => format!("held-out trial {k}"),
        })
        .collect();
    let duration = data.t as f64 * h;
    let figures = |dir: &Path| -> Result<(), String> {
        plots::lines(
            &dir.join("loss.svg"),
            "training loss",
            "iteration",
            "loss",
            &[("batch loss", p.losses.clone()), ("25-iteration mean", smooth(&p.losses, 25))],
            false,
        )?;
        let series = |key: &str| -> Vec<(f64, f64)> {
            p.checks
                .iter()
                .filter_map(|c| Some((c["iteration"].as_f64()?, c["score"][key].as_f64()?)))
                .collect()
        };
        let (name, points) = match final_score.accuracy {
            Some(_) => ("held-out accuracy", series("accuracy")),
            None => ("held-out loss", series("loss")),
        };
        let series = [(name, points)];
        plots::lines(&dir.join("held_out.svg"), name, "iteration", name, &series, false)?;
        match &recording {
            Some(recording) => plots::rasters(
                &dir.join("raster.svg"),
                &panels(recording, &shown_trials, h, &titles, data.n_in, data.n_out),
                best_model.n,
                duration,
            ),
            None => Ok(()),
        }
    };
    output.write(&trainer, &best_model, p, wall, summary, Some(&figures))?;
    let kept = p.best.map_or(p.iteration, |b| b.1);
    Ok(format!(
        "task {}: held-out {} (model of iteration {kept}; {} iterations, stopped by {stopped}, {} skipped), {rate:.1} Hz, {wall:.0} s -> {}",
        data.dir.display(),
        final_score.text(),
        p.iteration,
        trainer.skipped(),
        out.display()
    ))
}
