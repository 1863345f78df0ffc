//! The fixture most tests start from: a server with a running pipeline that keeps the rows
//! with a positive `score`.

use super::{Server, broker_url, pipeline_spec, stream_spec, unique_topic, wait_until};

/// Creates a stream on `input` and a pipeline from it to `output` (its sink at QoS 1), and
/// starts it.
pub(crate) async fn filtering_pipeline(
    server: &Server,
    id: &str,
    broker: &str,
    input: &str,
    output: &str,
) {
    filtering_pipeline_at(server, id, (broker, input, output), 1).await;
}

/// [`filtering_pipeline`] with its sink at `sink_qos`.
pub(crate) async fn filtering_pipeline_at(
    server: &Server,
    id: &str,
    (broker, input, output): (&str, &str, &str),
    sink_qos: u8,
) {
    let stream = format!("{id}_stream");
    assert_eq!(
        server
            .post(
                "/streams",
                Some(&stream_spec(&stream, broker, input, false))
            )
            .await
            .0,
        201
    );
    let sql = format!("SELECT user_id, score FROM {stream} WHERE score > 0");
    let mut pipeline = pipeline_spec(id, &sql, broker, output);
    pipeline["sinks"][0]["props"]["qos"] = sink_qos.into();
    assert_eq!(server.post("/pipelines", Some(&pipeline)).await.0, 201);
    assert_eq!(
        server.post(&format!("/pipelines/{id}/start"), None).await.0,
        200
    );
    wait_until("the pipeline connects", async || {
        server.stage(id, "source").await.is_object()
            && server.get(&format!("/pipelines/{id}/status")).await.1["state"] == "running"
    })
    .await;
}

/// A server with a running filtering pipeline from `input` to `output` on the test broker.
pub(crate) struct Filtering {
    pub(crate) broker: String,
    pub(crate) input: String,
    pub(crate) output: String,
    pub(crate) server: Server,
    pub(crate) _data: tempfile::TempDir,
}

/// Starts a server over a fresh data directory, with `extra` arguments, and a filtering
/// pipeline `id` on it.
pub(crate) async fn filtering(id: &str, extra: &[&str]) -> std::io::Result<Filtering> {
    let broker = broker_url();
    let data = tempfile::tempdir()?;
    let server = Server::start(data.path(), extra).await;
    let (input, output) = (
        unique_topic(&format!("{id}-in")),
        unique_topic(&format!("{id}-out")),
    );
    filtering_pipeline(&server, id, &broker, &input, &output).await;
    Ok(Filtering {
        broker,
        input,
        output,
        server,
        _data: data,
    })
}
