//! `spikegrad train` end to end, at toy size: the output folder holds the model as a
//! case-style folder (v0, s0 of shape (N,)), metrics.json and the SVG figures, and the
//! same seed gives the same model bit for bit.

use std::path::PathBuf;
use std::process::Command;

fn run(args: &[&str]) {
    let out = Command::new(env!("CARGO_BIN_EXE_spikegrad")).args(args).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
}

/// Runs a command that must fail with exit code 2 and leave `out` unwritten; its stderr.
fn fails(args: &[&str], out: &std::path::Path) -> String {
    let result = Command::new(env!("CARGO_BIN_EXE_spikegrad"))
        .args(args)
        .arg("--out")
        .arg(out)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&result.stderr).into_owned();
    assert_eq!(result.status.code(), Some(2), "{stderr}");
    assert!(!out.exists(), "no output folder on error");
    stderr
}

fn folder(name: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(name);
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

fn read_json(path: &std::path::Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn read_f32(path: &std::path::Path) -> Vec<f32> {
    npyz::NpyFile::new(std::fs::File::open(path).unwrap()).unwrap().into_vec().unwrap()
}

fn shape(path: &PathBuf) -> Vec<u64> {
    npyz::NpyFile::new(std::fs::File::open(path).unwrap()).unwrap().shape().to_vec()
}

#[test]
fn train_xor_writes_model_metrics_and_figures() {
    let (a, b) = (folder("train-xor-a"), folder("train-xor-b"));
    for out in [&a, &b] {
        run(&[
            "train",
            "xor",
            "--start",
            "latch",
            "--neurons",
            "16",
            "--batch",
            "4",
            "--max-iterations",
            "6",
            "--eval-every",
            "3",
            "--restart-after",
            "4",
            "--out",
            out.to_str().unwrap(),
        ]);
    }
    for file in [
        "config.json",
        "metrics.json",
        "loss.svg",
        "raster.svg",
        "W.npy",
        "U.npy",
        "I0.npy",
        "O.npy",
        "v0.npy",
        "s0.npy",
    ] {
        assert!(a.join(file).exists(), "{file}");
    }
    assert_eq!(shape(&a.join("v0.npy")), vec![16]);
    assert_eq!(shape(&a.join("W.npy")), vec![16, 16]);
    let metrics = read_json(&a.join("metrics.json"));
    assert_eq!(metrics["iterations"], 6);
    assert_eq!(metrics["start"], "latch");
    assert!(metrics["test"]["accuracy"]["median_signed_readout"].as_f64().unwrap().is_finite());
    // No check passes at this size: attempt 2 starts after iteration 4.
    assert_eq!(metrics["restarts_at"], serde_json::json!([4]));
    // No attempt passed: the model saved is that of the most accurate check (3 or 6).
    assert!([3, 6].contains(&metrics["kept_iteration"].as_u64().unwrap()));
    assert_eq!(metrics["test"]["trials"], 1000);
    assert_eq!(metrics["checks"].as_array().unwrap().len(), 2);
    // Each check reports the gradient norms of its window; metrics.json those of the run.
    for check in metrics["checks"].as_array().unwrap() {
        assert_eq!(check["gradient_norms"]["steps"], 3, "{check}");
    }
    let norms = &metrics["gradient_norms"];
    assert_eq!(norms["steps"], 6);
    let (median, p99, max) =
        (norms["median"].as_f64(), norms["p99"].as_f64(), norms["max"].as_f64());
    if norms["skipped"] != 6 {
        let (median, p99, max) = (median.unwrap(), p99.unwrap(), max.unwrap());
        assert!(0.0 < median && median <= p99 && p99 <= max && max.is_finite(), "{norms}");
    }
    let config = read_json(&a.join("config.json"));
    assert_eq!((config["h"].as_f64(), config["gate"].as_str()), (Some(2.0), Some("raised_cosine")));
    assert_eq!((config["tau"].as_f64(), config["tau_s"].as_f64()), (Some(20.0), Some(100.0)));
    assert_eq!(
        std::fs::read(a.join("W.npy")).unwrap(),
        std::fs::read(b.join("W.npy")).unwrap(),
        "same seed, same bits"
    );
}

#[test]
fn the_latch_start_names_the_fault_when_the_network_is_too_small() {
    let args = ["train", "xor", "--start", "latch", "--neurons", "8"];
    let stderr = fails(&args, &folder("train-xor-small"));
    assert!(stderr.contains("--neurons 8: the latch start needs at least 16 neurons"), "{stderr}");
}

#[test]
fn train_predict_writes_both_networks() {
    let out = folder("train-predict");
    run(&[
        "train",
        "predict",
        "--neurons",
        "6",
        "--batch",
        "2",
        "--max-iterations",
        "4",
        "--eval-every",
        "2",
        "--rate-penalty",
        "2.5",
        "--out",
        out.to_str().unwrap(),
    ]);
    let metrics = read_json(&out.join("metrics.json"));
    assert!(metrics["test"]["nmse"].as_f64().unwrap().is_finite());
    assert_eq!(metrics["rate_penalty"], 2.5);
    for config in ["config.json", "w0/config.json"] {
        let config = read_json(&out.join(config));
        assert_eq!(config["loss"]["rate_penalty"], 2.5, "the penalty trained with is recorded");
    }
    assert!(metrics["w0"]["test_nmse"].as_f64().unwrap().is_finite());
    // The model kept is the one of the best held-out check, at iteration 2 or 4.
    assert!([2, 4].contains(&metrics["kept_iteration"].as_u64().unwrap()));
    assert_eq!(metrics["gradient_precision"], "f64");
    for norms in [&metrics["gradient_norms"], &metrics["w0"]["gradient_norms"]] {
        assert_eq!(norms["steps"], 4, "{norms}");
    }
    assert!(out.join("w0/W.npy").exists() && out.join("raster.svg").exists());
    // The W = 0 network's W stays 0.
    assert!(read_f32(&out.join("w0/W.npy")).iter().all(|&x| x == 0.0));
}

#[test]
fn a_run_whose_every_gradient_overflows_stops_with_an_error() {
    // tau 5 ms with the Euler step (h/tau 0.2): the f32 costates overflow at once.
    let args = [
        "train",
        "predict",
        "--tau",
        "5",
        "--step",
        "euler",
        "--precision",
        "f32",
        "--max-iterations",
        "80",
    ];
    let stderr = fails(&args, &folder("train-stalled"));
    assert!(stderr.contains("training stalled at iteration 50"), "{stderr}");
    assert!(stderr.trim_end().lines().count() == 1, "{stderr}");
}

#[test]
fn trained_time_constants_are_saved_per_neuron_and_valid() {
    let out = folder("train-xor-time-constants");
    run(&[
        "train",
        "xor",
        "--start",
        "random",
        "--neurons",
        "8",
        "--batch",
        "4",
        "--max-iterations",
        "6",
        "--eval-every",
        "3",
        "--train-time-constants",
        "--out",
        out.to_str().unwrap(),
    ]);
    let config = read_json(&out.join("config.json"));
    assert_eq!(config["tau"], "tau.npy");
    assert_eq!(config["tau_s"], "tau_s.npy");
    let (h, delta) = (config["h"].as_f64().unwrap(), config["delta"].as_f64().unwrap());
    let read = |file: &str| -> Vec<f32> {
        let path = out.join(file);
        assert_eq!(shape(&path), vec![8], "{file}");
        read_f32(&path)
    };
    let (tau, tau_s) = (read("tau.npy"), read("tau_s.npy"));
    // Valid for the theta neuron with the task's step: 2h/tau_j <= Delta/2, h < tau_s,j;
    // and no longer than the task's 20 and 100 ms, so the memory stays beyond them.
    assert!(tau.iter().all(|&t| 2.0 * h / t as f64 <= delta / 2.0 && t <= 20.0), "{tau:?}");
    assert!(tau_s.iter().all(|&t| t as f64 > h && t <= 100.0), "{tau_s:?}");
    // Six updates of Adam moved them from the task's shared 20 and 100 ms.
    assert!(tau.iter().any(|&t| t != 20.0) && tau_s.iter().any(|&t| t != 100.0));
    let metrics = read_json(&out.join("metrics.json"));
    assert_eq!(metrics["time_constants"]["per_neuron"], true, "{metrics}");
}

#[test]
fn efficient_coding_trains_each_penalty_with_and_without_recurrence() {
    let out = folder("train-efficient-coding");
    run(&[
        "train",
        "efficient-coding",
        "--neurons",
        "6",
        "--batch",
        "2",
        "--max-iterations",
        "2",
        "--eval-every",
        "1",
        "--trial-ms",
        "60",
        "--penalties",
        "0,500",
        "--out",
        out.to_str().unwrap(),
    ]);
    let metrics = read_json(&out.join("metrics.json"));
    let networks = metrics["networks"].as_array().unwrap();
    assert_eq!(networks.len(), 2);
    for (row, lambda) in networks.iter().zip([0.0, 500.0]) {
        assert_eq!(row["rate_penalty"], lambda);
        for name in ["learned", "w0"] {
            assert!(row[name]["test_nmse"].as_f64().unwrap().is_finite(), "{row}");
            assert!(row[name]["firing_rate_hz"].as_f64().unwrap() >= 0.0, "{row}");
            let folder = out.join(row[name]["model"].as_str().unwrap());
            // Each network is a model folder whose config records the penalty.
            let config = read_json(&folder.join("config.json"));
            assert_eq!(config["loss"]["rate_penalty"], lambda);
            assert!(folder.join("W.npy").exists());
        }
        let w = read_f32(&out.join(row["w0"]["model"].as_str().unwrap()).join("W.npy"));
        assert!(w.iter().all(|&x| x == 0.0), "W = 0 stays 0");
    }
    let svg = std::fs::read_to_string(out.join("efficiency.svg")).unwrap();
    assert!(svg.contains("W learned") && svg.contains("W = 0"));
}

#[test]
fn efficient_coding_refuses_bad_penalties_before_training() {
    let out = folder("train-efficient-coding-bad");
    for (penalties, message) in [
        ("0,-1", "--penalties -1: must be a finite number >= 0"),
        ("5,0,5", "--penalties 5: given twice"),
        ("0,nan", "--penalties NaN: must be a finite number >= 0"),
    ] {
        let stderr = fails(&["train", "efficient-coding", "--penalties", penalties], &out);
        assert!(stderr.contains(message), "{penalties}: {stderr}");
    }
}
