//! Checks of command-line options before any work starts, each error naming the option:
//! a run must not train for minutes and then fail on a value it could have refused.

use crate::output::Staging;
use std::path::Path;

/// Checks an output folder before any work: it must be new, empty, or an earlier output
/// of `spikegrad train` (it is replaced whole), and writable; the error names `option`.
pub fn check_out(option: &str, out: &Path) -> Result<(), String> {
    let shown = out.display();
    if out.exists() && !out.is_dir() {
        return Err(format!(
            "{option} {shown}: exists and is not a folder; give a new folder (the output is \
             written there whole)"
        ));
    }
    if out.is_dir() {
        let mut entries = std::fs::read_dir(out)
            .map_err(|e| format!("{option} {shown}: cannot read the folder: {e}"))?;
        let empty = entries.next().is_none();
        if !empty && !out.join("metrics.json").exists() {
            return Err(format!(
                "{option} {shown}: holds files that spikegrad did not write (no metrics.json), \
                 and the output replaces the folder whole; give a new or empty folder"
            ));
        }
    }
    // Writing there is possible now (the staging folder beside it is created and removed).
    Staging::new(out).map(drop).map_err(|e| format!("{option} {shown}: cannot write there: {e}"))
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
