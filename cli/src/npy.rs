//! Reading and writing .npy arrays of f32 or f64 (and reading int32 or int64 labels),
//! little-endian, C order.
//!
//! Reading never trusts the header for an allocation: the whole file is read (its real
//! size bounds every buffer), the pre-header is checked against that size before npyz
//! parses the header, and the shape's element count is checked, with overflow-checked
//! arithmetic, against the bytes actually present.

use npyz::WriterBuilder;
use std::fmt;
use std::fs;
use std::io::{self, Write};
use std::path::Path;

/// The element type of an array.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dtype {
    /// `<f4`.
    F32,
    /// `<f8`.
    F64,
}

impl fmt::Display for Dtype {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Dtype::F32 => "float32",
            Dtype::F64 => "float64",
        })
    }
}

/// Values of an array, in the file's precision.
#[derive(Debug, Clone, PartialEq)]
pub enum Values {
    /// float32 data.
    F32(Vec<f32>),
    /// float64 data.
    F64(Vec<f64>),
}

/// An array read from a .npy file.
#[derive(Debug, Clone, PartialEq)]
pub struct Array {
    /// Dimensions, C order.
    pub shape: Vec<usize>,
    /// Elements, C order.
    pub values: Values,
}

impl Array {
    /// The element type.
    pub fn dtype(&self) -> Dtype {
        match self.values {
            Values::F32(_) => Dtype::F32,
            Values::F64(_) => Dtype::F64,
        }
    }

    /// The values as f64 (exact for float32).
    pub fn to_f64(&self) -> Vec<f64> {
        match &self.values {
            Values::F32(v) => v.iter().map(|&x| x as f64).collect(),
            Values::F64(v) => v.clone(),
        }
    }
}

/// numpy's own default limit on header size (`max_header_size`).
const MAX_HEADER_BYTES: usize = 10_000;

/// Reads `path`; the error says what is wrong with the file, in words.
pub fn read(path: &Path) -> Result<Array, String> {
    let bytes = fs::read(path).map_err(|e| match e.kind() {
        io::ErrorKind::NotFound => "file not found".to_string(),
        _ => format!("cannot read: {e}"),
    })?;
    parse(&bytes)
}

/// The shape, the dtype string and the data bytes of a .npy file, every size checked
/// against the bytes present; `item` gives the byte size of a dtype (`None`: not one
/// this reader takes, and the message to give).
fn split(
    bytes: &[u8],
    item: impl Fn(&str) -> Result<usize, String>,
) -> Result<(Vec<usize>, String, &[u8]), String> {
    // Magic, version, header length: checked here so npyz never sizes a buffer from them.
    if bytes.len() < 10 || &bytes[..6] != b"\x93NUMPY" {
        return Err("not a .npy file (no \\x93NUMPY magic)".into());
    }
    let (header_len, prefix) = match bytes[6] {
        1 => (u16::from_le_bytes([bytes[8], bytes[9]]) as usize, 10),
        2 | 3 if bytes.len() >= 12 => {
            (u32::from_le_bytes([bytes[8], bytes[9], bytes[10], bytes[11]]) as usize, 12)
        }
        major => return Err(format!("unsupported .npy format version {major}")),
    };
    if header_len > MAX_HEADER_BYTES || prefix + header_len > bytes.len() {
        return Err(format!(
            "header claims {header_len} bytes but the file holds {} after the prefix (limit {MAX_HEADER_BYTES})",
            bytes.len() - prefix
        ));
    }
    // A plain array's header is one dict holding one tuple. npyz's parser backtracks
    // exponentially on deep nesting (a `case_folder` fuzz finding: 18 nested braces in
    // the shape took minutes), so nesting is bounded before it parses.
    let mut depth = 0usize;
    for &c in &bytes[prefix..prefix + header_len] {
        match c {
            b'{' | b'(' | b'[' => depth += 1,
            b'}' | b')' | b']' => depth = depth.saturating_sub(1),
            _ => {}
        }
        if depth > 3 {
            return Err("bad header: nested too deeply for a plain numeric array".into());
        }
    }
    // npyz's parse errors draw a multi-line caret diagram: keep the error on one line.
    let header = npyz::NpyHeader::from_reader(&bytes[..prefix + header_len]).map_err(|e| {
        format!("bad header: {}", e.to_string().split_whitespace().collect::<Vec<_>>().join(" "))
    })?;
    if header.order() != npyz::Order::C {
        return Err(
            "Fortran order is not supported: save a C-contiguous array (np.ascontiguousarray)"
                .into(),
        );
    }
    let descr = match header.dtype() {
        npyz::DType::Plain(type_str) => type_str.to_string(),
        other => other.descr(),
    };
    let item = item(&descr)?;
    let shape: Vec<usize> = header
        .shape()
        .iter()
        .map(|&d| usize::try_from(d).map_err(|_| format!("dimension {d} is too large")))
        .collect::<Result<_, _>>()?;
    let data = &bytes[prefix + header_len..];
    let count = shape.iter().try_fold(1usize, |acc, &d| acc.checked_mul(d));
    let expected = count.and_then(|c| c.checked_mul(item));
    if expected != Some(data.len()) {
        return Err(format!(
            "shape {shape:?} of {descr} needs {} bytes of data but the file holds {}",
            expected.map_or("more than usize::MAX".to_string(), |e| e.to_string()),
            data.len()
        ));
    }
    Ok((shape, descr, data))
}

/// Parses the bytes of a .npy file of float32 or float64.
pub fn parse(bytes: &[u8]) -> Result<Array, String> {
    let (shape, descr, data) = split(bytes, |descr| match descr {
        "<f4" => Ok(4),
        "<f8" => Ok(8),
        other => Err(format!(
            "dtype {other} is not supported: use little-endian float32 (<f4) or float64 (<f8)"
        )),
    })?;
    let values = if descr == "<f4" {
        Values::F32(
            data.chunks_exact(4).map(|c| f32::from_le_bytes(c.try_into().unwrap())).collect(),
        )
    } else {
        Values::F64(
            data.chunks_exact(8).map(|c| f64::from_le_bytes(c.try_into().unwrap())).collect(),
        )
    };
    Ok(Array { shape, values })
}

/// Reads `path`, an array of integers (little-endian int32 or int64): its shape and
/// values.
pub fn read_integers(path: &Path) -> Result<(Vec<usize>, Vec<i64>), String> {
    let bytes = fs::read(path).map_err(|e| match e.kind() {
        io::ErrorKind::NotFound => "file not found".to_string(),
        _ => format!("cannot read: {e}"),
    })?;
    let (shape, descr, data) = split(&bytes, |descr| {
        match descr {
        "<i4" => Ok(4),
        "<i8" => Ok(8),
        other => Err(format!(
            "dtype {other} is not supported: integers must be little-endian int32 (<i4) or int64 (<i8)"
        )),
    }
    })?;
    let values = if descr == "<i4" {
        data.chunks_exact(4).map(|c| i32::from_le_bytes(c.try_into().unwrap()) as i64).collect()
    } else {
        data.chunks_exact(8).map(|c| i64::from_le_bytes(c.try_into().unwrap())).collect()
    };
    Ok((shape, values))
}

/// Writes `values` with `shape` as a C-order .npy file of their type.
pub fn write<T: npyz::AutoSerialize + Copy>(
    path: &Path,
    shape: &[usize],
    values: &[T],
) -> io::Result<()> {
    let shape: Vec<u64> = shape.iter().map(|&d| d as u64).collect();
    let mut file = io::BufWriter::new(fs::File::create(path)?);
    let mut writer =
        npyz::WriteOptions::new().default_dtype().shape(&shape).writer(&mut file).begin_nd()?;
    writer.extend(values.iter().copied())?;
    writer.finish()?;
    file.flush()
}
