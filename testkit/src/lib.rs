//! What veloFlux's tests and benches share: a server launcher on free ports, a REST client,
//! an in-process or external MQTT broker, and wait-until helpers.
//!
//! The kit launches the real `veloFlux` binary, whose path the caller gives (a test passes
//! `env!("CARGO_BIN_EXE_veloFlux")`, a bench its release build), and talks to it only over
//! HTTP and MQTT: nothing here depends on the server's crate, and the product depends on
//! nothing here.
//!
//! ```no_run
//! # async fn example() -> veloflux_testkit::Result<()> {
//! use veloflux_testkit::{Server, ServerOptions, test_broker_url, unique_topic, wait_until};
//!
//! let broker = test_broker_url()?;
//! let server = Server::start(&ServerOptions::new("target/debug/veloFlux")).await?;
//! let topic = unique_topic("readings");
//! wait_until("the server lists no pipeline", async || {
//!     server.api().list_pipelines().await.is_ok_and(|list| list.is_empty())
//! })
//! .await?;
//! # let _ = (broker, topic);
//! # Ok(())
//! # }
//! ```

pub mod api;
pub mod broker;
pub mod chain;
pub mod error;
pub mod server;
pub mod signal;
pub mod unique;
pub mod wait;

pub use api::{Api, Reply};
pub use broker::{BrokerAddress, test_broker_url};
pub use chain::json_chain;
pub use error::{Error, Result};
pub use server::{Server, ServerOptions};
pub use signal::{Signal, send_signal};
pub use unique::{free_addr, unique_name, unique_topic};
pub use wait::{DEADLINE, Wait, wait_until};
