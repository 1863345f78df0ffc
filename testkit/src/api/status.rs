//! Reading the documents the REST API answers with: a pipeline's counters and connections
//! from its status, and the pipeline list.

use serde_json::Value;

/// A pipeline's state as `GET /pipelines` lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Listed {
    /// Its id.
    pub id: String,
    /// `running`, `stopped` or `failed`.
    pub status: String,
}

impl Listed {
    /// Every entry of a `GET /pipelines` answer; `None` when it is not a list.
    pub fn all(list: &Value) -> Option<Vec<Self>> {
        let text = |value: &Value| value.as_str().unwrap_or_default().to_owned();
        let items = list.as_array()?;
        Some(
            items
                .iter()
                .map(|item| Self {
                    id: text(&item["id"]),
                    status: text(&item["status"]),
                })
                .collect(),
        )
    }
}

/// A stage's counter from a pipeline status: `counter` of the stage named `stage` (or of the
/// last stage, the sink, when `stage` is `None`).
pub fn stage_counter(status: &Value, stage: Option<&str>, counter: &str) -> Option<u64> {
    let stages = status["stages"].as_array()?;
    let found = match stage {
        Some(name) => stages.iter().find(|item| item["processor_id"] == name)?,
        None => stages.last()?,
    };
    found["stats"][counter].as_u64()
}

/// Whether every connection of a pipeline status is up (and there is at least one).
pub fn all_connected(status: &Value) -> bool {
    status["connectors"].as_array().is_some_and(|connectors| {
        !connectors.is_empty()
            && connectors
                .iter()
                .all(|connector| connector["connected"] == true)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn status() -> Value {
        json!({
            "state": "running",
            "stages": [
                {"processor_id": "source", "stats": {"records_in": 100, "records_out": 100}},
                {"processor_id": "plan", "stats": {"records_in": 100, "records_out": 50}},
                {"processor_id": "mqtt_0", "stats": {"records_in": 50, "records_out": 50}}
            ],
            "connectors": [
                {"name": "source", "connected": true, "reconnects": 0},
                {"name": "mqtt_0", "connected": false, "reconnects": 1}
            ]
        })
    }

    #[test]
    fn counters_are_read_by_stage() {
        let status = status();
        assert_eq!(
            stage_counter(&status, Some("source"), "records_in"),
            Some(100)
        );
        assert_eq!(
            stage_counter(&status, Some("plan"), "records_out"),
            Some(50)
        );
        assert_eq!(stage_counter(&status, None, "records_in"), Some(50));
        assert_eq!(stage_counter(&status, Some("nope"), "records_in"), None);
        assert_eq!(stage_counter(&json!({}), None, "records_in"), None);
    }

    #[test]
    fn a_pipeline_is_connected_when_every_connection_is() {
        let mut status = status();
        assert!(!all_connected(&status));
        status["connectors"][1]["connected"] = json!(true);
        assert!(all_connected(&status));
        assert!(!all_connected(&json!({"connectors": []})));
    }

    #[test]
    fn the_pipeline_list_reads_ids_and_states() {
        let list = json!([{"id": "a", "status": "running"}, {"id": "b"}]);
        let listed = Listed::all(&list).unwrap();
        assert_eq!(listed[0].id, "a");
        assert_eq!(listed[0].status, "running");
        assert_eq!(listed[1].status, "");
        assert_eq!(Listed::all(&json!({"error": {}})), None);
    }
}
