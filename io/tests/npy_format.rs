//! The .npy reader's limits and checks, each on a file made byte by byte, and the round
//! trip through the writers.

use spikegrad_io::npy::{self, NpyError, RowReader, StreamWriter, Values, MAX_HEADER_BYTES};
use std::path::PathBuf;

/// A fresh, empty folder for one test.
fn folder(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("spikegrad-io-npy-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// A version 1.0 file: `dict` as the header (padded to 64 bytes) and then `data`.
fn file(dict: &str, data: &[u8]) -> Vec<u8> {
    let mut header = dict.to_string();
    while (10 + header.len() + 1) % 64 != 0 {
        header.push(' ');
    }
    header.push('\n');
    let mut bytes = b"\x93NUMPY\x01\x00".to_vec();
    bytes.extend_from_slice(&(header.len() as u16).to_le_bytes());
    bytes.extend_from_slice(header.as_bytes());
    bytes.extend_from_slice(data);
    bytes
}

fn f64_bytes(values: &[f64]) -> Vec<u8> {
    values.iter().flat_map(|x| x.to_le_bytes()).collect()
}

#[test]
fn a_plain_array_parses_with_its_shape_and_values() {
    let bytes =
        file("{'descr': '<f8', 'fortran_order': False, 'shape': (2, 3), }", &f64_bytes(&[1.0; 6]));
    let array = npy::parse(&bytes).unwrap();
    assert_eq!(array.shape, vec![2, 3]);
    assert_eq!(array.values, Values::F64(vec![1.0; 6]));
}

#[test]
fn every_fault_of_the_header_is_named() {
    let header = |shape: &str, descr: &str, order: &str| {
        format!("{{'descr': '{descr}', 'fortran_order': {order}, 'shape': {shape}, }}")
    };
    let data = f64_bytes(&[0.0; 4]);
    let cases: Vec<(Vec<u8>, NpyError)> = vec![
        (b"not an array at all".to_vec(), NpyError::NotNpy),
        (b"\x93NUMPY\x07\x00\x00\x00".to_vec(), NpyError::UnsupportedVersion(7)),
        (file(&header("(4,)", "<f8", "True"), &data), NpyError::FortranOrder),
        (
            file(&header("(4,)", "<i2", "False"), &data),
            NpyError::UnsupportedDtype { descr: "<i2".into(), integers: false },
        ),
        (
            file(&header("(5,)", "<f8", "False"), &data),
            NpyError::SizeMismatch {
                shape: vec![5],
                descr: "<f8".into(),
                needs: Some(40),
                holds: 32,
            },
        ),
        // A shape whose byte count overflows usize is refused, not wrapped.
        (
            file(&header("(4294967296, 4294967296)", "<f8", "False"), &data),
            NpyError::SizeMismatch {
                shape: vec![1 << 32, 1 << 32],
                descr: "<f8".into(),
                needs: None,
                holds: 32,
            },
        ),
        (file(&header("((((4,),),),)", "<f8", "False"), &data), NpyError::NestedTooDeeply),
    ];
    for (bytes, expected) in cases {
        assert_eq!(npy::parse(&bytes), Err(expected));
    }
}

#[test]
fn a_header_longer_than_the_limit_or_the_file_is_refused_before_parsing() {
    // A version 2.0 prefix claiming one byte more than the limit.
    let mut bytes = b"\x93NUMPY\x02\x00".to_vec();
    bytes.extend_from_slice(&((MAX_HEADER_BYTES + 1) as u32).to_le_bytes());
    bytes.resize(bytes.len() + MAX_HEADER_BYTES + 1, b' ');
    let error = npy::parse(&bytes).unwrap_err();
    assert!(
        matches!(error, NpyError::HeaderTooLong { claimed, .. } if claimed == MAX_HEADER_BYTES + 1)
    );
    // A version 1.0 prefix claiming more than the file holds.
    let mut short = b"\x93NUMPY\x01\x00".to_vec();
    short.extend_from_slice(&100u16.to_le_bytes());
    short.extend_from_slice(b"{'descr': '<f8'");
    assert_eq!(npy::parse(&short), Err(NpyError::HeaderTooLong { claimed: 100, holds: 15 }));
    assert!(error.to_string().contains("limit 10000"), "{error}");
}

#[test]
fn integers_are_int32_or_int64_and_a_missing_file_is_not_found() {
    let dir = folder("integers");
    let path = dir.join("labels.npy");
    npy::write(&path, &[3], &[2i64, 0, 1]).unwrap();
    assert_eq!(npy::read_integers(&path).unwrap(), (vec![3], vec![2, 0, 1]));
    npy::write(&path, &[2], &[1.5f32, 2.5]).unwrap();
    assert_eq!(
        npy::read_integers(&path),
        Err(NpyError::UnsupportedDtype { descr: "<f4".into(), integers: true })
    );
    assert_eq!(npy::read(&dir.join("missing.npy")), Err(NpyError::NotFound));
    assert_eq!(NpyError::NotFound.to_string(), "file not found");
}

#[test]
fn rows_stream_from_a_three_axis_file_and_non_finite_values_are_located() {
    let dir = folder("rows");
    let path = dir.join("x.npy");
    // (T 2, K 3, width 2); element [1, 2, 1] is NaN.
    let mut values: Vec<f64> = (0..12).map(f64::from).collect();
    values[11] = f64::NAN;
    npy::write(&path, &[2, 3, 2], &values).unwrap();
    let mut reader = RowReader::open(&path).unwrap();
    assert_eq!(reader.shape, [2, 3, 2]);
    let mut rows = Vec::new();
    reader.read(0, 1, 3, &mut rows).unwrap();
    assert_eq!(rows, vec![2.0, 3.0, 4.0, 5.0]);
    assert_eq!(reader.read(1, 1, 3, &mut rows), Err(NpyError::NotFinite([1, 2, 1])));
    npy::write(&path, &[12], &values).unwrap();
    assert!(matches!(RowReader::open(&path), Err(NpyError::NotThreeAxes(shape)) if shape == [12]));
}

#[test]
fn a_streamed_file_written_out_of_order_reads_back_as_numpy_would() {
    let dir = folder("stream");
    let path = dir.join("y.npy");
    let mut writer = StreamWriter::create(&path, "<f8").unwrap();
    writer.write_at(2, &f64_bytes(&[3.0, 4.0])).unwrap();
    writer.write_at(0, &f64_bytes(&[1.0, 2.0])).unwrap();
    writer.finish(&[2, 2]).unwrap();
    let array = npy::read(&path).unwrap();
    assert_eq!((array.shape, array.values), (vec![2, 2], Values::F64(vec![1.0, 2.0, 3.0, 4.0])));
}
