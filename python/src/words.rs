//! The errors of a case in Python's words: a case folder's file is the caller's array or
//! config key (`arrays['mask']`, `config`), a missing file is a missing array, and
//! serde's "missing field `tau_s` at line 1 column 81" is "missing key 'tau_s'".

use spikegrad_io::case::{CaseError, Fault};

/// Where a case error is, in Python's words: `arrays['W']` for `W.npy`, `config` for
/// config.json.
pub fn place(file: &str) -> String {
    match file {
        "config.json" => "config".to_string(),
        f => match f.strip_suffix(".npy") {
            Some(name) => format!("arrays['{name}']"),
            None => f.to_string(),
        },
    }
}

/// serde's text of a fault in config.json, in words about the dict's keys.
fn syntax_fault(text: &str) -> String {
    // serde appends the place in the JSON text, which the caller never wrote.
    let text = match text.rfind(" at line ") {
        Some(i) => &text[..i],
        None => text,
    };
    let quoted = |rest: &str| -> Option<(String, String)> {
        let rest = rest.strip_prefix('`')?;
        let end = rest.find('`')?;
        Some((rest[..end].to_string(), rest[end + 1..].to_string()))
    };
    if let Some((key, _)) = text.strip_prefix("missing field ").and_then(quoted) {
        return format!("missing key '{key}'");
    }
    if let Some((key, rest)) = text.strip_prefix("unknown field ").and_then(quoted) {
        let expected = rest.trim_start_matches(", ");
        return format!("unknown key '{key}' ({expected})");
    }
    format!("invalid: {text}")
}

/// A case error as Python's callers name things.
pub fn case_error(e: &CaseError) -> String {
    let place = place(&e.file);
    let fault = match &e.fault {
        Fault::Missing { why: Some(why) } => format!("missing: {why}"),
        Fault::Missing { why: None } => "missing".to_string(),
        Fault::Syntax(text) => syntax_fault(text),
        fault => fault.to_string(),
    };
    if place.is_empty() {
        fault
    } else {
        format!("{place}: {fault}")
    }
}
