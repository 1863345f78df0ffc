//! The HTTP sink against a real web server on 127.0.0.1: what arrives, in what order, what
//! is confirmed when, and what a failing, refusing, limiting or silent endpoint does to it.

use std::collections::VecDeque;
use std::io::Read;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use crate::codec::MessageBuffer;
use crate::connector::{ConnectorContext, Sink};
use crate::registry::registry;
use crate::topics::MemoryHub;

/// The longest a test waits for something that should happen.
const DEADLINE: Duration = Duration::from_secs(20);

/// How the test server answers a request.
#[derive(Debug, Clone)]
enum Reply {
    /// A status, with headers and a body.
    Status(u16, Vec<(&'static str, &'static str)>, String),
    /// Never: the request hangs.
    Silence,
}

/// One request the server got, its body decompressed, and the status it answered.
#[derive(Debug, Clone)]
struct Received {
    method: Method,
    path: String,
    headers: HeaderMap,
    body: String,
    status: u16,
    at: Instant,
}

/// The replies to give: scripted ones first, then the standing one.
#[derive(Debug)]
struct Script {
    next: VecDeque<Reply>,
    standing: Reply,
}

#[derive(Debug, Clone)]
struct Webhook {
    addr: SocketAddr,
    script: Arc<Mutex<Script>>,
    received: Arc<Mutex<Vec<Received>>>,
}

fn ok() -> Reply {
    Reply::Status(200, Vec::new(), String::new())
}

impl Webhook {
    /// A server answering `script` in order, then 200 to everything.
    async fn start(script: Vec<Reply>) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let webhook = Self {
            addr: listener.local_addr().unwrap(),
            script: Arc::new(Mutex::new(Script {
                next: script.into(),
                standing: ok(),
            })),
            received: Arc::default(),
        };
        let app = Router::new().fallback(answer).with_state(webhook.clone());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        webhook
    }

    fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// From now on, answers `reply` once the scripted replies are used.
    fn answer_from_now_on(&self, reply: Reply) {
        self.script.lock().unwrap().standing = reply;
    }

    fn received(&self) -> Vec<Received> {
        self.received.lock().unwrap().clone()
    }

    /// The bodies of the requests answered 2xx, in order.
    fn delivered(&self) -> Vec<String> {
        let received = self.received();
        let delivered = received.into_iter().filter(|r| r.status / 100 == 2);
        delivered.map(|r| r.body).collect()
    }

    async fn wait_for_requests(&self, count: usize) -> Vec<Received> {
        let deadline = Instant::now() + DEADLINE;
        while self.received().len() < count {
            assert!(Instant::now() < deadline, "{count} requests did not come");
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        self.received()
    }
}

async fn answer(
    State(webhook): State<Webhook>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let reply = {
        let mut script = webhook.script.lock().unwrap();
        script
            .next
            .pop_front()
            .unwrap_or_else(|| script.standing.clone())
    };
    let status = match &reply {
        Reply::Status(status, ..) => *status,
        Reply::Silence => 0,
    };
    let gzipped = headers.get("content-encoding").is_some_and(|v| v == "gzip");
    webhook.received.lock().unwrap().push(Received {
        method,
        path: uri.path().to_owned(),
        body: text_of(&body, gzipped),
        headers,
        status,
        at: Instant::now(),
    });
    match reply {
        Reply::Status(status, headers, body) => {
            let status = StatusCode::from_u16(status).unwrap();
            let mut response = (status, body).into_response();
            for (name, value) in headers {
                response.headers_mut().insert(name, value.parse().unwrap());
            }
            response
        }
        Reply::Silence => std::future::pending().await,
    }
}

fn text_of(body: &[u8], gzipped: bool) -> String {
    let mut text = String::new();
    if gzipped {
        flate2::read::GzDecoder::new(body)
            .read_to_string(&mut text)
            .unwrap();
    } else {
        text = String::from_utf8(body.to_vec()).unwrap();
    }
    text
}

/// An HTTP sink built by the registry from `props`, with quick retries unless they say.
fn sink(mut props: Value) -> Box<dyn Sink> {
    for (key, value) in [("retry_initial_ms", 10), ("retry_max_ms", 50)] {
        props
            .as_object_mut()
            .unwrap()
            .entry(key)
            .or_insert(json!(value));
    }
    let hub = MemoryHub::default();
    let context = ConnectorContext {
        name: "test",
        shared_name: "test",
        client_id: "test",
        hub: &hub,
        ingest: &hub,
        read_interval: Duration::ZERO,
    };
    registry()
        .sink("http")
        .unwrap()
        .build(&props, &context)
        .unwrap()
}

fn buffer(messages: &[&str]) -> MessageBuffer {
    let mut buffer = MessageBuffer::default();
    for message in messages {
        buffer.bytes().extend_from_slice(message.as_bytes());
        buffer.end_message();
    }
    buffer
}

/// Sends `messages` to the fixed URL and waits until the endpoint has answered them all.
async fn send_and_confirm(sink: &mut Box<dyn Sink>, messages: &[&str]) {
    let buffer = buffer(messages);
    sink.send(None, buffer.messages()).await.unwrap();
    confirm(sink.as_ref()).await;
}

async fn confirm(sink: &dyn Sink) {
    let mark = sink.published();
    tokio::time::timeout(DEADLINE, sink.confirmed_through(mark))
        .await
        .expect("the sink confirms what it sent");
}

fn last_error(sink: &dyn Sink) -> String {
    let status = sink.status().unwrap();
    status
        .last_error()
        .map(|(error, _)| error)
        .unwrap_or_default()
}

#[tokio::test]
async fn rows_arrive_with_the_headers_the_token_the_method_and_gzip() {
    let webhook = Webhook::start(Vec::new()).await;
    let mut sink = sink(json!({
        "url": webhook.url("/hook"),
        "method": "PUT",
        "headers": {"X-Source": "veloflux", "Content-Type": "application/x-ndjson"},
        "token": "s3cret",
        "gzip": true
    }));
    let rows = [r#"{"id":1}"#, r#"{"id":2}"#, r#"{"id":3}"#];
    send_and_confirm(&mut sink, &rows).await;
    assert_eq!(webhook.delivered(), rows);
    for request in webhook.received() {
        assert_eq!(request.method, Method::PUT);
        assert_eq!(request.path, "/hook");
        let header = |name: &str| request.headers[name].to_str().unwrap().to_owned();
        assert_eq!(header("x-source"), "veloflux");
        assert_eq!(header("authorization"), "Bearer s3cret");
        assert_eq!(header("content-type"), "application/x-ndjson");
        assert_eq!(header("content-encoding"), "gzip");
    }
    assert!(sink.status().unwrap().is_connected());
    assert_eq!(sink.take_lost(), None);
}

#[tokio::test]
async fn without_options_a_json_post_goes_to_the_url() {
    let webhook = Webhook::start(Vec::new()).await;
    let mut sink = sink(json!({"url": webhook.url("/in?key=1")}));
    send_and_confirm(&mut sink, &[r#"[{"id":1},{"id":2}]"#]).await;
    let request = &webhook.received()[0];
    assert_eq!(
        (request.method.as_str(), request.path.as_str()),
        ("POST", "/in")
    );
    assert_eq!(request.headers["content-type"], "application/json");
    assert!(request.headers.get("content-encoding").is_none());
    assert_eq!(request.body, r#"[{"id":1},{"id":2}]"#);
}

#[tokio::test]
async fn a_failing_endpoint_gets_every_body_in_order_and_nothing_is_confirmed_before_a_2xx() {
    let webhook = Webhook::start(Vec::new()).await;
    webhook.answer_from_now_on(Reply::Status(500, Vec::new(), "down".into()));
    let mut sink = sink(json!({"url": webhook.url("/hook")}));
    let rows = ["a", "b", "c"];
    sink.send(None, buffer(&rows).messages()).await.unwrap();
    let mark = sink.published();
    assert_eq!(mark, 3);
    let failed = webhook.wait_for_requests(3).await;
    assert!(
        failed.iter().all(|r| r.body == "a"),
        "the first is retried first"
    );
    assert!(!sink.is_confirmed_through(1));
    assert!(!sink.status().unwrap().is_connected());
    assert_eq!(
        last_error(sink.as_ref()),
        "HTTP 500 Internal Server Error: down"
    );

    webhook.answer_from_now_on(ok());
    confirm(sink.as_ref()).await;
    assert_eq!(webhook.delivered(), rows);
    assert!(sink.status().unwrap().is_connected());
    assert_eq!(sink.take_lost(), None);
}

#[tokio::test]
async fn a_429_is_retried_no_sooner_than_its_retry_after() {
    let limited = Reply::Status(429, vec![("retry-after", "1")], String::new());
    let webhook = Webhook::start(vec![limited]).await;
    let mut sink = sink(json!({"url": webhook.url("/hook")}));
    send_and_confirm(&mut sink, &["a"]).await;
    let received = webhook.received();
    assert_eq!(received.len(), 2);
    let waited = received[1].at - received[0].at;
    assert!(waited >= Duration::from_millis(1000), "{waited:?}");
    assert_eq!(webhook.delivered(), ["a"]);
}

#[tokio::test]
async fn a_400_is_not_retried_but_counted_lost_with_the_start_of_its_body() {
    let body = format!("invalid row: {}", "x".repeat(300));
    let refusal = Reply::Status(400, Vec::new(), body.clone());
    let webhook = Webhook::start(vec![refusal]).await;
    let mut sink = sink(json!({"url": webhook.url("/hook")}));
    send_and_confirm(&mut sink, &["bad", "good"]).await;
    let received = webhook.received();
    let bodies: Vec<_> = received
        .iter()
        .map(|r| (r.body.as_str(), r.status))
        .collect();
    assert_eq!(bodies, [("bad", 400), ("good", 200)]);
    let lost = sink.take_lost().unwrap();
    assert_eq!(lost.count, 1);
    assert_eq!(
        lost.reason,
        format!("HTTP 400 Bad Request: {}", &body[..200])
    );
    assert_eq!(sink.take_lost(), None, "counted once");
    let error = last_error(sink.as_ref());
    assert_eq!(error, format!("HTTP 400 Bad Request: {}", &body[..200]));
}

#[tokio::test]
async fn a_url_rendered_from_the_row_is_where_the_request_goes() {
    let webhook = Webhook::start(Vec::new()).await;
    let props = json!({"url": webhook.url("/devices/{{device}}")});
    let template = registry().sink("http").unwrap().template(&props).unwrap();
    let template = template.expect("a URL with a placeholder");
    let mut sink = sink(props);
    assert_eq!(template.columns().collect::<Vec<_>>(), ["device"]);
    for device in ["d1", "d2"] {
        let url = webhook.url(&format!("/devices/{device}"));
        sink.send(Some(&url), buffer(&[device]).messages())
            .await
            .unwrap();
    }
    confirm(sink.as_ref()).await;
    let paths: Vec<_> = webhook.received().into_iter().map(|r| r.path).collect();
    assert_eq!(paths, ["/devices/d1", "/devices/d2"]);

    let unsent = sink
        .send(Some("devices/d3"), buffer(&["x", "y"]).messages())
        .await
        .unwrap_err();
    assert_eq!(unsent.count, 2);
    assert!(
        unsent
            .error
            .to_string()
            .contains("the rendered URL 'devices/d3'")
    );
}

#[tokio::test]
async fn a_request_that_gets_no_answer_is_tried_again_after_the_timeout() {
    let webhook = Webhook::start(vec![Reply::Silence]).await;
    let mut sink = sink(json!({"url": webhook.url("/hook"), "timeout_ms": 200}));
    send_and_confirm(&mut sink, &["a"]).await;
    let received = webhook.received();
    assert_eq!(received.len(), 2);
    assert!(received[1].at - received[0].at >= Duration::from_millis(200));
    assert_eq!(webhook.delivered(), ["a"]);
    let error = last_error(sink.as_ref());
    assert!(error.contains("timed out"), "{error}");
}

#[tokio::test]
async fn an_endpoint_that_is_down_is_retried_until_it_listens() {
    let addr = free_addr().await;
    let mut sink = sink(json!({"url": format!("http://{addr}/hook")}));
    let status = sink.status().unwrap();
    assert!(status.is_connected(), "up until a request fails");
    sink.send(None, buffer(&["a"]).messages()).await.unwrap();
    let deadline = Instant::now() + DEADLINE;
    while last_error(sink.as_ref()).is_empty() {
        assert!(Instant::now() < deadline, "the failure shows in the status");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert!(!sink.is_confirmed_through(1));
    let listener = tokio::net::TcpListener::bind(addr).await.unwrap();
    let received = Arc::new(Mutex::new(Vec::new()));
    let kept = received.clone();
    let app = Router::new().fallback(async move |body: Bytes| {
        kept.lock().unwrap().push(body);
        StatusCode::NO_CONTENT
    });
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    confirm(sink.as_ref()).await;
    assert_eq!(*received.lock().unwrap(), [Bytes::from("a")]);
    assert!(status.is_connected());
    assert_eq!(status.reconnects(), 1);
}

/// A port nothing listens on right now.
async fn free_addr() -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    listener.local_addr().unwrap()
}

#[tokio::test]
async fn a_full_queue_holds_the_sender_back_until_the_endpoint_recovers() {
    let webhook = Webhook::start(Vec::new()).await;
    webhook.answer_from_now_on(Reply::Status(503, Vec::new(), String::new()));
    let mut sink = sink(json!({"url": webhook.url("/hook"), "max_pending_requests": 2}));
    let rows = ["1", "2", "3", "4", "5", "6"];
    let buffer = buffer(&rows);
    let mut sending = sink.send(None, buffer.messages());
    let waited = tokio::time::timeout(Duration::from_millis(300), &mut sending).await;
    assert!(waited.is_err(), "the send waits while the queue is full");
    webhook.answer_from_now_on(ok());
    tokio::time::timeout(DEADLINE, sending)
        .await
        .expect("the send goes on once the endpoint answers")
        .unwrap();
    confirm(sink.as_ref()).await;
    assert_eq!(webhook.delivered(), rows);
}

#[test]
fn the_registry_serves_the_props_schema() {
    let kind = registry().sink("http").unwrap();
    let properties = &kind.props["properties"];
    for field in ["url", "method", "headers", "token", "gzip", "timeout_ms"] {
        assert!(properties.get(field).is_some(), "{field}: {}", kind.props);
    }
    assert_eq!(kind.props["required"], json!(["url"]));
}
