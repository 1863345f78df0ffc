//! Codecs: stream schemas and the conversions between message payloads and record batches.

pub mod json;
pub mod schema;
