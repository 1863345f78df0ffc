//! A message as decoders see it: its payload and what the source knew of it (the topic it
//! arrived on, when it was received, its properties), which SQL reads through `meta(...)`.

use bytes::Bytes;

/// One message to decode.
pub trait Message {
    /// The bytes to decode.
    fn payload(&self) -> &[u8];

    /// The topic, subject or path it arrived on, if its source has one.
    fn topic(&self) -> Option<&str> {
        None
    }

    /// When its source received it, in epoch milliseconds, if it says.
    fn received_at_ms(&self) -> Option<i64> {
        None
    }

    /// Its property `name` (an MQTT 5 user property, a header), if it has one.
    fn property(&self, _name: &str) -> Option<&str> {
        None
    }
}

impl<M: Message + ?Sized> Message for &M {
    fn payload(&self) -> &[u8] {
        (**self).payload()
    }

    fn topic(&self) -> Option<&str> {
        (**self).topic()
    }

    fn received_at_ms(&self) -> Option<i64> {
        (**self).received_at_ms()
    }

    fn property(&self, name: &str) -> Option<&str> {
        (**self).property(name)
    }
}

/// Bare payloads, with nothing known of them.
macro_rules! bare_payload {
    ($($type:ty),*) => {
        $(impl Message for $type {
            fn payload(&self) -> &[u8] {
                self.as_ref()
            }
        })*
    };
}

bare_payload!(str, [u8], String, Vec<u8>, Bytes);
