//! The `curl` examples of the documentation, run against a real server: each must succeed
//! as written (the broker's address aside).

use serde_json::Value;

use super::{Server, broker_url};

/// One `curl` command of a document: method, path and JSON body.
pub(crate) struct Curl {
    pub(crate) method: String,
    pub(crate) path: String,
    pub(crate) body: Option<String>,
    /// The body comes from a file (`-d @file`) written by an earlier command.
    pub(crate) reads_file: bool,
}

/// The `curl` commands of a document's shell blocks, in order.
pub(crate) fn curls(document: &str) -> Vec<Curl> {
    let blocks = document
        .split("```bash")
        .skip(1)
        .filter_map(|rest| rest.split("```").next());
    let commands = blocks.flat_map(|block| block.split("curl ").skip(1).map(str::to_owned));
    commands.map(|command| parse_curl(&command)).collect()
}

fn parse_curl(command: &str) -> Curl {
    let method = command
        .strip_prefix("-X")
        .and_then(|rest| rest.split_whitespace().next());
    let url = command
        .split_whitespace()
        .map(|word| word.trim_matches(['"', '\'']))
        .find(|word| word.starts_with("http://"));
    let path = url
        .unwrap_or_default()
        .trim_start_matches("http://localhost:8080");
    let body = command
        .split_once("-d '")
        .map(|(_, rest)| single_quoted(rest));
    Curl {
        method: method.unwrap_or("GET").to_owned(),
        path: path.to_owned(),
        body,
        reads_file: command.contains("-d @") || command.contains("--data-binary @"),
    }
}

/// The text of a shell word in single quotes, from after its opening quote: up to the closing
/// quote, with each `'\''` (close, escaped quote, reopen) standing for a quote.
fn single_quoted(rest: &str) -> String {
    let mut text = String::new();
    let mut rest = rest;
    while let Some(end) = rest.find('\'') {
        text.push_str(&rest[..end]);
        match rest[end..].strip_prefix("'\\''") {
            Some(after) => {
                text.push('\'');
                rest = after;
            }
            None => return text,
        }
    }
    text + rest
}

/// Runs the `curl` examples of `documents` in order against one server: each must succeed.
pub(crate) async fn run_curl_examples(documents: impl Iterator<Item = String>) {
    let broker = broker_url();
    let data = tempfile::tempdir().unwrap();
    let server = Server::start(data.path(), &[]).await;
    for curl in documents.flat_map(|document| curls(&document)) {
        // Importing a file the previous example wrote needs a shell; the REST tests cover it.
        if curl.reads_file {
            continue;
        }
        let body = curl.body.as_ref().map(|body| {
            let body = body.replace("tcp://127.0.0.1:1883", &broker);
            serde_json::from_str::<Value>(&body).expect("the example's JSON parses")
        });
        let method = reqwest::Method::from_bytes(curl.method.as_bytes()).unwrap();
        let (status, answer) = server.send(method, &curl.path, body.as_ref()).await;
        assert!(
            (200..300).contains(&status),
            "{} {}: {status} {answer}",
            curl.method,
            curl.path
        );
    }
}
