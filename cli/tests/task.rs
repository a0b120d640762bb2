//! `spikegrad train task`, `spikegrad run` and `make-task` end to end at toy size: a
//! paused run resumed with `--init` ends bit for bit where the uninterrupted one does;
//! `run` streams (any chunk size gives the same files) and its outputs agree with each
//! other; a task with every optional file trains; bad input and bad options exit 2 with
//! one line and leave no output folder.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn spikegrad(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_spikegrad")).args(args).output().unwrap()
}

fn run(args: &[&str]) -> String {
    let out = spikegrad(args);
    assert!(out.status.success(), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// The one-line error of a failing command (exit status 2).
fn fails(args: &[&str]) -> String {
    let out = spikegrad(args);
    assert_eq!(out.status.code(), Some(2), "{args:?} should fail");
    let stderr = String::from_utf8_lossy(&out.stderr).trim_end().to_string();
    assert_eq!(stderr.lines().count(), 1, "{args:?}: {stderr}");
    stderr
}

fn folder(name: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(name);
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

fn s(path: &Path) -> &str {
    path.to_str().unwrap()
}

fn json(path: &Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn read<T: npyz::Deserialize>(path: &Path) -> (Vec<u64>, Vec<T>) {
    let file = npyz::NpyFile::new(std::fs::File::open(path).unwrap()).unwrap();
    let shape = file.shape().to_vec();
    (shape, file.into_vec().unwrap())
}

fn write<T: npyz::AutoSerialize + Copy>(path: &Path, shape: &[u64], values: &[T]) {
    let shape: Vec<usize> = shape.iter().map(|&d| d as usize).collect();
    spikegrad_io::npy::write(path, &shape, values).unwrap();
}

const TRAIN: [&str; 8] =
    ["--neurons", "16", "--iterations", "90", "--eval-every", "30", "--batch", "16"];

#[test]
fn a_paused_run_resumes_bit_for_bit_and_run_streams_its_outputs() {
    let task = folder("task-yin-yang");
    run(&["make-task", "yin-yang", s(&task), "--trials", "150"]);
    let (whole, paused) = (folder("task-whole"), folder("task-paused"));
    let mut args = vec!["train", "task", s(&task), "--out", s(&whole)];
    args.extend(TRAIN);
    run(&args);
    args[4] = s(&paused);
    let first = [&args[..], &["--pause-at", "40"]].concat();
    run(&first);
    let metrics = json(&paused.join("metrics.json"));
    assert_eq!(metrics["finished"], true);
    assert_eq!(metrics["iterations"], 40);
    assert_eq!(metrics["held_out"]["stopped"], "pause");
    let resumed = [&args[..], &["--init", s(&paused)]].concat();
    let said = run(&resumed);
    assert!(said.contains("at iteration 40 with its optimiser state"), "{said}");
    for file in
        ["W.npy", "U.npy", "I0.npy", "O.npy", "checkpoint/W.npy", "checkpoint/optimizer/v_W.npy"]
    {
        let (a, b) =
            (std::fs::read(whole.join(file)).unwrap(), std::fs::read(paused.join(file)).unwrap());
        assert!(a == b, "{file} differs between the whole run and the resumed one");
    }
    // The model folder: the loss it was trained with, the arrays, the figures.
    let config = json(&whole.join("config.json"));
    assert_eq!(config["loss"]["kind"], "cross_entropy");
    assert_eq!(config["loss"]["classes"], 3);
    assert_eq!(read::<f32>(&whole.join("O.npy")).0, [3, 16]);
    assert_eq!(read::<f32>(&whole.join("v0.npy")).0, [16]);
    for figure in ["loss.svg", "held_out.svg", "raster.svg"] {
        assert!(whole.join(figure).exists(), "{figure}");
    }
    let metrics = json(&whole.join("metrics.json"));
    let accuracy = metrics["held_out"]["score"]["accuracy"].as_f64().unwrap();
    assert!((0.0..=1.0).contains(&accuracy));
    // The plan: the probes ran, but four iterations each learn nothing on 150 trials,
    // so the option's rate stands; the iterations were given.
    let plan = &metrics["plan"];
    assert_eq!(plan["chosen_by"]["learning_rate"], "no probe learned", "{plan}");
    assert_eq!(plan["learning_rate"], 0.003, "{plan}");
    assert!(plan["untrained"]["accuracy"].as_f64().is_some(), "{plan}");
    assert_eq!(plan["chosen_by"]["iterations"], "option", "{plan}");
    assert_eq!((plan["iterations"].as_u64(), plan["eval_every"].as_u64()), (Some(90), Some(30)));
    let probes = plan["probes"].as_array().unwrap();
    assert_eq!(probes.len(), 4);
    let rates: Vec<f64> = probes.iter().map(|p| p["learning_rate"].as_f64().unwrap()).collect();
    assert!(rates.contains(&plan["learning_rate"].as_f64().unwrap()), "{plan}");
    assert!(probes.iter().all(|p| p["score"]["accuracy"].as_f64().is_some()), "{plan}");
    // Starting from the weights only: a model folder without an optimiser.
    let (source, weights) = (folder("task-weights-source"), folder("task-weights"));
    std::fs::create_dir_all(&source).unwrap();
    for file in ["config.json", "W.npy", "U.npy", "I0.npy", "O.npy", "v0.npy", "s0.npy"] {
        std::fs::copy(whole.join(file), source.join(file)).unwrap();
    }
    let start = ["--out", s(&weights), "--init", s(&source), "--iterations", "5"];
    let said = run(&[&args[..3], &start[..]].concat());
    assert!(said.contains("it has no optimiser state: Adam starts afresh"), "{said}");

    // A model folder plus data is a case for `grad`: its (N,) v0 and s0 are shared by
    // every trial, and their gradients are summed over trials.
    let (case, tiled) = (folder("task-case"), folder("task-case-tiled"));
    for dir in [&case, &tiled] {
        std::fs::create_dir_all(dir).unwrap();
        for file in ["config.json", "W.npy", "U.npy", "I0.npy", "O.npy", "v0.npy", "s0.npy"] {
            std::fs::copy(whole.join(file), dir.join(file)).unwrap();
        }
        for file in ["x.npy", "labels.npy"] {
            std::fs::copy(task.join(file), dir.join(file)).unwrap();
        }
    }
    for name in ["v0", "s0"] {
        let (_, state) = read::<f32>(&whole.join(format!("{name}.npy")));
        write(&tiled.join(format!("{name}.npy")), &[150, 16], &state.repeat(150));
    }
    run(&["grad", s(&case)]);
    run(&["grad", s(&tiled)]);
    let (g, gt) = (case.join("gradient"), tiled.join("gradient"));
    assert!(std::fs::read(g.join("dW.npy")).unwrap() == std::fs::read(gt.join("dW.npy")).unwrap());
    let (shape, dv0) = read::<f32>(&g.join("dv0.npy"));
    assert_eq!(shape, [16]);
    let (_, per_trial) = read::<f32>(&gt.join("dv0.npy"));
    let scale = dv0.iter().fold(0.0f32, |m, x| m.max(x.abs()));
    for (i, &d) in dv0.iter().enumerate() {
        let sum: f64 = (0..150).map(|k| per_trial[k * 16 + i] as f64).sum();
        assert!((d as f64 - sum).abs() <= 1e-5 * scale as f64, "dv0[{i}]: {d} vs {sum}");
    }

    // run: one chunk or chunks of 7 trials give the same files.
    let (one, chunked) = (folder("run-one"), folder("run-chunked"));
    run(&["run", s(&whole), s(&task), "--out", s(&one)]);
    run(&["run", s(&whole), s(&task), "--out", s(&chunked), "--trials-per-chunk", "7"]);
    for file in ["readout.npy", "spikes.npy", "predictions.npy"] {
        assert!(
            std::fs::read(one.join(file)).unwrap() == std::fs::read(chunked.join(file)).unwrap(),
            "{file}"
        );
    }
    let (shape, readout) = read::<f32>(&one.join("readout.npy"));
    assert_eq!(shape, [100, 150, 3]);
    let (shape, spikes) = read::<i64>(&one.join("spikes.npy"));
    assert_eq!(shape[1], 3);
    assert!(shape[0] > 0);
    let rows: Vec<&[i64]> = spikes.chunks(3).collect();
    assert!(rows
        .iter()
        .all(|r| (0..150).contains(&r[0]) && (0..16).contains(&r[1]) && (0..100).contains(&r[2])));
    assert!(
        rows.windows(2).all(|w| (w[0][0], w[0][2], w[0][1]) < (w[1][0], w[1][2], w[1][1])),
        "sorted"
    );
    // Predictions are the argmax of the readout's mean over the window (steps 51..=100).
    let (_, predictions) = read::<i64>(&one.join("predictions.npy"));
    let (_, labels) = read::<i64>(&task.join("labels.npy"));
    for k in 0..150 {
        let mean = |c: usize| (50..100).map(|t| readout[(t * 150 + k) * 3 + c]).sum::<f32>();
        let best = (0..3).max_by(|&a, &b| mean(a).total_cmp(&mean(b))).unwrap();
        assert_eq!(predictions[k], best as i64, "trial {k}");
    }
    let correct = predictions.iter().zip(&labels).filter(|(p, l)| p == l).count();
    let metrics = json(&one.join("metrics.json"));
    assert_eq!(metrics["accuracy"].as_f64().unwrap(), correct as f64 / 150.0);
    assert_eq!(metrics["spikes"].as_u64().unwrap(), shape[0]);
}

#[test]
fn a_task_with_every_optional_file_trains_and_runs() {
    // MSE with a mask, an external current, a connectivity mask and a rate penalty.
    let task = folder("task-general");
    std::fs::create_dir_all(&task).unwrap();
    let (t, k, n_in, n_out, n) = (40usize, 12usize, 2usize, 2usize, 6usize);
    std::fs::write(
        task.join("config.json"),
        r#"{"h": 1.0, "tau": 10.0, "tau_s": 20.0, "gate": "raised_cosine", "delta": 1.0,
            "loss": {"kind": "mse", "rate_penalty": 0.1}}"#,
    )
    .unwrap();
    let wave = |i: usize, f: f64| ((i as f64) * f).sin();
    let x: Vec<f64> = (0..t * k * n_in).map(|i| wave(i, 0.37)).collect();
    let target: Vec<f32> = (0..t * k * n_out).map(|i| wave(i, 0.11) as f32).collect();
    let mask: Vec<f32> = (0..t * k * n_out).map(|i| ((i / 7) % 2) as f32).collect();
    let i_ext: Vec<f32> = (0..t * k * n).map(|i| 0.3 * wave(i, 0.05) as f32).collect();
    let w_mask: Vec<f32> = (0..n * n).map(|i| (i % 4 != 0) as u8 as f32).collect();
    write(&task.join("x.npy"), &[t as u64, k as u64, n_in as u64], &x);
    write(&task.join("target.npy"), &[t as u64, k as u64, n_out as u64], &target);
    write(&task.join("mask.npy"), &[t as u64, k as u64, n_out as u64], &mask);
    write(&task.join("I_ext.npy"), &[t as u64, k as u64, n as u64], &i_ext);
    write(&task.join("W_mask.npy"), &[n as u64, n as u64], &w_mask);
    let out = folder("task-general-out");
    run(&[
        "train",
        "task",
        s(&task),
        "--out",
        s(&out),
        "--iterations",
        "20",
        "--eval-every",
        "10",
        "--train-time-constants",
    ]);
    let (_, w) = read::<f32>(&out.join("W.npy"));
    let (shape, saved_mask) = read::<f32>(&out.join("W_mask.npy"));
    assert_eq!(shape, [6, 6]);
    assert_eq!(saved_mask, w_mask);
    assert!(w.iter().zip(&w_mask).all(|(w, m)| *m != 0.0 || *w == 0.0), "masked weights stay 0");
    assert_eq!(read::<f32>(&out.join("tau_s.npy")).0, [6]);
    // N is fixed by I_ext.npy and W_mask.npy.
    let err = fails(&["train", "task", s(&task), "--out", s(&folder("x")), "--neurons", "5"]);
    assert!(err.contains("--neurons 5: the task's I_ext.npy fixes N = 6"), "{err}");
    // run with the external current: the readout (T, K, n_out); no predictions for MSE.
    let ran = folder("task-general-run");
    run(&["run", s(&out), s(&task), "--out", s(&ran)]);
    assert_eq!(read::<f32>(&ran.join("readout.npy")).0, [40, 12, 2]);
    assert!(!ran.join("predictions.npy").exists());
    // run refuses an I_ext of another N, naming the file.
    let other = folder("task-general-other");
    std::fs::create_dir_all(&other).unwrap();
    write(&other.join("x.npy"), &[t as u64, k as u64, n_in as u64], &x);
    write(&other.join("I_ext.npy"), &[t as u64, k as u64, 5], &vec![0.0f32; t * k * 5]);
    let err = fails(&["run", s(&out), s(&other), "--out", s(&folder("y"))]);
    assert!(err.contains("I_ext.npy: shape [40, 12, 5], expected (T, K, N)"), "{err}");
}

#[test]
fn bad_input_and_bad_options_exit_2_with_one_line_and_no_output() {
    let task = folder("task-bad");
    run(&["make-task", "yin-yang", s(&task), "--trials", "30"]);
    let out = folder("task-bad-out");
    let o = s(&out);
    let t = s(&task);
    let file = folder("task-bad-file");
    std::fs::write(&file, "precious").unwrap();
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (vec!["train", "xor", "--out", s(&file)], "exists and is not a folder"),
        (
            vec!["train", "xor", "--learning-rate", "nan", "--out", o],
            "--learning-rate NaN: must be a finite number > 0",
        ),
        (vec!["train", "xor", "--batch", "0", "--out", o], "--batch 0: must be at least 1"),
        (vec!["train", "predict", "--tau=-1", "--out", o], "--tau -1: must be a finite number > 0"),
        (vec!["train", "task", t, "--out", s(&file)], "exists and is not a folder"),
        (vec!["train", "task", t, "--out", o, "--batch", "0"], "--batch 0"),
        (vec!["train", "task", t, "--out", o, "--iterations", "0"], "--iterations 0"),
        (
            vec!["train", "task", t, "--out", o, "--probe-learning-rates", "0.01,-1"],
            "--probe-learning-rates -1: each must be finite and > 0",
        ),
        (vec!["train", "task", t, "--out", o, "--clip-norm", "0"], "--clip-norm 0: must be"),
        (
            vec!["train", "task", t, "--out", o, "--readout-scale", "inf"],
            "--readout-scale inf: must be a finite number >= 0",
        ),
        (vec!["train", "task", t, "--out", o, "--init", t], "W.npy: file not found"),
        (vec!["train", "task", o, "--out", o], "not a folder"),
        (vec!["run", t, t, "--out", o], "W.npy: file not found"),
    ];
    for (args, expected) in cases {
        let err = fails(&args);
        assert!(err.contains(expected), "{args:?}: {err}");
        assert!(!out.exists(), "{args:?} left an output folder");
    }
    assert_eq!(std::fs::read_to_string(&file).unwrap(), "precious");
    // Labels out of range, named with the file and element.
    write(&task.join("labels.npy"), &[30], &(0..30).map(|i| i % 4).collect::<Vec<i64>>());
    let err = fails(&["train", "task", t, "--out", o]);
    assert!(err.contains("labels.npy: element [3] is 3: a label must be a class in 0..3"), "{err}");
    assert!(!out.exists());
}

#[test]
fn a_writer_killed_mid_replacement_is_recovered() {
    // What a kill leaves: the new version's unfinished staging folder, or the previous
    // version moved aside with the target gone (between the two renames of a commit).
    let parent = folder("task-recover");
    let target = parent.join("out");
    std::fs::create_dir_all(&parent).unwrap();
    let dead = 999_999_999u32; // no such process
    let unfinished = parent.join(format!(".out.tmp-{dead}"));
    let aside = parent.join(format!(".out.tmp-{}.old", dead - 1));
    std::fs::create_dir_all(&unfinished).unwrap();
    std::fs::create_dir_all(&aside).unwrap();
    std::fs::write(aside.join("metrics.json"), "{}").unwrap();
    spikegrad_io::staging::recover(&target).unwrap();
    assert!(!unfinished.exists() && !aside.exists());
    assert!(target.join("metrics.json").exists(), "the previous version is back");
    // With the target present, a leftover previous version is only removed.
    std::fs::create_dir_all(&aside).unwrap();
    spikegrad_io::staging::recover(&target).unwrap();
    assert!(!aside.exists() && target.join("metrics.json").exists());
}

#[test]
fn a_stalled_run_ends_with_its_best_model_instead_of_losing_it() {
    // tau 4.5 ms, tau_s 1.5 ms, 2000 steps: every f32 gradient overflows from the start.
    let task = folder("task-stalled");
    std::fs::create_dir_all(&task).unwrap();
    std::fs::write(
        task.join("config.json"),
        r#"{"h": 1.0, "tau": 4.5, "tau_s": 1.5, "gate": "raised_cosine", "delta": 1.0}"#,
    )
    .unwrap();
    let (t, k) = (2000u64, 40u64);
    let x: Vec<f32> = (0..t * k * 2).map(|i| 1.5 * (i as f32 * 0.37).sin()).collect();
    write(&task.join("x.npy"), &[t, k, 2], &x);
    write(&task.join("target.npy"), &[t, k, 2], &x);
    let out = folder("task-stalled-out");
    let args = ["--iterations", "100", "--eval-every", "10", "--neurons", "64", "--step", "euler"];
    let said = run(&[&["train", "task", s(&task), "--out", s(&out)][..], &args[..]].concat());
    assert!(said.contains("training stalled at iteration 50"), "{said}");
    let metrics = json(&out.join("metrics.json"));
    assert_eq!(metrics["held_out"]["stopped"], "stall");
    assert!(metrics["kept_iteration"].as_u64().is_some_and(|i| i < 50), "{metrics}");
    assert!(out.join("W.npy").exists() && out.join("checkpoint/optimizer/state.json").exists());
}

#[test]
fn a_run_that_backs_off_resumes_bit_for_bit_across_its_fallen_checks() {
    let task = folder("task-smooth-back-off");
    run(&["make-task", "smooth", s(&task), "--trials", "40"]);
    let (whole, paused) = (folder("task-back-off-whole"), folder("task-back-off-paused"));
    // Rates far too large: the held-out NMSE rises from its best again and again.
    let mut args = vec!["train", "task", s(&task), "--out", s(&whole), "--neurons", "8"];
    args.extend(["--iterations", "30", "--eval-every", "1", "--batch", "8"]);
    args.extend(["--learning-rate", "3", "--readout-learning-rate", "30"]);
    let said = run(&args);
    let metrics = json(&whole.join("metrics.json"));
    let back_offs: Vec<u64> =
        metrics["back_offs"].as_array().unwrap().iter().map(|i| i.as_u64().unwrap()).collect();
    assert!(!back_offs.is_empty(), "{said}");
    assert_eq!(said.matches("fell below the best").count(), back_offs.len(), "{said}");
    // Paused one check before the first back-off, with fallen checks in its record.
    let pause = (back_offs[0] - 1).to_string();
    args[4] = s(&paused);
    run(&[&args[..], &["--pause-at", &pause]].concat());
    run(&[&args[..], &["--init", s(&paused)]].concat());
    assert_eq!(json(&paused.join("metrics.json"))["back_offs"], metrics["back_offs"]);
    for file in ["W.npy", "O.npy", "checkpoint/W.npy", "checkpoint/optimizer/v_W.npy"] {
        let (a, b) =
            (std::fs::read(whole.join(file)).unwrap(), std::fs::read(paused.join(file)).unwrap());
        assert!(a == b, "{file} differs between the whole run and the resumed one");
    }
}
