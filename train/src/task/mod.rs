//! Training on the user's own task: K trials in memory ([`Task`]), a fixed held-out
//! split ([`Split`]), a fresh start with scales read from the data ([`initial_model`]) or
//! a saved run resumed ([`Resume`]), short probe runs that choose what the options leave
//! open ([`Probes`]) and fix the run's [`Plan`], and the loop ([`train`]) with held-out
//! checks, back-offs to the best model when the checks fall ([`fell`]), patience, a time
//! limit and checkpoints, reporting to a [`TaskObserver`] that can stop it.
//!
//! Reading and writing task and model folders is the formats crate's part; this module
//! holds the arrays and the run.
//!
//! ```
//! use spikegrad::{Config, Gate};
//! use spikegrad_train::model::Objective;
//! use spikegrad_train::phase_step::PhaseStep;
//! use spikegrad_train::observer::Quiet;
//! use spikegrad_train::task::{self, ChosenBy, Split, Start, Task, TaskOptions};
//!
//! // 200 trials of 20 steps: the class is the sign of a constant input.
//! let (t, k) = (20, 200);
//! let labels: Vec<usize> = (0..k).map(|i| i % 2).collect();
//! let x: Vec<f32> =
//!     (0..t).flat_map(|_| labels.iter().map(|&l| if l == 1 { 1.0 } else { -1.0 })).collect();
//! let task = Task {
//!     config: Config::new(1.0, 10.0, 5.0, Gate::RaisedCosine { delta: 1.0 }),
//!     step: PhaseStep::Midpoint,
//!     t, k, n_in: 1, n_out: 2, x,
//!     target: vec![], mask: vec![], labels, i_ext: vec![], w_mask: None,
//!     objective: Objective::CrossEntropy { from_step: 10, to_step: 20 },
//!     rate_penalty: 0.0,
//! };
//! let split = Split::within(&task)?;
//! let mut options = TaskOptions::default();
//! (options.neurons, options.iterations, options.eval_every) = (16, Some(20), Some(10));
//! // The probes choose the learning rate: each a complete run of 10 iterations (a probe
//! // must learn beyond the untrained model to count).
//! options.probes.iterations = Some(10);
//! let run = task::train(&task, &split, Start::drawn(16, task.step), &options, &mut Quiet)?;
//! let plan = run.progress.plan.as_ref().expect("a run records its plan");
//! assert_eq!((plan.probes.len(), plan.chosen_by.learning_rate), (4, ChosenBy::Probes));
//! assert_eq!(run.progress.iteration, 20);
//! assert!(run.score.accuracy.is_some());
//! # Ok::<(), spikegrad_train::TrainError>(())
//! ```

mod back_off;
mod data;
mod observer;
mod options;
pub mod pace;
pub mod plan;
mod probe;
mod progress;
mod run;
mod score;
mod start;

pub use back_off::{fell, ACCURACY_FALL, BACK_OFF_RATE, FALLEN_CHECKS, LOSS_RISE};
pub use data::Task;
pub use observer::{RunState, TaskObserver};
pub use options::TaskOptions;
pub use plan::{Choices, ChosenBy, Plan, Probe};
pub use probe::{learned, Probes, MAX_PROBE_ITERATIONS, MIN_PROBE_ITERATIONS, PROBE_SHARE};
pub use progress::{Best, Check, Progress};
pub use run::{adam_settings, train, Resume, Split, Start, StartFrom, Stopped, TaskRun};
pub use score::{predictions, score, Score, SCORE_CHUNK};
pub use start::{
    initial_model, run_size, split, step_scales, StartScales, MAX_HELD_OUT, MEASURED_TRIALS,
    SHOWN_TRIALS,
};
