//! The command-line client of a running server's REST API, in the server's own binary.
//!
//! Noun-verb commands (`stream create`, `pipeline list`), human output by default and the
//! server's JSON with `--output json`, the server's error message and a non-zero exit status
//! on failure ([`CliError::exit_code`]). Each command group is a module; they share the HTTP
//! client (`client`), the output helpers (`output`) and the reading of spec files
//! (`spec_file`).

mod client;
mod error;
mod output;
mod pipeline;
mod sink_url;
mod spec_file;
mod stream;
mod tail;
mod top;
mod transfer;

use std::process::ExitCode;

use clap::Subcommand;

use error::CliError;

/// The client's commands, beside the server's `serve`.
#[derive(Debug, Subcommand)]
pub(crate) enum ClientCommand {
    /// Create, list, describe and delete streams.
    Stream(stream::StreamCommand),
    /// Create, list, show, start, stop, delete, explain pipelines and read their status.
    Pipeline(pipeline::PipelineCommand),
    /// Print every stream and pipeline as one JSON document (`GET /export`).
    Export(transfer::ExportCommand),
    /// Add the streams and pipelines of an exported document (`POST /import`).
    Import(transfer::ImportCommand),
    /// Print the rows passing a tap of a running pipeline, as they pass.
    Tail(tail::TailCommand),
    /// A live view of every pipeline: state, rows in and out per second, errors, batch time.
    Top(top::TopCommand),
}

/// Runs `command` against the server it names and says how it went: the exit status.
pub(crate) fn run(command: ClientCommand) -> ExitCode {
    let result = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|error| CliError::Local(format!("starting the async runtime: {error}")))
        .and_then(|runtime| runtime.block_on(execute(command)));
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error}");
            ExitCode::from(error.exit_code())
        }
    }
}

async fn execute(command: ClientCommand) -> Result<(), CliError> {
    match command {
        ClientCommand::Stream(command) => command.run().await,
        ClientCommand::Pipeline(command) => command.run().await,
        ClientCommand::Export(command) => command.run().await,
        ClientCommand::Import(command) => command.run().await,
        ClientCommand::Tail(command) => command.run().await,
        ClientCommand::Top(command) => command.run().await,
    }
}
