//! What users declare over REST and what is stored: streams and pipelines.
//!
//! These are the request shapes of the original veloFlux, accepted unchanged. Validation
//! happens here, before anything is stored or started, and names the offending field.

mod name;
mod object;
mod pipeline;
mod redact;
mod stream;

pub use name::validate_name;
pub use object::Object;
pub(crate) use object::objects;
pub use pipeline::{
    CommonSinkProps, EncoderSpec, EventTimeOptions, PipelineOptions, PipelineSpec, SinkSpec,
};
pub use redact::REDACTED;
pub use stream::{DecoderSpec, EventTimeSpec, SchemaSpec, StreamSpec};

/// A spec that does not hold up; the message names the field.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct SpecError(pub String);

impl From<veloflux_connectors::Error> for SpecError {
    fn from(error: veloflux_connectors::Error) -> Self {
        match error {
            veloflux_connectors::Error::Config(message) => Self(message),
            other => Self(other.to_string()),
        }
    }
}

/// Prefixes a connector's complaint with the field holding the connector (`decoder`,
/// `encoder`), so that it names the whole path.
pub(crate) fn within(field: &'static str) -> impl Fn(veloflux_connectors::Error) -> SpecError {
    move |error| SpecError(format!("{field}.{}", SpecError::from(error).0))
}
