//! `veloFlux top`: every pipeline's state, rows in and out per second, errors and p99 batch
//! time, refreshed each second in the terminal (as `vector top` does) until `q` or Ctrl-C.
//! When stdout is not a terminal, or with `--output json`, it prints one snapshot, rates
//! measured over one second, and exits.

mod sample;
mod screen;

use std::io::IsTerminal;
use std::time::Duration;

use clap::Args;

use super::client::{Client, Connection};
use super::error::CliError;
use super::output::{Output, Table, print_json};
use sample::{Line, Sample};

/// How often the counters are read.
const REFRESH: Duration = Duration::from_secs(1);

/// The column headers, on screen and in a snapshot.
const HEADERS: [&str; 7] = [
    "PIPELINE",
    "STATE",
    "IN/S",
    "OUT/S",
    "ERRORS",
    "P99 MS",
    "LAST ERROR",
];

/// `veloFlux top`.
#[derive(Debug, Args)]
pub(crate) struct TopCommand {
    #[command(flatten)]
    connection: Connection,
}

impl TopCommand {
    /// Shows the live view in a terminal, or prints one snapshot elsewhere.
    ///
    /// # Errors
    /// The server's refusal or absence (a snapshot), or a terminal that cannot be drawn on.
    pub(crate) async fn run(self) -> Result<(), CliError> {
        let client = self.connection.client()?;
        let output = self.connection.output;
        if output == Output::Text && std::io::stdout().is_terminal() {
            return screen::run(&client, &self.connection.server).await;
        }
        snapshot(&client, output).await
    }
}

/// Reads the counters twice, [`REFRESH`] apart, and prints the rates between.
async fn snapshot(client: &Client, output: Output) -> Result<(), CliError> {
    let before = Sample::read(client).await?;
    tokio::time::sleep(REFRESH).await;
    let lines = Sample::read(client).await?.lines(Some(&before));
    match output {
        Output::Json => {
            let lines = serde_json::to_value(&lines)
                .map_err(|error| CliError::Local(format!("printing JSON: {error}")))?;
            print_json(&lines)
        }
        Output::Text => {
            let mut table = Table::new(&HEADERS);
            for line in &lines {
                table.push(cells(line).into());
            }
            table.print();
            Ok(())
        }
    }
}

/// A line's cells under [`HEADERS`].
fn cells(line: &Line) -> [String; 7] {
    let rate = |rate: Option<f64>| rate.map_or_else(|| "-".to_owned(), |rate| format!("{rate:.1}"));
    [
        line.id.clone(),
        line.state.clone(),
        rate(line.rows_in_per_sec),
        rate(line.rows_out_per_sec),
        line.errors.to_string(),
        line.p99_batch_ms
            .map_or_else(|| "-".to_owned(), |ms| format!("{ms:.3}")),
        line.last_error.clone().unwrap_or_else(|| "-".to_owned()),
    ]
}
