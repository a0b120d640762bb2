//! `spikegrad train task DIR`: training on the user's own data, the loop of
//! [`spikegrad_train::task`] on a task folder ([`spikegrad_io::task_folder`]), its output
//! folder and checkpoints written by [`spikegrad_io::task_run`], with a progress bar and
//! figures.

use crate::options::check_out;
use crate::plots;
use crate::train::{note, panels, progress, smooth, train_error, GradientPrecision, StepChoice};
use indicatif::ProgressBar;
use spikegrad_io::case::one_line;
use spikegrad_io::staging::Writer;
use spikegrad_io::task_folder::{self, TaskData};
use spikegrad_io::task_run::{self, NeuronsFrom, RunFolder, StartError};
use spikegrad_train::adam::Clip;
use spikegrad_train::observer::{Control, Observer};
use spikegrad_train::phase_step::PhaseStep;
use spikegrad_train::task::{self, Check, Plan, Probe, RunState, Split, TaskObserver, TaskRun};
use spikegrad_train::TrainError;
use spikegrad_train::{StepReport, Trainer};
use std::path::{Path, PathBuf};

/// `spikegrad train task`'s options.
#[derive(Debug, Clone, clap::Args)]
pub struct TaskOptions {
    /// The task folder: config.json, x.npy (T, K, n_in) and the loss's files.
    pub dir: PathBuf,
    /// Output folder [default: runs/NAME-SEED, NAME the task folder's]; replaced whole.
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// A task folder of held-out trials for the checks and the stopping rule [default:
    /// a fixed fifth of DIR's trials, at most 2000, held out].
    #[arg(long)]
    pub val: Option<PathBuf>,
    /// Neurons N [default: 128, 64 when no probe learned; or the N that I_ext.npy /
    /// W_mask.npy / --init fix].
    #[arg(long)]
    pub neurons: Option<usize>,
    /// Training iterations (the total, counting those of a resumed run) [default: as many
    /// as fit in --time-limit at the speed the probes measured, at most 30000; 3000
    /// without a time limit].
    #[arg(long)]
    pub iterations: Option<usize>,
    /// Trials per training batch (all training trials when fewer) [default: 32].
    #[arg(long)]
    pub batch: Option<usize>,
    /// Adam's step on W, U and I0 (and ln tau, ln tau_s when trained) as a fraction of
    /// each array's RMS at the start; cosine decay to --final-rate of it at the last
    /// iteration [default: chosen by the probes among --probe-learning-rates].
    #[arg(long)]
    pub learning_rate: Option<f64>,
    /// Adam's step on the readout O as a fraction of its RMS at the start (the loss is
    /// convex in O, and O must grow well beyond its start), decayed alike [default: 0.1].
    #[arg(long)]
    pub readout_learning_rate: Option<f64>,
    /// The learning rates at the last iteration, as a fraction of their starts [default:
    /// 0.1].
    #[arg(long)]
    pub final_rate: Option<f64>,
    /// How each step's gradient is clipped to --clip-norm before Adam: all parameters'
    /// together, or each one's separately [default: global].
    #[arg(long, value_enum)]
    pub clip: Option<ClipChoice>,
    /// The norm gradients are clipped to [default: 1].
    #[arg(long)]
    pub clip_norm: Option<f64>,
    /// Standard deviation of a fresh model's input current U x, in the units of
    /// docs/model.md [default: 2].
    #[arg(long)]
    pub input_current: Option<f64>,
    /// Standard deviation of a fresh model's recurrent current W s, with s measured on
    /// the network without recurrence [default: 0.15, or chosen by the probes among
    /// --probe-recurrent-currents].
    #[arg(long)]
    pub recurrent_current: Option<f64>,
    /// Standard deviation of a fresh model's readout O s, as a multiple of the target's
    /// RMS (MSE) or of 1 [default: 1].
    #[arg(long)]
    pub readout_scale: Option<f64>,
    /// The learning rates the probes try, comma-separated [default: 0.001,0.003,0.01,0.03].
    #[arg(long, value_delimiter = ',')]
    pub probe_learning_rates: Option<Vec<f64>>,
    /// The recurrent scales the probes try, comma-separated [default: none; the probes
    /// then keep --recurrent-current's default].
    #[arg(long, value_delimiter = ',')]
    pub probe_recurrent_currents: Option<Vec<f64>>,
    /// Iterations of each probe [default: as many as fit in a fifth of --time-limit,
    /// 50-300].
    #[arg(long)]
    pub probe_iterations: Option<usize>,
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
    /// config.json "step", else the --init model's, else midpoint]; the saved model
    /// records it.
    #[arg(long, value_enum)]
    pub step: Option<StepChoice>,
    /// Iterations between held-out checks [default: 100 in the run, fewer (at least 20)
    /// when they would take more than a tenth of its time].
    #[arg(long)]
    pub eval_every: Option<usize>,
    /// Stop after this many checks without a better held-out score (0: never) [default:
    /// 0].
    #[arg(long)]
    pub patience: Option<usize>,
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

impl TaskOptions {
    /// The library's options: these, over its defaults. A learning rate or a recurrent
    /// scale given leaves the probes nothing to choose there.
    fn library(&self) -> task::TaskOptions {
        let mut o = task::TaskOptions::default();
        if let Some(n) = self.neurons {
            o.set_neurons(n);
        }
        o.iterations = self.iterations;
        o.batch = self.batch.unwrap_or(o.batch);
        o.set_probed(
            (self.learning_rate, self.probe_learning_rates.clone()),
            (self.recurrent_current, self.probe_recurrent_currents.clone()),
        );
        o.probes.iterations = self.probe_iterations;
        o.readout_learning_rate = self.readout_learning_rate.unwrap_or(o.readout_learning_rate);
        o.final_rate = self.final_rate.unwrap_or(o.final_rate);
        let clip = self.clip.map(|c| Clip::from(c).name());
        o.set_clip(clip, self.clip_norm).expect("a name of Clip::NAMES");
        o.start.input_current = self.input_current.unwrap_or(o.start.input_current);
        o.start.readout_scale = self.readout_scale.unwrap_or(o.start.readout_scale);
        o.seed = self.seed;
        o.precision = self.precision.into();
        o.train_time_constants = self.train_time_constants;
        o.eval_every = self.eval_every;
        o.patience = self.patience.unwrap_or(o.patience);
        o.checkpoint_minutes = self.checkpoint_minutes;
        o.time_limit = self.time_limit;
        o.pause_at = self.pause_at;
        o
    }
}

/// `--clip`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ClipChoice {
    /// All gradients together to one joint norm.
    Global,
    /// Each parameter array's gradient to the norm separately.
    PerParameter,
    /// No clipping.
    None,
}

impl From<ClipChoice> for Clip {
    fn from(choice: ClipChoice) -> Clip {
        match choice {
            ClipChoice::Global => Clip::GlobalNorm(1.0),
            ClipChoice::PerParameter => Clip::PerParameter(1.0),
            ClipChoice::None => Clip::None,
        }
    }
}

/// Where N comes from, in flags.
fn neurons_from(from: &NeuronsFrom) -> String {
    match from {
        NeuronsFrom::Asked(n) => format!("--neurons {n}"),
        NeuronsFrom::Init(n, dir) => format!("--init {} (N = {n})", dir.display()),
        from => from.to_string(),
    }
}

/// An error of the start in the command line's words.
fn start_error(e: &StartError) -> String {
    match e {
        StartError::Init { dir, message } => format!("--init {}: {message}", dir.display()),
        StartError::Step { dir, saved, run } => format!(
            "--init {}: it steps by {:?} (its config.json) and this run by {:?}; give --step {}",
            dir.display(),
            saved.name(),
            run.name(),
            saved.name()
        ),
        StartError::InitFolder(e) => format!("--init {}", one_line(&e.to_string())),
        StartError::Neurons { n, fixed, file } => {
            format!("--neurons {n}: the task's {file} fixes N = {fixed}")
        }
        StartError::Run { neurons, batch, error } => {
            format!("{}, --batch {batch}: {}", neurons_from(neurons), train_error(error))
        }
        e => e.to_string(),
    }
}

/// Checks the options the library does not: the folders; returns the output folder.
fn check_folders(options: &TaskOptions) -> Result<PathBuf, String> {
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

/// The command line's observer: a progress bar, a line per check, checkpoints into the
/// output folder.
struct Terminal<'a> {
    bar: ProgressBar,
    folder: RunFolder<'a>,
}

impl Observer<Check> for Terminal<'_> {
    fn step(&mut self, iteration: usize, report: &StepReport, trainer: &Trainer) -> Control {
        self.bar.set_message(format!("loss {:.4}  skipped {}", report.loss, trainer.skipped()));
        self.bar.set_position(iteration as u64);
        Control::Continue
    }

    fn check(&mut self, check: &Check) -> Control {
        let norms = check.gradient_norms.map(|n| format!("; {n}")).unwrap_or_default();
        let line = format!("iteration {}: held-out {}{norms}", check.iteration, check.score);
        note(&self.bar, line);
        Control::Continue
    }

    fn note(&mut self, line: &str) {
        note(&self.bar, line.to_string());
    }
}

impl TaskObserver for Terminal<'_> {
    fn checkpoint(
        &mut self,
        state: RunState<'_>,
    ) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
        Ok(self.folder.checkpoint(state)?)
    }

    fn probed(&mut self, probe: &Probe, (k, count): (usize, usize)) {
        note(&self.bar, format!("probe {k}/{count}: {probe}"));
    }

    fn planned(&mut self, plan: &Plan) {
        self.bar.set_length(plan.iterations as u64);
        self.bar.set_position(0);
        self.bar.reset_eta();
        note(&self.bar, format!("plan: {plan}"));
    }
}

/// The figures of a finished run: the loss, the held-out score, and a raster of the
/// first held-out trials.
fn figures(run: &TaskRun, held_out: &TaskData, dir: &Path) -> Result<(), String> {
    let p = &run.progress;
    let losses: Vec<(f64, f64)> = p.losses.iter().map(|&(i, l)| (i as f64, l)).collect();
    plots::lines(
        &dir.join("loss.svg"),
        "training loss",
        "iteration",
        "loss",
        &[("batch loss", losses.clone()), ("25-iteration mean", smooth(&losses, 25))],
        false,
    )?;
    let (name, points): (&str, Vec<(f64, f64)>) = match run.score.accuracy {
        Some(_) => (
            "held-out accuracy",
            p.checks.iter().filter_map(|c| Some((c.iteration as f64, c.score.accuracy?))).collect(),
        ),
        None => (
            "held-out loss",
            p.checks
                .iter()
                .filter(|c| c.score.loss.is_finite())
                .map(|c| (c.iteration as f64, c.score.loss))
                .collect(),
        ),
    };
    plots::lines(&dir.join("held_out.svg"), name, "iteration", name, &[(name, points)], false)?;
    let Some(recording) = &run.recording else { return Ok(()) };
    let t = &held_out.task;
    let titles: Vec<String> = run
        .shown
        .iter()
        .enumerate()
        .map(|(i, &k)| match run.shown_trials.labels.get(i) {
            Some(label) => format!("held-out trial {k}: class {label}"),
            None => format!("held-out trial {k}"),
        })
        .collect();
    let h = t.config.h;
    let panels = panels(recording, &run.shown_trials, h, &titles, t.n_in, t.n_out);
    plots::rasters(&dir.join("raster.svg"), &panels, run.best.n, t.t as f64 * h)
}

/// `spikegrad train task`.
pub fn run(options: &TaskOptions) -> Result<String, String> {
    let started = std::time::Instant::now();
    let library = options.library();
    library.check().map_err(|e| train_error(&e))?;
    if let Some(init) = &options.init {
        // A checkpoint whose replacement a kill interrupted is put back first.
        spikegrad_io::staging::recover(init)
            .map_err(|e| format!("--init {}: {e}", init.display()))?;
    }
    let out = check_folders(options)?;
    let data = task_folder::load(&options.dir).map_err(|e| e.to_string())?;
    let val =
        options.val.as_deref().map(task_folder::load).transpose().map_err(|e| e.to_string())?;
    let split = match &val {
        Some(val) => {
            data.check_compatible(val).map_err(|e| e.to_string())?;
            Split::separate(&data.task, &val.task)
        }
        None if data.task.k < 2 => {
            return Err(format!(
                "{}: K = 1 trial: hold-out needs at least 2 (give more trials, or --val)",
                data.dir.join("x.npy").display()
            ))
        }
        None => Split::within(&data.task).map_err(|e| train_error(&e))?,
    };
    let step = options.step.map(PhaseStep::from);
    let started_run = task_run::start(
        &data,
        &split.train,
        options.init.as_deref(),
        options.neurons,
        step,
        &library,
    )
    .map_err(|e| start_error(&e))?;
    let mut start = started_run.start;
    start.started = started;
    let folder = RunFolder { out: &out, data: &data, val: val.as_ref(), options: &library };
    let probe_length = library.probes.iterations.unwrap_or(task::MAX_PROBE_ITERATIONS);
    let mut terminal =
        Terminal { bar: progress(options.iterations.unwrap_or(probe_length)), folder };
    if let Some(said) = &started_run.said {
        note(&terminal.bar, said.clone());
    }
    let result = task::train(&data.task, &split, start, &library, &mut terminal);
    terminal.bar.finish_and_clear();
    let run = result.map_err(|e| match e {
        TrainError::Resume(why) => format!(
            "--init {}: its optimiser state does not fit this run ({why}); resume with the same \
             --train-time-constants, or start from its weights by giving its model without \
             the optimizer folder",
            options.init.as_ref().map_or(String::new(), |i| i.display().to_string())
        ),
        e => train_error(&e),
    })?;
    let held_out = val.as_ref().unwrap_or(&data);
    let extra = |dir: &Path| figures(&run, held_out, dir).map_err(Into::into);
    folder.finish(&run, Some(&extra)).map_err(|e| e.to_string())?;
    let kept = run.progress.best.map_or(run.progress.iteration, |b| b.iteration);
    Ok(format!(
        "task {}: held-out {} (model of iteration {kept}; {} iterations, stopped by {}, {} skipped), {:.1} Hz, {:.0} s -> {}",
        data.dir.display(),
        run.score,
        run.progress.iteration,
        run.stopped.name(),
        run.trainer.skipped(),
        run.firing_rate,
        run.seconds,
        out.display()
    ))
}
