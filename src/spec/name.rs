//! Names of streams, pipelines and sinks: they appear in URLs and file-backed keys, so they
//! are kept to a safe alphabet.

use super::SpecError;

/// The longest name accepted.
const MAX_LEN: usize = 128;

/// Checks that `name` (the value of `field`) is 1 to 128 letters, digits, `_`, `-` or `.`,
/// not starting with `.`.
///
/// # Errors
/// Naming the field and what is wrong.
pub fn validate_name(field: &str, name: &str) -> Result<(), SpecError> {
    if name.is_empty() {
        return Err(SpecError(format!("{field} must not be empty")));
    }
    if name.len() > MAX_LEN {
        return Err(SpecError(format!(
            "{field} must be at most {MAX_LEN} characters"
        )));
    }
    let allowed = |ch: char| ch.is_ascii_alphanumeric() || matches!(ch, '_' | '-' | '.');
    if !name.chars().all(allowed) || name.starts_with('.') {
        return Err(SpecError(format!(
            "{field} '{name}' may hold only letters, digits, '_', '-' and '.', and may not start with '.'"
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_plain_names_and_refuses_path_tricks() {
        for good in ["source_stream", "demo-pipeline", "a.b", "X9"] {
            assert!(validate_name("name", good).is_ok(), "{good}");
        }
        for bad in [
            "",
            "../etc",
            "a/b",
            ".hidden",
            "sp ace",
            "é",
            &"x".repeat(129),
        ] {
            let error = validate_name("name", bad).unwrap_err();
            assert!(error.0.starts_with("name "), "{bad}: {error}");
        }
    }
}
