//! # spikegrad-io
//!
//! spikegrad's file formats, usable without its command line: .npy arrays read and
//! written with every size checked against the bytes present ([`npy`]); the case folder
//! of `spikegrad grad` with every rule of docs/model.md checked, and the kernels run on
//! it ([`case`]); the task folder of the user's own data ([`task_folder`]); the model
//! folder a training run writes, with its optimiser checkpoint ([`model_folder`]); the
//! output folder of a run on a task folder, and where such a run starts ([`task_run`]), and
//! of runs of the XOR ([`xor_output`]) and of predictive coding ([`predict_output`]); a saved
//! model run on new data, streamed over trials ([`model_run`]); task folders made by the
//! project's generators ([`made_task`]); and
//! output folders written whole or not at all, replacing only their own writer's earlier
//! output ([`staging`]). Errors are typed: each names the file (or folder) at fault and
//! what is wrong with it ([`case::Fault`]: missing, unreadable JSON, an element that breaks
//! a rule with its index, or another fault).
#![deny(missing_docs)]

pub mod case;
pub mod made_task;
pub mod model_folder;
pub mod model_run;
pub mod npy;
pub mod predict_output;
pub mod staging;
pub mod task_folder;
pub mod task_run;
pub mod xor_output;
