//! How the end-to-end benches launch the server under test: the release `veloFlux` next to
//! the bench's own binary, through the test kit's launcher (free port, stderr kept, SIGTERM
//! to stop), optionally pinned to CPUs with `taskset`.

use std::path::PathBuf;

use veloflux_testkit::ServerOptions;

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
