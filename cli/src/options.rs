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

/// A positive whole-number option.
pub fn check_count(option: &str, value: usize) -> Result<(), String> {
    if value == 0 {
        return Err(format!("{option} 0: must be at least 1"));
    }
    Ok(())
}

/// A finite, positive number option.
pub fn check_positive(option: &str, value: f64) -> Result<(), String> {
    if !(value.is_finite() && value > 0.0) {
        return Err(format!("{option} {value}: must be a finite number > 0"));
    }
    Ok(())
}

/// A finite number option that may be zero.
pub fn check_non_negative(option: &str, value: f64) -> Result<(), String> {
    if !(value.is_finite() && value >= 0.0) {
        return Err(format!("{option} {value}: must be a finite number >= 0"));
    }
    Ok(())
}
