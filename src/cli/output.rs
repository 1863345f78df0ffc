//! How answers are printed: aligned columns or `key: value` lines for people, the server's
//! JSON for scripts.

use serde_json::Value;

use super::error::CliError;

/// The output format (`--output`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum Output {
    /// Tables and plain text.
    #[default]
    Text,
    /// The server's JSON answers, indented.
    Json,
}

/// Prints `value` as indented JSON.
///
/// # Errors
/// Never for JSON read from the server; the signature is serde's.
pub(crate) fn print_json(value: &Value) -> Result<(), CliError> {
    let text = serde_json::to_string_pretty(value)
        .map_err(|error| CliError::Local(format!("printing JSON: {error}")))?;
    println!("{text}");
    Ok(())
}

/// Prints the server's answer as JSON, or for people as `text` does.
///
/// # Errors
/// As [`print_json`].
pub(crate) fn print_answer(
    output: Output,
    answer: &Value,
    text: impl FnOnce(&Value),
) -> Result<(), CliError> {
    match output {
        Output::Json => print_json(answer),
        Output::Text => {
            text(answer);
            Ok(())
        }
    }
}

/// Prints the server's answer as JSON, or `message` as text.
///
/// # Errors
/// As [`print_json`].
pub(crate) fn report(
    output: Output,
    answer: &Value,
    message: impl FnOnce() -> String,
) -> Result<(), CliError> {
    print_answer(output, answer, |_| println!("{}", message()))
}

/// A JSON value as one short line: strings without quotes, `-` for null, the rest as JSON.
pub(crate) fn plain(value: &Value) -> String {
    match value {
        Value::Null => "-".to_owned(),
        Value::String(text) => text.clone(),
        other => other.to_string(),
    }
}

/// Milliseconds to three decimals (batches take microseconds), `-` when unknown.
pub(crate) fn milliseconds(value: &Value) -> String {
    value
        .as_f64()
        .map_or_else(|| "-".to_owned(), |ms| format!("{ms:.3}"))
}

/// Columns of text aligned under their headers, as `kubectl get` prints them: no borders,
/// so that `awk` and `cut` read them too.
#[derive(Debug)]
pub(crate) struct Table {
    headers: Vec<&'static str>,
    rows: Vec<Vec<String>>,
}

impl Table {
    /// An empty table with these column headers.
    pub(crate) fn new(headers: &[&'static str]) -> Self {
        Self {
            headers: headers.to_vec(),
            rows: Vec::new(),
        }
    }

    /// Adds a row: one cell per header.
    pub(crate) fn push(&mut self, row: Vec<String>) {
        self.rows.push(row);
    }

    /// Prints the table to stdout.
    pub(crate) fn print(&self) {
        print!("{}", self.render());
    }

    /// The table as text, one line per row after the headers.
    pub(crate) fn render(&self) -> String {
        let headers = self.headers.iter().map(|header| header.to_string());
        let lines: Vec<Vec<String>> = std::iter::once(headers.collect())
            .chain(self.rows.iter().cloned())
            .collect();
        let mut widths = vec![0; self.headers.len()];
        for line in &lines {
            for (width, cell) in widths.iter_mut().zip(line) {
                *width = (*width).max(cell.chars().count());
            }
        }
        let mut text = String::new();
        for line in &lines {
            let cells = line
                .iter()
                .zip(&widths)
                .map(|(cell, width)| format!("{cell:<width$}"));
            text.push_str(cells.collect::<Vec<_>>().join("  ").trim_end());
            text.push('\n');
        }
        text
    }
}

/// Prints `pairs` as `key: value` lines, the values aligned.
pub(crate) fn print_fields(pairs: &[(&str, String)]) {
    let width = pairs
        .iter()
        .map(|(key, _)| key.len() + 1)
        .max()
        .unwrap_or(0);
    for (key, value) in pairs {
        println!("{:<width$}  {value}", format!("{key}:"));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_table_aligns_its_columns_under_the_headers() {
        let mut table = Table::new(&["ID", "STATUS"]);
        table.push(vec!["hot-devices".into(), "running".into()]);
        table.push(vec!["a".into(), "stopped".into()]);
        assert_eq!(
            table.render(),
            "ID           STATUS\nhot-devices  running\na            stopped\n"
        );
    }

    #[test]
    fn plain_values_lose_their_quotes_and_null_is_a_dash() {
        assert_eq!(plain(&Value::from("x")), "x");
        assert_eq!(plain(&Value::Null), "-");
        assert_eq!(plain(&serde_json::json!({"a": 1})), r#"{"a":1}"#);
    }
}
