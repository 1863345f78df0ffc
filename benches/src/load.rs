//! The MQTT load tool behind the `mqtt-load` binary: it drives a running pipeline (or a bare
//! [`relay`]) through a broker with the benchmark workload and reports what came out.
//!
//! [`run`] publishes [`crate::workload::timestamped_message`]s to an input topic and counts
//! what arrives on an output topic; [`relay`] copies one topic to another, so that a run
//! through it measures the ceiling the broker itself allows. The pure pieces (pacing, latency
//! statistics, the report) sit in their own modules and are unit tested; broker addresses are
//! parsed by the test kit; the two commands are checked by hand against a broker.

pub mod broker;
pub mod latency;
pub mod pacing;
pub mod relay;
pub mod report;
pub mod run;

use std::time::{SystemTime, UNIX_EPOCH};

/// Microseconds since the Unix epoch by the wall clock: the clock both ends of an end-to-end
/// latency are read from, since the sender's and the receiver's monotonic clocks differ.
pub fn unix_micros() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |since| {
            u64::try_from(since.as_micros()).unwrap_or(u64::MAX)
        })
}
