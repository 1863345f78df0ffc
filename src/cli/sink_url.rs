//! A sink written as a URL on the command line (`--sink mqtt://127.0.0.1:1883/alerts`), made
//! into the sink spec of `POST /pipelines`.
//!
//! | URL | sink |
//! | --- | --- |
//! | `mqtt://host:port/topic` (or `tcp`, `mqtts`, `ssl`) | `mqtt`, `broker_url` and `topic` |
//! | `nats://host:port/subject` (or `tls`) | `nats`, `url` and `subject` |
//! | `http://…`, `https://…` | `http`, the whole URL as `url` |
//! | `file:///path` | `file`, `path` |
//! | `memory:topic` | `memory`, `topic` |
//! | `log:`, `nop:` | `log`, `nop` |
//!
//! The destination is everything after the address (`mqtt://h:1883//a/b` is the topic
//! `/a/b`) and may hold `{{column}}` placeholders. For MQTT, NATS and files, a query string
//! adds props (`?qos=1`): numbers and booleans as such, the rest as strings.

use serde_json::{Map, Value, json};

use super::error::CliError;

/// The sink spec `url` stands for.
///
/// # Errors
/// [`CliError::Usage`] for a URL of no known form, or one that lacks its destination.
pub(crate) fn sink_spec(url: &str) -> Result<Value, CliError> {
    let (scheme, rest) = url
        .split_once(':')
        .ok_or_else(|| unknown(url, "it has no scheme"))?;
    match scheme {
        "http" | "https" => Ok(json!({"type": "http", "props": {"url": url}})),
        "log" | "nop" if rest.is_empty() => Ok(json!({"type": scheme})),
        "memory" => Ok(json!({"type": "memory", "props": {"topic": required(url, rest)?}})),
        "file" => {
            let (path, props) = split_query(url, rest.strip_prefix("//").unwrap_or(rest))?;
            with_props("file", props, "path", required(url, path)?)
        }
        "mqtt" | "tcp" | "mqtts" | "ssl" => {
            addressed(url, scheme, rest, "mqtt", "broker_url", "topic")
        }
        "nats" | "tls" => addressed(url, scheme, rest, "nats", "url", "subject"),
        _ => Err(unknown(
            url,
            &format!("'{scheme}:' is no sink this client knows"),
        )),
    }
}

/// `scheme://host:port/destination?props` as a sink of `kind` whose address prop is
/// `address` and destination prop `destination`.
fn addressed(
    url: &str,
    scheme: &str,
    rest: &str,
    kind: &str,
    address: &str,
    destination: &str,
) -> Result<Value, CliError> {
    let rest = rest
        .strip_prefix("//")
        .ok_or_else(|| unknown(url, &format!("write it {scheme}://host:port/{destination}")))?;
    let (authority, target) = rest.split_once('/').ok_or_else(|| {
        unknown(
            url,
            &format!("the {destination} is missing after host:port/"),
        )
    })?;
    let (target, mut props) = split_query(url, target)?;
    props.insert(address.to_owned(), json!(format!("{scheme}://{authority}")));
    with_props(kind, props, destination, required(url, target)?)
}

fn with_props(
    kind: &str,
    mut props: Map<String, Value>,
    key: &str,
    value: &str,
) -> Result<Value, CliError> {
    props.insert(key.to_owned(), json!(value));
    Ok(json!({"type": kind, "props": props}))
}

/// The destination and the props of its query string (`alerts?qos=1`).
fn split_query<'a>(url: &str, text: &'a str) -> Result<(&'a str, Map<String, Value>), CliError> {
    let Some((target, query)) = text.split_once('?') else {
        return Ok((text, Map::new()));
    };
    let mut props = Map::new();
    for pair in query.split('&').filter(|pair| !pair.is_empty()) {
        let (key, value) = pair
            .split_once('=')
            .ok_or_else(|| unknown(url, &format!("'{pair}' in the query is not key=value")))?;
        let value = serde_json::from_str::<Value>(value)
            .ok()
            .filter(|value| value.is_number() || value.is_boolean())
            .unwrap_or_else(|| json!(value));
        props.insert(key.to_owned(), value);
    }
    Ok((target, props))
}

fn required<'a>(url: &str, destination: &'a str) -> Result<&'a str, CliError> {
    if destination.is_empty() {
        return Err(unknown(url, "its destination is missing"));
    }
    Ok(destination)
}

fn unknown(url: &str, why: &str) -> CliError {
    CliError::Usage(format!(
        "--sink '{url}': {why} (mqtt://host:port/topic, nats://host:port/subject, \
         http(s)://…, file:///path, memory:topic, log: or nop:)"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_url_form_becomes_its_sink() {
        let cases = [
            (
                "mqtt://127.0.0.1:1883/yisa/data2",
                json!({"type": "mqtt", "props": {"broker_url": "mqtt://127.0.0.1:1883", "topic": "yisa/data2"}}),
            ),
            (
                "tcp://h:1883//yisa/{{device}}?qos=1&retain=true",
                json!({"type": "mqtt", "props": {"broker_url": "tcp://h:1883", "topic": "/yisa/{{device}}", "qos": 1, "retain": true}}),
            ),
            (
                "nats://127.0.0.1:4222/alerts.hot",
                json!({"type": "nats", "props": {"url": "nats://127.0.0.1:4222", "subject": "alerts.hot"}}),
            ),
            (
                "https://api.local/hook?key=1",
                json!({"type": "http", "props": {"url": "https://api.local/hook?key=1"}}),
            ),
            (
                "file:///var/out/{{device}}.json?rotate_bytes=1000",
                json!({"type": "file", "props": {"path": "/var/out/{{device}}.json", "rotate_bytes": 1000}}),
            ),
            (
                "memory:results",
                json!({"type": "memory", "props": {"topic": "results"}}),
            ),
            ("log:", json!({"type": "log"})),
            ("nop:", json!({"type": "nop"})),
        ];
        for (url, sink) in cases {
            assert_eq!(sink_spec(url).unwrap(), sink, "{url}");
        }
    }

    #[test]
    fn a_url_of_no_known_form_or_without_destination_is_refused_with_the_forms() {
        for url in [
            "ftp://h/x",
            "mqtt://h:1883",
            "mqtt://h:1883/",
            "mqtt:h/x",
            "memory:",
            "alerts",
        ] {
            let error = sink_spec(url).unwrap_err().to_string();
            assert!(
                error.contains(url) && error.contains("mqtt://host:port/topic"),
                "{error}"
            );
        }
    }
}
