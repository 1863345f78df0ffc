//! A received message and the promise to acknowledge it. A source that redelivers until told
//! (MQTT at QoS 1 and 2, a JetStream consumer) is told a message was handled only when every
//! holder of its [`Ack`] has settled it, which the runtime does once every sink has had what
//! the message produced acknowledged. A holder that lets go without settling, or a process
//! that dies, acknowledges nothing: the source delivers again.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use bytes::Bytes;

use crate::codec::Message;

/// One message from a source.
#[derive(Debug, Clone)]
pub struct Delivery {
    /// The message's bytes.
    pub payload: Bytes,
    /// Its acknowledgement, for messages the source redelivers until acknowledged.
    pub ack: Option<Ack>,
    /// The topic, subject or path it arrived on (`meta(topic)`).
    pub topic: Option<String>,
    /// When the source received it, in epoch milliseconds (`meta(received_at)`).
    pub received_at_ms: Option<i64>,
    /// Its named properties (MQTT 5 user properties, headers), by name (`meta(<name>)`).
    pub properties: Vec<(String, String)>,
}

impl Delivery {
    /// A message nobody needs to acknowledge, with nothing known of it.
    pub fn unacknowledged(payload: Bytes) -> Self {
        Self {
            payload,
            ack: None,
            topic: None,
            received_at_ms: None,
            properties: Vec::new(),
        }
    }

    /// The same message, received on `topic` at `received_at_ms`.
    #[must_use]
    pub fn received(mut self, topic: impl Into<String>, received_at_ms: i64) -> Self {
        self.topic = Some(topic.into());
        self.received_at_ms = Some(received_at_ms);
        self
    }

    /// The same message, with `properties` (name, value).
    #[must_use]
    pub fn with_properties(mut self, properties: Vec<(String, String)>) -> Self {
        self.properties = properties;
        self
    }

    /// The same message, to be acknowledged through `ack`.
    #[must_use]
    pub fn acknowledged_by(mut self, ack: Option<Ack>) -> Self {
        self.ack = ack;
        self
    }
}

impl Message for Delivery {
    fn payload(&self) -> &[u8] {
        &self.payload
    }

    fn topic(&self) -> Option<&str> {
        self.topic.as_deref()
    }

    fn received_at_ms(&self) -> Option<i64> {
        self.received_at_ms
    }

    fn property(&self, name: &str) -> Option<&str> {
        let found = self.properties.iter().find(|(key, _)| key == name);
        found.map(|(_, value)| value.as_str())
    }
}

/// A hold on a message's acknowledgement. The source is told the message was handled once
/// every clone has been [settled](Ack::settle); a clone dropped unsettled (a pipeline that
/// stopped before handling it, a channel that closed) abandons it instead, and the source
/// delivers it again.
#[derive(Debug)]
pub struct Ack {
    pending: Arc<Pending>,
    settled: bool,
}

/// What acknowledges a message at its source.
type Acknowledge = Box<dyn FnOnce() + Send + Sync>;

struct Pending {
    acknowledge: Option<Acknowledge>,
    abandoned: AtomicBool,
}

impl std::fmt::Debug for Pending {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pending")
            .field("abandoned", &self.abandoned)
            .finish_non_exhaustive()
    }
}

impl Ack {
    /// A hold that runs `acknowledge` once every clone is settled, never if one is abandoned.
    /// It must not block: it runs where the last holder lets go.
    pub fn new(acknowledge: impl FnOnce() + Send + Sync + 'static) -> Self {
        Self {
            pending: Arc::new(Pending {
                acknowledge: Some(Box::new(acknowledge)),
                abandoned: AtomicBool::new(false),
            }),
            settled: false,
        }
    }

    /// This holder is done with the message: handled, safe downstream.
    pub fn settle(mut self) {
        self.settled = true;
    }
}

impl Clone for Ack {
    /// Another holder, which must settle too.
    fn clone(&self) -> Self {
        Self {
            pending: self.pending.clone(),
            settled: false,
        }
    }
}

impl Drop for Ack {
    fn drop(&mut self) {
        if !self.settled {
            self.pending.abandoned.store(true, Ordering::Relaxed);
        }
    }
}

impl Drop for Pending {
    fn drop(&mut self) {
        if !self.abandoned.load(Ordering::Relaxed)
            && let Some(acknowledge) = self.acknowledge.take()
        {
            acknowledge();
        }
    }
}
