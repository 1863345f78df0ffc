//! The layer rule of docs/ARCHITECTURE.md, read from each crate's `Cargo.toml`: which
//! workspace crates a crate may depend on, and which outside crates the I/O-free layers must
//! not pull in. A dependency that breaks a layer fails here, before it spreads.

use std::collections::BTreeSet;
use std::path::Path;

use toml::Table;

/// Each crate's directory, the workspace crates it may depend on (normal dependencies), and
/// the outside crates it must not.
const LAYERS: [(&str, &[&str], &[&str]); 7] = [
    ("kernels", &[], IO),
    ("planner", &["veloflux-kernels"], IO),
    (
        "engine",
        &[
            "veloflux-planner",
            "veloflux-kernels",
            "veloflux-connectors",
        ],
        IO,
    ),
    ("connectors", &[], SERVER),
    (
        "testkit",
        &["veloflux-planner", "veloflux-engine", "veloflux-connectors"],
        &[],
    ),
    (
        "benches",
        &[
            "veloflux-planner",
            "veloflux-kernels",
            "veloflux-engine",
            "veloflux-connectors",
            "veloflux-testkit",
        ],
        &[],
    ),
    (
        ".",
        &[
            "veloflux-planner",
            "veloflux-kernels",
            "veloflux-engine",
            "veloflux-connectors",
        ],
        &[],
    ),
];

/// What an I/O-free layer must not depend on: a runtime, sockets, a web framework, storage.
const IO: &[&str] = &[
    "tokio",
    "tokio-util",
    "axum",
    "redb",
    "rumqttc",
    "rumqttd",
    "reqwest",
];
/// What only the server may depend on.
const SERVER: &[&str] = &["axum", "redb"];

#[expect(
    clippy::expect_used,
    reason = "a manifest that cannot be read fails the test"
)]
fn manifest(dir: &str) -> Table {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join(dir)
        .join("Cargo.toml");
    let text = std::fs::read_to_string(&path).expect("a crate manifest");
    text.parse().expect("a manifest in TOML")
}

fn names(table: Option<&toml::Value>) -> BTreeSet<String> {
    table
        .and_then(toml::Value::as_table)
        .map(|table| table.keys().cloned().collect())
        .unwrap_or_default()
}

#[test]
fn every_crate_depends_only_on_the_layers_below_it() {
    for (dir, allowed, forbidden) in LAYERS {
        let manifest = manifest(dir);
        let dependencies = names(manifest.get("dependencies"));
        for name in dependencies
            .iter()
            .filter(|name| name.starts_with("veloflux"))
        {
            assert!(
                allowed.contains(&name.as_str()),
                "{dir}/Cargo.toml depends on {name}; its layer allows only {allowed:?}"
            );
        }
        for name in forbidden {
            assert!(
                !dependencies.contains(*name),
                "{dir}/Cargo.toml depends on {name}, which its layer must not"
            );
        }
    }
}

#[test]
fn nothing_depends_on_the_server() {
    for (dir, _, _) in LAYERS.iter().filter(|(dir, _, _)| *dir != ".") {
        let manifest = manifest(dir);
        for section in ["dependencies", "dev-dependencies", "build-dependencies"] {
            assert!(
                !names(manifest.get(section)).contains("veloflux"),
                "{dir}/Cargo.toml [{section}] depends on the server crate"
            );
        }
    }
}

#[test]
fn the_engine_takes_the_connectors_codecs_without_their_io() {
    let workspace = manifest(".");
    let declared = &workspace["workspace"]["dependencies"]["veloflux-connectors"];
    assert_eq!(
        declared
            .get("default-features")
            .and_then(toml::Value::as_bool),
        Some(false),
        "the workspace must declare veloflux-connectors without default features"
    );
    let engine = manifest("engine");
    let connectors = &engine["dependencies"]["veloflux-connectors"];
    let features = connectors
        .get("features")
        .and_then(toml::Value::as_array)
        .cloned()
        .unwrap_or_default();
    assert!(
        features.is_empty(),
        "the engine must not turn on connector features (sources, sinks, tokio): {features:?}"
    );
}
