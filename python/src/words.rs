//! The errors of a case in Python's words: a case folder's file is the caller's array or
//! config key (`arrays['mask']`, `config`), a missing file is a missing array, and
//! serde's "missing field `tau_s` at line 1 column 81" is "missing key 'tau_s'".

use spikegrad_io::case::CaseError;

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
fn config_fault(message: &str) -> String {
    let text = message.strip_prefix("invalid: ").unwrap_or(message);
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
    match text.strip_prefix("invalid: ") {
        Some(_) => text.to_string(),
        None if message.starts_with("invalid: ") => format!("invalid: {text}"),
        None => text.to_string(),
    }
}

/// A case error as Python's callers name things.
pub fn case_error(e: &CaseError) -> String {
    let place = place(&e.file);
    let message = if e.file == "config.json" {
        config_fault(&e.message)
    } else {
        match e.message.strip_prefix("file not found: ") {
            Some(why) => format!("missing: {why}"),
            None if e.message == "file not found" => "missing".to_string(),
            None => e.message.clone(),
        }
    };
    if place.is_empty() {
        message
    } else {
        format!("{place}: {message}")
    }
}
