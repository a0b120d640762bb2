//! The output folder of a run on a task folder (DESIGN.md): the model of the best
//! held-out check at its top level (a model folder), `metrics.json`, and `checkpoint/`:
//! the latest model with Adam's state and the run's progress, which a later run resumes
//! ([`start`]). The folder is always written whole into a staging folder renamed over
//! the old one, so an interrupted run leaves its last checkpoint whole.

mod record;
mod start;

pub use record::{
    best_json, check_json, clip_json, finite_or_null, norms_json, plan_json, progress_from_json,
    progress_json, score_json,
};
pub use start::{start, NeuronsFrom, StartError, Started};

use crate::case::FolderError;
use crate::model_folder;
use crate::staging::{write_json, Staging, Writer};
use crate::task_folder::TaskData;
use serde_json::{json, Value};
use spikegrad_train::task::{RunState, TaskOptions, TaskRun};
use std::path::Path;

/// Writes extra files (figures) into the staging folder before it replaces the output.
pub type Extra<'a> = dyn Fn(&Path) -> Result<(), Box<dyn std::error::Error>> + 'a;

/// The output folder of a run.
#[derive(Debug, Clone, Copy)]
pub struct RunFolder<'a> {
    /// The folder.
    pub out: &'a Path,
    /// The task trained on.
    pub data: &'a TaskData,
    /// The held-out trials' task, when not the trained one.
    pub val: Option<&'a TaskData>,
    /// The run's options.
    pub options: &'a TaskOptions,
}

impl RunFolder<'_> {
    /// The task's record in a model's config.json.
    fn task_json(&self, n: usize) -> Value {
        json!({ "name": "task", "folder": self.data.dir.display().to_string(), "steps": self.data.task.t, "neurons": n })
    }

    /// Writes a checkpoint of a run still under way.
    pub fn checkpoint(&self, state: RunState<'_>) -> Result<(), FolderError> {
        let summary = json!({ "best": best_json(state.progress.best) });
        self.write(state, summary, false, None)
    }

    /// Writes the folder of a finished run, with `extra` files (figures).
    pub fn finish(&self, run: &TaskRun, extra: Option<&Extra>) -> Result<(), FolderError> {
        let source = match self.val {
            Some(val) => format!("{} (--val, all its {} trials)", val.dir.display(), val.task.k),
            None => format!(
                "{} ({} of its {} trials, held out from training by a fixed split)",
                self.data.dir.display(),
                run.held_out,
                self.data.task.k
            ),
        };
        let summary = json!({ "trials": run.held_out, "from": source,
            "score": score_json(&run.score), "firing_rate_hz": finite_or_null(run.firing_rate),
            "stopped": run.stopped.name() });
        let state = RunState {
            trainer: &run.trainer,
            best: &run.best,
            progress: &run.progress,
            seconds: run.seconds,
        };
        self.write(state, summary, true, extra)
    }

    /// Writes the whole folder (best model, metrics, checkpoint, `extra` files) into a
    /// staging folder renamed over the old one; `finished`: the run has ended.
    fn write(
        &self,
        state: RunState<'_>,
        summary: Value,
        finished: bool,
        extra: Option<&Extra>,
    ) -> Result<(), FolderError> {
        let fail = |file: &str, e: &dyn std::fmt::Display| FolderError::new(self.out, file, e);
        let staging = Staging::new(self.out, Writer::TrainTask).map_err(|e| fail("", &e))?;
        let dir = staging.path();
        let (trainer, best, progress) = (state.trainer, state.best, state.progress);
        let loss = Some(&self.data.loss);
        let in_staging = |e: crate::case::CaseError| e.in_folder(self.out);
        model_folder::save(dir, best, loss, self.task_json(best.n)).map_err(in_staging)?;
        let checkpoint = dir.join("checkpoint");
        std::fs::create_dir(&checkpoint).map_err(|e| fail("checkpoint", &e))?;
        let current = &trainer.model;
        let in_checkpoint = |e: crate::case::CaseError| e.in_subfolder(self.out, "checkpoint");
        model_folder::save(&checkpoint, current, loss, self.task_json(current.n))
            .map_err(in_checkpoint)?;
        let state_json = progress_json(progress, state.seconds);
        model_folder::save_optimizer(&checkpoint, &trainer.optimizer_state(), &state_json)
            .map_err(in_checkpoint)?;
        let o = self.options;
        let metrics = json!({
            "task": self.data.dir.display().to_string(), "finished": finished, "seed": o.seed,
            "iterations": progress.iteration, "kept_iteration": progress.best.map(|b| b.iteration),
            "held_out": summary, "neurons": best.n, "batch": o.batch,
            "learning_rate": progress.plan.as_ref().map_or(o.learning_rate, |p| p.learning_rate),
            "readout_learning_rate": o.readout_learning_rate, "final_rate": o.final_rate,
            "clip": clip_json(o.clip), "plan": progress.plan.as_ref().map(plan_json),
            "back_offs": progress.back_offs,
            "gradient_precision": o.precision.name(),
            "skipped_steps": trainer.skipped(), "wall_seconds": state.seconds,
            "checks": progress.checks.iter().map(check_json).collect::<Vec<_>>(),
            "gradient_norms": norms_json(&progress.norms.run()),
        });
        write_json(&dir.join("metrics.json"), &metrics).map_err(|e| fail("metrics.json", &e))?;
        if let Some(extra) = extra {
            extra(dir).map_err(|e| fail("", &e))?;
        }
        staging.commit().map_err(|e| fail("", &e))
    }
}
