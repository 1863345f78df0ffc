//! `veloFlux stream create|list|describe|delete`.

use std::path::PathBuf;

use clap::{Args, Subcommand};
use serde_json::{Value, json};

use super::client::Connection;
use super::error::CliError;
use super::output::{Table, plain, print_answer, print_fields, report};
use super::spec_file::{read_json, with_field};

/// `veloFlux stream …`.
#[derive(Debug, Args)]
pub(crate) struct StreamCommand {
    #[command(flatten)]
    connection: Connection,
    #[command(subcommand)]
    action: StreamAction,
}

#[derive(Debug, Subcommand)]
enum StreamAction {
    /// Create a stream from a JSON spec (-f) or from flags.
    Create(CreateStream),
    /// List every stream.
    List,
    /// Show a stream: its source, props and columns.
    Describe {
        /// The stream's name.
        name: String,
    },
    /// Delete a stream that no pipeline reads.
    Delete {
        /// The stream's name.
        name: String,
    },
}

/// A stream from a spec file, or an MQTT or HTTP stream from flags.
#[derive(Debug, Args)]
#[command(group = clap::ArgGroup::new("source").required(true).args(["file", "mqtt", "http"]))]
struct CreateStream {
    /// The stream's name (with -f: replaces the spec's).
    #[arg(required_unless_present = "file")]
    name: Option<String>,
    /// The stream as the JSON body of POST /streams; `-` reads it from stdin.
    #[arg(short = 'f', long, value_name = "FILE", conflicts_with_all = ["columns", "shared"])]
    file: Option<PathBuf>,
    /// Read an MQTT broker (tcp://host:port, mqtt://, ssl://, mqtts://).
    #[arg(long, value_name = "BROKER_URL", requires = "topic")]
    mqtt: Option<String>,
    /// The MQTT topic to subscribe to; wildcards allowed.
    #[arg(long, requires = "mqtt")]
    topic: Option<String>,
    /// The MQTT QoS of the subscription: 0, 1 or 2.
    #[arg(long, requires = "mqtt")]
    qos: Option<u8>,
    /// Take the messages posted to the server's POST /streams/<name>/ingest.
    #[arg(long)]
    http: bool,
    /// A column, as name:type (int64, float64, string, bool, timestamp, ...); repeat it.
    #[arg(
        long = "column",
        value_name = "NAME:TYPE",
        required_unless_present = "file"
    )]
    columns: Vec<String>,
    /// One subscription and one decode feed every pipeline reading the stream.
    #[arg(long)]
    shared: bool,
}

impl StreamCommand {
    /// Runs the command.
    ///
    /// # Errors
    /// The server's refusal, or why the request could not be sent.
    pub(crate) async fn run(self) -> Result<(), CliError> {
        let client = self.connection.client()?;
        let output = self.connection.output;
        match self.action {
            StreamAction::Create(create) => {
                let spec = create.spec()?;
                let created = client.post(&["streams"], Some(&spec)).await?;
                report(output, &created, || {
                    format!("stream '{}' created", plain(&created["name"]))
                })
            }
            StreamAction::List => {
                let streams = client.get(&["streams"]).await?;
                print_answer(output, &streams, print_list)
            }
            StreamAction::Describe { name } => {
                let stream = client.get(&["streams", &name]).await?;
                print_answer(output, &stream, describe)
            }
            StreamAction::Delete { name } => {
                let deleted = client.delete(&["streams", &name]).await?;
                report(output, &deleted, || format!("stream '{name}' deleted"))
            }
        }
    }
}

impl CreateStream {
    fn spec(&self) -> Result<Value, CliError> {
        if let Some(file) = &self.file {
            return with_field(read_json(file)?, "name", self.name.as_deref());
        }
        let columns = self
            .columns
            .iter()
            .map(|column| column_spec(column))
            .collect::<Result<Vec<_>, _>>()?;
        let (kind, props) = match &self.mqtt {
            Some(broker_url) => {
                let mut props = json!({"broker_url": broker_url, "topic": self.topic});
                if let Some(qos) = self.qos {
                    props["qos"] = json!(qos);
                }
                ("mqtt", props)
            }
            None => ("http", json!({})),
        };
        Ok(json!({
            "name": self.name,
            "type": kind,
            "schema": {"type": "json", "props": {"columns": columns}},
            "props": props,
            "shared": self.shared,
        }))
    }
}

/// `device:string` as `{"name": "device", "data_type": "string"}`.
fn column_spec(text: &str) -> Result<Value, CliError> {
    match text.split_once(':') {
        Some((name, data_type)) if !name.is_empty() && !data_type.is_empty() => {
            Ok(json!({"name": name, "data_type": data_type}))
        }
        _ => Err(CliError::Usage(format!(
            "--column '{text}' is not name:type (such as temp:float64); nested columns need a \
             spec file (-f)"
        ))),
    }
}

fn print_list(streams: &Value) {
    let mut table = Table::new(&["NAME", "TYPE", "SHARED", "COLUMNS"]);
    for stream in streams.as_array().into_iter().flatten() {
        table.push(vec![
            plain(&stream["name"]),
            plain(&stream["type"]),
            plain(&stream["shared"]),
            columns_of(stream).join(" "),
        ]);
    }
    table.print();
}

fn describe(stream: &Value) {
    print_fields(&[
        ("name", plain(&stream["name"])),
        ("type", plain(&stream["type"])),
        ("shared", plain(&stream["shared"])),
        ("props", plain(&stream["props"])),
        ("decoder", plain(&stream["decoder"]["type"])),
        ("eventtime", plain(&stream["eventtime"])),
        ("columns", columns_of(stream).join(" ")),
    ]);
}

/// The columns of a stream as `name:type`, as `--column` takes them.
fn columns_of(stream: &Value) -> Vec<String> {
    let columns = stream["schema"]["props"]["columns"].as_array();
    let columns = columns.into_iter().flatten();
    columns
        .map(|column| format!("{}:{}", plain(&column["name"]), column_type(column)))
        .collect()
}

/// A column's type, nested types spelled out: `struct<site:string>`, `list<string>`.
fn column_type(column: &Value) -> String {
    match column["data_type"].as_str() {
        Some("struct") => {
            let fields = column["fields"].as_array().into_iter().flatten();
            let fields: Vec<_> = fields
                .map(|field| format!("{}:{}", plain(&field["name"]), column_type(field)))
                .collect();
            format!("struct<{}>", fields.join(","))
        }
        Some("list") => format!("list<{}>", column_type(&column["element"])),
        _ => plain(&column["data_type"]),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nested_columns_are_spelled_out() {
        let stream = json!({"schema": {"props": {"columns": [
            {"name": "temp", "data_type": "float64"},
            {"name": "meta", "data_type": "struct", "fields": [{"name": "site", "data_type": "string"}]},
            {"name": "tags", "data_type": "list", "element": {"name": "tag", "data_type": "string"}}
        ]}}});
        assert_eq!(
            columns_of(&stream),
            [
                "temp:float64",
                "meta:struct<site:string>",
                "tags:list<string>"
            ]
        );
    }

    #[test]
    fn a_column_flag_is_name_colon_type() {
        assert_eq!(
            column_spec("temp:float64").unwrap(),
            json!({"name": "temp", "data_type": "float64"})
        );
        for bad in ["temp", ":float64", "temp:"] {
            assert!(column_spec(bad).is_err(), "{bad}");
        }
    }
}
