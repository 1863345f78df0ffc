//! The pieces the connector benches share: messages that carry the topic they arrived on
//! (for `meta(topic)`), the W1 query's result rows as a batch, sinks built by the registry as
//! the server builds them, and a local webhook to send to.
//!
//! The criterion benches `metadata`, `destinations` and `sinks` time them; the
//! `webhook-outage` binary uses them to check that an outage loses and repeats nothing.

pub mod message;
pub mod outage;
pub mod rows;
pub mod sinks;
pub mod webhook;
