//! In-process topics: one pipeline's sink can feed another's stream without a broker.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use tokio::sync::mpsc;

use crate::clock::wall_clock_ms;
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
        if subscribers.is_empty() {
            return;
        }
        let received_at = wall_clock_ms();
        let mut closed = false;
        for subscriber in &subscribers {
            let delivery = Delivery::unacknowledged(message.clone()).received(topic, received_at);
            closed |= subscriber.send(delivery).await.is_err();
        }
        if closed {
            self.forget_closed(topic);
        }
    }

    /// Delivers every one of `messages` to every subscriber of `topic` at once, or nothing to
    /// anyone: never a part, so a refused request can be sent again whole.
    ///
    /// # Errors
    /// When no one reads `topic`, or a subscriber's channel has no room for them all.
    pub fn try_publish_all(&self, topic: &str, messages: &[Bytes]) -> Result<(), Refused> {
        let Ok(topics) = self.topics.lock() else {
            return Err(Refused::NoReader);
        };
        let subscribers: Vec<_> = topics
            .get(topic)
            .into_iter()
            .flatten()
            .filter(|subscriber| !subscriber.is_closed())
            .collect();
        if subscribers.is_empty() {
            return Err(Refused::NoReader);
        }
        if let Some(smallest) = subscribers.iter().map(|s| s.max_capacity()).min()
            && messages.len() > smallest
        {
            return Err(Refused::TooMany(smallest));
        }
        let mut reserved = Vec::with_capacity(subscribers.len());
        for subscriber in subscribers {
            match subscriber.try_reserve_many(messages.len()) {
                Ok(permits) => reserved.push(permits),
                Err(_) => return Err(Refused::Full),
            }
        }
        let received_at = wall_clock_ms();
        for permits in reserved {
            for (permit, message) in permits.zip(messages) {
                permit.send(Delivery::unacknowledged(message.clone()).received(topic, received_at));
            }
        }
        Ok(())
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

/// Why [`MemoryHub::try_publish_all`] delivered nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refused {
    /// No one reads the topic.
    NoReader,
    /// A reader's channel has no room for them all now.
    Full,
    /// More messages than a reader's channel can ever hold, which is this many.
    TooMany(usize),
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

    #[tokio::test]
    async fn publishing_all_at_once_delivers_everything_or_nothing() {
        let hub = MemoryHub::default();
        let messages = [Bytes::from_static(b"a"), Bytes::from_static(b"b")];
        assert_eq!(hub.try_publish_all("t", &messages), Err(Refused::NoReader));
        let mut roomy = hub.subscribe("t", 4);
        let mut tight = hub.subscribe("t", 3);
        assert_eq!(hub.try_publish_all("t", &messages), Ok(()));
        assert_eq!(hub.try_publish_all("t", &messages), Err(Refused::Full));
        assert_eq!(
            hub.try_publish_all("t", &vec![messages[0].clone(); 4]),
            Err(Refused::TooMany(3))
        );
        let received = roomy.recv().await.unwrap();
        assert_eq!(received.topic.as_deref(), Some("t"));
        assert_eq!((roomy.len(), tight.len()), (1, 2));
        tight.recv().await.unwrap();
        tight.recv().await.unwrap();
        assert_eq!(hub.try_publish_all("t", &messages), Ok(()));
        assert_eq!((roomy.len(), tight.len()), (3, 2));
    }
}
