//! REST API tests: the real router over a real metadata file in a temporary directory,
//! driven with `oneshot`. Memory streams and `nop` sinks keep brokers out of it.

use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode};
use http_body_util::BodyExt;
use serde_json::{Value, json};
use tower::ServiceExt;

use crate::config::RuntimeConfig;
use crate::control::Control;
use crate::runtime::Runtime;
use crate::storage::Storage;

/// The router over a fresh data directory.
pub(super) struct Api {
    pub(super) router: Router,
    _data: tempfile::TempDir,
}

impl Api {
    pub(super) fn new() -> Self {
        let data = tempfile::tempdir().unwrap();
        let storage = Arc::new(Storage::open(data.path()).unwrap());
        let runtime = Runtime::new(RuntimeConfig::default(), "test".into(), storage.clone());
        let control = Control::open(storage, runtime).unwrap();
        Self {
            router: super::app(Arc::new(control), super::Access::default()),
            _data: data,
        }
    }

    async fn send(
        &self,
        method: &str,
        path: &str,
        body: Option<&str>,
        json: bool,
    ) -> (StatusCode, Value) {
        let mut request = Request::builder().method(method).uri(path);
        if json {
            request = request.header("content-type", "application/json");
        }
        let body = body.map_or_else(Body::empty, |text| Body::from(text.to_owned()));
        let response = self
            .router
            .clone()
            .oneshot(request.body(body).unwrap())
            .await
            .unwrap();
        let status = response.status();
        let bytes = response.into_body().collect().await.unwrap().to_bytes();
        let value = serde_json::from_slice(&bytes)
            .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into_owned()));
        (status, value)
    }

    pub(super) async fn call(&self, method: &str, path: &str, body: Value) -> (StatusCode, Value) {
        let text = (!body.is_null()).then(|| body.to_string());
        self.send(method, path, text.as_deref(), true).await
    }
}

pub(super) fn stream(name: &str) -> Value {
    json!({
        "name": name,
        "type": "memory",
        "schema": {"type": "json", "props": {"columns": [
            {"name": "user_id", "data_type": "int64"},
            {"name": "score", "data_type": "float64"}
        ]}},
        "props": {"topic": format!("{name}-in")}
    })
}

pub(super) fn pipeline(id: &str, sql: &str) -> Value {
    json!({"id": id, "sql": sql, "sinks": [{"type": "nop"}]})
}

fn message(body: &Value) -> &str {
    body["error"]["message"].as_str().unwrap_or_default()
}

#[tokio::test]
async fn streams_are_created_listed_described_and_deleted() {
    let api = Api::new();
    let (status, body) = api.call("POST", "/streams", stream("s")).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(body["name"], "s");
    assert_eq!(
        api.call("POST", "/streams", stream("s")).await.0,
        StatusCode::CONFLICT
    );
    let (status, body) = api.call("GET", "/streams", Value::Null).await;
    assert_eq!(
        (status, body.as_array().unwrap().len()),
        (StatusCode::OK, 1)
    );
    assert_eq!(
        api.call("GET", "/streams/s", Value::Null).await.1["type"],
        "memory"
    );
    assert_eq!(
        api.call("GET", "/streams/describe/s", Value::Null).await.0,
        StatusCode::OK
    );
    assert_eq!(
        api.call("DELETE", "/streams/s", Value::Null).await.0,
        StatusCode::OK
    );
    let (status, body) = api.call("GET", "/streams/s", Value::Null).await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (StatusCode::NOT_FOUND, Some("not_found"))
    );
}

#[tokio::test]
async fn a_stream_in_use_cannot_be_deleted() {
    let api = Api::new();
    api.call("POST", "/streams", stream("s")).await;
    api.call("POST", "/pipelines", pipeline("p", "SELECT user_id FROM s"))
        .await;
    let (status, body) = api.call("DELETE", "/streams/s", Value::Null).await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(message(&body), "stream 's' is used by pipelines: p");
}

#[tokio::test]
async fn pipelines_go_through_their_lifecycle() {
    let api = Api::new();
    api.call("POST", "/streams", stream("s")).await;
    let (status, body) = api
        .call("POST", "/pipelines", pipeline("p", "SELECT user_id FROM s"))
        .await;
    assert_eq!(
        (status, body),
        (StatusCode::CREATED, json!({"id": "p", "status": "stopped"}))
    );
    let started = api.call("POST", "/pipelines/p/start", Value::Null).await;
    assert_eq!(started.1, json!({"id": "p", "status": "running"}));
    assert_eq!(
        api.call("POST", "/pipelines/p/start", Value::Null).await.1["status"],
        "running"
    );
    let (_, body) = api.call("GET", "/pipelines/p", Value::Null).await;
    assert_eq!(
        (body["status"].as_str(), body["spec"]["sql"].as_str()),
        (Some("running"), Some("SELECT user_id FROM s"))
    );
    let (_, explain) = api.call("GET", "/pipelines/p/explain", Value::Null).await;
    assert!(
        explain
            .as_str()
            .unwrap()
            .starts_with("Source: stream=s decode=[user_id: Int64]"),
        "{explain}"
    );
    let (_, stats) = api.call("GET", "/pipelines/p/stats", Value::Null).await;
    assert_eq!(stats[0]["processor_id"], "source");
    let replaced = json!({"sql": "SELECT score FROM s", "sinks": [{"type": "nop"}]});
    let (status, body) = api.call("PUT", "/pipelines/p", replaced).await;
    assert_eq!(
        (status, body["status"].as_str()),
        (StatusCode::OK, Some("running"))
    );
    assert_eq!(
        api.call("POST", "/pipelines/p/stop", Value::Null).await.1["status"],
        "stopped"
    );
    assert_eq!(
        api.call("POST", "/pipelines/p/stop", Value::Null).await.1["status"],
        "stopped"
    );
    assert_eq!(
        api.call("DELETE", "/pipelines/p", Value::Null).await.0,
        StatusCode::OK
    );
    assert_eq!(
        api.call("GET", "/pipelines/p", Value::Null).await.0,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn an_edit_is_explained_or_refused_as_a_replace_would_be_without_being_saved() {
    let api = Api::new();
    api.call("POST", "/streams", stream("s")).await;
    api.call("POST", "/pipelines", pipeline("p", "SELECT user_id FROM s"))
        .await;
    let edit = |sql: &str| json!({"sql": sql, "sinks": [{"type": "nop"}]});
    let (status, plan) = api
        .call(
            "POST",
            "/pipelines/p/explain",
            edit("SELECT score FROM s WHERE score > 1"),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{plan}");
    assert!(
        plan.as_str().unwrap().contains("Filter: score > 1"),
        "{plan}"
    );
    let (status, body) = api
        .call("POST", "/pipelines/p/explain", edit("SELECT nope FROM s"))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        message(&body).starts_with("sql: unknown column 'nope' in stream 's'"),
        "{body}"
    );
    let mut other_id = edit("SELECT score FROM s");
    other_id["id"] = json!("q");
    let (status, _) = api.call("POST", "/pipelines/p/explain", other_id).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, _) = api
        .call("POST", "/pipelines/q/explain", edit("SELECT score FROM s"))
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (_, stored) = api.call("GET", "/pipelines/p", Value::Null).await;
    assert_eq!(stored["spec"]["sql"], "SELECT user_id FROM s");
    assert_eq!(stored["stream"], "s");
}

#[tokio::test]
async fn bad_requests_get_a_status_and_a_message_naming_the_problem() {
    let api = Api::new();
    api.call("POST", "/streams", stream("s")).await;
    let cases = [
        (
            "POST",
            "/pipelines",
            pipeline("p", "SELECT nope FROM s"),
            StatusCode::BAD_REQUEST,
            "sql: unknown column 'nope' in stream 's'; its columns are: user_id, score",
        ),
        (
            "POST",
            "/pipelines",
            pipeline("p", "SELECT user_id FROM missing"),
            StatusCode::BAD_REQUEST,
            "sql: unknown stream 'missing'; known streams: s",
        ),
        (
            "POST",
            "/pipelines",
            json!({"id": "p", "sql": "SELECT user_id FROM s", "sinks": []}),
            StatusCode::BAD_REQUEST,
            "sinks must hold at least one sink",
        ),
        (
            "POST",
            "/pipelines",
            json!({"id": "../x", "sql": "SELECT 1", "sinks": [{"type": "nop"}]}),
            StatusCode::BAD_REQUEST,
            "id '../x' may hold only letters",
        ),
        (
            "POST",
            "/pipelines",
            json!({"id": "p", "sql": "SELECT user_id FROM s",
            "sinks": [{"type": "mqtt", "props": {"broker_url": "localhost", "topic": "t"}}]}),
            StatusCode::BAD_REQUEST,
            "sinks[0].props.broker_url 'localhost' needs a scheme",
        ),
        (
            "POST",
            "/pipelines",
            json!({"id": "p", "sql": "SELECT user_id FROM s",
            "sinks": [{"type": "mqtt", "props": {"topic": "t"}}]}),
            StatusCode::BAD_REQUEST,
            "sinks[0].props: missing field `broker_url`",
        ),
        (
            "POST",
            "/streams",
            json!({"name": "", "type": "memory", "schema": {"type": "json", "props": {"columns": []}}}),
            StatusCode::BAD_REQUEST,
            "name must not be empty",
        ),
        (
            "POST",
            "/streams",
            json!({"name": "t", "type": "mqtt", "schema": {"type": "json", "props": {"columns": []}},
            "props": {"broker_url": "tcp://127.0.0.1:1883", "topic": "x", "qos": 5}}),
            StatusCode::BAD_REQUEST,
            "props.qos must be 0, 1 or 2, not 5",
        ),
        (
            "POST",
            "/streams",
            json!({"name": "t", "type": "kafka", "schema": {"type": "json", "props": {"columns": []}}}),
            StatusCode::BAD_REQUEST,
            "type: unknown source type \"kafka\"; known: \"mqtt\", \"memory\", \"http\", \"file\", \"nats\"",
        ),
        (
            "POST",
            "/streams",
            json!({"name": "t", "type": "memory", "schema": {"type": "json", "props": {"columns": []}},
            "props": {"topic": "x"}, "decoder": {"type": "avro"}}),
            StatusCode::BAD_REQUEST,
            "decoder.type: unknown decoder type \"avro\"; known: \"json\"",
        ),
        (
            "POST",
            "/streams",
            json!({"name": "t", "type": "memory", "schema": {"type": "json", "props": {"columns": [
            {"name": "a", "data_type": "int64"}]}}, "props": {"topic": "x"},
            "decoder": {"type": "csv", "props": {"columns": ["b"]}}}),
            StatusCode::BAD_REQUEST,
            "decoder.props.columns: lacks 'a', a column of the stream",
        ),
        (
            "POST",
            "/streams",
            json!({"name": "t", "type": "memory", "schema": {"type": "json", "props": {"columns": [
            {"name": "a", "data_type": "list", "element": {"name": "e", "data_type": "int64"}}]}},
            "props": {"topic": "x"}, "decoder": {"type": "csv", "props": {"has_header": true}}}),
            StatusCode::BAD_REQUEST,
            "decoder.type: csv cannot decode column 'a' of type List",
        ),
        (
            "POST",
            "/pipelines",
            json!({"id": "p", "sql": "SELECT user_id FROM s", "sinks": [{"type": "kafka"}]}),
            StatusCode::BAD_REQUEST,
            "sinks[0].type: unknown sink type \"kafka\"; known: \"mqtt\", \"memory\", \"nop\", \"log\", \"http\", \"file\", \"nats\"",
        ),
        (
            "POST",
            "/pipelines",
            json!({"id": "p", "sql": "SELECT user_id FROM s", "sinks": [{"type": "nop",
            "encoder": {"type": "json", "props": {"format": "lines"}}}]}),
            StatusCode::BAD_REQUEST,
            "sinks[0].encoder.props.format: unknown variant `lines`, expected `row` or `array`",
        ),
        (
            "POST",
            "/pipelines",
            json!({"id": "p", "sql": "SELECT user_id FROM s", "sinks": [{"type": "nop",
            "common_sink_props": {"batch_count": 0}}]}),
            StatusCode::BAD_REQUEST,
            "sinks[0].common_sink_props.batch_count must be at least 1",
        ),
        (
            "POST",
            "/pipelines",
            json!({"id": "p", "sql": "SELECT user_id FROM s", "sinks": [{"id": "source", "type": "nop"}]}),
            StatusCode::BAD_REQUEST,
            "sinks[0].id 'source' is reserved for the pipeline's source stage",
        ),
        (
            "POST",
            "/pipelines",
            json!({"id": "p", "sql": "SELECT user_id FROM s",
            "sinks": [{"id": "sink_1", "type": "nop"}, {"type": "nop"}]}),
            StatusCode::BAD_REQUEST,
            "sinks[1].id 'sink_1' names another sink of this pipeline too",
        ),
        (
            "POST",
            "/streams",
            json!({"name": "t", "type": "memory", "schema": {"type": "json", "props": {"columns": [
            {"name": "a", "data_type": "decimal"}]}}}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "schema.props.columns[0].data_type: unknown variant `decimal`",
        ),
        (
            "GET",
            "/pipelines/none/status",
            Value::Null,
            StatusCode::NOT_FOUND,
            "no pipeline 'none'",
        ),
        (
            "POST",
            "/pipelines/none/start",
            Value::Null,
            StatusCode::NOT_FOUND,
            "no pipeline 'none'",
        ),
        (
            "GET",
            "/nowhere",
            Value::Null,
            StatusCode::NOT_FOUND,
            "no such endpoint: /nowhere",
        ),
    ];
    for (method, path, body, expected, text) in cases {
        let (status, answer) = api.call(method, path, body.clone()).await;
        assert_eq!(status, expected, "{method} {path} {body}: {answer}");
        assert!(message(&answer).contains(text), "{method} {path}: {answer}");
    }
}

#[tokio::test]
async fn bodies_that_are_not_json_objects_of_the_right_shape_are_refused() {
    let api = Api::new();
    let (status, body) = api
        .send("POST", "/streams", Some("{\"name\": "), true)
        .await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (StatusCode::BAD_REQUEST, Some("bad_request"))
    );
    let (status, _) = api
        .send("POST", "/streams", Some(&stream("s").to_string()), false)
        .await;
    assert_eq!(status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    let huge = format!("{{\"name\": \"{}\"}}", "x".repeat(2 << 20));
    let (status, body) = api.send("POST", "/streams", Some(&huge), true).await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (StatusCode::PAYLOAD_TOO_LARGE, Some("payload_too_large"))
    );
    let (status, _) = api.send("POST", "/streams", Some("[1, 2]"), true).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
}

#[tokio::test]
async fn export_and_import_carry_everything_and_refuse_conflicts_whole() {
    let source = Api::new();
    source.call("POST", "/streams", stream("s")).await;
    source
        .call("POST", "/pipelines", pipeline("p", "SELECT user_id FROM s"))
        .await;
    source.call("POST", "/pipelines/p/start", Value::Null).await;
    let (_, document) = source.call("GET", "/export", Value::Null).await;
    assert_eq!(document["pipelines"][0]["running"], true);

    let target = Api::new();
    let (status, _) = target.call("POST", "/import", document.clone()).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        target.call("GET", "/pipelines/p", Value::Null).await.1["status"],
        "running"
    );

    let (status, body) = target.call("POST", "/import", document).await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(message(&body), "already exist: stream 's', pipeline 'p'");

    let broken =
        json!({"streams": [stream("t")], "pipelines": [pipeline("q", "SELECT nope FROM t")]});
    let (status, body) = target.call("POST", "/import", broken).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        message(&body).starts_with("pipeline 'q': sql: unknown column 'nope'"),
        "{body}"
    );
    assert_eq!(
        target.call("GET", "/streams/t", Value::Null).await.0,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn connectors_lists_every_type_with_the_schema_of_its_props() {
    let api = Api::new();
    let (status, answer) = api.call("GET", "/connectors", Value::Null).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    let names = |role: &str| -> Vec<String> {
        answer[role]
            .as_array()
            .unwrap()
            .iter()
            .map(|kind| kind["type"].as_str().unwrap().to_owned())
            .collect()
    };
    assert_eq!(names("sources"), ["mqtt", "memory", "http", "file", "nats"]);
    assert_eq!(
        names("sinks"),
        ["mqtt", "memory", "nop", "log", "http", "file", "nats"]
    );
    assert_eq!(names("decoders"), ["json", "csv"]);
    assert_eq!(names("encoders"), ["json", "csv"]);
    let mqtt = &answer["sources"][0]["props"];
    assert_eq!(mqtt["type"], "object");
    assert!(mqtt["properties"]["broker_url"].is_object(), "{mqtt}");
    let required = mqtt["required"].as_array().unwrap();
    assert!(required.contains(&json!("broker_url")) && required.contains(&json!("topic")));
    let json = &answer["encoders"][0]["props"]["properties"]["format"];
    assert!(json.to_string().contains("array"), "{json}");
}
