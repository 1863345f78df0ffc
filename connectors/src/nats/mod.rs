//! The `nats` connector over async-nats: core NATS subjects (wildcards, queue groups) at most
//! once, or JetStream at least once (a durable consumer acknowledged once every sink
//! confirmed; publishing confirmed by the stream's PubAck). The first connection is tried
//! again with backoff; the client then reconnects and resubscribes by itself.

mod config;
mod connection;
mod consumer;
mod pubacks;
mod sink;
mod source;
#[cfg(test)]
mod tests;

pub use config::{JetStreamConfig, NatsConfig, NatsSinkProps, NatsSourceProps};
pub use sink::NatsSink;
pub use source::NatsSource;

use crate::kind::{BuildSink, BuildSource, Kind};

/// The `nats` source kind.
pub(crate) fn source() -> Kind<BuildSource> {
    Kind::new::<NatsSourceProps>(
        "nats",
        "Subscribes to a NATS subject (wildcards, queue groups), or consumes a JetStream durable consumer.",
        source::build,
    )
}

/// The `nats` sink kind.
pub(crate) fn sink() -> Kind<BuildSink> {
    Kind::<BuildSink>::new::<NatsSinkProps>(
        "nats",
        "Publishes to a NATS subject, or through JetStream waiting for the stream to store each message.",
        sink::build,
    )
    .with_destination("subject")
}
