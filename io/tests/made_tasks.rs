//! Every generated task, written by `made_task::write`, loads as a task folder with the
//! generator's trials, constants and loss, bit for bit.

use spikegrad_io::made_task::{self, MakeTaskError};
use spikegrad_io::task_folder;
use spikegrad_train::dataset::{GeneratedLoss, TaskKind};
use std::path::PathBuf;

fn folder(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("spikegrad-io-made-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

#[test]
fn every_generated_task_loads_as_generated() {
    for kind in TaskKind::ALL {
        let dir = folder(kind.name());
        made_task::write(&dir, kind.name(), kind, 7, 3).expect("written");
        let loaded = task_folder::load(&dir).expect("a valid task folder");
        let generated = kind.generate(7, 3);
        let task = &loaded.task;
        assert_eq!((task.t, task.k, task.n_in), (generated.steps, 7, generated.channels));
        assert_eq!(task.x, generated.x, "{}", kind.name());
        assert_eq!(task.config, generated.config, "{}", kind.name());
        match generated.loss {
            GeneratedLoss::CrossEntropy { labels, classes, from_step, to_step } => {
                let labels: Vec<usize> = labels.iter().map(|&l| l as usize).collect();
                assert_eq!(task.labels, labels, "{}", kind.name());
                assert_eq!(task.n_out, classes);
                assert_eq!(loaded.loss.from_step, Some(from_step));
                assert_eq!(loaded.loss.to_step, Some(to_step));
            }
            GeneratedLoss::Mse { target, mask, outputs } => {
                assert_eq!((&task.target, &task.mask), (&target, &mask), "{}", kind.name());
                assert_eq!(task.n_out, outputs);
            }
            _ => unreachable!(),
        }
        std::fs::remove_dir_all(&dir).expect("removed");
    }
}

#[test]
fn a_made_task_replaces_only_its_own_kind_of_folder() {
    let dir = folder("replace");
    made_task::write(&dir, "out", TaskKind::Patterns, 4, 1).expect("written");
    made_task::write(&dir, "out", TaskKind::Smooth, 4, 1).expect("a made task is replaced");
    assert!(dir.join("target.npy").exists() && !dir.join("labels.npy").exists());
    assert!(matches!(
        made_task::write(&dir, "out", TaskKind::Xor, 0, 1),
        Err(MakeTaskError::NoTrials)
    ));
    let other = folder("other");
    std::fs::create_dir_all(&other).expect("made");
    std::fs::write(other.join("notes.txt"), "mine").expect("written");
    let refused = made_task::write(&other, "out", TaskKind::YinYang, 4, 1);
    assert!(matches!(refused, Err(MakeTaskError::Output(_))), "{refused:?}");
    assert_eq!(std::fs::read_to_string(other.join("notes.txt")).expect("kept"), "mine");
    for d in [dir, other] {
        std::fs::remove_dir_all(d).expect("removed");
    }
}
