//! `GET /connectors`: every source, sink, decoder and encoder type this server knows, with the
//! JSON schema of its props, so that clients can build forms and check specs before sending.

use axum::Json;
use serde::Serialize;
use utoipa::ToSchema;
use veloflux_connectors::kind::Kind;
use veloflux_connectors::registry::registry;

/// The connector and codec types, by role.
#[derive(Debug, Serialize, ToSchema)]
pub(super) struct Connectors {
    /// Stream types (`"type"` of a stream).
    sources: Vec<ConnectorType>,
    /// Sink types (`"type"` of a pipeline's sink).
    sinks: Vec<ConnectorType>,
    /// Decoder types (`"decoder": {"type"}` of a stream).
    decoders: Vec<ConnectorType>,
    /// Encoder types (`"encoder": {"type"}` of a sink).
    encoders: Vec<ConnectorType>,
}

/// One type of connector or codec.
#[derive(Debug, Serialize, ToSchema)]
pub(super) struct ConnectorType {
    /// The name to write as `type`.
    #[serde(rename = "type")]
    name: &'static str,
    /// What it does.
    description: &'static str,
    /// The JSON schema of its `props`.
    #[schema(value_type = Object)]
    props: serde_json::Value,
}

impl<B> From<&Kind<B>> for ConnectorType {
    fn from(kind: &Kind<B>) -> Self {
        Self {
            name: kind.name,
            description: kind.description,
            props: kind.props.clone(),
        }
    }
}

/// List the connector and codec types with their props schemas.
#[utoipa::path(
    get,
    path = "/connectors",
    operation_id = "list_connectors",
    tag = "server",
    responses((status = 200, description = "Every type, by role.", body = Connectors))
)]
pub(super) async fn list() -> Json<Connectors> {
    let registry = registry();
    Json(Connectors {
        sources: registry.sources.iter().map(Into::into).collect(),
        sinks: registry.sinks.iter().map(Into::into).collect(),
        decoders: registry.decoders.iter().map(Into::into).collect(),
        encoders: registry.encoders.iter().map(Into::into).collect(),
    })
}
