//! A received message and the promise to acknowledge it. At QoS 1 and 2 the broker is told a
//! message was handled only when the last holder of its [`Ack`] lets go of it, which the
//! runtime does once every sink has had what the message produced acknowledged. A process
//! that dies before then acknowledges nothing: the broker delivers again.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use bytes::Bytes;
use rumqttc::{AsyncClient, Publish};

/// One message from a source.
#[derive(Debug, Clone)]
pub struct Delivery {
    /// The message's bytes.
    pub payload: Bytes,
    /// Its acknowledgement, for messages the broker redelivers until acknowledged.
    pub ack: Option<Ack>,
}

impl Delivery {
    /// A message nobody needs to acknowledge.
    pub fn unacknowledged(payload: Bytes) -> Self {
        Self { payload, ack: None }
    }
}

impl AsRef<[u8]> for Delivery {
    fn as_ref(&self) -> &[u8] {
        &self.payload
    }
}

/// Acknowledges a message to the broker when its last clone is dropped, unless abandoned.
#[derive(Debug, Clone)]
pub struct Ack(Arc<Pending>);

#[derive(Debug)]
struct Pending {
    client: AsyncClient,
    /// The packet id and QoS of the message; its payload is not kept.
    publish: Publish,
    armed: AtomicBool,
}

impl Ack {
    pub(crate) fn new(client: AsyncClient, publish: &Publish) -> Self {
        let mut receipt = Publish::new("", publish.qos, Vec::new());
        receipt.pkid = publish.pkid;
        Self(Arc::new(Pending {
            client,
            publish: receipt,
            armed: AtomicBool::new(true),
        }))
    }

    /// Never acknowledges the message: the broker will deliver it again.
    pub fn abandon(&self) {
        self.0.armed.store(false, Ordering::Relaxed);
    }
}

impl Drop for Pending {
    fn drop(&mut self) {
        if self.armed.load(Ordering::Relaxed) {
            // A full request queue or a closed connection leaves it unacknowledged: the
            // broker redelivers it, which at-least-once allows.
            let _ = self.client.try_ack(&self.publish);
        }
    }
}
