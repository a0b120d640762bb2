//! Tasks generated from a seed, for examples, tests and the suite of the project's own
//! tasks ([`TaskKind`]): each module gives the trials' inputs and labels (or targets) as
//! a task folder holds them.

pub mod generated;
pub mod kind;
pub mod patterns;
pub mod timed_yin_yang;
pub mod yin_yang;

pub use generated::{GeneratedLoss, GeneratedTask};
pub use kind::TaskKind;
