//! The files of `deploy/` hold up: the gateway configuration starts a server as written (only
//! its port is the test's), and the systemd unit passes `systemd-analyze verify` where the
//! machine has it. The multi-instance example is run by `tests/scale_out.rs`.

mod support;

use std::process::Command;

use support::Server;

/// The deployment files.
const DEPLOY: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/deploy");

#[tokio::test]
async fn the_gateway_configuration_starts_a_ready_server() {
    let data = tempfile::tempdir().unwrap();
    let config = format!("{DEPLOY}/gateway.yaml");
    let server = Server::start(data.path(), &["--config", &config]).await;
    let (status, body) = server.get("/readyz").await;
    assert_eq!(status, 200, "{body}");
    // The file was read, not passed over: it turns profiling off.
    let (status, body) = server.get("/debug/pprof/profile?seconds=1").await;
    assert_eq!(status, 404, "{body}");
}

#[test]
fn the_systemd_unit_verifies() {
    if Command::new("systemd-analyze")
        .arg("--version")
        .output()
        .is_err()
    {
        eprintln!("skipped: no systemd-analyze on this machine");
        return;
    }
    let unit = std::fs::read_to_string(format!("{DEPLOY}/veloflux.service")).unwrap();
    let installed = "ExecStart=/usr/local/bin/veloFlux ";
    assert!(unit.contains(installed), "{unit}");
    // `verify` checks that the binary exists: this build's stands in for the installed one.
    let unit = unit.replace(
        installed,
        &format!("ExecStart={} ", env!("CARGO_BIN_EXE_veloFlux")),
    );
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("veloflux.service");
    std::fs::write(&path, unit).unwrap();
    let verified = Command::new("systemd-analyze")
        .arg("verify")
        .arg(&path)
        .output()
        .unwrap();
    let complaints = String::from_utf8_lossy(&verified.stderr);
    assert!(verified.status.success(), "{complaints}");
    assert!(complaints.trim().is_empty(), "{complaints}");
}
