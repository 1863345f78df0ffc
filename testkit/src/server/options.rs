//! How to launch the server: which binary, with which extra arguments and log level, pinned
//! to which CPUs, on which interfaces, how long it may take to answer, and how to reach it
//! (HTTP, or HTTPS trusting a given certificate authority).

use std::ffi::OsString;
use std::fs::{File, OpenOptions};
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use crate::{Api, Error, Result};

/// How long a server may take to answer `/healthz` once spawned, or to exit once asked to.
/// Restoring 1000 pipelines at start is part of it (`bench-footprint`), so it is generous.
pub const START_TIMEOUT: Duration = Duration::from_secs(60);

/// How often readiness and exit are checked. Short, because `bench-footprint` reports the
/// time from spawn to `/healthz` and from SIGTERM to exit.
pub const POLL: Duration = Duration::from_millis(5);

/// The variable that would give the server a manager address other than the one chosen here.
const MANAGER_ADDR_VARIABLE: &str = "VELOFLUX_SERVER__MANAGER_ADDR";

/// How to run the `veloFlux` binary.
#[derive(Debug, Clone)]
pub struct ServerOptions {
    /// The binary: `env!("CARGO_BIN_EXE_veloFlux")` in a test, the release build in a bench.
    pub binary: PathBuf,
    /// Arguments after the data directory, manager address and log level.
    pub args: Vec<OsString>,
    /// The `--log-level`.
    pub log_level: String,
    /// CPUs to pin the server to (`taskset -c <cpus>`), or `None` to leave it to the scheduler.
    pub cpus: Option<String>,
    /// How long it may take to answer `/healthz`, or to exit after SIGTERM.
    pub start_timeout: Duration,
    /// Whether the REST API listens on every interface (`0.0.0.0`), as a server reachable
    /// from other machines does, rather than on 127.0.0.1; it is reached on 127.0.0.1 either
    /// way.
    pub all_interfaces: bool,
    /// The certificate authority (PEM) of the server's certificate when it serves HTTPS
    /// (`server.tls_cert`): the client then speaks HTTPS and trusts only it.
    pub tls_root: Option<Vec<u8>>,
}

impl ServerOptions {
    /// `binary`, with no extra arguments, logging warnings only, unpinned.
    pub fn new(binary: impl Into<PathBuf>) -> Self {
        Self {
            binary: binary.into(),
            args: Vec::new(),
            log_level: "warn".to_owned(),
            cpus: None,
            start_timeout: START_TIMEOUT,
            all_interfaces: false,
            tls_root: None,
        }
    }

    /// These options with `args` appended to the arguments.
    pub fn with_args<I, S>(mut self, args: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<OsString>,
    {
        self.args.extend(args.into_iter().map(Into::into));
        self
    }

    /// These options with `--log-level level`.
    pub fn with_log_level(mut self, level: &str) -> Self {
        level.clone_into(&mut self.log_level);
        self
    }

    /// These options pinning the server to `cpus` (`taskset -c` syntax, e.g. `1` or `0-1`).
    pub fn with_cpus(mut self, cpus: Option<String>) -> Self {
        self.cpus = cpus;
        self
    }

    /// These options with the REST API listening on every interface (`0.0.0.0`).
    pub fn on_all_interfaces(mut self) -> Self {
        self.all_interfaces = true;
        self
    }

    /// These options reaching the server over HTTPS, trusting only the certificate
    /// authority `pem` (the server's own certificate, when it is self-signed).
    pub fn with_tls_root(mut self, pem: impl Into<Vec<u8>>) -> Self {
        self.tls_root = Some(pem.into());
        self
    }

    /// The client of a server whose REST API is on `addr`.
    pub(super) fn api(&self, addr: SocketAddr) -> Result<Api> {
        match &self.tls_root {
            Some(root) => Api::trusting(&format!("https://{addr}"), root),
            None => Api::new(&format!("http://{addr}")),
        }
    }

    /// The command that runs the server over `data_dir`, managed on `addr`, from `work_dir`
    /// (where there is no `config.yaml` for it to pick up), its stderr appended to `stderr`.
    pub(super) fn command(
        &self,
        data_dir: &Path,
        addr: SocketAddr,
        work_dir: &Path,
        stderr: &Path,
    ) -> Result<Command> {
        if !self.binary.is_file() {
            return Err(Error::Server(format!(
                "binary not found at {} (build it: `cargo build -p veloflux`, with \
                 `--release` for the benches)",
                self.binary.display()
            )));
        }
        let mut command = match &self.cpus {
            Some(cpus) => {
                let mut command = Command::new("taskset");
                command.args(["-c", cpus]).arg(&self.binary);
                command
            }
            None => Command::new(&self.binary),
        };
        let listen = if self.all_interfaces {
            SocketAddr::new(IpAddr::V4(Ipv4Addr::UNSPECIFIED), addr.port())
        } else {
            addr
        };
        command
            .arg("--data-dir")
            .arg(data_dir)
            .args(["--manager-addr", &listen.to_string()])
            .args(["--log-level", &self.log_level])
            .args(&self.args)
            .env_remove(MANAGER_ADDR_VARIABLE)
            .current_dir(work_dir)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(append(stderr)?);
        Ok(command)
    }
}

fn append(path: &Path) -> Result<File> {
    OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .map_err(|error| Error::io("open", path, error))
}

/// The last `bytes` bytes of the file at `path` (from a character boundary on), trimmed;
/// empty when it cannot be read.
pub(super) fn tail(path: &Path, bytes: usize) -> String {
    let text = std::fs::read(path).unwrap_or_default();
    let text = String::from_utf8_lossy(&text);
    let start = text.len().saturating_sub(bytes);
    let start = (start..text.len())
        .find(|&index| text.is_char_boundary(index))
        .unwrap_or(text.len());
    text.get(start..).unwrap_or_default().trim().to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_tail_starts_on_a_character() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("log");
        std::fs::write(&path, "first line\nlast: é\n").unwrap();
        assert_eq!(tail(&path, 9), "last: é");
        assert_eq!(tail(&path, 2), "");
        assert_eq!(tail(&path, 1000), "first line\nlast: é");
        assert_eq!(tail(&dir.path().join("none"), 10), "");
    }

    #[test]
    fn on_all_interfaces_the_api_listens_on_the_unspecified_address() {
        let dir = tempfile::tempdir().unwrap();
        let binary = dir.path().join("veloFlux");
        std::fs::write(&binary, "").unwrap();
        let log = dir.path().join("stderr.log");
        let addr = ([127, 0, 0, 1], 8123).into();
        let manager_addr = |options: &ServerOptions| {
            let command = options.command(dir.path(), addr, dir.path(), &log).unwrap();
            let args: Vec<_> = command.get_args().map(|arg| arg.to_owned()).collect();
            let flag = args.iter().position(|arg| arg == "--manager-addr").unwrap();
            args[flag + 1].clone()
        };
        let options = ServerOptions::new(&binary);
        assert_eq!(manager_addr(&options), "127.0.0.1:8123");
        assert_eq!(manager_addr(&options.on_all_interfaces()), "0.0.0.0:8123");
    }

    #[test]
    fn a_missing_binary_is_named() {
        let options = ServerOptions::new("/no/such/veloFlux").with_args(["--flight-addr", "x"]);
        let dir = tempfile::tempdir().unwrap();
        let addr = ([127, 0, 0, 1], 1).into();
        let log = dir.path().join("stderr.log");
        let error = options
            .command(dir.path(), addr, dir.path(), &log)
            .unwrap_err();
        assert!(error.to_string().contains("/no/such/veloFlux"), "{error}");
    }
}
