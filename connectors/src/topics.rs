//! In-process topics: one pipeline's sink can feed another's stream without a broker.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use tokio::sync::mpsc;

use crate::delivery::Delivery;

/// Named topics, each delivering every message to every current subscriber.
#[derive(Debug, Clone, Default)]
pub struct MemoryHub {
    topics: Arc<Mutex<HashMap<String, Vec<mpsc::Sender<Delivery>>>>>,
}

impl MemoryHub {
    /// Subscribes to `topic`; messages arrive on the returned channel, which holds `capacity`.
    pub fn subscribe(&self, topic: &str, capacity: usize) -> mpsc::Receiver<Delivery> {
        let (sender, receiver) = mpsc::channel(capacity.max(1));
        if let Ok(mut topics) = self.topics.lock() {
            topics.entry(topic.to_owned()).or_default().push(sender);
        }
        receiver
    }

    /// Delivers `message` to every subscriber of `topic`, waiting for room in each one's
    /// channel: a slow reader slows the writer down, nothing is dropped.
    pub async fn publish(&self, topic: &str, message: Bytes) {
        let subscribers = self.subscribers(topic);
        let mut closed = false;
        for subscriber in &subscribers {
            let delivery = Delivery::unacknowledged(message.clone());
            closed |= subscriber.send(delivery).await.is_err();
        }
        if closed {
            self.forget_closed(topic);
        }
    }

    fn subscribers(&self, topic: &str) -> Vec<mpsc::Sender<Delivery>> {
        let topics = self.topics.lock();
        topics
            .ok()
            .and_then(|topics| topics.get(topic).cloned())
            .unwrap_or_default()
    }

    fn forget_closed(&self, topic: &str) {
        if let Ok(mut topics) = self.topics.lock()
            && let Some(subscribers) = topics.get_mut(topic)
        {
            subscribers.retain(|subscriber| !subscriber.is_closed());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn every_subscriber_gets_every_message_and_closed_ones_are_forgotten() {
        let hub = MemoryHub::default();
        let mut first = hub.subscribe("t", 4);
        let second = hub.subscribe("t", 4);
        drop(second);
        hub.publish("t", Bytes::from_static(b"a")).await;
        hub.publish("other", Bytes::from_static(b"b")).await;
        assert_eq!(
            first.recv().await.unwrap().payload,
            Bytes::from_static(b"a")
        );
        assert_eq!(hub.subscribers("t").len(), 1);
    }
}
