//! Output folders: written whole or not at all, and replacing only their own writer's
//! earlier output.

use spikegrad_io::staging::{
    check_out, check_replaceable, Holding, OutputError, Staging, Writer, MARKER,
};
use std::path::PathBuf;

fn folder(name: &str) -> PathBuf {
    let dir =
        std::env::temp_dir().join(format!("spikegrad-io-staging-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn a_committed_folder_replaces_its_own_earlier_output_and_nothing_else() {
    let base = folder("replace");
    let target = base.join("out");
    for round in 0..2 {
        check_out("out", &target, Writer::Run).unwrap();
        let staging = Staging::new(&target, Writer::Run).unwrap();
        std::fs::write(staging.path().join("round.txt"), round.to_string()).unwrap();
        staging.commit().unwrap();
    }
    assert_eq!(std::fs::read_to_string(target.join("round.txt")).unwrap(), "1");
    assert_eq!(std::fs::read_to_string(target.join(MARKER)).unwrap(), "spikegrad run\n");
    // Another writer is refused, naming what is there; the folder is untouched.
    let refused = check_replaceable("--out out", &target, Writer::TrainTask).unwrap_err();
    assert!(matches!(
        &refused,
        OutputError::Occupied { holding: Holding::OutputOf(name), .. } if name == "spikegrad run"
    ));
    assert!(refused.to_string().starts_with("--out out: holds the output of `spikegrad run`"));
    // A folder of someone else's files is refused too.
    let foreign = base.join("data");
    std::fs::create_dir(&foreign).unwrap();
    std::fs::write(foreign.join("x.npy"), b"").unwrap();
    let refused = check_replaceable("data", &foreign, Writer::Run).unwrap_err();
    assert!(refused.to_string().contains("files that spikegrad did not write there (x.npy)"));
}

#[test]
fn a_dropped_staging_folder_leaves_nothing_behind() {
    let base = folder("drop");
    let target = base.join("out");
    let staging = Staging::new(&target, Writer::Grad).unwrap();
    std::fs::write(staging.path().join("half.txt"), "written").unwrap();
    drop(staging);
    assert!(!target.exists());
    assert_eq!(std::fs::read_dir(&base).unwrap().count(), 0, "no temporary folder left");
}

#[test]
fn an_output_under_a_file_is_refused_before_any_work() {
    let base = folder("under-file");
    std::fs::write(base.join("file"), b"").unwrap();
    let error = check_out("--out", &base.join("file/sub/out"), Writer::Grad).unwrap_err();
    assert!(matches!(error, OutputError::AncestorNotAFolder { .. }), "{error}");
    assert!(matches!(
        check_out("--out", &base.join("file"), Writer::Grad),
        Err(OutputError::NotAFolder { .. })
    ));
}
