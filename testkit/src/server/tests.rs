//! The launcher against stand-in binaries (shell scripts): what it passes, what it reports
//! when the server fails, and how it stops and restarts one. The real binary is exercised by
//! the integration tests of the server's crate.

use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::ExitStatusExt;
use std::time::Duration;

use super::*;

/// An executable script `body` in `dir`.
fn script(dir: &Path, body: &str) -> PathBuf {
    let path = dir.join("veloFlux");
    std::fs::write(&path, format!("#!/bin/sh\n{body}\n")).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    path
}

#[test]
fn a_server_that_cannot_start_is_run_to_its_exit_with_its_stderr() {
    let dir = tempfile::tempdir().unwrap();
    let binary = script(dir.path(), r#"echo "args: $*" >&2; exit 3"#);
    let options = ServerOptions::new(binary).with_args(["--flight-addr", "127.0.0.1:1"]);
    let data = dir.path().join("data");
    let exited = Server::run_to_exit(&options, &data).unwrap();
    assert_eq!(exited.status.code(), Some(3));
    let expected = format!(
        "args: --data-dir {} --manager-addr 127.0.0.1:",
        data.display()
    );
    assert!(exited.stderr.starts_with(&expected), "{}", exited.stderr);
    assert!(
        exited
            .stderr
            .trim_end()
            .ends_with("--log-level warn --flight-addr 127.0.0.1:1"),
        "{}",
        exited.stderr
    );
    assert!(data.is_dir(), "the data directory is created");
}

#[tokio::test]
async fn a_server_that_exits_fails_to_start_quoting_its_stderr() {
    let dir = tempfile::tempdir().unwrap();
    let binary = script(dir.path(), "echo 'metadata file is corrupt' >&2; exit 1");
    let error = Server::start(&ServerOptions::new(binary))
        .await
        .unwrap_err();
    let message = error.to_string();
    assert!(message.contains("exited (exit status: 1)"), "{message}");
    assert!(message.ends_with("metadata file is corrupt"), "{message}");
}

#[tokio::test]
async fn a_server_that_never_answers_times_out() {
    let dir = tempfile::tempdir().unwrap();
    let mut options = ServerOptions::new(script(dir.path(), "exec sleep 30"));
    options.start_timeout = Duration::from_millis(200);
    let error = Server::start(&options).await.unwrap_err().to_string();
    assert!(error.contains("did not answer /healthz in time"), "{error}");
}

#[tokio::test]
async fn a_server_is_killed_respawned_and_terminated() {
    let dir = tempfile::tempdir().unwrap();
    let options = ServerOptions::new(script(dir.path(), "echo started >&2; exec sleep 30"));
    let mut server = Server::spawn(&options, None).unwrap();
    let (first, addr) = (server.pid(), server.addr());
    assert!(server.data_dir().is_dir());
    logged(&server, "started\n").await;
    assert!(server.respawn().is_err(), "it is still running");
    assert_eq!(server.kill().unwrap().signal(), Some(9));
    server.respawn().unwrap();
    assert_ne!(server.pid(), first);
    assert_eq!(server.addr(), addr, "the same address again");
    logged(&server, "started\nstarted\n").await;
    server.check_alive().unwrap();
    let stopped = server.terminate().await.unwrap();
    assert_eq!(stopped.status.signal(), Some(15));
    assert!(server.check_alive().is_err());
}

/// Waits until the server's stderr is `expected`.
async fn logged(server: &Server, expected: &str) {
    Wait::up_to(Duration::from_secs(5))
        .until("the start is logged", async || {
            server.stderr().unwrap() == expected
        })
        .await
        .unwrap();
}
