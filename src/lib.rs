//! veloFlux: SQL over MQTT streams, on Apache Arrow micro-batches.
//!
//! The server's library: the runtime that carries batches from decoders through compiled plans
//! to encoders. The engine's layers live in their own crates: `veloflux-planner` (SQL to
//! plans), `veloflux-kernels` (vectorized operators) and `veloflux-connectors` (codecs,
//! sources and sinks).

pub mod config;
pub mod control;
pub mod error;
#[cfg(feature = "flight")]
pub mod flight;
pub mod instance;
pub mod manager;
pub mod runtime;
pub mod spec;
pub mod storage;
pub mod telemetry;
pub mod tls;

pub use error::{Error, Result};
