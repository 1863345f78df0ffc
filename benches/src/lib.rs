//! Shared pieces of the veloFlux benchmarks.
//!
//! The criterion benches under `benches/benches/` and the `perf-chart` tool read the same
//! workload (a 10-column sensor stream and `SELECT user_id, score, device FROM s WHERE score >
//! 0`), compare against the same row-at-a-time baseline, and file their results under the same
//! names, all defined here so that a figure in `docs/PERFORMANCE.md` can be traced to one place.
//! The `mqtt-load` tool ([`load`]) publishes the same messages through a broker, and the
//! `bench-e2e` and `bench-footprint` tools ([`e2e`]) measure the release server through it.
//! The connector benches (`metadata`, `destinations`, `sinks`) and the `webhook-outage`
//! check share [`connectors`], and time CPU rather than wall time ([`cpu`]). The `checkpoint`
//! bench saves and restores the window state of [`open_groups`].

pub mod check;
pub mod connectors;
pub mod cpu;
pub mod e2e;
pub mod error;
pub mod estimates;
pub mod harness;
pub mod load;
pub mod open_groups;
pub mod row_at_a_time;
pub mod stages;
pub mod workload;

pub use error::{Error, Result};
