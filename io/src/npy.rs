//! Reading and writing .npy arrays of f32 or f64 (and reading int32 or int64 labels),
//! little-endian, C order.
//!
//! Reading never trusts the header for an allocation: the whole file is read (its real
//! size bounds every buffer), the pre-header is checked against that size before npyz
//! parses the header, and the shape's element count is checked, with overflow-checked
//! arithmetic, against the bytes actually present.
//!
//! Limits: the header may hold at most [`MAX_HEADER_BYTES`] bytes (numpy's own default
//! `max_header_size`) and nest brackets at most three deep (a plain array's header is one
//! dict holding one tuple); format versions 1.0, 2.0 and 3.0 are read; dtypes `<f4` and
//! `<f8` (floats) or `<i4` and `<i8` (integers), C order only.

use npyz::WriterBuilder;
use std::fmt;
use std::fs;
use std::io::{self, Read, Write};
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

/// What is wrong with a .npy file; the message names the fault in words (the caller
/// names the file).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum NpyError {
    /// The file does not exist.
    NotFound,
    /// The file exists but cannot be read (the system's message).
    Unreadable(String),
    /// No `\x93NUMPY` magic at its start.
    NotNpy,
    /// A format version other than 1, 2 or 3.
    UnsupportedVersion(u8),
    /// The header is longer than [`MAX_HEADER_BYTES`] or than the file.
    HeaderTooLong {
        /// The length the header claims.
        claimed: usize,
        /// Bytes the file holds after the prefix.
        holds: usize,
    },
    /// Brackets nested more than three deep.
    NestedTooDeeply,
    /// The header does not parse (npyz's message, on one line).
    BadHeader(String),
    /// `fortran_order` is True.
    FortranOrder,
    /// A dtype this reader does not take.
    UnsupportedDtype {
        /// The header's dtype string.
        descr: String,
        /// Whether floats (`<f4`, `<f8`) or integers (`<i4`, `<i8`) were asked for.
        integers: bool,
    },
    /// A dimension that does not fit in `usize`.
    DimensionTooLarge(u64),
    /// The data are not the size the shape needs.
    SizeMismatch {
        /// The header's shape.
        shape: Vec<usize>,
        /// The header's dtype string.
        descr: String,
        /// Bytes the shape needs (`None`: more than `usize::MAX`).
        needs: Option<usize>,
        /// Bytes of data the file holds.
        holds: u64,
    },
    /// [`RowReader`]: the shape does not have three axes.
    NotThreeAxes(Vec<usize>),
    /// [`RowReader`]: an element that is not finite in float32, with its index.
    NotFinite([usize; 3]),
}

impl fmt::Display for NpyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            NpyError::NotFound => write!(f, "file not found"),
            NpyError::Unreadable(e) => write!(f, "cannot read: {e}"),
            NpyError::NotNpy => write!(f, "not a .npy file (no \\x93NUMPY magic)"),
            NpyError::UnsupportedVersion(major) => {
                write!(f, "unsupported .npy format version {major}")
            }
            NpyError::HeaderTooLong { claimed, holds } => write!(
                f,
                "header claims {claimed} bytes but the file holds {holds} after the prefix (limit {MAX_HEADER_BYTES})"
            ),
            NpyError::NestedTooDeeply => {
                write!(f, "bad header: nested too deeply for a plain numeric array")
            }
            NpyError::BadHeader(e) => write!(f, "bad header: {e}"),
            NpyError::FortranOrder => write!(
                f,
                "Fortran order is not supported: save a C-contiguous array (np.ascontiguousarray)"
            ),
            NpyError::UnsupportedDtype { descr, integers: false } => write!(
                f,
                "dtype {descr} is not supported: use little-endian float32 (<f4) or float64 (<f8)"
            ),
            NpyError::UnsupportedDtype { descr, integers: true } => write!(
                f,
                "dtype {descr} is not supported: integers must be little-endian int32 (<i4) or int64 (<i8)"
            ),
            NpyError::DimensionTooLarge(d) => write!(f, "dimension {d} is too large"),
            NpyError::SizeMismatch { shape, descr, needs, holds } => write!(
                f,
                "shape {shape:?} of {descr} needs {} bytes of data but the file holds {holds}",
                needs.map_or("more than usize::MAX".to_string(), |e| e.to_string()),
            ),
            NpyError::NotThreeAxes(shape) => {
                write!(f, "shape {shape:?}: expected three axes (T, K, width)")
            }
            NpyError::NotFinite([t, k, i]) => {
                write!(f, "element [{t}, {k}, {i}] is not finite in float32: every value must be")
            }
        }
    }
}

impl std::error::Error for NpyError {}

impl NpyError {
    /// The error of a failed read.
    fn reading(e: io::Error) -> Self {
        match e.kind() {
            io::ErrorKind::NotFound => NpyError::NotFound,
            _ => NpyError::Unreadable(e.to_string()),
        }
    }
}

/// numpy's own default limit on header size (`max_header_size`).
pub const MAX_HEADER_BYTES: usize = 10_000;

/// Bytes that always hold a header of at most [`MAX_HEADER_BYTES`] with its prefix.
const HEADER_PREFIX_BYTES: usize = 12 + MAX_HEADER_BYTES;

/// Reads `path`; the error says what is wrong with the file, in words.
pub fn read(path: &Path) -> Result<Array, NpyError> {
    let bytes = fs::read(path).map_err(NpyError::reading)?;
    parse(&bytes)
}

/// What a .npy header says: shape, dtype string, element size and where the data start.
struct Header {
    shape: Vec<usize>,
    descr: String,
    item: usize,
    offset: usize,
}

/// Parses the header at the start of `bytes` (the whole file, or at least its first
/// [`HEADER_PREFIX_BYTES`]); `item` gives the byte size of a dtype (an error: not one
/// this reader takes, and the message to give).
fn header(
    bytes: &[u8],
    item: impl Fn(&str) -> Result<usize, NpyError>,
) -> Result<Header, NpyError> {
    // Magic, version, header length: checked here so npyz never sizes a buffer from them.
    if bytes.len() < 10 || &bytes[..6] != b"\x93NUMPY" {
        return Err(NpyError::NotNpy);
    }
    let (header_len, prefix) = match bytes[6] {
        1 => (u16::from_le_bytes([bytes[8], bytes[9]]) as usize, 10),
        2 | 3 if bytes.len() >= 12 => {
            (u32::from_le_bytes([bytes[8], bytes[9], bytes[10], bytes[11]]) as usize, 12)
        }
        major => return Err(NpyError::UnsupportedVersion(major)),
    };
    if header_len > MAX_HEADER_BYTES || prefix + header_len > bytes.len() {
        return Err(NpyError::HeaderTooLong { claimed: header_len, holds: bytes.len() - prefix });
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
            return Err(NpyError::NestedTooDeeply);
        }
    }
    // npyz's parse errors draw a multi-line caret diagram: keep the error on one line.
    let header = npyz::NpyHeader::from_reader(&bytes[..prefix + header_len]).map_err(|e| {
        NpyError::BadHeader(e.to_string().split_whitespace().collect::<Vec<_>>().join(" "))
    })?;
    if header.order() != npyz::Order::C {
        return Err(NpyError::FortranOrder);
    }
    let descr = match header.dtype() {
        npyz::DType::Plain(type_str) => type_str.to_string(),
        other => other.descr(),
    };
    let item = item(&descr)?;
    let shape: Vec<usize> = header
        .shape()
        .iter()
        .map(|&d| usize::try_from(d).map_err(|_| NpyError::DimensionTooLarge(d)))
        .collect::<Result<_, _>>()?;
    Ok(Header { shape, descr, item, offset: prefix + header_len })
}

/// Checks that `data_bytes` (what the file holds after the header) is exactly what
/// the header's shape needs.
fn check_size(h: &Header, data_bytes: u64) -> Result<(), NpyError> {
    let count = h.shape.iter().try_fold(1usize, |acc, &d| acc.checked_mul(d));
    let expected = count.and_then(|c| c.checked_mul(h.item));
    if expected.map(|e| e as u64) != Some(data_bytes) {
        return Err(NpyError::SizeMismatch {
            shape: h.shape.clone(),
            descr: h.descr.clone(),
            needs: expected,
            holds: data_bytes,
        });
    }
    Ok(())
}

/// The shape, the dtype string and the data bytes of a .npy file, every size checked
/// against the bytes present.
fn split(
    bytes: &[u8],
    item: impl Fn(&str) -> Result<usize, NpyError>,
) -> Result<(Vec<usize>, String, &[u8]), NpyError> {
    let h = header(bytes, item)?;
    let data = &bytes[h.offset..];
    check_size(&h, data.len() as u64)?;
    Ok((h.shape, h.descr, data))
}

/// Parses the bytes of a .npy file of float32 or float64.
pub fn parse(bytes: &[u8]) -> Result<Array, NpyError> {
    let (shape, descr, data) = split(bytes, float_item)?;
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
pub fn read_integers(path: &Path) -> Result<(Vec<usize>, Vec<i64>), NpyError> {
    let bytes = fs::read(path).map_err(NpyError::reading)?;
    let (shape, descr, data) = split(&bytes, |descr| match descr {
        "<i4" => Ok(4),
        "<i8" => Ok(8),
        other => Err(NpyError::UnsupportedDtype { descr: other.to_string(), integers: true }),
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

/// The float dtypes this reader takes and their sizes.
fn float_item(descr: &str) -> Result<usize, NpyError> {
    match descr {
        "<f4" => Ok(4),
        "<f8" => Ok(8),
        other => Err(NpyError::UnsupportedDtype { descr: other.to_string(), integers: false }),
    }
}

/// A float32 or float64 .npy file of shape (T, K, width) read one step's rows of a range
/// of trials at a time, so that a file larger than memory can be streamed.
pub struct RowReader {
    file: fs::File,
    /// (T, K, width).
    pub shape: [usize; 3],
    dtype: Dtype,
    offset: u64,
    bytes: Vec<u8>,
}

impl RowReader {
    /// Opens `path`, checks its header and that its size matches the header's shape,
    /// and that the shape has three axes.
    pub fn open(path: &Path) -> Result<Self, NpyError> {
        let mut file = fs::File::open(path).map_err(NpyError::reading)?;
        let size = file.metadata().map_err(NpyError::reading)?.len();
        let mut prefix = Vec::new();
        io::Read::by_ref(&mut file)
            .take(HEADER_PREFIX_BYTES as u64)
            .read_to_end(&mut prefix)
            .map_err(NpyError::reading)?;
        let h = header(&prefix, float_item)?;
        check_size(&h, size - h.offset as u64)?;
        let shape: [usize; 3] =
            h.shape.clone().try_into().map_err(|_| NpyError::NotThreeAxes(h.shape.clone()))?;
        let dtype = if h.item == 4 { Dtype::F32 } else { Dtype::F64 };
        Ok(RowReader { file, shape, dtype, offset: h.offset as u64, bytes: Vec::new() })
    }

    /// The file's element type.
    pub fn dtype(&self) -> Dtype {
        self.dtype
    }

    /// Step `t`'s rows of trials `k0..k1`, (k1 - k0, width), as f32 into `into`
    /// (resized); an error for an element that is not finite in f32, with its index.
    pub fn read(
        &mut self,
        t: usize,
        k0: usize,
        k1: usize,
        into: &mut Vec<f32>,
    ) -> Result<(), NpyError> {
        let [_, k, width] = self.shape;
        let item = if self.dtype == Dtype::F32 { 4 } else { 8 };
        let start = ((t * k + k0) * width) as u64 * item as u64;
        self.bytes.resize((k1 - k0) * width * item, 0);
        io::Seek::seek(&mut self.file, io::SeekFrom::Start(self.offset + start))
            .and_then(|_| io::Read::read_exact(&mut self.file, &mut self.bytes))
            .map_err(|e| NpyError::Unreadable(e.to_string()))?;
        into.clear();
        if item == 4 {
            into.extend(
                self.bytes.chunks_exact(4).map(|c| f32::from_le_bytes(c.try_into().unwrap())),
            );
        } else {
            into.extend(
                self.bytes
                    .chunks_exact(8)
                    .map(|c| f64::from_le_bytes(c.try_into().unwrap()) as f32),
            );
        }
        if let Some(i) = into.iter().position(|x| !x.is_finite()) {
            return Err(NpyError::NotFinite([t, k0 + i / width.max(1), i % width.max(1)]));
        }
        Ok(())
    }
}

/// Bytes of the header [`StreamWriter`] writes: room for any shape of up to three axes.
const STREAM_HEADER_BYTES: usize = 128;

/// The v1.0 header of a C-order array of `descr` and `shape`, padded with spaces to
/// [`STREAM_HEADER_BYTES`] (a multiple of 64, as numpy pads).
fn stream_header(descr: &str, shape: &[usize]) -> Vec<u8> {
    let dims: Vec<String> = shape.iter().map(|d| d.to_string()).collect();
    let tuple =
        if dims.len() == 1 { format!("({},)", dims[0]) } else { format!("({})", dims.join(", ")) };
    let dict = format!("{{'descr': '{descr}', 'fortran_order': False, 'shape': {tuple}, }}");
    let mut bytes = b"\x93NUMPY\x01\x00".to_vec();
    let len = STREAM_HEADER_BYTES - 10;
    bytes.extend_from_slice(&(len as u16).to_le_bytes());
    bytes.extend_from_slice(dict.as_bytes());
    bytes.resize(STREAM_HEADER_BYTES - 1, b' ');
    bytes.push(b'\n');
    bytes
}

/// A .npy file written in pieces, in place or appended, whose header (with room for any
/// shape) is written with the final shape by [`StreamWriter::finish`].
pub struct StreamWriter {
    file: io::BufWriter<fs::File>,
    descr: &'static str,
    item: usize,
}

impl StreamWriter {
    /// Creates `path` for elements of `descr` ("<f4", "<f8" or "<i8").
    pub fn create(path: &Path, descr: &'static str) -> io::Result<Self> {
        let item = if descr == "<f4" { 4 } else { 8 };
        let mut file = io::BufWriter::new(fs::File::create(path)?);
        file.write_all(&stream_header(descr, &[0]))?;
        Ok(StreamWriter { file, descr, item })
    }

    /// Writes `bytes` (whole elements, little-endian) at element `index`.
    pub fn write_at(&mut self, index: usize, bytes: &[u8]) -> io::Result<()> {
        let at = (STREAM_HEADER_BYTES + index * self.item) as u64;
        io::Seek::seek(&mut self.file, io::SeekFrom::Start(at))?;
        self.file.write_all(bytes)
    }

    /// Appends `bytes` (whole elements, little-endian) after the last written.
    pub fn append(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.file.write_all(bytes)
    }

    /// Writes the header for `shape` (whose elements must all have been written) and
    /// flushes.
    pub fn finish(mut self, shape: &[usize]) -> io::Result<()> {
        io::Seek::seek(&mut self.file, io::SeekFrom::Start(0))?;
        self.file.write_all(&stream_header(self.descr, shape))?;
        let file = self.file.into_inner().map_err(|e| e.into_error())?;
        let len = (STREAM_HEADER_BYTES + shape.iter().product::<usize>() * self.item) as u64;
        file.set_len(len)?;
        file.sync_all()
    }
}
