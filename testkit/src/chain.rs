//! The chain the server runs for a JSON stream with one JSON sink (a message per row), built
//! from the same registry, for the SQL conformance suite and the benches.

use veloflux_connectors::registry::registry;
use veloflux_engine::Chain;
use veloflux_planner::PipelinePlan;

/// A chain running `plan` with the registry's default `json` decoder and encoder.
///
/// # Errors
/// When a codec cannot be built for the plan's columns.
pub fn json_chain(plan: PipelinePlan) -> veloflux_connectors::Result<Chain> {
    let defaults = serde_json::json!({});
    let decoder = registry()
        .decoder("json")?
        .build(&defaults, plan.source.decoded_schema())?;
    let encoder = registry().encoder("json")?.build(&defaults)?;
    Ok(Chain::new(plan, decoder, vec![encoder]))
}
