//! A received message and the promise to acknowledge it. At QoS 1 and 2 the broker is told a
//! message was handled only when every holder of its [`Ack`] has settled it, which the
//! runtime does once every sink has had what the message produced acknowledged. A holder
//! that lets go without settling, or a process that dies, acknowledges nothing: the broker
//! delivers again.

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

/// A hold on a message's acknowledgement. The broker is told the message was handled once
/// every clone has been [settled](Ack::settle); a clone dropped unsettled (a pipeline that
/// stopped before handling it, a channel that closed) abandons it instead, and the broker
/// delivers it again.
#[derive(Debug)]
pub struct Ack {
    pending: Arc<Pending>,
    settled: bool,
}

#[derive(Debug)]
struct Pending {
    client: AsyncClient,
    /// The packet id and QoS of the message; its payload is not kept.
    publish: Publish,
    abandoned: AtomicBool,
}

impl Ack {
    pub(crate) fn new(client: AsyncClient, publish: &Publish) -> Self {
        let mut receipt = Publish::new("", publish.qos, Vec::new());
        receipt.pkid = publish.pkid;
        Self {
            pending: Arc::new(Pending {
                client,
                publish: receipt,
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
        if !self.abandoned.load(Ordering::Relaxed) {
            // A full request queue or a closed connection leaves it unacknowledged: the
            // broker delivers it again, which at-least-once allows.
            let _ = self.client.try_ack(&self.publish);
        }
    }
}
