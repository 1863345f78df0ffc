//! `veloFlux export` and `veloFlux import`: every stream and pipeline as one JSON document.

use std::path::PathBuf;

use clap::Args;
use serde_json::Value;

use super::client::Connection;
use super::error::CliError;
use super::output::{print_json, report};
use super::spec_file::read_json;

/// `veloFlux export`: the document on stdout (`veloFlux export > backup.json`).
#[derive(Debug, Args)]
pub(crate) struct ExportCommand {
    #[command(flatten)]
    connection: Connection,
}

/// `veloFlux import -f backup.json`.
#[derive(Debug, Args)]
pub(crate) struct ImportCommand {
    #[command(flatten)]
    connection: Connection,
    /// A document written by `veloFlux export` (GET /export); `-` reads it from stdin.
    #[arg(short = 'f', long, value_name = "FILE")]
    file: PathBuf,
}

impl ExportCommand {
    /// Prints the document, whatever the output format: it is JSON either way.
    ///
    /// # Errors
    /// The server's refusal, or why the request could not be sent.
    pub(crate) async fn run(self) -> Result<(), CliError> {
        let client = self.connection.client()?;
        print_json(&client.get(&["export"]).await?)
    }
}

impl ImportCommand {
    /// Sends the document: all of it is imported, or nothing.
    ///
    /// # Errors
    /// The server's refusal (every name that exists already, or the first invalid item), or
    /// why the request could not be sent.
    pub(crate) async fn run(self) -> Result<(), CliError> {
        let client = self.connection.client()?;
        let document = read_json(&self.file)?;
        let imported = client.post(&["import"], Some(&document)).await?;
        report(self.connection.output, &imported, || {
            format!(
                "imported {} and {}",
                count(&imported["streams"], "stream"),
                count(&imported["pipelines"], "pipeline")
            )
        })
    }
}

/// `2 streams`, `1 pipeline`.
fn count(items: &Value, noun: &str) -> String {
    let count = items.as_array().map_or(0, Vec::len);
    let plural = if count == 1 { "" } else { "s" };
    format!("{count} {noun}{plural}")
}
