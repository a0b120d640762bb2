//! Bad input as a user meets it, end to end: the one rule for replacing output (a command
//! replaces a folder only when it holds that command's own earlier output), nothing
//! created before every input is checked, runs too large for memory refused at once, a
//! model folder checked like a case folder, a checkpoint's optimiser files named, and
//! an initial phase taken modulo 2.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn spikegrad(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_spikegrad")).args(args).output().unwrap()
}

fn run(args: &[&str]) -> String {
    let out = spikegrad(args);
    assert!(out.status.success(), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr)
}

/// The one-line error of a command that must fail with exit status 2.
fn fails(args: &[&str]) -> String {
    let out = spikegrad(args);
    let stderr = String::from_utf8_lossy(&out.stderr).trim_end().to_string();
    assert_eq!(out.status.code(), Some(2), "{args:?} should fail: {stderr}");
    assert_eq!(stderr.lines().count(), 1, "{args:?}: {stderr}");
    stderr
}

fn folder(name: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("bad-input").join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.parent().unwrap()).unwrap();
    dir
}

fn s(path: &Path) -> &str {
    path.to_str().unwrap()
}

/// Every file under `dir` with its bytes, sorted by path.
fn contents(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut files = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(at) = stack.pop() {
        for entry in std::fs::read_dir(&at).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else {
                files.push((path.clone(), std::fs::read(&path).unwrap()));
            }
        }
    }
    files.sort();
    files
}

const TINY: [&str; 8] =
    ["--neurons", "8", "--iterations", "4", "--eval-every", "2", "--batch", "4"];

/// A small Yin-Yang task and a model trained on it by `train task`.
fn task_and_model(name: &str) -> (PathBuf, PathBuf) {
    let (task, model) = (folder(&format!("{name}-task")), folder(&format!("{name}-model")));
    run(&["make-task", "yin-yang", s(&task), "--trials", "20"]);
    run(&[&["train", "task", s(&task), "--out", s(&model)][..], &TINY[..]].concat());
    (task, model)
}

/// A case folder for `grad`: a tiny network in f64.
fn write_case(dir: &Path, v0: f64) {
    std::fs::create_dir_all(dir).unwrap();
    std::fs::write(
        dir.join("config.json"),
        r#"{"h": 0.5, "tau": 10.0, "tau_s": 20.0, "gate": "raised_cosine", "delta": 1.0}"#,
    )
    .unwrap();
    let (n, t) = (3usize, 40usize);
    let arrays: [(&str, Vec<usize>, Vec<f64>); 9] = [
        ("W", vec![n, n], vec![0.3, -0.2, 0.5, 0.1, 0.0, -0.4, 0.2, 0.6, -0.1]),
        ("U", vec![n, 1], vec![1.2, -0.7, 0.9]),
        ("I0", vec![n], vec![0.2, -0.1, 0.4]),
        ("O", vec![1, n], vec![0.5, -0.3, 0.8]),
        ("v0", vec![1, n], vec![v0, -0.5, 0.25]),
        ("s0", vec![1, n], vec![0.0, 0.01, 0.0]),
        ("x", vec![t, 1, 1], (0..t).map(|i| (i as f64 * 0.3).sin()).collect()),
        ("target", vec![t, 1, 1], (0..t).map(|i| (i as f64 * 0.2).cos() * 0.1).collect()),
        ("mask", vec![t, 1, 1], vec![1.0; t]),
    ];
    for (name, shape, values) in arrays {
        spikegrad_io::npy::write(&dir.join(format!("{name}.npy")), &shape, &values).unwrap();
    }
}

fn loss(out: &Path) -> f64 {
    let text = std::fs::read_to_string(out.join("loss.json")).unwrap();
    serde_json::from_str::<serde_json::Value>(&text).unwrap()["loss"].as_f64().unwrap()
}

#[test]
fn a_command_replaces_only_its_own_earlier_output() {
    let (task, model) = task_and_model("rule");
    let saved = contents(&model);
    // `run` over the model it runs: refused, the model untouched (the case that lost data).
    let err = fails(&["run", s(&model), s(&task), "--out", s(&model)]);
    assert!(err.contains("holds the output of `spikegrad train task`"), "{err}");
    assert!(err.contains("`spikegrad run` replaces only"), "{err}");
    // Nor its checkpoint, which holds no marker of its own.
    let checkpoint = model.join("checkpoint");
    let err = fails(&["run", s(&model), s(&task), "--out", s(&checkpoint)]);
    assert!(err.contains("files that spikegrad did not write there"), "{err}");
    // Every other writer refuses the model folder too.
    let case = folder("rule-case");
    write_case(&case, 0.1);
    let xor = ["--neurons", "4", "--batch", "2", "--max-iterations", "1", "--out", s(&model)];
    let predict =
        ["--neurons", "4", "--max-iterations", "1", "--trial-ms", "20", "--out", s(&model)];
    for args in [
        vec!["grad", s(&case), "--out", s(&model)],
        [&["train", "xor"][..], &xor[..]].concat(),
        [&["train", "predict"][..], &predict[..]].concat(),
        [&["train", "efficient-coding", "--penalties", "0"][..], &predict[..]].concat(),
        vec!["make-task", "yin-yang", s(&model), "--trials", "5"],
    ] {
        let err = fails(&args);
        assert!(err.contains("holds the output of `spikegrad train task`"), "{args:?}: {err}");
    }
    assert!(contents(&model) == saved, "the model folder is unchanged");

    // A run's output is replaced by a run, and refused to training.
    let ran = folder("rule-ran");
    run(&["run", s(&model), s(&task), "--out", s(&ran)]);
    run(&["run", s(&model), s(&task), "--out", s(&ran)]);
    let err = fails(&[&["train", "task", s(&task), "--out", s(&ran)][..], &TINY[..]].concat());
    assert!(err.contains("holds the output of `spikegrad run`"), "{err}");
    // Training replaces its own output, grad and make-task theirs.
    run(&[&["train", "task", s(&task), "--out", s(&model)][..], &TINY[..]].concat());
    let grad_out = folder("rule-grad");
    run(&["grad", s(&case), "--out", s(&grad_out)]);
    run(&["grad", s(&case), "--out", s(&grad_out)]);
    run(&["make-task", "yin-yang", s(&task), "--trials", "20"]);

    // A folder spikegrad did not write is refused by every writer, and left as it is.
    let foreign = folder("rule-foreign");
    std::fs::create_dir_all(&foreign).unwrap();
    std::fs::write(foreign.join("notes.txt"), "precious").unwrap();
    for args in [
        vec!["grad", s(&case), "--out", s(&foreign)],
        vec!["run", s(&model), s(&task), "--out", s(&foreign)],
        vec!["make-task", "yin-yang", s(&foreign)],
        [&["train", "task", s(&task), "--out", s(&foreign)][..], &TINY[..]].concat(),
    ] {
        let err = fails(&args);
        assert!(err.contains("did not write there (notes.txt)"), "{args:?}: {err}");
    }
    assert_eq!(std::fs::read_to_string(foreign.join("notes.txt")).unwrap(), "precious");
}

#[test]
fn nothing_is_created_before_every_input_is_checked() {
    let (task, model) = task_and_model("create");
    let case = folder("create-case");
    write_case(&case, 0.1);
    let parent = folder("create-new-parent");
    let out = parent.join("deeper").join("out");
    let o = s(&out);
    let missing = folder("create-missing");
    for args in [
        vec!["train", "task", s(&missing), "--out", o],
        vec!["train", "task", s(&task), "--out", o, "--batch", "0"],
        vec!["run", s(&model), s(&missing), "--out", o],
        vec!["run", s(&missing), s(&task), "--out", o],
        vec!["grad", s(&missing), "--out", o],
        vec!["train", "xor", "--neurons", "0", "--out", o],
        vec!["train", "predict", "--tau=-1", "--out", o],
        vec!["make-task", "yin-yang", o, "--trials", "0"],
    ] {
        fails(&args);
        assert!(!parent.exists(), "{args:?} created {}", parent.display());
    }
    // A valid command creates the missing parents when it writes.
    run(&["grad", s(&case), "--out", o]);
    assert!(out.join("loss.json").exists());
    // An output under a file cannot be written: said before any work.
    let file = folder("create-file");
    std::fs::write(&file, "x").unwrap();
    let under = file.join("out");
    let err = fails(&["grad", s(&case), "--out", s(&under)]);
    assert!(err.contains("exists and is not a folder"), "{err}");
}

#[test]
fn a_missing_model_folder_is_named_once() {
    let task = folder("named-task");
    run(&["make-task", "yin-yang", s(&task), "--trials", "5"]);
    let nowhere = folder("named-nowhere");
    let err = fails(&["run", s(&nowhere), s(&task), "--out", s(&folder("named-out"))]);
    assert_eq!(err.matches(s(&nowhere)).count(), 1, "{err}");
    assert!(err.ends_with("not a folder (a model folder written by spikegrad train)"), "{err}");
}

#[test]
fn runs_too_large_for_memory_are_refused_before_any_work() {
    let task = folder("memory-task");
    run(&["make-task", "yin-yang", s(&task), "--trials", "10"]);
    let out = folder("memory-out");
    let o = s(&out);
    for (args, option) in [
        (vec!["train", "task", s(&task), "--neurons", "100000", "--out", o], "--neurons 100000"),
        (vec!["train", "task", s(&task), "--neurons", "30000", "--out", o], "--neurons 30000"),
        (vec!["train", "xor", "--neurons", "100000", "--out", o], "--neurons 100000"),
        (vec!["train", "xor", "--h", "0.000001", "--out", o], "--h 0.000001"),
        (vec!["train", "predict", "--neurons", "100000", "--out", o], "--neurons 100000"),
        (
            vec!["train", "efficient-coding", "--neurons", "60000", "--penalties", "0", "--out", o],
            "--neurons 60000",
        ),
        (vec!["make-task", "yin-yang", o, "--trials", "1000000000000"], "--trials 1000000000000"),
    ] {
        let err = fails(&args);
        assert!(err.starts_with("error: ") && err.contains(option), "{args:?}: {err}");
        assert!(err.contains("GB are available") || err.contains("GB of memory"), "{err}");
        assert!(!out.exists(), "{args:?} left an output folder");
    }
}

#[test]
fn a_model_folder_gets_the_checks_of_a_case_folder() {
    let (task, model) = task_and_model("window");
    let config_path = model.join("config.json");
    let text = std::fs::read_to_string(&config_path).unwrap();
    let out = folder("window-out");
    for (from, to, expected) in [
        (0, 0, "loss.to_step = 0 is outside the steps 1.."),
        (50, 20, "loss.from_step = 50 must be < loss.to_step = 20"),
        (30, 30, "loss.from_step = 30 must be < loss.to_step = 30"),
    ] {
        let mut config: serde_json::Value = serde_json::from_str(&text).unwrap();
        config["loss"]["from_step"] = from.into();
        config["loss"]["to_step"] = to.into();
        std::fs::write(&config_path, config.to_string()).unwrap();
        let err = fails(&["run", s(&model), s(&task), "--out", s(&out)]);
        assert!(err.contains("config.json: ") && err.contains(expected), "{err}");
        assert!(!out.exists());
        // Resuming from it is refused alike.
        let resumed = folder("window-resumed");
        let args = ["train", "task", s(&task), "--init", s(&model), "--out", s(&resumed)];
        let err = fails(&[&args[..], &TINY[..]].concat());
        assert!(err.contains(expected), "{err}");
    }
}

#[test]
fn a_checkpoint_whose_optimiser_files_do_not_fit_is_named_before_anything_is_said() {
    let (task, model) = task_and_model("moments");
    let m_w = model.join("checkpoint/optimizer/m_W.npy");
    spikegrad_io::npy::write(&m_w, &[5], &[0.0f64; 5]).unwrap();
    let out = folder("moments-out");
    let args = ["train", "task", s(&task), "--init", s(&model), "--out", s(&out)];
    let err = fails(&[&args[..], &TINY[..]].concat());
    assert!(err.contains("optimizer/m_W.npy: holds 5 moments, expected (64,)"), "{err}");
    assert!(!err.contains("resuming"), "{err}");
    // A second moment below zero is named by file and element.
    let (task, model) = task_and_model("moments-negative");
    let v_i0 = model.join("checkpoint/optimizer/v_I0.npy");
    spikegrad_io::npy::write(&v_i0, &[8], &[0.0, 0.0, -1.0, 0.0, 0.0, 0.0, 0.0, 0.0f64]).unwrap();
    let args = ["train", "task", s(&task), "--init", s(&model), "--out", s(&out)];
    let err = fails(&[&args[..], &TINY[..]].concat());
    assert!(err.contains("optimizer/v_I0.npy: element [2] is -1"), "{err}");
    // Time constants trained on one side only: the file and the option are named.
    let (task, model) = task_and_model("moments-constants");
    let args = ["train", "task", s(&task), "--init", s(&model), "--out", s(&out)];
    let err = fails(&[&args[..], &TINY[..], &["--train-time-constants"][..]].concat());
    assert!(err.contains("optimizer/m_ln_tau.npy: holds 0 moments, expected 8"), "{err}");
    assert!(err.contains("resume without --train-time-constants"), "{err}");
}

#[test]
fn held_out_checks_say_where_their_trials_come_from() {
    let (task, model) = task_and_model("source");
    let text = std::fs::read_to_string(model.join("metrics.json")).unwrap();
    let metrics: serde_json::Value = serde_json::from_str(&text).unwrap();
    let from = metrics["held_out"]["from"].as_str().unwrap();
    let expected = "(4 of its 20 trials, held out from training by a fixed split)";
    assert_eq!(from, format!("{} {expected}", s(&task)));
}

#[test]
fn an_initial_phase_is_taken_modulo_two() {
    let (a, b) = (folder("phase-a"), folder("phase-b"));
    write_case(&a, 0.3);
    write_case(&b, 0.3 + 4.0);
    run(&["grad", s(&a)]);
    run(&["grad", s(&b)]);
    let (la, lb) = (loss(&a.join("gradient")), loss(&b.join("gradient")));
    assert!((la - lb).abs() <= 1e-12 * la.abs(), "{la} vs {lb}");
    write_case(&b, 5.0);
    write_case(&a, -1.0);
    run(&["grad", s(&a)]);
    run(&["grad", s(&b)]);
    assert_eq!(loss(&a.join("gradient")), loss(&b.join("gradient")));
}

#[test]
fn a_model_trained_with_the_midpoint_step_records_it_and_runs_with_it() {
    let task = folder("midpoint-task");
    run(&["make-task", "yin-yang", s(&task), "--trials", "20"]);
    let model = folder("midpoint-model");
    let args = ["train", "task", s(&task), "--out", s(&model), "--step", "midpoint"];
    run(&[&args[..], &TINY[..]].concat());
    let config: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(model.join("config.json")).unwrap()).unwrap();
    assert_eq!(config["step"], "midpoint");
    run(&["run", s(&model), s(&task), "--out", s(&folder("midpoint-ran"))]);
    // Resumed with another step map: refused, naming both; without --step, by its own.
    let resumed = folder("midpoint-resumed");
    let args = ["train", "task", s(&task), "--init", s(&model), "--out", s(&resumed)];
    let err = fails(&[&args[..], &TINY[..], &["--step", "euler"]].concat());
    assert!(
        err.contains(r#"it steps by "midpoint" (its config.json) and this run by "euler""#),
        "{err}"
    );
    let said = run(&[&args[..], &TINY[..]].concat());
    assert!(said.contains("resuming"), "{said}");
    // An Euler model's config.json has no "step" key: the default, as before.
    let euler = folder("midpoint-euler");
    let args = ["train", "task", s(&task), "--out", s(&euler), "--step", "euler"];
    run(&[&args[..], &TINY[..]].concat());
    let text = std::fs::read_to_string(euler.join("config.json")).unwrap();
    assert!(!text.contains("\"step\""), "{text}");
    // Every train command takes --step.
    let out = folder("midpoint-xor");
    let xor = ["--neurons", "16", "--batch", "2", "--max-iterations", "1", "--eval-every", "1"];
    run(&[&["train", "xor", "--step", "midpoint", "--out", s(&out)][..], &xor[..]].concat());
    let text = std::fs::read_to_string(out.join("config.json")).unwrap();
    assert!(text.contains(r#""step": "midpoint""#), "{text}");
}
