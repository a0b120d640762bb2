//! Checks of command-line options before any work starts, each error naming the option:
//! a run must not train for minutes and then fail on a value it could have refused.

use spikegrad_io::staging::{self, Writer};
use spikegrad_train::memory::RunSize;
use std::path::Path;

/// Checks an output folder option before any work, leaving nothing behind: `writer` may
/// replace it ([`staging::check_replaceable`]) and its parent can be written; the error
/// names `option`.
pub fn check_out(option: &str, out: &Path, writer: Writer) -> Result<(), String> {
    staging::check_out(&format!("{option} {}", out.display()), out, writer)
        .map_err(|e| e.to_string())
}

/// Checks that a training run of `size` fits in the memory available, before any work;
/// the error starts with `options`, the options (or files) that set the sizes.
pub fn check_fits(options: &str, size: &RunSize) -> Result<(), String> {
    size.check().map(drop).map_err(|e| format!("{options}: {e}"))
}
