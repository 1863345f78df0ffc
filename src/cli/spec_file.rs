//! Specs read from a JSON file (`-f spec.json`) or from stdin (`-f -`).

use std::io::Read;
use std::path::Path;

use serde_json::Value;

use super::error::CliError;

/// The JSON document in `path`, or on stdin when `path` is `-`.
///
/// # Errors
/// [`CliError::Usage`] naming the file when it cannot be read or is not JSON.
pub(crate) fn read_json(path: &Path) -> Result<Value, CliError> {
    let (name, text) = if path == Path::new("-") {
        let mut text = String::new();
        let read = std::io::stdin().read_to_string(&mut text);
        ("stdin".to_owned(), read.map(|_| text))
    } else {
        (path.display().to_string(), std::fs::read_to_string(path))
    };
    let text = text.map_err(|error| CliError::Usage(format!("{name}: {error}")))?;
    serde_json::from_str(&text).map_err(|error| CliError::Usage(format!("{name}: {error}")))
}

/// `spec` with its `field` (`name`, `id`) set to `value`, when one is given on the command
/// line.
///
/// # Errors
/// [`CliError::Usage`] when the spec is not a JSON object.
pub(crate) fn with_field(
    mut spec: Value,
    field: &str,
    value: Option<&str>,
) -> Result<Value, CliError> {
    let Some(object) = spec.as_object_mut() else {
        return Err(CliError::Usage(
            "the spec must be a JSON object (see docs/api/)".to_owned(),
        ));
    };
    if let Some(value) = value {
        object.insert(field.to_owned(), Value::from(value));
    }
    Ok(spec)
}
