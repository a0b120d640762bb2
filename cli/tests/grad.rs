//! `spikegrad grad` end to end: a case written here, run through the binary, equals the
//! library's result bit for bit; every hostile case gives one clear error line naming the
//! file, exit status 2, and no output at all.

use npyz::WriterBuilder;
use spikegrad::{Batch, Config, Gate, Inputs, Loss, Network, Parameters, Step, Workspace};
use std::path::{Path, PathBuf};
use std::process::Command;

const BIN: &str = env!("CARGO_BIN_EXE_spikegrad");

/// A fresh empty folder under the target directory.
fn scratch(name: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("grad-{name}"));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn write_npy<T: npyz::AutoSerialize + Copy>(
    path: &Path,
    shape: &[u64],
    values: &[T],
    fortran: bool,
) {
    let mut file = std::fs::File::create(path).unwrap();
    let order = if fortran { npyz::Order::Fortran } else { npyz::Order::C };
    let mut writer = npyz::WriteOptions::new()
        .default_dtype()
        .shape(shape)
        .order(order)
        .writer(&mut file)
        .begin_nd()
        .unwrap();
    writer.extend(values.iter().copied()).unwrap();
    writer.finish().unwrap();
}

fn read_npy<T: npyz::Deserialize>(path: &Path) -> Vec<T> {
    npyz::NpyFile::new(std::fs::File::open(path).unwrap()).unwrap().into_vec().unwrap()
}

/// The arrays of a small case: N 5, n_in 2, n_out 1, B 2, T 40; spiking and resting
/// neurons, a recurrent coupling, a masked target.
struct Arrays {
    w: Vec<f64>,
    u: Vec<f64>,
    i0: Vec<f64>,
    o: Vec<f64>,
    v0: Vec<f64>,
    s0: Vec<f64>,
    x: Vec<f64>,
    target: Vec<f64>,
    mask: Vec<f64>,
}

const N: usize = 5;
const N_IN: usize = 2;
const N_OUT: usize = 1;
const B: usize = 2;
const T: usize = 40;

fn arrays() -> Arrays {
    let wave = |len: usize, salt: f64, scale: f64| -> Vec<f64> {
        (0..len).map(|i| ((i as f64 * 0.618034 + salt).fract() * 2.0 - 1.0) * scale).collect()
    };
    Arrays {
        w: wave(N * N, 0.1, 30.0),
        u: wave(N * N_IN, 0.2, 1.5),
        i0: wave(N, 0.3, 0.8),
        o: wave(N_OUT * N, 0.4, 40.0),
        v0: wave(B * N, 0.5, 0.99),
        s0: vec![0.0; B * N],
        x: wave(T * B * N_IN, 0.6, 1.0),
        target: wave(T * B * N_OUT, 0.7, 1.0),
        mask: (0..T * B * N_OUT).map(|i| if i < T * B * N_OUT / 2 { 0.0 } else { 1.0 }).collect(),
    }
}

fn config_json() -> &'static str {
    r#"{"h": 0.5, "tau": 10.0, "tau_s": 30.0, "gate": "raised_cosine", "delta": 1.0, "task": "ignored"}"#
}

fn write_case<T: npyz::AutoSerialize + Copy>(dir: &Path, cast: impl Fn(f64) -> T) {
    let a = arrays();
    std::fs::write(dir.join("config.json"), config_json()).unwrap();
    let (n, ni, no, b, t) = (N as u64, N_IN as u64, N_OUT as u64, B as u64, T as u64);
    let files: [(&str, Vec<u64>, &Vec<f64>); 9] = [
        ("W", vec![n, n], &a.w),
        ("U", vec![n, ni], &a.u),
        ("I0", vec![n], &a.i0),
        ("O", vec![no, n], &a.o),
        ("v0", vec![b, n], &a.v0),
        ("s0", vec![b, n], &a.s0),
        ("x", vec![t, b, ni], &a.x),
        ("target", vec![t, b, no], &a.target),
        ("mask", vec![t, b, no], &a.mask),
    ];
    for (name, shape, values) in files {
        let values: Vec<T> = values.iter().map(|&x| cast(x)).collect();
        write_npy(&dir.join(format!("{name}.npy")), &shape, &values, false);
    }
}

fn library_gradient<T: spikegrad::Real>() -> spikegrad::Gradient<T> {
    let a = arrays();
    let c = |v: &Vec<f64>| v.iter().map(|&x| T::from_f64(x)).collect::<Vec<T>>();
    let (w, u, i0, o, v0, s0, x, target, mask) = (
        c(&a.w),
        c(&a.u),
        c(&a.i0),
        c(&a.o),
        c(&a.v0),
        c(&a.s0),
        c(&a.x),
        c(&a.target),
        c(&a.mask),
    );
    let net =
        Network::new(Parameters { n: N, n_in: N_IN, n_out: N_OUT, w: &w, u: &u, i0: &i0, o: &o });
    let batch = Batch::new(Inputs { b: B, t: T, v0: &v0, s0: &s0, x: &x });
    let config = Config::new(0.5, 10.0, 30.0, Gate::RaisedCosine { delta: 1.0 });
    let step = Step::<T>::new(&config).unwrap();
    Workspace::new().gradient(&step, &net, &batch, &Loss::mse(&target, &mask)).unwrap().clone()
}

/// A version-1 .npy file with this header text (padded as numpy pads it) and data.
fn npy_with_header(header: &str, data: &[u8]) -> Vec<u8> {
    let mut bytes = b"\x93NUMPY\x01\x00".to_vec();
    let padded = format!("{header:<118}\n");
    bytes.extend_from_slice(&(padded.len() as u16).to_le_bytes());
    bytes.extend_from_slice(padded.as_bytes());
    bytes.extend_from_slice(data);
    bytes
}

fn run(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(BIN).args(args).output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into(),
        String::from_utf8_lossy(&out.stderr).into(),
    )
}

fn loss_of(out: &Path) -> f64 {
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("loss.json")).unwrap()).unwrap();
    json["loss"].as_f64().unwrap()
}

#[test]
fn f64_case_equals_the_library_bit_for_bit() {
    let dir = scratch("f64");
    write_case(&dir, |x| x);
    let out = dir.join("result");
    let (code, stdout, stderr) =
        run(&["grad", dir.to_str().unwrap(), "--out", out.to_str().unwrap()]);
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.contains("loss"), "{stdout}");
    let want = library_gradient::<f64>();
    assert_eq!(loss_of(&out).to_bits(), want.loss.to_bits());
    for (name, values) in [
        ("dW", &want.w),
        ("dU", &want.u),
        ("dI0", &want.i0),
        ("dO", &want.o),
        ("dv0", &want.v0),
        ("ds0", &want.s0),
    ] {
        let got: Vec<f64> = read_npy(&out.join(format!("{name}.npy")));
        assert_eq!(
            got.iter().map(|x| x.to_bits()).collect::<Vec<_>>(),
            values.iter().map(|x| x.to_bits()).collect::<Vec<_>>(),
            "{name}"
        );
    }
}

#[test]
fn f32_case_equals_the_library_bit_for_bit_and_stays_f32() {
    let dir = scratch("f32");
    write_case(&dir, |x| x as f32);
    let (code, _, stderr) = run(&["grad", dir.to_str().unwrap()]);
    assert_eq!(code, 0, "{stderr}");
    let out = dir.join("gradient");
    let want = library_gradient::<f32>();
    assert_eq!(loss_of(&out).to_bits(), want.loss.to_bits());
    let got: Vec<f32> = read_npy(&out.join("dW.npy"));
    assert_eq!(
        got.iter().map(|x| x.to_bits()).collect::<Vec<_>>(),
        want.w.iter().map(|x| x.to_bits()).collect::<Vec<_>>()
    );
    // --precision f64 on f32 input computes and writes f64.
    let (code, _, stderr) = run(&["grad", dir.to_str().unwrap(), "--precision", "f64"]);
    assert_eq!(code, 0, "{stderr}");
    let _: Vec<f64> = read_npy(&out.join("dW.npy"));
}

#[test]
fn reference_engine_agrees_with_the_kernels() {
    let dir = scratch("reference");
    write_case(&dir, |x| x);
    let (kernels, reference) = (dir.join("k"), dir.join("r"));
    assert_eq!(run(&["grad", dir.to_str().unwrap(), "--out", kernels.to_str().unwrap()]).0, 0);
    assert_eq!(
        run(&[
            "grad",
            dir.to_str().unwrap(),
            "--out",
            reference.to_str().unwrap(),
            "--engine",
            "reference"
        ])
        .0,
        0
    );
    let (a, b): (Vec<f64>, Vec<f64>) =
        (read_npy(&kernels.join("dW.npy")), read_npy(&reference.join("dW.npy")));
    let scale = b.iter().fold(0.0f64, |m, x| m.max(x.abs()));
    assert!(a.iter().zip(&b).all(|(x, y)| (x - y).abs() <= 1e-10 * scale));
}

/// Breaks a fresh f64 case with `damage`, runs it, and checks: exit 2, one stderr line
/// naming `file` and containing `fragment`, and no output folder (nor temporary one).
fn hostile(name: &str, file: &str, fragment: &str, damage: impl FnOnce(&Path)) {
    let dir = scratch(name);
    write_case(&dir, |x| x);
    damage(&dir);
    let out = dir.join("out");
    let (code, stdout, stderr) =
        run(&["grad", dir.to_str().unwrap(), "--out", out.to_str().unwrap()]);
    assert_eq!(code, 2, "{name}: {stdout} {stderr}");
    assert_eq!(stderr.lines().count(), 1, "{name}: one line, got {stderr:?}");
    assert!(stderr.contains(file) && stderr.contains(fragment), "{name}: {stderr}");
    assert!(!out.exists(), "{name}: no output");
    let leftovers: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().starts_with('.'))
        .collect();
    assert!(leftovers.is_empty(), "{name}: no temporary folder left");
    println!("{name}: {}", stderr.trim());
}

#[test]
fn hostile_cases_give_one_clear_line_and_exit_2() {
    hostile("missing", "U.npy", "file not found", |d| {
        std::fs::remove_file(d.join("U.npy")).unwrap()
    });
    hostile("int-dtype", "x.npy", "dtype <i4 is not supported", |d| {
        write_npy(
            &d.join("x.npy"),
            &[T as u64, B as u64, N_IN as u64],
            &[1i32; T * B * N_IN],
            false,
        )
    });
    hostile("mixed-dtype", "O.npy", "differs from W.npy", |d| {
        write_npy(&d.join("O.npy"), &[1, N as u64], &[0.5f32; N], false)
    });
    hostile("fortran", "W.npy", "Fortran order", |d| {
        write_npy(&d.join("W.npy"), &[N as u64, N as u64], &[0.0f64; N * N], true)
    });
    hostile("shape", "U.npy", "expected (N, n_in)", |d| {
        write_npy(&d.join("U.npy"), &[N as u64 + 1, 2], &[0.0f64; (N + 1) * 2], false)
    });
    hostile("rank", "I0.npy", "expected (N,)", |d| {
        write_npy(&d.join("I0.npy"), &[N as u64, 1], &[0.0f64; N], false)
    });
    hostile("zero-dim", "v0.npy", "is 0", |d| {
        write_npy::<f64>(&d.join("v0.npy"), &[0, N as u64], &[], false)
    });
    hostile("truncated", "x.npy", "needs 1280 bytes of data but the file holds 1000", |d| {
        let bytes = std::fs::read(d.join("x.npy")).unwrap();
        let header = bytes.len() - T * B * N_IN * 8;
        std::fs::write(d.join("x.npy"), &bytes[..header + 1000]).unwrap();
    });
    hostile("huge-shape", "target.npy", "needs more than usize::MAX", |d| {
        let header = "{'descr': '<f8', 'fortran_order': False, 'shape': (4294967296, 4294967296, 4294967296), }";
        std::fs::write(d.join("target.npy"), npy_with_header(header, &[0u8; 64])).unwrap();
    });
    hostile("huge-header", "mask.npy", "header claims 4294967295 bytes", |d| {
        let mut bytes = b"\x93NUMPY\x02\x00".to_vec();
        bytes.extend_from_slice(&u32::MAX.to_le_bytes());
        bytes.extend_from_slice(b"{}");
        std::fs::write(d.join("mask.npy"), bytes).unwrap();
    });
    // A `case_folder` fuzz finding: npyz's parse error spans several lines.
    hostile("header-syntax", "x.npy", "bad header: could not parse Python expression", |d| {
        let header = "{'descr': '<f4', 'fortran_orderF'al :se, 'shape': (12, 2, 2), }";
        std::fs::write(d.join("x.npy"), npy_with_header(header, &[])).unwrap();
    });
    // A `case_folder` fuzz finding: nested braces made npyz's parser take minutes.
    hostile("header-nesting", "U.npy", "nested too deeply", |d| {
        let header =
            "{'descr': '<f8', 'fortran_order': False, 'shape': (3, {{{{{{{{{{{{{{{{{{2), }";
        std::fs::write(d.join("U.npy"), npy_with_header(header, &[])).unwrap();
    });
    hostile("not-npy", "s0.npy", "not a .npy file", |d| {
        std::fs::write(d.join("s0.npy"), b"hello").unwrap()
    });
    hostile("nan", "W.npy", "element [1, 2] is NaN", |d| {
        let mut w = arrays().w;
        w[N + 2] = f64::NAN;
        write_npy(&d.join("W.npy"), &[N as u64, N as u64], &w, false)
    });
    hostile("infinite", "x.npy", "is inf", |d| {
        let mut x = arrays().x;
        x[7] = f64::INFINITY;
        write_npy(&d.join("x.npy"), &[T as u64, B as u64, N_IN as u64], &x, false)
    });
    hostile("mask-range", "mask.npy", "must lie in [0, 1]", |d| {
        let mut m = arrays().mask;
        m[3] = 1.5;
        write_npy(&d.join("mask.npy"), &[T as u64, B as u64, N_OUT as u64], &m, false)
    });
    let config =
        |text: &'static str| move |d: &Path| std::fs::write(d.join("config.json"), text).unwrap();
    hostile(
        "h-negative",
        "config.json",
        "h = -0.5: must be finite and > 0",
        config(r#"{"h": -0.5, "tau": 10, "tau_s": 30, "gate": "boxcar", "delta": 1}"#),
    );
    hostile(
        "h-jumps-gate",
        "config.json",
        "would jump over the gate",
        config(r#"{"h": 4, "tau": 10, "tau_s": 30, "gate": "boxcar", "delta": 1}"#),
    );
    hostile(
        "tau-s-below-h",
        "config.json",
        "must be < tau_s",
        config(r#"{"h": 0.5, "tau": 10, "tau_s": 0.4, "gate": "boxcar", "delta": 1}"#),
    );
    hostile(
        "delta",
        "config.json",
        "0 < delta < 2",
        config(r#"{"h": 0.5, "tau": 10, "tau_s": 30, "gate": "boxcar", "delta": 2}"#),
    );
    hostile(
        "gate-name",
        "config.json",
        "is not \"raised_cosine\" or \"boxcar\"",
        config(r#"{"h": 0.5, "tau": 10, "tau_s": 30, "gate": "step", "delta": 1}"#),
    );
    hostile(
        "missing-field",
        "config.json",
        "missing field `tau_s`",
        config(r#"{"h": 0.5, "tau": 10, "gate": "boxcar", "delta": 1}"#),
    );
    hostile("bad-json", "config.json", "invalid", config("{h: 0.5"));
    hostile("overflow", "the run failed", "non-finite", |d| {
        let mut w = arrays().w;
        w[0] = f64::MAX;
        write_npy(&d.join("W.npy"), &[N as u64, N as u64], &w, false);
        write_npy(&d.join("s0.npy"), &[B as u64, N as u64], &[1.0f64; B * N], false);
    });
}

#[test]
fn an_earlier_output_of_grad_is_replaced_whole_and_other_folders_are_refused() {
    let dir = scratch("replace");
    write_case(&dir, |x| x);
    let out = dir.join("out");
    let args = ["grad", dir.to_str().unwrap(), "--out", out.to_str().unwrap()];
    assert_eq!(run(&args).0, 0);
    std::fs::write(out.join("stale.txt"), "old").unwrap();
    assert_eq!(run(&args).0, 0);
    assert!(out.join("dW.npy").exists() && !out.join("stale.txt").exists());
    // A folder grad did not write is left alone.
    let foreign = dir.join("foreign");
    std::fs::create_dir_all(&foreign).unwrap();
    std::fs::write(foreign.join("stale.txt"), "old").unwrap();
    let (code, _, stderr) =
        run(&["grad", dir.to_str().unwrap(), "--out", foreign.to_str().unwrap()]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("files that spikegrad did not write there (stale.txt)"), "{stderr}");
    assert_eq!(std::fs::read_to_string(foreign.join("stale.txt")).unwrap(), "old");
}

/// The general case folder: the f64 case of `write_case` with its loss replaced by
/// `loss` (the `loss` object of config.json), plus W_mask.npy and I_ext.npy.
fn write_general_case(dir: &Path, loss: &str) {
    write_case(dir, |x| x);
    let config = format!(
        r#"{{"h": 0.5, "tau": 10.0, "tau_s": 30.0, "gate": "raised_cosine", "delta": 1.0, "loss": {loss}}}"#
    );
    std::fs::write(dir.join("config.json"), config).unwrap();
    let (n, b, t) = (N as u64, B as u64, T as u64);
    let mask: Vec<f64> = (0..N * N).map(|k| ((k % 3) != 0) as u8 as f64).collect();
    write_npy(&dir.join("W_mask.npy"), &[n, n], &mask, false);
    let i_ext: Vec<f64> = (0..T * B * N).map(|k| ((k as f64) * 0.37).sin() * 0.3).collect();
    write_npy(&dir.join("I_ext.npy"), &[t, b, n], &i_ext, false);
}

/// The reference engine's outputs for the same folder, as (name, values).
fn outputs(dir: &Path, engine: &str, name: &str) -> (f64, Vec<(String, Vec<f64>)>) {
    let out = dir.join(name);
    let (code, _, stderr) =
        run(&["grad", dir.to_str().unwrap(), "--out", out.to_str().unwrap(), "--engine", engine]);
    assert_eq!(code, 0, "{stderr}");
    let files = ["dW", "dU", "dI0", "dO", "dv0", "ds0", "dx", "dI_ext"];
    let arrays = files.iter().map(|f| (f.to_string(), read_npy(&out.join(format!("{f}.npy")))));
    (loss_of(&out), arrays.collect())
}

#[test]
fn general_case_folders_agree_with_the_reference_engine() {
    for (name, loss) in [
        ("ce", r#"{"kind": "cross_entropy", "from_step": 20, "to_step": 40, "rate_penalty": 0.5}"#),
        ("linear", r#"{"kind": "linear"}"#),
        ("mse-penalty", r#"{"kind": "mse", "rate_penalty": 2.0}"#),
    ] {
        let dir = scratch(&format!("general-{name}"));
        write_general_case(&dir, loss);
        let (t, b) = (T as u64, B as u64);
        if name == "ce" {
            let o: Vec<f64> = (0..2 * N).map(|k| (k as f64 * 0.7).cos() * 30.0).collect();
            write_npy(&dir.join("O.npy"), &[2, N as u64], &o, false);
            write_npy(&dir.join("labels.npy"), &[b], &[1i64, 0], false);
        }
        if name == "linear" {
            let g: Vec<f64> = (0..T * B).map(|k| ((k as f64) * 0.11).cos() * 0.01).collect();
            write_npy(&dir.join("G.npy"), &[t, b, 1], &g, false);
        }
        let (loss_k, kernels) = outputs(&dir, "kernels", "k");
        let (loss_r, reference) = outputs(&dir, "reference", "r");
        assert!((loss_k - loss_r).abs() <= 1e-12 * loss_r.abs(), "{name}: {loss_k} vs {loss_r}");
        for ((file, k), (_, r)) in kernels.iter().zip(&reference) {
            let scale = r.iter().fold(0.0f64, |m, x| m.max(x.abs()));
            let diff = k.iter().zip(r).fold(0.0f64, |m, (a, b)| m.max((a - b).abs()));
            assert!(diff <= 1e-10 * scale, "{name} {file}: {diff:e} of {scale:e}");
            assert!(scale > 0.0, "{name} {file}: a gradient that is all zero");
        }
        let dw = &kernels[0].1;
        assert!((0..N * N).filter(|k| k % 3 == 0).all(|k| dw[k] == 0.0), "{name}: dW masked");
    }
}

#[test]
fn general_case_faults_give_one_clear_line_and_exit_2() {
    let general =
        |name: &str, file: &str, fragment: &str, loss: &'static str, damage: fn(&Path)| {
            hostile(name, file, fragment, |d| {
                write_general_case(d, loss);
                damage(d);
            })
        };
    let ce = r#"{"kind": "cross_entropy", "from_step": 20, "to_step": 40}"#;
    // Cross-entropy needs two readouts: O with two rows, then the case's labels.
    fn two_readouts(d: &Path) {
        write_npy(&d.join("O.npy"), &[2, N as u64], &[1.0f64; 2 * N], false);
    }
    general(
        "unknown-key",
        "config.json",
        "unknown field `lose`",
        r#"{"kind": "mse"}, "lose": 1"#,
        |_| {},
    );
    general(
        "unknown-loss-key",
        "config.json",
        "unknown field `window`",
        r#"{"kind": "mse", "window": 3}"#,
        |_| {},
    );
    general(
        "newline-key",
        "config.json",
        "unknown field `a\\nb`",
        r#"{"kind": "mse"}, "a\nb": 1"#,
        |_| {},
    );
    general("bad-kind", "config.json", "loss.kind \"hinge\"", r#"{"kind": "hinge"}"#, |_| {});
    general(
        "negative-penalty",
        "config.json",
        "rate_penalty = -1",
        r#"{"kind": "mse", "rate_penalty": -1.0}"#,
        |_| {},
    );
    general(
        "missing-labels",
        "labels.npy",
        "file not found: the cross_entropy loss needs it",
        ce,
        two_readouts,
    );
    general("float-labels", "labels.npy", "integers must be", ce, |d| {
        two_readouts(d);
        write_npy(&d.join("labels.npy"), &[B as u64], &[0.0f64, 1.0], false);
    });
    general("label-range", "labels.npy", "element [1] is 2", ce, |d| {
        two_readouts(d);
        write_npy(&d.join("labels.npy"), &[B as u64], &[0i32, 2], false);
    });
    general("negative-label", "labels.npy", "element [0] is -1", ce, |d| {
        two_readouts(d);
        write_npy(&d.join("labels.npy"), &[B as u64], &[-1i64, 0], false);
    });
    general(
        "window",
        "config.json",
        "loss.to_step = 41 is outside the steps 1..=40",
        r#"{"kind": "cross_entropy", "from_step": 20, "to_step": 41}"#,
        |d| {
            two_readouts(d);
            write_npy(&d.join("labels.npy"), &[B as u64], &[0i64, 1], false);
        },
    );
    general(
        "empty-window",
        "config.json",
        "loss.from_step = 40 must be < loss.to_step = 40",
        r#"{"kind": "cross_entropy", "from_step": 40, "to_step": 40}"#,
        |d| {
            two_readouts(d);
            write_npy(&d.join("labels.npy"), &[B as u64], &[0i64, 1], false);
        },
    );
    general(
        "window-for-mse",
        "config.json",
        "loss.from_step is only for the cross_entropy loss",
        r#"{"kind": "mse", "from_step": 3}"#,
        |_| {},
    );
    general(
        "missing-g",
        "G.npy",
        "file not found: the linear loss needs it",
        r#"{"kind": "linear"}"#,
        |_| {},
    );
    general("mask-shape", "W_mask.npy", "expected (N, N)", r#"{"kind": "mse"}"#, |d| {
        write_npy(&d.join("W_mask.npy"), &[2, 2], &[1.0f64; 4], false);
    });
    general("i-ext-nan", "I_ext.npy", "every value must be finite", r#"{"kind": "mse"}"#, |d| {
        let mut i_ext = vec![0.0f64; T * B * N];
        i_ext[7] = f64::NAN;
        write_npy(&d.join("I_ext.npy"), &[T as u64, B as u64, N as u64], &i_ext, false);
    });
}

/// Per-neuron time constants for the small case: tau_j 10..14 ms, tau_s,j 30..70 ms.
const TAU: [f64; N] = [10.0, 11.0, 12.0, 13.0, 14.0];
const TAU_S: [f64; N] = [30.0, 40.0, 50.0, 60.0, 70.0];

/// The general case with per-neuron tau and tau_s files and `neuron`.
fn write_per_neuron_case(dir: &Path, neuron: &str) {
    write_general_case(dir, r#"{"kind": "mse"}"#);
    let config = format!(
        r#"{{"h": 0.5, "tau": "tau.npy", "tau_s": "tau_s.npy", "gate": "raised_cosine", "delta": 1.0, "neuron": "{neuron}"}}"#
    );
    std::fs::write(dir.join("config.json"), config).unwrap();
    write_npy(&dir.join("tau.npy"), &[N as u64], &TAU, false);
    write_npy(&dir.join("tau_s.npy"), &[N as u64], &TAU_S, false);
}

#[test]
fn per_neuron_constant_faults_name_the_file_and_element() {
    let per_neuron = |name: &str, file: &str, fragment: &str, damage: fn(&Path)| {
        hostile(name, file, fragment, |d| {
            write_per_neuron_case(d, "theta");
            damage(d);
        })
    };
    per_neuron("per-neuron-missing", "tau.npy", "file not found: config.json names it", |d| {
        std::fs::remove_file(d.join("tau.npy")).unwrap();
    });
    per_neuron("per-neuron-shape", "tau_s.npy", "expected (N,) = [5]", |d| {
        write_npy(&d.join("tau_s.npy"), &[3], &[30.0f64; 3], false);
    });
    per_neuron("per-neuron-nan", "tau.npy", "element [3] is NaN", |d| {
        let mut tau = TAU;
        tau[3] = f64::NAN;
        write_npy(&d.join("tau.npy"), &[N as u64], &tau, false);
    });
    // h = 0.5: tau_s,2 = 0.4 breaks h < tau_s; tau_1 = 1.5 lets a spike jump the gate.
    per_neuron("per-neuron-decay", "tau_s.npy", "element [2] is 0.4: must be > h = 0.5", |d| {
        let mut tau_s = TAU_S;
        tau_s[2] = 0.4;
        write_npy(&d.join("tau_s.npy"), &[N as u64], &tau_s, false);
    });
    per_neuron("per-neuron-jump", "tau.npy", "element [1] is 1.5: a spike would jump", |d| {
        let mut tau = TAU;
        tau[1] = 1.5;
        write_npy(&d.join("tau.npy"), &[N as u64], &tau, false);
    });
    per_neuron(
        "per-neuron-negative",
        "tau.npy",
        "element [0] is -10: must be finite and > 0",
        |d| {
            let mut tau = TAU;
            tau[0] = -10.0;
            write_npy(&d.join("tau.npy"), &[N as u64], &tau, false);
        },
    );
    per_neuron("per-neuron-f32", "tau.npy", "dtype float32 differs from W.npy's float64", |d| {
        write_npy(&d.join("tau.npy"), &[N as u64], &TAU.map(|x| x as f32), false);
    });
    per_neuron("per-neuron-path", "config.json", "must name a .npy file of this folder", |d| {
        let config = r#"{"h": 0.5, "tau": "../tau.npy", "tau_s": 30.0, "gate": "raised_cosine", "delta": 1.0}"#;
        std::fs::write(d.join("config.json"), config).unwrap();
    });
    per_neuron("per-neuron-model", "config.json", "neuron \"lif\" is not", |d| {
        let config = r#"{"h": 0.5, "tau": 10.0, "tau_s": 30.0, "gate": "raised_cosine", "delta": 1.0, "neuron": "lif"}"#;
        std::fs::write(d.join("config.json"), config).unwrap();
    });
}

/// dconfig.json of an output folder.
fn dconfig_of(out: &Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(out.join("dconfig.json")).unwrap()).unwrap()
}

#[test]
fn per_neuron_constants_agree_across_engines_and_with_finite_differences() {
    for neuron in ["theta", "hopf_phase"] {
        let dir = scratch(&format!("per-neuron-{neuron}"));
        write_per_neuron_case(&dir, neuron);
        let (loss_k, kernels) = outputs(&dir, "kernels", "k");
        let (loss_r, reference) = outputs(&dir, "reference", "r");
        assert!((loss_k - loss_r).abs() <= 1e-12 * loss_r.abs(), "{neuron}: {loss_k} vs {loss_r}");
        for ((file, k), (_, r)) in kernels.iter().zip(&reference) {
            let scale = r.iter().fold(0.0f64, |m, x| m.max(x.abs()));
            let diff = k.iter().zip(r).fold(0.0f64, |m, (a, b)| m.max((a - b).abs()));
            assert!(diff <= 1e-10 * scale, "{neuron} {file}: {diff:e} of {scale:e}");
        }
        for file in ["dtau", "dtau_s"] {
            let k: Vec<f64> = read_npy(&dir.join("k").join(format!("{file}.npy")));
            let r: Vec<f64> = read_npy(&dir.join("r").join(format!("{file}.npy")));
            assert_eq!(k.len(), N, "{neuron} {file}: (N,)");
            for (a, b) in k.iter().zip(&r) {
                assert!((a - b).abs() <= 1e-10 * b.abs(), "{neuron} {file}: {a} vs {b}");
            }
        }
        // Shared constants are absent from dconfig.json when per neuron; Delta is there.
        let (dk, dr) = (dconfig_of(&dir.join("k")), dconfig_of(&dir.join("r")));
        assert!(dk.get("tau").is_none() && dk.get("tau_s").is_none(), "{dk}");
        let (ddelta_k, ddelta_r) = (dk["delta"].as_f64().unwrap(), dr["delta"].as_f64().unwrap());
        assert!((ddelta_k - ddelta_r).abs() <= 1e-10 * ddelta_r.abs(), "{ddelta_k} vs {ddelta_r}");

        // Central differences through the files (reference engine): the tau_j and tau_s,j
        // of largest gradient, and Delta.
        let dtau: Vec<f64> = read_npy(&dir.join("r").join("dtau.npy"));
        let dtau_s: Vec<f64> = read_npy(&dir.join("r").join("dtau_s.npy"));
        let largest =
            |g: &[f64]| (0..N).max_by(|&a, &b| g[a].abs().total_cmp(&g[b].abs())).unwrap();
        let (j, k) = (largest(&dtau), largest(&dtau_s));
        let loss_at = |tag: &str, edit: &dyn Fn(&Path)| {
            let moved = scratch(&format!("per-neuron-{neuron}-{tag}"));
            write_per_neuron_case(&moved, neuron);
            edit(&moved);
            outputs(&moved, "reference", "r").0
        };
        let eps = 1e-5;
        let central = |value: f64, set: &dyn Fn(&Path, f64)| {
            let up = loss_at("up", &|d: &Path| set(d, value * (1.0 + eps)));
            let down = loss_at("down", &|d: &Path| set(d, value * (1.0 - eps)));
            (up - down) / (2.0 * eps * value)
        };
        let set_tau = |d: &Path, x: f64| {
            let mut tau = TAU;
            tau[j] = x;
            write_npy(&d.join("tau.npy"), &[N as u64], &tau, false);
        };
        let set_tau_s = |d: &Path, x: f64| {
            let mut tau_s = TAU_S;
            tau_s[k] = x;
            write_npy(&d.join("tau_s.npy"), &[N as u64], &tau_s, false);
        };
        let set_delta = |d: &Path, x: f64| {
            let config = format!(
                r#"{{"h": 0.5, "tau": "tau.npy", "tau_s": "tau_s.npy", "gate": "raised_cosine", "delta": {x:e}, "neuron": "{neuron}"}}"#
            );
            std::fs::write(d.join("config.json"), config).unwrap();
        };
        for (what, gradient, fd) in [
            ("dtau[j]", dtau[j], central(TAU[j], &set_tau)),
            ("dtau_s[k]", dtau_s[k], central(TAU_S[k], &set_tau_s)),
            ("dDelta", ddelta_r, central(1.0, &set_delta)),
        ] {
            assert!(gradient != 0.0, "{neuron} {what}: zero");
            let relative = (gradient - fd).abs() / gradient.abs();
            assert!(
                relative <= 1e-5,
                "{neuron} {what}: adjoint {gradient} vs fd {fd} ({relative:e})"
            );
        }
    }
}

#[test]
fn shared_constants_give_their_gradients_in_dconfig() {
    let grad = |dir: &Path, engine: &str| {
        let out = dir.join(engine);
        let args = ["grad", dir.to_str().unwrap(), "--out", out.to_str().unwrap()];
        let (code, _, stderr) = run(&[&args[..], &["--engine", engine]].concat());
        assert_eq!(code, 0, "{stderr}");
        dconfig_of(&out)
    };
    let dir = scratch("dconfig-shared");
    write_case(&dir, |x| x);
    let (dk, dr) = (grad(&dir, "kernels"), grad(&dir, "reference"));
    for key in ["tau", "tau_s", "delta"] {
        let (a, b) = (dk[key].as_f64().unwrap(), dr[key].as_f64().unwrap());
        assert!(b != 0.0 && (a - b).abs() <= 1e-10 * b.abs(), "{key}: {a} vs {b}");
    }
    assert!(!dir.join("kernels").join("dtau.npy").exists());
    // The boxcar has no dL/dDelta: null.
    let boxcar = scratch("dconfig-boxcar");
    write_case(&boxcar, |x| x);
    let config = r#"{"h": 0.5, "tau": 10.0, "tau_s": 30.0, "gate": "boxcar", "delta": 1.0}"#;
    std::fs::write(boxcar.join("config.json"), config).unwrap();
    assert!(grad(&boxcar, "kernels")["delta"].is_null());
}

#[test]
fn an_unused_array_is_named_in_a_warning() {
    let dir = scratch("unused");
    write_general_case(&dir, r#"{"kind": "linear"}"#);
    let g = vec![0.01f64; T * B];
    write_npy(&dir.join("G.npy"), &[T as u64, B as u64, 1], &g, false);
    let out = dir.join("out");
    let (code, _, stderr) = run(&["grad", dir.to_str().unwrap(), "--out", out.to_str().unwrap()]);
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stderr.contains("warning") && stderr.contains("mask.npy") && stderr.contains("target.npy"),
        "{stderr}"
    );
    assert!(out.join("dI_ext.npy").exists() && out.join("dx.npy").exists());
}

/// Every output file of a `grad` run, by name, as raw bytes.
fn output_files(out: &Path) -> Vec<(String, Vec<u8>)> {
    let mut files: Vec<(String, Vec<u8>)> = std::fs::read_dir(out)
        .unwrap()
        .map(|entry| {
            let path = entry.unwrap().path();
            (path.file_name().unwrap().to_string_lossy().into(), std::fs::read(&path).unwrap())
        })
        .collect();
    files.sort();
    files
}

#[test]
fn a_case_over_the_recording_limit_is_checkpointed_to_the_same_bits() {
    // T 700, B 2: a recorded run holds (3 T + 2) N B f64 values = 168 KB; with a limit
    // of 0 MiB the gradient keeps checkpoints every 128 steps instead.
    let dir = scratch("checkpointed");
    let (n, b, t) = (N as u64, B as u64, 700u64);
    let wave = |len: u64, salt: f64, scale: f64| -> Vec<f64> {
        (0..len).map(|i| ((i as f64 * 0.618034 + salt).fract() * 2.0 - 1.0) * scale).collect()
    };
    std::fs::write(dir.join("config.json"), config_json()).unwrap();
    let files = [
        ("W", vec![n, n], wave(n * n, 0.1, 30.0)),
        ("U", vec![n, 2], wave(n * 2, 0.2, 1.5)),
        ("I0", vec![n], wave(n, 0.3, 0.8)),
        ("O", vec![1, n], wave(n, 0.4, 40.0)),
        ("v0", vec![b, n], wave(b * n, 0.5, 0.99)),
        ("s0", vec![b, n], vec![0.0; (b * n) as usize]),
        ("x", vec![t, b, 2], wave(t * b * 2, 0.6, 1.0)),
        ("target", vec![t, b, 1], wave(t * b, 0.7, 1.0)),
        ("mask", vec![t, b, 1], vec![1.0; (t * b) as usize]),
    ];
    for (name, shape, values) in files {
        write_npy(&dir.join(format!("{name}.npy")), &shape, &values, false);
    }
    let (recorded, checkpointed) = (dir.join("recorded"), dir.join("checkpointed"));
    for (out, limit) in [(&recorded, "512"), (&checkpointed, "0")] {
        let args = ["grad", dir.to_str().unwrap(), "--out", out.to_str().unwrap()];
        let (code, _, stderr) = run(&[&args[..], &["--recording-limit", limit]].concat());
        assert_eq!(code, 0, "{stderr}");
    }
    let (want, got) = (output_files(&recorded), output_files(&checkpointed));
    assert_eq!(want.len(), 10, "loss.json, dconfig.json, seven arrays and the marker");
    assert_eq!(got, want, "the checkpointed run's files differ from the recorded run's");
    // A limit that is not a whole number of MiB is refused by the argument parser.
    let (code, _, stderr) = run(&["grad", dir.to_str().unwrap(), "--recording-limit", "-1"]);
    assert_eq!(code, 2, "{stderr}");
}

#[test]
fn the_midpoint_step_is_a_config_key_that_agrees_across_engines() {
    let dir = scratch("midpoint");
    write_general_case(&dir, r#"{"kind": "mse", "rate_penalty": 0.5}"#);
    let (euler, _) = outputs(&dir, "kernels", "euler");
    let text = std::fs::read_to_string(dir.join("config.json")).unwrap();
    let midpoint = text.replacen('{', r#"{"step": "midpoint", "#, 1);
    std::fs::write(dir.join("config.json"), &midpoint).unwrap();
    let (loss_k, kernels) = outputs(&dir, "kernels", "k");
    let (loss_r, reference) = outputs(&dir, "reference", "r");
    assert!((loss_k - loss_r).abs() <= 1e-12 * loss_r.abs(), "{loss_k} vs {loss_r}");
    assert!((loss_k - euler).abs() > 1e-9 * euler.abs(), "the step map is used: {loss_k}");
    for ((file, k), (_, r)) in kernels.iter().zip(&reference) {
        let scale = r.iter().fold(0.0f64, |m, x| m.max(x.abs()));
        let diff = k.iter().zip(r).fold(0.0f64, |m, (a, b)| m.max((a - b).abs()));
        assert!(diff <= 1e-10 * scale, "{file}: {diff:e} of {scale:e}");
    }
    // "euler" is the default, named or not; other names and other neurons are refused.
    std::fs::write(dir.join("config.json"), text.replacen('{', r#"{"step": "euler", "#, 1))
        .unwrap();
    assert_eq!(outputs(&dir, "kernels", "named").0, euler);
    for (config, message) in [
        (
            text.replacen('{', r#"{"step": "rk4", "#, 1),
            r#"step "rk4" is not "euler" or "midpoint""#,
        ),
        (
            text.replacen('{', r#"{"step": "midpoint", "neuron": "hopf_phase", "#, 1),
            r#"step "midpoint" is the theta neuron's; neuron "hopf_phase" steps by "euler" only"#,
        ),
    ] {
        std::fs::write(dir.join("config.json"), config).unwrap();
        let (code, _, stderr) = run(&["grad", dir.to_str().unwrap()]);
        assert_eq!(code, 2, "{stderr}");
        assert!(stderr.contains(message), "{stderr}");
    }
}
