//! Criterion's results read back: the time of one iteration of a bench, from
//! `<target dir>/criterion/<group>/<function>/<parameter>/new/estimates.json`.

use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::{Error, Result};

/// Where criterion writes its results: `$CARGO_TARGET_DIR/criterion`, or `target/criterion`
/// when the variable is unset.
pub fn criterion_dir() -> PathBuf {
    let target =
        std::env::var_os("CARGO_TARGET_DIR").map_or_else(|| "target".into(), PathBuf::from);
    target.join("criterion")
}

/// The time in nanoseconds of one iteration of bench `function/parameter` in `group`, from the
/// latest run: the estimate criterion prints as `time:`, which is the slope of its linear
/// regression when it sampled linearly (the usual case for micro-benchmarks), else the mean.
///
/// # Errors
/// When the bench has not been run or its file holds neither estimate.
pub fn typical_ns(dir: &Path, group: &str, function: &str, parameter: usize) -> Result<f64> {
    let path = dir
        .join(group)
        .join(function)
        .join(parameter.to_string())
        .join("new")
        .join("estimates.json");
    let text = std::fs::read_to_string(&path).map_err(|source| Error::Io {
        path: path.clone(),
        source,
    })?;
    let estimates: Value = serde_json::from_str(&text)?;
    ["slope", "mean"]
        .iter()
        .find_map(|estimate| estimates[estimate]["point_estimate"].as_f64())
        .ok_or(Error::Estimate { path })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_slope_or_else_the_mean() {
        let dir = std::env::temp_dir().join(format!("veloflux-estimates-{}", std::process::id()));
        let bench = dir.join("chain/veloflux/16/new");
        std::fs::create_dir_all(&bench).unwrap();
        std::fs::write(
            bench.join("estimates.json"),
            r#"{"mean":{"point_estimate":1234.5},"slope":{"point_estimate":1200.0}}"#,
        )
        .unwrap();
        assert_eq!(typical_ns(&dir, "chain", "veloflux", 16).unwrap(), 1200.0);
        let flat = dir.join("chain/veloflux/8192/new");
        std::fs::create_dir_all(&flat).unwrap();
        std::fs::write(
            flat.join("estimates.json"),
            r#"{"mean":{"point_estimate":1234.5},"slope":null}"#,
        )
        .unwrap();
        assert_eq!(typical_ns(&dir, "chain", "veloflux", 8192).unwrap(), 1234.5);
        let missing = typical_ns(&dir, "chain", "veloflux", 1).unwrap_err();
        assert!(missing.to_string().contains("run `make bench` first"));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
