//! Training on the user's own task: K trials in memory ([`Task`]), a fixed held-out
//! split ([`Split`]), a fresh start with scales read from the data ([`initial_model`]) or
//! a saved run resumed ([`Resume`]), and the loop ([`train`]) with held-out checks,
//! patience, a time limit and checkpoints, reporting to a [`TaskObserver`] that can stop it.
//!
//! Reading and writing task and model folders is the formats crate's part; this module
//! holds the arrays and the run.
//!
//! ```
//! use spikegrad::{Config, Gate};
//! use spikegrad_train::model::Objective;
//! use spikegrad_train::phase_step::PhaseStep;
//! use spikegrad_train::observer::Quiet;
//! use spikegrad_train::task::{self, Split, Start, Task, TaskOptions};
//!
//! // 40 trials of 20 steps: the class is the sign of a constant input.
//! let (t, k) = (20, 40);
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
//! (options.neurons, options.iterations, options.eval_every) = (16, 20, 10);
//! let model = task::initial_model(&task, &split.train, options.neurons, options.seed, task.step)?;
//! let run = task::train(&task, &split, Start::fresh(model), &options, &mut Quiet)?;
//! assert_eq!(run.progress.iteration, 20);
//! assert!(run.score.accuracy.is_some());
//! # Ok::<(), spikegrad_train::TrainError>(())
//! ```

mod data;
mod observer;
mod options;
mod progress;
mod run;
mod score;
mod start;

pub use data::Task;
pub use observer::{RunState, TaskObserver};
pub use options::TaskOptions;
pub use progress::{Best, Check, Progress};
pub use run::{train, Resume, Split, Start, Stopped, TaskRun};
pub use score::{predictions, score, Score, SCORE_CHUNK};
pub use start::{initial_model, run_size, split, step_scales, MAX_HELD_OUT, SHOWN_TRIALS};
