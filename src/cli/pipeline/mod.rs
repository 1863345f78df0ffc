//! `veloFlux pipeline create|list|show|start|stop|delete|explain|status`.

mod status;

use std::path::PathBuf;

use clap::{Args, Subcommand};
use serde_json::{Value, json};

use super::client::{Client, Connection};
use super::error::CliError;
use super::output::{Output, Table, plain, print_answer, print_fields, report};
use super::sink_url::sink_spec;
use super::spec_file::{read_json, with_field};

/// `veloFlux pipeline …`.
#[derive(Debug, Args)]
pub(crate) struct PipelineCommand {
    #[command(flatten)]
    connection: Connection,
    #[command(subcommand)]
    action: PipelineAction,
}

#[derive(Debug, Subcommand)]
enum PipelineAction {
    /// Create a pipeline (stopped) from a JSON spec (-f) or from flags.
    Create(CreatePipeline),
    /// List every pipeline and its state.
    List,
    /// Show a pipeline: its state, SQL, sinks and options.
    Show(Id),
    /// Start a pipeline.
    Start(Id),
    /// Stop a pipeline, after it processes what it has received.
    Stop(Id),
    /// Stop and delete a pipeline.
    Delete(Id),
    /// Print a pipeline's plan: the columns it decodes and each step.
    Explain(Id),
    /// A pipeline's state, counters per stage and connections.
    Status(Id),
}

/// The pipeline a command is about.
#[derive(Debug, Args)]
struct Id {
    /// The pipeline's id.
    id: String,
}

/// A pipeline from a spec file, or from its SQL and sink URLs.
#[derive(Debug, Args)]
struct CreatePipeline {
    /// The pipeline's id (with -f: replaces the spec's).
    #[arg(required_unless_present = "file")]
    id: Option<String>,
    /// The pipeline as the JSON body of POST /pipelines; `-` reads it from stdin.
    #[arg(short = 'f', long, value_name = "FILE", conflicts_with_all = ["sql", "sinks"])]
    file: Option<PathBuf>,
    /// The statement: SELECT … FROM <stream> [WHERE …] [GROUP BY …].
    #[arg(long, required_unless_present = "file")]
    sql: Option<String>,
    /// Where results go, as a URL: mqtt://host:port/topic, nats://host:port/subject,
    /// http(s)://…, file:///path, memory:topic, log: or nop:; repeat it for several sinks.
    #[arg(long = "sink", value_name = "URL", required_unless_present = "file")]
    sinks: Vec<String>,
}

impl PipelineCommand {
    /// Runs the command.
    ///
    /// # Errors
    /// The server's refusal, or why the request could not be sent.
    pub(crate) async fn run(self) -> Result<(), CliError> {
        let client = self.connection.client()?;
        let output = self.connection.output;
        match self.action {
            PipelineAction::Create(create) => {
                let created = client.post(&["pipelines"], Some(&create.spec()?)).await?;
                report(output, &created, || {
                    format!("pipeline '{}' created, stopped", plain(&created["id"]))
                })
            }
            PipelineAction::List => {
                let pipelines = client.get(&["pipelines"]).await?;
                print_answer(output, &pipelines, print_list)
            }
            PipelineAction::Show(Id { id }) => {
                let pipeline = client.get(&["pipelines", &id]).await?;
                print_answer(output, &pipeline, show)
            }
            PipelineAction::Start(Id { id }) => change(&client, output, &id, "start").await,
            PipelineAction::Stop(Id { id }) => change(&client, output, &id, "stop").await,
            PipelineAction::Delete(Id { id }) => {
                let deleted = client.delete(&["pipelines", &id]).await?;
                report(output, &deleted, || format!("pipeline '{id}' deleted"))
            }
            PipelineAction::Explain(Id { id }) => {
                let plan = client.get_text(&["pipelines", &id, "explain"]).await?;
                let answer = json!({"id": id, "plan": plan.trim_end()});
                print_answer(output, &answer, |_| print!("{plan}"))
            }
            PipelineAction::Status(Id { id }) => {
                let status = client.get(&["pipelines", &id, "status"]).await?;
                print_answer(output, &status, status::print)
            }
        }
    }
}

impl CreatePipeline {
    fn spec(&self) -> Result<Value, CliError> {
        if let Some(file) = &self.file {
            return with_field(read_json(file)?, "id", self.id.as_deref());
        }
        let sinks = self
            .sinks
            .iter()
            .map(|url| sink_spec(url))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(json!({"id": self.id, "sql": self.sql, "sinks": sinks}))
    }
}

/// `POST /pipelines/<id>/<verb>` (start, stop), and the state it leaves the pipeline in.
async fn change(client: &Client, output: Output, id: &str, verb: &str) -> Result<(), CliError> {
    let changed = client.post(&["pipelines", id, verb], None).await?;
    report(output, &changed, || {
        format!("pipeline '{id}' {}", plain(&changed["status"]))
    })
}

fn print_list(pipelines: &Value) {
    let mut table = Table::new(&["ID", "STATUS"]);
    for pipeline in pipelines.as_array().into_iter().flatten() {
        table.push(vec![plain(&pipeline["id"]), plain(&pipeline["status"])]);
    }
    table.print();
}

fn show(pipeline: &Value) {
    let spec = &pipeline["spec"];
    let sinks = spec["sinks"].as_array().into_iter().flatten();
    let sinks = sinks.enumerate().map(|(index, sink)| {
        let id = sink["id"]
            .as_str()
            .map_or_else(|| format!("sink_{index}"), str::to_owned);
        format!("{id} {} {}", plain(&sink["type"]), plain(&sink["props"]))
    });
    let mut fields = vec![
        ("id", plain(&pipeline["id"])),
        ("status", plain(&pipeline["status"])),
        ("sql", plain(&spec["sql"])),
    ];
    fields.extend(sinks.map(|sink| ("sink", sink)));
    let options = &spec["options"];
    if options
        .as_object()
        .is_some_and(|options| !options.is_empty())
    {
        fields.push(("options", plain(options)));
    }
    print_fields(&fields);
}
