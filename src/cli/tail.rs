//! `veloFlux tail <pipeline>`: the rows passing a tap of a running pipeline, printed as they
//! pass, until Ctrl-C or `--limit` rows.
//!
//! It reads the Arrow IPC stream of `GET /pipelines/<id>/debug/tail` as it arrives and prints
//! each batch with Arrow's pretty printer (or as JSON lines with `--output json`). The server
//! ends a tail after at most five minutes; the client then asks for another.

use std::io::Write;

use arrow::array::RecordBatch;
use arrow::buffer::Buffer;
use arrow_ipc::reader::StreamDecoder;
use clap::{Args, ValueEnum};
use veloflux_connectors::codec::json::{JsonEncoder, JsonFormat};

use super::client::{Client, Connection};
use super::error::CliError;
use super::output::Output;

/// How long each tail request lasts, in seconds: the longest the server grants.
const TAIL_SECONDS: &str = "300";

/// `veloFlux tail <pipeline> [--point …] [--limit N]`.
#[derive(Debug, Args)]
pub(crate) struct TailCommand {
    #[command(flatten)]
    connection: Connection,
    /// The pipeline's id; it must be running, or have run since the server started.
    pipeline: String,
    /// Where to look: after decoding (source), after WHERE (filter), after the SELECT list
    /// (project), or what the sinks are given (sink).
    #[arg(long, value_enum, default_value_t = Point::Sink)]
    point: Point,
    /// Stop after printing this many rows.
    #[arg(long, value_name = "N")]
    limit: Option<usize>,
}

/// A pipeline's tap.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Point {
    /// The decoded rows.
    Source,
    /// The rows the WHERE clause kept.
    Filter,
    /// The rows of the SELECT list.
    Project,
    /// What the sinks are given.
    Sink,
}

impl TailCommand {
    /// Prints rows until Ctrl-C, or until `--limit` rows are printed.
    ///
    /// # Errors
    /// The server's refusal (no such pipeline, one that has not run), a lost connection, or
    /// a stream that is not Arrow IPC.
    pub(crate) async fn run(self) -> Result<(), CliError> {
        let client = self.connection.client()?;
        let mut rows = Rows::new(self.connection.output, self.limit);
        tokio::select! {
            result = self.follow(&client, &mut rows) => result,
            _ = tokio::signal::ctrl_c() => Ok(()),
        }
    }

    async fn follow(&self, client: &Client, rows: &mut Rows) -> Result<(), CliError> {
        let point = self.point.to_possible_value();
        let point = point.as_ref().map_or("sink", |value| value.get_name());
        let segments = ["pipelines", &self.pipeline, "debug", "tail"];
        let query = [("point", point), ("seconds", TAIL_SECONDS)];
        while !rows.done() {
            let mut response = client.open(&segments, &query).await?;
            let mut decoder = StreamDecoder::new();
            while let Some(chunk) = response.chunk().await.map_err(lost)? {
                let mut buffer = Buffer::from(chunk);
                while !buffer.is_empty() {
                    if let Some(batch) = decoder.decode(&mut buffer).map_err(unreadable)? {
                        rows.print(&batch)?;
                        if rows.done() {
                            return Ok(());
                        }
                    }
                }
            }
        }
        Ok(())
    }
}

/// Prints batches, counting rows down to the limit.
struct Rows {
    output: Output,
    remaining: Option<usize>,
    encoder: JsonEncoder,
}

impl Rows {
    fn new(output: Output, limit: Option<usize>) -> Self {
        Self {
            output,
            remaining: limit,
            encoder: JsonEncoder::new(JsonFormat::MessagePerRow),
        }
    }

    fn done(&self) -> bool {
        self.remaining == Some(0)
    }

    /// Prints the rows of `batch`, as many as the limit leaves.
    fn print(&mut self, batch: &RecordBatch) -> Result<(), CliError> {
        let shown = self.remaining.map_or(batch.num_rows(), |remaining| {
            remaining.min(batch.num_rows())
        });
        if shown == 0 {
            return Ok(());
        }
        let batch = batch.slice(0, shown);
        match self.output {
            Output::Text => {
                let table =
                    arrow::util::pretty::pretty_format_batches(&[batch]).map_err(unreadable)?;
                println!("{table}");
            }
            Output::Json => self.print_json_lines(&batch)?,
        }
        if let Some(remaining) = &mut self.remaining {
            *remaining -= shown;
        }
        Ok(())
    }

    fn print_json_lines(&mut self, batch: &RecordBatch) -> Result<(), CliError> {
        let messages = self
            .encoder
            .encode(batch)
            .map_err(|error| CliError::Local(format!("writing rows as JSON: {error}")))?;
        let mut stdout = std::io::stdout().lock();
        for message in messages.iter() {
            stdout
                .write_all(message)
                .and_then(|()| stdout.write_all(b"\n"))
                .map_err(|error| CliError::Local(format!("writing to stdout: {error}")))?;
        }
        stdout
            .flush()
            .map_err(|error| CliError::Local(format!("writing to stdout: {error}")))
    }
}

fn lost(error: reqwest::Error) -> CliError {
    CliError::Local(format!("the tail was cut off: {}", CliError::chain(&error)))
}

fn unreadable(error: arrow::error::ArrowError) -> CliError {
    CliError::Local(format!(
        "the tail is not a readable Arrow IPC stream: {error}"
    ))
}
