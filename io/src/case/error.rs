//! The errors of a case, task or model folder: the file at fault and what is wrong with
//! it, in words that quote the offending key, element or value.

use std::path::{Path, PathBuf};

/// An error about one file of a case (or of a model folder's files), named relative to
/// its folder.
#[derive(Debug, Clone, PartialEq)]
pub struct CaseError {
    /// The file name.
    pub file: String,
    /// What is wrong with it.
    pub message: String,
}

impl std::fmt::Display for CaseError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.file, self.message)
    }
}

impl std::error::Error for CaseError {}

impl CaseError {
    /// The same error located in the folder `dir`.
    pub fn in_folder(self, dir: &Path) -> FolderError {
        FolderError { dir: dir.to_path_buf(), file: self.file, message: self.message }
    }
}

/// An error about one file of a folder, with the folder's path: its [`Display`] is one
/// line, the file's path then the fault (the folder's own path when `file` is empty:
/// the folder itself is at fault).
///
/// [`Display`]: std::fmt::Display
#[derive(Debug, Clone, PartialEq)]
pub struct FolderError {
    /// The folder.
    pub dir: PathBuf,
    /// The file in it (empty: the folder itself).
    pub file: String,
    /// What is wrong with it.
    pub message: String,
}

impl FolderError {
    /// An error about `file` of `dir`.
    pub fn new(dir: &Path, file: &str, message: impl std::fmt::Display) -> Self {
        FolderError { dir: dir.to_path_buf(), file: file.to_string(), message: message.to_string() }
    }

    /// The path of the file at fault (the folder's when `file` is empty).
    pub fn path(&self) -> PathBuf {
        if self.file.is_empty() {
            self.dir.clone()
        } else {
            self.dir.join(&self.file)
        }
    }
}

impl std::fmt::Display for FolderError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.path().display(), self.message)
    }
}

impl std::error::Error for FolderError {}

/// An error about `file`.
pub fn fail<T>(file: &str, message: impl Into<String>) -> Result<T, CaseError> {
    Err(CaseError { file: file.to_string(), message: message.into() })
}

/// `text` with control characters escaped (`\n`, `\u{1b}`): a message quoting a key
/// or file name from the user's files stays on one line and prints nothing raw.
pub fn one_line(text: &str) -> String {
    text.chars()
        .map(|c| if c.is_control() { c.escape_default().to_string() } else { c.to_string() })
        .collect()
}

/// `[i, j, k]` for a flat C-order index into `shape`.
pub fn multi_index(mut flat: usize, shape: &[usize]) -> String {
    let mut index = vec![0; shape.len()];
    for (slot, &dim) in index.iter_mut().zip(shape).rev() {
        *slot = flat % dim.max(1);
        flat /= dim.max(1);
    }
    format!("{index:?}")
}
