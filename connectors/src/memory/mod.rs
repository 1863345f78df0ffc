//! The `memory` connector: in-process topics, so one pipeline's sink can feed another's
//! stream without a broker.

mod config;
mod sink;
mod source;

pub use config::MemoryConfig;

use crate::kind::{BuildSink, BuildSource, Kind};

/// The `memory` source kind.
pub(crate) fn source() -> Kind<BuildSource> {
    Kind::new::<MemoryConfig>(
        "memory",
        "Reads an in-process topic that pipelines' memory sinks write.",
        source::build,
    )
}

/// The `memory` sink kind.
pub(crate) fn sink() -> Kind<BuildSink> {
    Kind::<BuildSink>::new::<MemoryConfig>(
        "memory",
        "Writes to an in-process topic that memory streams read.",
        sink::build,
    )
    .with_destination("topic")
}
