//! How the end-to-end benches launch the server under test: the release `veloFlux` next to
//! the bench's own binary, through the test kit's launcher (free port, stderr kept, SIGTERM
//! to stop), optionally pinned to CPUs with `taskset`, and optionally with its checkpoint
//! interval set by a configuration file.

use std::path::{Path, PathBuf};

use veloflux_testkit::ServerOptions;

use crate::{Error, Result};

/// The release server next to this binary (both live in `$CARGO_TARGET_DIR/release`),
/// unpinned, logging warnings only.
pub fn release() -> ServerOptions {
    ServerOptions::new(sibling_binary("veloFlux"))
}

/// The path of `name` in the directory of the running executable: where cargo puts every
/// binary of a profile.
pub fn sibling_binary(name: &str) -> PathBuf {
    std::env::current_exe()
        .ok()
        .and_then(|exe| Some(exe.parent()?.join(name)))
        .unwrap_or_else(|| PathBuf::from(name))
}

/// `options` with `runtime.checkpoint_interval_ms` set to `interval_ms` (0 turns checkpoints
/// off) by a configuration file written in `dir` and passed with `--config`.
///
/// # Errors
/// When the file cannot be written.
pub fn with_checkpoint_interval(
    options: ServerOptions,
    interval_ms: u64,
    dir: &Path,
) -> Result<ServerOptions> {
    let path = dir.join("bench-server.yaml");
    std::fs::write(&path, checkpoint_config(interval_ms)).map_err(|error| {
        Error::Server(format!(
            "cannot write the server's configuration to {}: {error}",
            path.display()
        ))
    })?;
    Ok(options.with_args([PathBuf::from("--config"), path]))
}

/// The server configuration (`config/config.yaml`'s form) setting only the checkpoint
/// interval.
fn checkpoint_config(interval_ms: u64) -> String {
    format!("runtime:\n  checkpoint_interval_ms: {interval_ms}\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_checkpoint_interval_reaches_the_server_as_a_config_file() {
        let dir = tempfile::tempdir().unwrap();
        let options = with_checkpoint_interval(release(), 0, dir.path()).unwrap();
        let path = dir.path().join("bench-server.yaml");
        assert_eq!(options.args, ["--config".as_ref(), path.as_os_str()]);
        assert_eq!(
            std::fs::read_to_string(&path).unwrap(),
            "runtime:\n  checkpoint_interval_ms: 0\n"
        );
    }
}
