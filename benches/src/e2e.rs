//! The end-to-end benches behind `bench-e2e` and `bench-footprint`: they start the release
//! `veloFlux` server as a child process and configure it over its REST API (both with the test
//! kit, `veloflux-testkit`), drive it through a real MQTT broker with the load tool
//! ([`crate::load`]) and read its CPU time and memory from `/proc`.
//!
//! The pieces that touch no process or socket (parsing `/proc`, the request bodies, the
//! tables, the sweep's chart) are unit tested; the benches themselves are run by hand
//! (`make bench-e2e`, `make bench-sweep`, `make bench-footprint`) and their figures recorded
//! in `docs/PERFORMANCE.md`.

pub mod chart;
pub mod deploy;
pub mod footprint;
pub mod measure;
pub mod procfs;
pub mod relay;
pub mod server;
pub mod shared_stream;
pub mod specs;
pub mod sweep;
pub mod table;
pub mod workloads;
