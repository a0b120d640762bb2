//! The errors of a case, task or model folder: the file at fault and what is wrong with
//! it, in words that quote the offending key, element or value.

use std::path::{Path, PathBuf};

/// What is wrong with a file.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Fault {
    /// The file is absent; why it is needed, where known.
    Missing {
        /// Why the case needs it (e.g. "the mse loss needs it").
        why: Option<String>,
    },
    /// config.json is not valid JSON of the expected form (the parser's words).
    Syntax(String),
    /// One element of an array breaks a rule.
    Element {
        /// Its index, e.g. `[2, 3]`.
        index: String,
        /// Its value.
        value: String,
        /// The rule it breaks.
        rule: String,
    },
    /// Anything else: a shape, a dtype, a key's value.
    Invalid(String),
}

impl std::fmt::Display for Fault {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Fault::Missing { why: None } => write!(f, "file not found"),
            Fault::Missing { why: Some(why) } => write!(f, "file not found: {why}"),
            Fault::Syntax(text) => write!(f, "invalid: {text}"),
            Fault::Element { index, value, rule } => {
                write!(f, "element {index} is {value}: {rule}")
            }
            Fault::Invalid(message) => write!(f, "{message}"),
        }
    }
}

/// An error about one file of a case (or of a model folder's files), named relative to
/// its folder.
#[derive(Debug, Clone, PartialEq)]
pub struct CaseError {
    /// The file name.
    pub file: String,
    /// What is wrong with it.
    pub fault: Fault,
}

impl std::fmt::Display for CaseError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.file, self.fault)
    }
}

impl std::error::Error for CaseError {}

impl CaseError {
    /// The same error located in the folder `dir`.
    pub fn in_folder(self, dir: &Path) -> FolderError {
        FolderError { dir: dir.to_path_buf(), file: self.file, fault: self.fault }
    }

    /// The same error located in the subfolder `sub` of `dir` (`sub` empty: in `dir`).
    pub fn in_subfolder(self, dir: &Path, sub: &str) -> FolderError {
        let file = if sub.is_empty() { self.file } else { format!("{sub}/{}", self.file) };
        FolderError { dir: dir.to_path_buf(), file, fault: self.fault }
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
    pub fault: Fault,
}

impl FolderError {
    /// An error about `file` of `dir`.
    pub fn new(dir: &Path, file: &str, message: impl std::fmt::Display) -> Self {
        let fault = Fault::Invalid(message.to_string());
        FolderError { dir: dir.to_path_buf(), file: file.to_string(), fault }
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
        write!(f, "{}: {}", self.path().display(), self.fault)
    }
}

impl std::error::Error for FolderError {}

/// An error about `file`.
pub fn fail<T>(file: &str, message: impl Into<String>) -> Result<T, CaseError> {
    Err(CaseError { file: file.to_string(), fault: Fault::Invalid(message.into()) })
}

/// `file` is absent, needed for `why`.
pub fn missing<T>(file: &str, why: Option<&str>) -> Result<T, CaseError> {
    let fault = Fault::Missing { why: why.map(str::to_string) };
    Err(CaseError { file: file.to_string(), fault })
}

/// Element `index` of `file`, of value `value`, breaks `rule`.
pub fn bad_element<T>(
    file: &str,
    index: impl Into<String>,
    value: impl std::fmt::Display,
    rule: impl Into<String>,
) -> Result<T, CaseError> {
    let fault = Fault::Element { index: index.into(), value: value.to_string(), rule: rule.into() };
    Err(CaseError { file: file.to_string(), fault })
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
