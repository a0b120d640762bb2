//! Bytes -> config.json and the .npy files of a general case folder (the parts between
//! `SEPARATOR`s, in the order config.json, then `FILES`; missing or empty parts are
//! missing files), written to a scratch folder in memory-backed storage; loading it and computing its gradient never panics
//! and never allocates more than the files justify (libFuzzer's -malloc_limit_mb catches
//! that): it succeeds or returns a one-line error.
#![no_main]

use libfuzzer_sys::fuzz_target;
use spikegrad_cli::grad::{self, Engine};
use std::path::PathBuf;

/// The arrays a case folder may hold: the seven of every case, the MSE loss's, then the
/// general form's (labels of cross-entropy, G of the linear loss, the connectivity mask,
/// the external current, per-neuron time constants as config.json may name them).
const FILES: [&str; 15] = [
    "W", "U", "I0", "O", "v0", "s0", "x", "target", "mask", "labels", "G", "W_mask", "I_ext",
    "tau", "tau_s",
];

/// Splits the input into files (`fuzz/make_case_seed.py` writes seeds in this form).
const SEPARATOR: &[u8] = b"\n--spikegrad-file--\n";

fn scratch() -> PathBuf {
    let base = if std::path::Path::new("/dev/shm").is_dir() { PathBuf::from("/dev/shm") } else { std::env::temp_dir() };
    base.join(format!("spikegrad-fuzz-case-{}", std::process::id()))
}

fn split(data: &[u8]) -> Vec<&[u8]> {
    let mut parts = Vec::new();
    let mut rest = data;
    while let Some(at) = rest.windows(SEPARATOR.len()).position(|w| w == SEPARATOR) {
        parts.push(&rest[..at]);
        rest = &rest[at + SEPARATOR.len()..];
    }
    parts.push(rest);
    parts
}

fuzz_target!(|data: &[u8]| {
    let Some((&engine_byte, data)) = data.split_first() else { return };
    let parts = split(data);
    let dir = scratch();
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("config.json"), parts[0]).unwrap();
    // An empty part is an absent file, so that seeds can leave out the optional ones.
    for (name, bytes) in FILES.iter().zip(&parts[1..]).filter(|(_, b)| !b.is_empty()) {
        std::fs::write(dir.join(format!("{name}.npy")), bytes).unwrap();
    }
    let engine = if engine_byte & 1 == 1 { Engine::Reference } else { Engine::Kernels };
    // The second bit: a recording limit of 0 bytes, so that every case long enough for a
    // segment is checkpointed (the default otherwise: 512 MiB).
    let limit = if engine_byte & 2 == 2 { Some(0) } else { Some(512 << 20) };
    match grad::run(&dir, Some(&dir.join("out")), None, engine, limit) {
        Ok(summary) => assert!(dir.join("out/dW.npy").exists(), "{summary}"),
        Err(message) => {
            assert!(!message.contains('\n'), "one line: {message}");
            assert!(!dir.join("out").exists(), "no output on error");
        }
    }
});
