//! Credentials in connector props (`password`, `token`) never leave the server: every spec it
//! returns has them replaced by a marker, and a spec sent back with the marker keeps the
//! credential already stored.

use serde_json::Value;

use super::{PipelineSpec, StreamSpec};

/// What a credential reads as in every answer.
pub const REDACTED: &str = "<redacted>";
/// The props that hold credentials.
const CREDENTIALS: [&str; 2] = ["password", "token"];

impl StreamSpec {
    /// This spec with its credentials replaced by [`REDACTED`].
    pub fn redacted(&self) -> Self {
        let mut spec = self.clone();
        redact(&mut spec.props);
        spec
    }
}

impl PipelineSpec {
    /// This spec with its sinks' credentials replaced by [`REDACTED`].
    pub fn redacted(&self) -> Self {
        let mut spec = self.clone();
        for sink in &mut spec.sinks {
            redact(&mut sink.props);
        }
        spec
    }

    /// Puts back the credentials of `stored` where this spec has [`REDACTED`], sink by sink
    /// in order.
    pub fn keep_credentials_of(&mut self, stored: &Self) {
        for (sink, old) in self.sinks.iter_mut().zip(&stored.sinks) {
            for key in CREDENTIALS {
                if sink.props.get(key).and_then(Value::as_str) == Some(REDACTED)
                    && let (Some(props), Some(kept)) =
                        (sink.props.as_object_mut(), old.props.get(key))
                {
                    props.insert(key.to_owned(), kept.clone());
                }
            }
        }
    }
}

fn redact(props: &mut Value) {
    let Some(props) = props.as_object_mut() else {
        return;
    };
    for key in CREDENTIALS {
        if let Some(value) = props.get_mut(key)
            && !value.is_null()
        {
            *value = Value::String(REDACTED.to_owned());
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn pipeline(password: &str) -> PipelineSpec {
        serde_json::from_value(json!({
            "id": "p", "sql": "SELECT a FROM s",
            "sinks": [{"type": "mqtt", "props": {"broker_url": "tcp://h:1883", "topic": "t",
                                                  "username": "u", "password": password}}]
        }))
        .unwrap()
    }

    #[test]
    fn answers_hide_credentials_and_a_redacted_spec_keeps_the_stored_ones() {
        let stored = pipeline("s3cret");
        let shown = stored.redacted();
        assert_eq!(shown.sinks[0].props["password"], REDACTED);
        assert_eq!(shown.sinks[0].props["username"], "u");
        let mut sent_back = shown.clone();
        sent_back.keep_credentials_of(&stored);
        assert_eq!(sent_back.sinks[0].props["password"], "s3cret");
        let mut changed = pipeline("new");
        changed.keep_credentials_of(&stored);
        assert_eq!(changed.sinks[0].props["password"], "new");
    }
}
