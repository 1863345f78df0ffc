//! The `file` connector: a sink appending each message as a line to a file (rotated by size
//! or age, fixed or rendered from each row), and a source delivering each line of a file,
//! read once or followed as it grows, resuming after a restart where the pipeline had
//! settled every line.

mod append;
mod config;
mod offset;
mod reader;
mod rotation;
mod sink;
mod source;
#[cfg(test)]
mod tests;
mod writer;

pub use config::{FileSinkConfig, FileSourceConfig, FsyncPolicy, ReadMode};

use crate::kind::{BuildSink, BuildSource, Kind};

/// The `file` source kind.
pub(crate) fn source() -> Kind<BuildSource> {
    Kind::new::<FileSourceConfig>(
        "file",
        "Reads a file line by line, once or following it as it grows (one message per line).",
        source::build,
    )
}

/// The `file` sink kind.
pub(crate) fn sink() -> Kind<BuildSink> {
    Kind::<BuildSink>::new::<FileSinkConfig>(
        "file",
        "Appends each message as a line to a file, rotated by size or age.",
        sink::build,
    )
    .with_destination("path")
}
