//! The Python side of a training loop ([`spikegrad_train::observer::Observer`]): each
//! held-out check as a dict to the caller's `on_check`, or as a line on `sys.stderr` (a
//! notebook shows it, the process's stderr it may not); and a stop, within a training
//! step, on Ctrl-C or on an exception of the callback.

use pyo3::prelude::*;
use pyo3::types::PyDict;
use spikegrad_train::observer::{Control, Observer};
use spikegrad_train::{StepReport, Trainer};

/// A check as Python sees it: a dict, and a line.
pub trait PythonCheck {
    /// The dict given to `on_check`.
    fn dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>>;
    /// The line written without a callback.
    fn line(&self) -> String;
}

/// An observer that reports to Python and stops on a pending signal.
pub struct Progress {
    on_check: Option<Py<PyAny>>,
    /// The error that stopped the run (KeyboardInterrupt, or the callback's).
    pub raised: Option<PyErr>,
}

impl Progress {
    /// Checks to `on_check`, else to `sys.stderr`.
    pub fn new(on_check: Option<Py<PyAny>>) -> Self {
        Progress { on_check, raised: None }
    }

    /// Writes a line to `sys.stderr`.
    pub fn say(&mut self, py: Python<'_>, line: &str) {
        let written = py
            .import("sys")
            .and_then(|sys| sys.getattr("stderr"))
            .and_then(|err| err.call_method1("write", (format!("{line}\n"),)));
        if let Err(e) = written {
            self.raised.get_or_insert(e);
        }
    }

    fn stop_on(&mut self, result: PyResult<()>) -> Control {
        match result {
            Ok(()) => Control::Continue,
            Err(e) => {
                self.raised = Some(e);
                Control::Stop
            }
        }
    }

    /// The error that stopped the run, else `error` in Python's words.
    pub fn error(&mut self, error: PyErr) -> PyErr {
        self.raised.take().unwrap_or(error)
    }
}

impl<C: PythonCheck> Observer<C> for Progress {
    fn step(&mut self, _iteration: usize, _report: &StepReport, _trainer: &Trainer) -> Control {
        let signals = Python::attach(|py| py.check_signals());
        self.stop_on(signals)
    }

    fn check(&mut self, check: &C) -> Control {
        let result = Python::attach(|py| -> PyResult<()> {
            match &self.on_check {
                Some(callback) => {
                    callback.call1(py, (check.dict(py)?,))?;
                }
                None => self.say(py, &check.line()),
            }
            py.check_signals()
        });
        self.stop_on(result)
    }

    fn note(&mut self, line: &str) {
        Python::attach(|py| self.say(py, line));
    }
}
