//! What the end-to-end tests stand on, built on `veloflux-testkit`: the real server binary on
//! a free port, a broker (in-process by default, the one `VELOFLUX_TEST_MQTT` names
//! otherwise, or a Mosquitto process that a test may stop), an HTTP client, MQTT clients and
//! NATS clients.
//!
//! Every test binary includes it and uses part of it. Where the kit returns an error, these
//! helpers panic: a failure here is a failed test.

#![allow(
    dead_code,
    unused_imports,
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "shared by several test binaries, each using part of it; a failure is a failed test"
)]

mod cli;
mod docs;
mod fixture;
mod mosquitto;
mod mqtt;
mod nats;
mod server;
mod specs;
mod stateful;
mod throttle;

use std::net::SocketAddr;
use std::path::Path;
use std::process::ExitStatus;

pub(crate) use cli::{
    Ran, client_command, finished, run_cli_examples, server_url, veloflux, veloflux_with_input,
};
pub(crate) use docs::{curls, run_curl_examples};
pub(crate) use fixture::{Filtering, filtering, filtering_pipeline, filtering_pipeline_at};
pub(crate) use mosquitto::{Mosquitto, mosquitto_or_skip};
pub(crate) use mqtt::{
    Subscriber, publish, publish_bytes, publish_v5, publisher_ahead_of, steady_publisher,
};
pub(crate) use nats::{NatsSubscriber, fresh_jetstream_stream, jetstream_publisher, nats_url};
pub(crate) use server::{Server, options};
pub(crate) use specs::{pipeline_spec, stream_spec};
pub(crate) use stateful::{
    DEVICES, Interruption, READINGS, READINGS_PER_DEVICE, Stateful, device, reading, value,
};
pub(crate) use throttle::throttled_proxy;
pub(crate) use veloflux_testkit::{DEADLINE, unique_topic};

/// A port nobody listens on right now.
pub(crate) fn free_addr() -> SocketAddr {
    veloflux_testkit::free_addr().expect("a free port")
}

/// The broker URL tests use: `VELOFLUX_TEST_MQTT`, or an in-process broker started once.
pub(crate) fn broker_url() -> String {
    veloflux_testkit::test_broker_url().unwrap_or_else(|error| panic!("{error}"))
}

/// Waits until `condition` holds, polling; panics naming `what` after [`DEADLINE`].
pub(crate) async fn wait_until(what: &str, condition: impl AsyncFnMut() -> bool) {
    let waited = veloflux_testkit::wait_until(what, condition).await;
    waited.unwrap_or_else(|error| panic!("{error}"));
}

/// Runs the server until it exits by itself (as it does when it cannot start) and returns
/// how it exited and what it wrote to stderr.
pub(crate) fn run_to_exit(data_dir: &Path) -> (ExitStatus, String) {
    let options = server::options(&[]);
    let exited = veloflux_testkit::Server::run_to_exit(&options, data_dir)
        .unwrap_or_else(|error| panic!("{error}"));
    (exited.status, exited.stderr)
}
