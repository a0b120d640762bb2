//! Where a run on a task folder starts: a fresh model, a saved model's weights, or a
//! checkpoint resumed with its optimiser state; each checked against the task first.

use super::record::progress_from_json;
use crate::case::{one_line, CaseError, FolderError};
use crate::model_folder::{self, SavedModel};
use crate::staging::recover;
use crate::task_folder::{describe, TaskData};
use spikegrad_train::phase_step::PhaseStep;
use spikegrad_train::task::{self, Resume, Start, StartFrom, TaskOptions};
use spikegrad_train::TrainError;
use std::path::{Path, PathBuf};
use std::time::Instant;

/// Why a run cannot start.
#[derive(Debug)]
#[non_exhaustive]
pub enum StartError {
    /// The model (or checkpoint) to start from, and what is wrong with it.
    Init {
        /// The folder given.
        dir: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// A saved model that steps its phases otherwise than the run asks.
    Step {
        /// The model's folder.
        dir: PathBuf,
        /// Its step map.
        saved: PhaseStep,
        /// The run's.
        run: PhaseStep,
    },
    /// A model folder to start from that does not read.
    InitFolder(FolderError),
    /// The neurons asked for differ from those the task's files fix.
    Neurons {
        /// N asked for.
        n: usize,
        /// N the task fixes.
        fixed: usize,
        /// The file that fixes it.
        file: &'static str,
    },
    /// The run itself cannot start (its size, or the fresh model's first run).
    Run {
        /// Where N comes from.
        neurons: NeuronsFrom,
        /// Trials per batch.
        batch: usize,
        /// The error.
        error: Box<TrainError>,
    },
}

/// Where a run's N comes from, for messages about its size.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum NeuronsFrom {
    /// Asked for.
    Asked(usize),
    /// Fixed by a file of the task.
    Task(usize, &'static str),
    /// [`TaskOptions::neurons`]'s default.
    Default(usize),
    /// The saved model started from.
    Init(usize, PathBuf),
}

impl std::fmt::Display for NeuronsFrom {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            NeuronsFrom::Asked(n) => write!(f, "neurons {n}"),
            NeuronsFrom::Task(n, file) => write!(f, "N = {n} (from {file})"),
            NeuronsFrom::Default(n) => write!(f, "N = {n} (the default)"),
            NeuronsFrom::Init(n, dir) => write!(f, "init {} (N = {n})", dir.display()),
        }
    }
}

impl std::fmt::Display for StartError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            StartError::Init { dir, message } => write!(f, "init {}: {message}", dir.display()),
            StartError::Step { dir, saved, run } => write!(
                f,
                "init {}: it steps by {:?} (its config.json) and this run by {:?}; give the \
                 step {:?}",
                dir.display(),
                saved.name(),
                run.name(),
                saved.name()
            ),
            StartError::InitFolder(e) => write!(f, "init {}", one_line(&e.to_string())),
            StartError::Neurons { n, fixed, file } => {
                write!(f, "neurons {n}: the task's {file} fixes N = {fixed}")
            }
            StartError::Run { neurons, batch, error } => {
                write!(f, "{neurons}, batch {batch}: {error}")
            }
        }
    }
}

impl std::error::Error for StartError {}

/// A run's start, and what it did for the user to read (resumed, or weights only).
#[derive(Debug, Clone)]
pub struct Started {
    /// The start.
    pub start: Start,
    /// What was loaded, for a progress line (`None` for a fresh start).
    pub said: Option<String>,
}

/// Where a run of `options` on `data` starts, with `train` its training trials: a fresh
/// model of `neurons` (else the task's fixed N, else [`TaskOptions::neurons`]), or the
/// model folder `init`: an output folder of a run resumes from its `checkpoint/`, a
/// checkpoint from itself, any other model gives its weights. The run steps its phases
/// by `step` when asked, else by the step map the task's `config.json` names, else by a
/// saved model's own, else by [`PhaseStep::TRAINING`]; a saved model must step as the
/// run was asked or the task names. The memory a run needs is checked before any work.
pub fn start(
    data: &TaskData,
    train: &[usize],
    init: Option<&Path>,
    neurons: Option<usize>,
    step: Option<PhaseStep>,
    options: &TaskOptions,
) -> Result<Started, StartError> {
    let started = Instant::now();
    let step = step.or(data.step_named.then_some(data.task.step));
    let Some(init) = init else {
        let step = step.unwrap_or(PhaseStep::TRAINING);
        let n = neurons.or(data.n_fixed.map(|f| f.0)).unwrap_or(options.neurons);
        if let Some((fixed, file)) = data.n_fixed.filter(|&(f, _)| f != n) {
            return Err(StartError::Neurons { n, fixed, file });
        }
        let from = match (neurons, data.n_fixed) {
            (Some(_), _) => NeuronsFrom::Asked(n),
            (None, Some((_, file))) => NeuronsFrom::Task(n, file),
            (None, None) => NeuronsFrom::Default(n),
        };
        let batch = options.batch;
        let in_run =
            |error| StartError::Run { neurons: from.clone(), batch, error: Box::new(error) };
        check_memory(options, data, n, train.len()).map_err(in_run)?;
        let from = StartFrom::Drawn { neurons: n, step };
        return Ok(Started { start: Start { from, started }, said: None });
    };
    let at = |dir: &Path, e: CaseError| StartError::InitFolder(e.in_folder(dir));
    // A checkpoint whose replacement a kill interrupted is put back first.
    recover(init).map_err(|e| StartError::Init { dir: init.into(), message: e.to_string() })?;
    let checkpoint = init.join("checkpoint");
    let (current, best) = if checkpoint.join(model_folder::OPTIMIZER).is_dir() {
        (checkpoint, Some(model_folder::load(init).map_err(|e| at(init, e))?.model))
    } else {
        (init.to_path_buf(), None)
    };
    let saved = model_folder::load(&current).map_err(|e| at(&current, e))?;
    if let Some(step) = step.filter(|&step| step != saved.model.step) {
        return Err(StartError::Step { dir: current, saved: saved.model.step, run: step });
    }
    check_fits(&saved, data, neurons)
        .map_err(|message| StartError::Init { dir: current.clone(), message })?;
    let from = NeuronsFrom::Init(saved.model.n, init.to_path_buf());
    check_memory(options, data, saved.model.n, train.len()).map_err(|error| StartError::Run {
        neurons: from,
        batch: options.batch,
        error: Box::new(error),
    })?;
    let optimizer =
        model_folder::load_optimizer(&current, &saved.model, options.train_time_constants)
            .map_err(|e| at(&current, e))?;
    let scales = task::step_scales(&saved.model);
    let (resume, said) = match optimizer {
        Some((state, progress)) => {
            let progress = progress_from_json(&progress, options.seed, scales);
            let said = format!(
                "resuming {} at iteration {} with its optimiser state",
                current.display(),
                progress.iteration
            );
            (Some(Box::new(Resume { optimizer: state, progress, best })), said)
        }
        None => (
            None,
            format!(
                "starting from the weights of {} (it has no optimiser state: Adam starts afresh, \
             at iteration 0)",
                current.display()
            ),
        ),
    };
    let from = match resume {
        Some(resume) => StartFrom::Resumed(saved.model, resume),
        None => StartFrom::Model(saved.model),
    };
    let start = Start { from, started };
    Ok(Started { start, said: Some(said) })
}

/// Checks, before any work, that a run of `n` neurons fits in memory.
fn check_memory(
    options: &TaskOptions,
    data: &TaskData,
    n: usize,
    train: usize,
) -> Result<(), TrainError> {
    let size = task::run_size(options, &data.task, n, train);
    size.check().map(drop).map_err(TrainError::TooLarge)
}

/// Checks that a saved model fits the task: constants, channels, N, mask.
fn check_fits(saved: &SavedModel, data: &TaskData, neurons: Option<usize>) -> Result<(), String> {
    let m = &saved.model;
    let (a, b) = (&m.config, &data.task.config);
    let shared = |per_neuron: bool, x: f64, y: f64| per_neuron || x == y;
    if a.h != b.h
        || a.gate != b.gate
        || !shared(m.tau.is_some(), a.tau, b.tau)
        || !shared(m.tau_s.is_some(), a.tau_s, b.tau_s)
    {
        let (a, b) = (describe(a), describe(b));
        return Err(format!("its constants ({a}) differ from the task's ({b}) in config.json"));
    }
    if m.n_in != data.task.n_in {
        let n_in = data.task.n_in;
        return Err(format!("n_in = {} differs from the task's n_in = {n_in} (x.npy)", m.n_in));
    }
    if m.n_out != data.task.n_out {
        return Err(format!(
            "n_out = {} differs from the task's {} (readout channels or classes)",
            m.n_out, data.task.n_out
        ));
    }
    if let Some(n) = neurons.filter(|&n| n != m.n) {
        return Err(format!("N = {} differs from the neurons asked for, {n}", m.n));
    }
    if let Some((n, file)) = data.n_fixed.filter(|&(n, _)| n != m.n) {
        return Err(format!("N = {} differs from the task's N = {n} ({file})", m.n));
    }
    if data.task.w_mask.is_some() && data.task.w_mask != m.w_mask {
        return Err("its W_mask.npy differs from the task's".into());
    }
    Ok(())
}
