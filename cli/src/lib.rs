//! The `spikegrad` command line as a library: the readers of the case, task and model
//! folders and the `grad`, `train`, `run` and `make-task` commands, so that fuzz targets
//! and tests can drive them without a process.
#![deny(missing_docs)]

pub mod command;
pub mod efficient_coding;
pub mod grad;
pub mod made_task;
pub mod options;
pub mod plots;
#[cfg(feature = "reference-engine")]
pub mod reference_engine;
pub mod run;
pub mod train;
pub mod train_task;
