//! The workloads of the end-to-end bench: what each runs (a bare relay or a pipeline's SQL),
//! at which QoS, over how many devices, and what fraction of the input its output carries.

use crate::workload::{WINDOW_DEVICES, WINDOW_QUERY};

/// W1: the filter and projection of the chain bench, keeping the send time so that latency
/// can be measured at the output.
pub const W1_QUERY: &str = "SELECT user_id, score, device, sent_us FROM s WHERE score > 0";

/// W1 also selecting the topic each message arrived on (one topic per device when the load
/// tool publishes to device topics: `bench-e2e --device-topics`).
pub const W1_META_QUERY: &str =
    "SELECT user_id, score, device, sent_us, meta(topic) AS topic FROM s WHERE score > 0";

/// What a workload runs between the load tool's input and output topics.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// The load tool's relay: the ceiling the broker and the MQTT clients allow.
    Relay,
    /// W1: [`W1_QUERY`].
    Filter,
    /// W1 with `meta(topic)`: [`W1_META_QUERY`].
    FilterMeta,
    /// W2: [`WINDOW_QUERY`], a tumbling window of one second over [`WINDOW_DEVICES`] devices.
    Window,
}

/// One row of the end-to-end table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Workload {
    /// What runs.
    pub kind: Kind,
    /// The QoS of the load tool, the stream and the sink (the relay republishes at the QoS a
    /// message arrives with).
    pub qos: u8,
}

impl Workload {
    /// The rows of the table by default, in order: the relay ceiling at QoS 0 and 1, W1 at
    /// QoS 0 and 1, W2 at QoS 0.
    pub const ALL: [Workload; 5] = [
        Workload::new(Kind::Relay, 0),
        Workload::new(Kind::Relay, 1),
        Workload::new(Kind::Filter, 0),
        Workload::new(Kind::Filter, 1),
        Workload::new(Kind::Window, 0),
    ];

    /// A workload of `kind` at `qos`.
    pub const fn new(kind: Kind, qos: u8) -> Self {
        Self { kind, qos }
    }

    /// The name in tables, topics and pipeline ids: `relay-q0`, `w1-q1`, `w2-q0`.
    pub fn name(&self) -> String {
        let kind = match self.kind {
            Kind::Relay => "relay",
            Kind::Filter => "w1",
            Kind::FilterMeta => "w1m",
            Kind::Window => "w2",
        };
        format!("{kind}-q{}", self.qos)
    }

    /// The pipeline's SQL, `None` for the relay.
    pub fn sql(&self) -> Option<&'static str> {
        match self.kind {
            Kind::Relay => None,
            Kind::Filter => Some(W1_QUERY),
            Kind::FilterMeta => Some(W1_META_QUERY),
            Kind::Window => Some(WINDOW_QUERY),
        }
    }

    /// The rows run only when asked for by name: W1 with `meta(topic)` at QoS 0 and 1, and
    /// W2 at QoS 1, whose messages are acknowledged once a checkpoint holds their state (or
    /// at once with checkpoints off: `bench-e2e --checkpoint-interval-ms 0`).
    pub const ON_REQUEST: [Workload; 3] = [
        Workload::new(Kind::FilterMeta, 0),
        Workload::new(Kind::FilterMeta, 1),
        Workload::new(Kind::Window, 1),
    ];

    /// Every workload that can be asked for by name: [`Self::ALL`], then [`Self::ON_REQUEST`].
    pub fn selectable() -> impl Iterator<Item = Workload> {
        Self::ALL.into_iter().chain(Self::ON_REQUEST)
    }

    /// How many distinct devices the messages cycle through.
    pub fn devices(&self) -> usize {
        WINDOW_DEVICES
    }

    /// The fraction of input messages that come out one for one, or `None` when the output
    /// is an aggregate whose size depends on timing (W2: one row per device and second).
    pub fn expect_ratio(&self) -> Option<f64> {
        match self.kind {
            Kind::Relay => Some(1.0),
            Kind::Filter | Kind::FilterMeta => Some(0.5),
            Kind::Window => None,
        }
    }

    /// Whether output messages carry their send time, so that latency can be measured.
    pub fn carries_send_time(&self) -> bool {
        self.kind != Kind::Window
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_and_say_the_qos() {
        let names: Vec<String> = Workload::ALL.iter().map(Workload::name).collect();
        assert_eq!(names, ["relay-q0", "relay-q1", "w1-q0", "w1-q1", "w2-q0"]);
        let selectable: Vec<String> = Workload::selectable().map(|w| w.name()).collect();
        assert_eq!(selectable[..5], names[..]);
        assert_eq!(selectable[5..], ["w1m-q0", "w1m-q1", "w2-q1"]);
    }

    #[test]
    fn w1_with_meta_is_w1_plus_the_topic() {
        let meta = Workload::new(Kind::FilterMeta, 0);
        assert_eq!(
            meta.sql(),
            Some(
                W1_QUERY
                    .replace(" FROM", ", meta(topic) AS topic FROM")
                    .as_str()
            )
        );
        assert_eq!(meta.expect_ratio(), Some(0.5));
        assert!(meta.carries_send_time());
    }

    #[test]
    fn only_pipelines_have_sql_and_only_w2_has_no_latency() {
        let relay = Workload::new(Kind::Relay, 0);
        assert_eq!(relay.sql(), None);
        assert_eq!(Workload::new(Kind::Filter, 1).sql(), Some(W1_QUERY));
        for qos in [0, 1] {
            let w2 = Workload::new(Kind::Window, qos);
            assert_eq!(w2.sql(), Some(WINDOW_QUERY));
            assert!(!w2.carries_send_time());
            assert_eq!(w2.expect_ratio(), None);
        }
    }
}
