//! Checks of command-line options before any work starts, each error naming the option:
//! a run must not train for minutes and then fail on a value it could have refused.

use crate::output::Staging;
use std::path::Path;

/// Checks an output folder before any work: it must be new, empty, or an earlier output
/// of `spikegrad train` (it is replaced whole), and writable; the error names `option`.
pub fn check_out(option: &str, out: &Path) -> Result<(), String> {
    let label = format!("{option} {}", out.display());
    check_replaceable(&label, out, "metrics.json", "files that spikegrad did not write")?;
    // Writing there is possible now (the staging folder beside it is created and removed).
    Staging::new(out).map(drop).map_err(|e| format!("{label}: cannot write there: {e}"))
}

/// Checks a folder that a writer replaces whole: it must be new, empty, or hold `marker`
/// (what that writer leaves, so an earlier output of its own); `foreign` says in words
/// what the folder holds otherwise. Errors start with `label`.
pub fn check_replaceable(
    label: &str,
    dir: &Path,
    marker: &str,
    foreign: &str,
) -> Result<(), String> {
    if dir.exists() && !dir.is_dir() {
        return Err(format!(
            "{label}: exists and is not a folder; give a new folder (the output is written \
             there whole)"
        ));
    }
    if dir.is_dir() {
        let mut entries =
            std::fs::read_dir(dir).map_err(|e| format!("{label}: cannot read the folder: {e}"))?;
        let empty = entries.next().is_none();
        if !empty && !dir.join(marker).exists() {
            return Err(format!(
                "{label}: holds {foreign} (no {marker}), and the output replaces the folder \
                 whole; give a new or empty folder"
            ));
        }
    }
    Ok(())
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
