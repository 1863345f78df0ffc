//! The `http` connector. The sink: each message is the body of one request (`POST` or `PUT`)
//! to a webhook or a REST endpoint, sent in order by a task of its own and retried until the
//! endpoint takes it, so the source is acknowledged only once the endpoint answered 2xx. The
//! source (`ingest`): messages posted to the server's own `POST /streams/<name>/ingest`.
//!
//! A request per message: one per row with the default encoder, one per micro-batch with the
//! json encoder's `format: "array"` (the encoder already frames a batch as one JSON array,
//! so the sink does not do it again).

mod config;
mod endpoint;
mod ingest;
mod sender;
mod sink;

#[cfg(test)]
mod tests;

pub use config::{HttpMethod, HttpSinkConfig};
pub use sink::HttpSink;

use crate::kind::{BuildSink, Kind};

pub(crate) use ingest::source;

/// The `http` sink kind.
pub(crate) fn sink() -> Kind<BuildSink> {
    Kind::<BuildSink>::new::<HttpSinkConfig>(
        "http",
        "Sends each message as the body of an HTTP request (POST or PUT), retried until a 2xx.",
        sink::build,
    )
    .with_destination("url")
}
