//! The command-line client: this crate's binary run as `veloFlux <command>` against a test
//! server, and the client's examples in the documentation run as written.

use std::path::Path;
use std::process::Stdio;

use tokio::process::Command;

use super::{Server, broker_url};

/// How a client command ended.
#[derive(Debug)]
pub(crate) struct Ran {
    /// The exit status; `None` when killed by a signal.
    pub(crate) code: Option<i32>,
    pub(crate) stdout: String,
    pub(crate) stderr: String,
}

impl Ran {
    /// Its stdout; panics with what it printed unless it exited 0.
    pub(crate) fn ok(self) -> String {
        assert_eq!(self.code, Some(0), "the command failed: {self:#?}");
        self.stdout
    }

    /// Its stdout as JSON; panics unless it exited 0 and printed JSON.
    pub(crate) fn json(self) -> serde_json::Value {
        let stdout = self.ok();
        serde_json::from_str(&stdout).unwrap_or_else(|error| panic!("{error}: {stdout}"))
    }
}

/// The URL of `server`'s REST API.
pub(crate) fn server_url(server: &Server) -> String {
    format!("http://{}", server.addr)
}

/// `veloFlux args` with `VELOFLUX_SERVER` naming `server` and no token.
pub(crate) fn client_command(server: &Server, args: &[&str]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_veloFlux"));
    command
        .args(args)
        .env("VELOFLUX_SERVER", server_url(server))
        .env_remove("VELOFLUX_TOKEN")
        .stdin(Stdio::null())
        .kill_on_drop(true);
    command
}

/// Runs `veloFlux args` against `server` to its end.
pub(crate) async fn veloflux(server: &Server, args: &[&str]) -> Ran {
    finished(client_command(server, args)).await
}

/// Runs `veloFlux args` against `server` with `input` on its stdin.
pub(crate) async fn veloflux_with_input(server: &Server, args: &[&str], input: &str) -> Ran {
    let mut file = tempfile::tempfile().unwrap();
    std::io::Write::write_all(&mut file, input.as_bytes()).unwrap();
    std::io::Seek::rewind(&mut file).unwrap();
    let mut command = client_command(server, args);
    command.stdin(Stdio::from(file));
    finished(command).await
}

/// Runs `command` to its end and keeps what it printed.
pub(crate) async fn finished(mut command: Command) -> Ran {
    ran(command.output().await.expect("the command runs"))
}

fn ran(output: std::process::Output) -> Ran {
    Ran {
        code: output.status.code(),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

/// Runs in order, each as a bash script in `work_dir` against `server`, every `bash` block of
/// `document` that holds a `veloFlux` command; each must exit 0. The documents' addresses
/// (`localhost:8080`, the broker's `127.0.0.1:1883`) are replaced by the test's.
pub(crate) async fn run_cli_examples(server: &Server, document: &str, work_dir: &Path) {
    let bin_dir = Path::new(env!("CARGO_BIN_EXE_veloFlux")).parent().unwrap();
    let path = std::env::join_paths(std::iter::once(bin_dir.to_path_buf()).chain(
        std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default()),
    ))
    .unwrap();
    let broker = broker_url();
    let broker_address = broker
        .split_once("://")
        .map_or(broker.as_str(), |(_, rest)| rest);
    let blocks = cli_blocks(document);
    assert!(!blocks.is_empty(), "the document shows veloFlux commands");
    for block in blocks {
        let script = block
            .replace("http://localhost:8080", &server_url(server))
            .replace("http://127.0.0.1:8080", &server_url(server))
            .replace("127.0.0.1:1883", broker_address);
        let mut command = Command::new("bash");
        command
            .args(["-eo", "pipefail", "-c", &script])
            .env("PATH", &path)
            .env("VELOFLUX_SERVER", server_url(server))
            .env_remove("VELOFLUX_TOKEN")
            .current_dir(work_dir)
            .stdin(Stdio::null())
            .kill_on_drop(true);
        let ran = finished(command).await;
        assert_eq!(ran.code, Some(0), "the example failed:\n{script}\n{ran:#?}");
    }
}

/// The `bash` blocks of `document` with a line that starts with `veloFlux `.
fn cli_blocks(document: &str) -> Vec<String> {
    let blocks = document
        .split("```bash\n")
        .skip(1)
        .filter_map(|rest| rest.split("```").next());
    blocks
        .filter(|block| block.lines().any(|line| line.starts_with("veloFlux ")))
        .map(str::to_owned)
        .collect()
}
