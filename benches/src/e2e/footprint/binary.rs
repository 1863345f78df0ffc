//! The size of the server binaries on disk: the `release` build the benches run, and the
//! `release-thin` one (`make release-thin`: optimized for size, LTO, stripped, without the
//! profiler and Arrow Flight).

use std::path::{Path, PathBuf};

/// The `veloFlux` binary of cargo profile `profile`, beside the directory of `release_binary`
/// (both under the same target directory).
pub fn of_profile(release_binary: &Path, profile: &str) -> PathBuf {
    let target = release_binary
        .parent()
        .and_then(Path::parent)
        .unwrap_or_else(|| Path::new("target"));
    target.join(profile).join("veloFlux")
}

/// The size of `path` in bytes, `None` when it does not exist.
pub fn size(path: &Path) -> Option<u64> {
    std::fs::metadata(path).ok().map(|metadata| metadata.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn profiles_share_the_target_directory() {
        let release = Path::new("/cache/target/release/veloFlux");
        assert_eq!(
            of_profile(release, "release-thin"),
            Path::new("/cache/target/release-thin/veloFlux")
        );
        assert_eq!(size(Path::new("/no/such/binary")), None);
    }
}
