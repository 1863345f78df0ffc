//! Telemetry: what a running veloFlux tells about itself.

pub mod metrics;
