//! Telemetry: what a running veloFlux tells about itself.

pub mod metrics;
#[cfg(feature = "profiling")]
pub mod profile;
