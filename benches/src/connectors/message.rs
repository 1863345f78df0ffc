//! Messages that arrived on a topic naming their device (`sensors/dev-0042/data`), as an MQTT
//! source hands them to the decoder, so that `meta(topic)` has something to read.

use veloflux_connectors::codec::Message;

use crate::workload;

/// A payload and the topic it arrived on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TopicMessage {
    /// The JSON payload.
    pub payload: Vec<u8>,
    /// The topic: `sensors/<device>/data`.
    pub topic: String,
}

impl Message for TopicMessage {
    fn payload(&self) -> &[u8] {
        &self.payload
    }

    fn topic(&self) -> Option<&str> {
        Some(&self.topic)
    }
}

/// The topic device number `device` publishes to.
pub fn device_topic(device: usize) -> String {
    format!("sensors/dev-{device:04}/data")
}

/// Messages `0..count` of [`workload::device_messages`], each on its device's topic: as many
/// distinct topics as `devices`.
pub fn topic_messages(count: usize, devices: usize) -> Vec<TopicMessage> {
    workload::device_messages(count, devices)
        .into_iter()
        .enumerate()
        .map(|(index, payload)| TopicMessage {
            payload,
            topic: device_topic(index % devices.max(1)),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_message_arrives_on_the_topic_of_its_device() {
        let messages = topic_messages(2000, 1000);
        let message = &messages[1042];
        let row: serde_json::Value = serde_json::from_slice(&message.payload).unwrap();
        assert_eq!(row["device"], "dev-0042");
        assert_eq!(message.topic(), Some("sensors/dev-0042/data"));
        let topics: std::collections::BTreeSet<_> = messages.iter().map(|m| &m.topic).collect();
        assert_eq!(topics.len(), 1000);
    }

    #[test]
    fn the_meta_query_gives_each_row_the_topic_of_its_message() {
        let mut chain = veloflux_testkit::json_chain(workload::meta_plan().unwrap()).unwrap();
        let mut rows = Vec::new();
        chain
            .process_at(&topic_messages(200, 10), 0, |_, message| {
                rows.push(serde_json::from_slice::<serde_json::Value>(message).unwrap());
            })
            .unwrap();
        assert_eq!(rows.len(), 100);
        for row in rows {
            let device = row["device"].as_str().unwrap();
            assert_eq!(row["topic"], format!("sensors/{device}/data"), "{row}");
        }
    }
}
