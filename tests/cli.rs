//! The command-line client (`veloFlux stream …`, `pipeline …`, `export`, `import`, `tail`,
//! `top`, `completions`) run as a separate process against the real server: specs from flags,
//! files and stdin, text and JSON output, the server's errors and the exit statuses, the live
//! tail, the top snapshot, and the client's examples of docs/cli.md and the README as written.

#![expect(clippy::unwrap_used, reason = "a test: a failure is a failed test")]

mod support;

use serde_json::{Value, json};
use support::{
    Server, broker_url, client_command, finished, free_addr, run_cli_examples, veloflux,
    veloflux_with_input, wait_until,
};

/// A server over a fresh data directory.
async fn started() -> (Server, tempfile::TempDir) {
    let data = tempfile::tempdir().unwrap();
    let server = Server::start(data.path(), &[]).await;
    (server, data)
}

/// Creates the stream `readings` of type `http` (messages posted to the server).
async fn readings(server: &Server) {
    let args = [
        "stream",
        "create",
        "readings",
        "--http",
        "--column",
        "device:string",
        "--column",
        "temp:float64",
    ];
    assert_eq!(
        veloflux(server, &args).await.ok(),
        "stream 'readings' created\n"
    );
}

/// Creates and starts `id`: the hot readings (`temp > 30`) into `sink`.
async fn hot_readings(server: &Server, id: &str, sink: &str) {
    let sql = "SELECT device, temp FROM readings WHERE temp > 30";
    let args = ["pipeline", "create", id, "--sql", sql, "--sink", sink];
    veloflux(server, &args).await.ok();
    let started = veloflux(server, &["pipeline", "start", id]).await.ok();
    assert_eq!(started, format!("pipeline '{id}' running\n"));
}

fn ids(list: &Value, field: &str) -> Vec<String> {
    let mut ids: Vec<String> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|item| item[field].as_str().unwrap().to_owned())
        .collect();
    ids.sort();
    ids
}

const MACHINES: &str = r#"{
  "name": "machines",
  "type": "mqtt",
  "schema": {"type": "json", "props": {"columns": [
    {"name": "machine", "data_type": "string"},
    {"name": "meta", "data_type": "struct", "fields": [{"name": "site", "data_type": "string"}]}
  ]}},
  "props": {"broker_url": "tcp://127.0.0.1:1883", "topic": "machines/+"}
}"#;

#[tokio::test]
async fn streams_are_created_from_flags_files_and_stdin_listed_described_and_deleted() {
    let (server, _data) = started().await;
    let broker = broker_url();
    readings(&server).await;
    let sensors = [
        "stream",
        "create",
        "sensors",
        "--mqtt",
        &broker,
        "--topic",
        "sensors/#",
        "--qos",
        "1",
        "--column",
        "device:string",
        "--shared",
    ];
    veloflux(&server, &sensors).await.ok();
    let files = tempfile::tempdir().unwrap();
    let spec = files.path().join("machines.json");
    std::fs::write(&spec, MACHINES).unwrap();
    let from_file = ["stream", "create", "-f", spec.to_str().unwrap()];
    assert_eq!(
        veloflux(&server, &from_file).await.ok(),
        "stream 'machines' created\n"
    );
    let renamed = ["stream", "create", "machines_b", "-f", "-"];
    veloflux_with_input(&server, &renamed, MACHINES).await.ok();

    let (_, stored) = server.get("/streams/sensors").await;
    assert_eq!(
        (&stored["type"], &stored["shared"], &stored["props"]),
        (
            &json!("mqtt"),
            &json!(true),
            &json!({"broker_url": broker, "topic": "sensors/#", "qos": 1})
        )
    );
    let (_, stored) = server.get("/streams/readings").await;
    assert_eq!(
        stored["schema"]["props"]["columns"],
        json!([{"name": "device", "data_type": "string"}, {"name": "temp", "data_type": "float64"}])
    );

    let listed = veloflux(&server, &["stream", "list"]).await.ok();
    let lines: Vec<&str> = listed.lines().collect();
    assert!(
        lines[0].starts_with("NAME") && lines[0].ends_with("COLUMNS"),
        "{listed}"
    );
    assert!(
        lines.iter().any(|line| line.starts_with("readings ")
            && line.contains(" http ")
            && line.ends_with("device:string temp:float64")),
        "{listed}"
    );
    let listed = veloflux(&server, &["stream", "list", "--output", "json"]).await;
    assert_eq!(
        ids(&listed.json(), "name"),
        ["machines", "machines_b", "readings", "sensors"]
    );
    let described = veloflux(&server, &["stream", "describe", "machines"])
        .await
        .ok();
    assert!(
        described.contains("type:       mqtt")
            && described.contains("columns:    machine:string meta:struct<site:string>"),
        "{described}"
    );
    let described = veloflux(&server, &["stream", "describe", "sensors", "-o", "json"]).await;
    assert_eq!(described.json(), server.get("/streams/sensors").await.1);

    let deleted = veloflux(&server, &["stream", "delete", "machines_b"])
        .await
        .ok();
    assert_eq!(deleted, "stream 'machines_b' deleted\n");
    assert_eq!(server.get("/streams/machines_b").await.0, 404);
}

#[tokio::test]
async fn pipelines_are_created_shown_started_explained_stopped_and_deleted() {
    let (server, _data) = started().await;
    let broker = broker_url();
    readings(&server).await;
    hot_readings(&server, "hot", &format!("{broker}/alerts/{{{{device}}}}")).await;
    let (_, hot) = server.get("/pipelines/hot").await;
    assert_eq!(
        hot["spec"]["sinks"][0],
        json!({"type": "mqtt", "props": {"broker_url": broker, "topic": "alerts/{{device}}"}})
    );
    let files = tempfile::tempdir().unwrap();
    let spec = files.path().join("copy.json");
    let copy =
        json!({"id": "replaced", "sql": "SELECT temp FROM readings", "sinks": [{"type": "nop"}]});
    std::fs::write(&spec, copy.to_string()).unwrap();
    let from_file = ["pipeline", "create", "copy", "-f", spec.to_str().unwrap()];
    assert_eq!(
        veloflux(&server, &from_file).await.ok(),
        "pipeline 'copy' created, stopped\n"
    );
    let piped =
        json!({"id": "piped", "sql": "SELECT device FROM readings", "sinks": [{"type": "log"}]});
    let from_stdin = ["pipeline", "create", "-f", "-", "--output", "json"];
    let created = veloflux_with_input(&server, &from_stdin, &piped.to_string()).await;
    assert_eq!(created.json(), json!({"id": "piped", "status": "stopped"}));

    let listed = veloflux(&server, &["pipeline", "list"]).await.ok();
    assert!(
        listed.lines().any(|line| line == "hot    running"),
        "{listed}"
    );
    let shown = veloflux(&server, &["pipeline", "show", "hot"]).await.ok();
    assert!(
        shown.contains("sql:     SELECT device, temp FROM readings WHERE temp > 30")
            && shown.contains("sink:    sink_0 mqtt"),
        "{shown}"
    );
    let status = veloflux(&server, &["pipeline", "status", "hot"]).await.ok();
    assert!(status.starts_with("state:   running\n"), "{status}");
    for stage in ["STAGE", "source ", "plan ", "sink_0 "] {
        assert!(
            status.lines().any(|line| line.starts_with(stage)),
            "{stage}: {status}"
        );
    }
    let status = veloflux(&server, &["pipeline", "status", "hot", "-o", "json"]).await;
    assert_eq!(status.json()["state"], "running");
    let plan = veloflux(&server, &["pipeline", "explain", "hot"])
        .await
        .ok();
    assert!(plan.contains("  Filter: temp > 30\n"), "{plan}");
    let plan = veloflux(&server, &["pipeline", "explain", "hot", "-o", "json"]).await;
    assert!(
        plan.json()["plan"]
            .as_str()
            .unwrap()
            .contains("Filter: temp > 30")
    );

    let stopped = veloflux(&server, &["pipeline", "stop", "hot"]).await.ok();
    assert_eq!(stopped, "pipeline 'hot' stopped\n");
    assert_eq!(server.get("/pipelines/hot").await.1["status"], "stopped");
    let deleted = veloflux(&server, &["pipeline", "delete", "hot"]).await.ok();
    assert_eq!(deleted, "pipeline 'hot' deleted\n");
    let listed = veloflux(&server, &["pipeline", "list", "-o", "json"]).await;
    assert_eq!(ids(&listed.json(), "id"), ["copy", "piped"]);
}

#[tokio::test]
async fn a_refused_request_prints_the_servers_message_and_exits_non_zero() {
    let (server, _data) = started().await;
    readings(&server).await;
    let bad_sql = [
        "pipeline",
        "create",
        "broken",
        "--sql",
        "SELECT humidity FROM readings",
        "--sink",
        "log:",
    ];
    let refused = veloflux(&server, &bad_sql).await;
    assert_eq!((refused.code, refused.stdout.as_str()), (Some(1), ""));
    assert!(
        refused
            .stderr
            .starts_with("error: sql: unknown column 'humidity'"),
        "{refused:?}"
    );
    let missing = veloflux(&server, &["pipeline", "status", "nope"]).await;
    assert_eq!(
        (missing.code, missing.stderr.as_str()),
        (Some(1), "error: no pipeline 'nope'\n")
    );
    let unknown_sink = [
        "pipeline",
        "create",
        "p",
        "--sql",
        "SELECT temp FROM readings",
        "--sink",
        "ftp://x/y",
    ];
    let usage = veloflux(&server, &unknown_sink).await;
    assert_eq!(usage.code, Some(2));
    assert!(usage.stderr.contains("--sink 'ftp://x/y'"), "{usage:?}");
    let no_file = veloflux(&server, &["stream", "create", "-f", "/no/such/spec.json"]).await;
    assert_eq!(no_file.code, Some(2), "{no_file:?}");
    let elsewhere = format!("http://{}", free_addr());
    let unreachable = veloflux(&server, &["pipeline", "list", "--server", &elsewhere]).await;
    assert_eq!(unreachable.code, Some(3));
    assert!(
        unreachable
            .stderr
            .starts_with(&format!("error: cannot reach the server at {elsewhere}")),
        "{unreachable:?}"
    );
}

#[tokio::test]
async fn the_token_is_read_from_veloflux_token() {
    let data = tempfile::tempdir().unwrap();
    let config = data.path().join("config.yaml");
    std::fs::write(&config, "server:\n  auth_token: cli-t0ken\n").unwrap();
    let server = Server::start(data.path(), &["--config", config.to_str().unwrap()]).await;
    let refused = veloflux(&server, &["pipeline", "list"]).await;
    assert_eq!(refused.code, Some(1));
    assert!(
        refused.stderr.contains("needs a token") && refused.stderr.contains("VELOFLUX_TOKEN"),
        "{refused:?}"
    );
    let mut command = client_command(&server, &["pipeline", "list"]);
    command.env("VELOFLUX_TOKEN", "cli-t0ken");
    assert_eq!(finished(command).await.ok(), "ID  STATUS\n");
}

#[tokio::test]
async fn an_export_imported_into_another_server_gives_the_same_export() {
    let (first, _first_data) = started().await;
    readings(&first).await;
    hot_readings(&first, "hot", "nop:").await;
    let exported = veloflux(&first, &["export"]).await.ok();
    let files = tempfile::tempdir().unwrap();
    let backup = files.path().join("backup.json");
    std::fs::write(&backup, &exported).unwrap();

    let (second, _second_data) = started().await;
    let import = ["import", "-f", backup.to_str().unwrap()];
    assert_eq!(
        veloflux(&second, &import).await.ok(),
        "imported 1 stream and 1 pipeline\n"
    );
    let exported: Value = serde_json::from_str(&exported).unwrap();
    assert_eq!(veloflux(&second, &["export"]).await.json(), exported);
    let again = veloflux(&second, &import).await;
    assert_eq!(again.code, Some(1));
    assert!(again.stderr.contains("'hot'"), "{again:?}");

    let (third, _third_data) = started().await;
    let from_stdin = ["import", "-f", "-", "-o", "json"];
    let imported = veloflux_with_input(&third, &from_stdin, &exported.to_string()).await;
    assert_eq!(ids(&imported.json()["pipelines"], "id"), ["hot"]);
}

#[tokio::test]
async fn tail_prints_the_rows_passing_a_tap_until_its_limit() {
    let (server, _data) = started().await;
    readings(&server).await;
    hot_readings(&server, "hot", "nop:").await;
    let never_ran = veloflux(&server, &["tail", "nope"]).await;
    assert_eq!(never_ran.code, Some(1), "{never_ran:?}");

    let text = tail(
        &server,
        &["tail", "hot", "--point", "project", "--limit", "2"],
    )
    .await;
    assert!(text.contains("| device | temp |"), "{text}");
    assert_eq!(text.matches("| a      | 31.5 |").count(), 2, "{text}");
    assert!(!text.contains("| b "), "the filter dropped b: {text}");

    let json = tail(&server, &["tail", "hot", "--limit", "1", "-o", "json"]).await;
    assert_eq!(json, "{\"device\":\"a\",\"temp\":31.5}\n");
}

/// Runs a tail of `args` while readings are posted, until it exits by itself; its stdout.
async fn tail(server: &Server, args: &[&str]) -> String {
    let mut command = client_command(server, args);
    command
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    let mut child = command.spawn().unwrap();
    let readings = r#"[{"device": "a", "temp": 31.5}, {"device": "b", "temp": 12}]"#;
    wait_until("the tail has printed its rows", async || {
        let path = "/streams/readings/ingest";
        let _ = server.post_body(path, "application/json", readings).await;
        child.try_wait().unwrap().is_some()
    })
    .await;
    let output = child.wait_with_output().await.unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    String::from_utf8(output.stdout).unwrap()
}

#[tokio::test]
async fn top_prints_one_snapshot_when_stdout_is_not_a_terminal() {
    let (server, _data) = started().await;
    readings(&server).await;
    hot_readings(&server, "hot", "nop:").await;
    let idle = [
        "pipeline",
        "create",
        "idle",
        "--sql",
        "SELECT temp FROM readings",
        "--sink",
        "nop:",
    ];
    veloflux(&server, &idle).await.ok();

    let snapshot = veloflux(&server, &["top"]).await.ok();
    let lines: Vec<&str> = snapshot.lines().collect();
    assert_eq!(
        lines[0].split_whitespace().collect::<Vec<_>>(),
        [
            "PIPELINE", "STATE", "IN/S", "OUT/S", "ERRORS", "P99", "MS", "LAST", "ERROR"
        ]
    );
    let row = |id: &str| {
        let line = lines
            .iter()
            .find(|line| line.starts_with(&format!("{id} ")));
        line.map(|line| line.split_whitespace().take(2).collect::<Vec<_>>())
    };
    assert_eq!(row("hot"), Some(vec!["hot", "running"]), "{snapshot}");
    assert_eq!(row("idle"), Some(vec!["idle", "stopped"]), "{snapshot}");

    let snapshot = veloflux(&server, &["top", "--output", "json"]).await.json();
    let hot = snapshot
        .as_array()
        .unwrap()
        .iter()
        .find(|line| line["id"] == "hot")
        .unwrap();
    assert_eq!(hot["state"], "running");
    assert!(hot["rows_in_per_sec"].is_number(), "{snapshot}");
}

#[tokio::test]
async fn completions_are_printed_for_bash_zsh_and_fish() {
    let (server, _data) = started().await;
    let bash = veloflux(&server, &["completions", "bash"]).await.ok();
    assert!(bash.contains("complete -F _veloFlux"), "{bash}");
    let zsh = veloflux(&server, &["completions", "zsh"]).await.ok();
    assert!(zsh.starts_with("#compdef veloFlux"), "{zsh}");
    let fish = veloflux(&server, &["completions", "fish"]).await.ok();
    assert!(fish.contains("complete -c veloFlux"), "{fish}");
}

#[tokio::test]
async fn serve_starts_the_server_as_no_command_does() {
    let data = tempfile::tempdir().unwrap();
    let addr = free_addr();
    let mut server = tokio::process::Command::new(env!("CARGO_BIN_EXE_veloFlux"))
        .args(["serve", "--data-dir", data.path().to_str().unwrap()])
        .args(["--manager-addr", &addr.to_string()])
        .stdin(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let api = veloflux_testkit::Api::new(&format!("http://{addr}")).unwrap();
    wait_until("the server answers", async || api.healthy().await).await;
    let mut list = tokio::process::Command::new(env!("CARGO_BIN_EXE_veloFlux"));
    list.args(["pipeline", "list", "--server", &format!("http://{addr}")])
        .env_remove("VELOFLUX_TOKEN");
    assert_eq!(finished(list).await.ok(), "ID  STATUS\n");
    server.kill().await.unwrap();
}

#[tokio::test]
async fn every_client_example_of_docs_cli_md_runs_as_written() {
    let (server, _data) = started().await;
    let work_dir = tempfile::tempdir().unwrap();
    run_cli_examples(&server, include_str!("../docs/cli.md"), work_dir.path()).await;
}

#[tokio::test]
async fn every_client_example_of_the_readme_runs_as_written() {
    let (server, _data) = started().await;
    let work_dir = tempfile::tempdir().unwrap();
    run_cli_examples(&server, include_str!("../README.md"), work_dir.path()).await;
}
