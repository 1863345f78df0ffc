//! A corpus of bad payloads through the real server: each is counted and skipped, and the
//! good messages around them still come out.

mod support;

use support::{Filtering, Subscriber, filtering, publish_bytes, wait_until};

/// Payloads that must each be skipped, with what they are.
fn corpus() -> Vec<(&'static str, Vec<u8>)> {
    let mut huge = br#"{"user_id": 1, "score": 1, "note": ""#.to_vec();
    huge.resize(10 << 20, b'x');
    huge.extend_from_slice(br#""}"#);
    vec![
        ("malformed", b"{user_id: 1}".to_vec()),
        ("truncated", br#"{"user_id": 1, "sco"#.to_vec()),
        (
            "invalid UTF-8",
            b"{\"user_id\": 1, \"note\": \"\xff\xfe\"}".to_vec(),
        ),
        (
            "deeply nested",
            [b"[".repeat(100_000), b"]".repeat(100_000)].concat(),
        ),
        (
            "huge number",
            br#"{"user_id": 99999999999999999999999999, "score": 1}"#.to_vec(),
        ),
        (
            "non-finite number",
            br#"{"user_id": 1, "score": 1e400}"#.to_vec(),
        ),
        ("wrong type", br#"{"user_id": "one", "score": 1}"#.to_vec()),
        ("empty", Vec::new()),
        ("not an object", b"42".to_vec()),
        ("10 MB", huge),
        (
            "good, two rows",
            br#"[{"user_id": 7, "score": 1}, {"user_id": 8, "score": -1}]"#.to_vec(),
        ),
    ]
}

#[tokio::test]
async fn every_bad_payload_is_counted_and_skipped_and_the_good_ones_flow() {
    let Filtering {
        broker,
        input,
        output,
        server,
        _data,
    } = filtering("corpus", &[]).await.unwrap();
    let subscriber = Subscriber::start(&broker, &output).await;
    let corpus = corpus();
    let bad = corpus.len() - 1;
    let mut payloads = vec![br#"{"user_id": 0, "score": 1}"#.to_vec()];
    payloads.extend(corpus.into_iter().map(|(_, payload)| payload));
    publish_bytes(&broker, &input, &payloads).await;
    let messages = subscriber.wait_for(2).await;
    assert_eq!(
        messages,
        [
            r#"{"user_id":0,"score":1.0}"#,
            r#"{"user_id":7,"score":1.0}"#
        ]
    );
    wait_until("every bad payload is counted", async || {
        server.stage("corpus", "source").await["error_count"] == bad
    })
    .await;
    let source = server.stage("corpus", "source").await;
    let counts = (
        source["records_in"].as_u64(),
        source["records_out"].as_u64(),
    );
    assert_eq!(
        counts,
        (Some(bad as u64 + 2), Some(3)),
        "messages in, rows out: {source}"
    );
    let (_, status) = server.get("/pipelines/corpus/status").await;
    assert_eq!(status["state"], "running", "{status}");
}
