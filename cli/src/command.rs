//! The command line's grammar (clap) and its dispatch to the commands: the binary
//! `spikegrad` parses its arguments with it, and the Python module runs the same
//! commands in-process from a list of arguments.

use crate::{efficient_coding, grad, made_task, run, train, train_task};
use clap::{Parser, Subcommand, ValueEnum};
use spikegrad_io::npy;
use std::path::PathBuf;

/// Exact gradients for gated-synapse spiking networks (Huh & Sejnowski, NeurIPS 2018).
#[derive(Parser, Debug)]
#[command(name = "spikegrad", version, about, long_version = long_version())]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Loss and every gradient for a case folder (config.json and .npy arrays; docs/formats.md).
    Grad {
        /// The case folder.
        case_dir: PathBuf,
        /// Output folder [default: CASE_DIR/gradient]; replaced whole, or left untouched on error.
        #[arg(long)]
        out: Option<PathBuf>,
        /// Precision of the computation and of the output files [default: the input's].
        #[arg(long, value_enum)]
        precision: Option<Precision>,
        /// Implementation.
        #[arg(long, value_enum, default_value = "kernels")]
        engine: grad::Engine,
        /// Most memory, in MiB, for the recorded trajectory ((3 T + 2) N B values); a
        /// longer case is checkpointed every ~sqrt(T) steps and rerun segment by segment:
        /// the same gradient in bounded memory, for about one more forward sweep of time.
        #[arg(long, default_value_t = 512, value_name = "MIB")]
        recording_limit: usize,
    },
    /// Train one of the paper's tasks, or a task folder of your own data; writes the
    /// model, metrics.json and SVG figures.
    Train {
        #[command(subcommand)]
        task: Training,
    },
    /// Run a saved model on new inputs (x.npy, optionally I_ext.npy and labels.npy),
    /// streaming over trials: readout.npy, spikes.npy, predictions.npy, metrics.json.
    Run {
        /// The model folder (what `spikegrad train` writes).
        model: PathBuf,
        /// The data folder.
        dir: PathBuf,
        /// Output folder [default: DIR/run]; replaced whole, or left untouched on error.
        #[arg(long)]
        out: Option<PathBuf>,
        /// Trials run at once [default: as many as fit in 64 MB of recorded trajectory].
        #[arg(long)]
        trials_per_chunk: Option<usize>,
    },
    /// Write one of the project's generated tasks as a task folder (for `train task`).
    MakeTask {
        /// The task.
        #[arg(value_parser = made_task::kinds())]
        kind: String,
        /// The task folder to write (replaced whole).
        dir: PathBuf,
        /// Trials K.
        #[arg(long, default_value_t = 5000)]
        trials: usize,
        /// Seed of the trials.
        #[arg(long, default_value_t = 1)]
        seed: u64,
    },
}

#[derive(Subcommand, Debug)]
enum Training {
    /// Your own data: a task folder (config.json, x.npy and the loss's files; docs/formats.md).
    Task(Box<train_task::TaskOptions>),
    /// The delayed-memory XOR (docs/training.md describes the task exactly).
    Xor {
        #[command(flatten)]
        common: train::Common,
        /// Euler step h (ms).
        #[arg(long, default_value_t = 2.0)]
        h: f64,
        /// Restart from fresh initial weights after this many iterations without a
        /// held-out check above 90% (0: never) [default: 5000 from the latch start, 0 from
        /// the random one].
        #[arg(long)]
        restart_after: Option<usize>,
        /// The initial network: unstructured random weights (gradient descent must find
        /// the memory), or self-exciting clusters that hold a pulse (the memory is in the
        /// start).
        #[arg(long, value_enum, default_value_t = train::XorStart::Random)]
        start: train::XorStart,
    },
    /// Predictive coding: auto-encode a smooth 2-channel signal; also trains W = 0.
    Predict {
        #[command(flatten)]
        common: train::Common,
        #[command(flatten)]
        task: train::PredictOptions,
        /// Weight lambda >= 0 of the rate penalty (docs/model.md section 6): the loss
        /// adds lambda times the mean synaptic variable, i.e. the mean rate in spikes per ms.
        #[arg(long, default_value_t = 0.0)]
        rate_penalty: f64,
    },
    /// Efficient coding: predictive coding at several rate penalties, W learned and
    /// W = 0; plots held-out NMSE against firing rate.
    EfficientCoding(efficient_coding::Options),
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum Precision {
    F32,
    F64,
}

/// `--version` also says which SIMD backend this CPU runs.
fn long_version() -> &'static str {
    static TEXT: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    TEXT.get_or_init(|| {
        format!(
            "{} (SIMD backend: {})",
            env!("CARGO_PKG_VERSION"),
            spikegrad::Backend::detect().name()
        )
    })
}

/// Runs the parsed command line; the summary line to print, or the error's one line.
pub fn execute(cli: Cli) -> Result<String, String> {
    match cli.command {
        Command::Grad { case_dir, out, precision, engine, recording_limit } => {
            let precision = precision.map(|p| match p {
                Precision::F32 => npy::Dtype::F32,
                Precision::F64 => npy::Dtype::F64,
            });
            let limit = recording_limit.checked_mul(1 << 20);
            grad::run(&case_dir, out.as_deref(), precision, engine, limit)
        }
        Command::Train { task: Training::Task(options) } => train_task::run(&options),
        Command::Run { model, dir, out, trials_per_chunk } => {
            run::run(&model, &dir, out.as_deref(), trials_per_chunk)
        }
        Command::MakeTask { kind, dir, trials, seed } => {
            made_task::write(&kind, &dir, trials, seed)
        }
        Command::Train { task: Training::Xor { common, h, restart_after, start } } => {
            train::xor(&common, h, restart_after, start)
        }
        Command::Train { task: Training::Predict { common, task, rate_penalty } } => {
            train::predict(&common, &task, rate_penalty)
        }
        Command::Train { task: Training::EfficientCoding(options) } => {
            efficient_coding::run(&options)
        }
    }
}

/// Parses `args` (without the program's name) as the command line and runs it: the
/// summary line, or an error (a usage error's first line, or the command's). `--help`
/// and `--version` give their text as the summary.
pub fn execute_args<I, S>(args: I) -> Result<String, String>
where
    I: IntoIterator<Item = S>,
    S: Into<std::ffi::OsString> + Clone,
{
    let mut all: Vec<std::ffi::OsString> = vec!["spikegrad".into()];
    all.extend(args.into_iter().map(Into::into));
    match Cli::try_parse_from(all) {
        Ok(cli) => execute(cli),
        Err(e) => match e.kind() {
            clap::error::ErrorKind::DisplayHelp | clap::error::ErrorKind::DisplayVersion => {
                Ok(e.to_string())
            }
            _ => {
                let text = e.to_string();
                let first = text.lines().next().unwrap_or_default();
                Err(first.strip_prefix("error: ").unwrap_or(first).to_string())
            }
        },
    }
}
