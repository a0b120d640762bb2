//! Tasks generated from a seed, for examples, tests and the suite of the project's own
//! tasks: each module gives the trials' inputs and labels (or targets) as a task folder
//! holds them.

pub mod yin_yang;
