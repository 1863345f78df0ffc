//! Connector and codec props: parsed from the JSON users send, checked beyond what serde
//! checks, and described by a JSON schema that `GET /connectors` serves.

use serde::de::DeserializeOwned;
use serde_json::Value;
use utoipa::PartialSchema;

use crate::{Error, Result};

/// The props of a connector or codec.
pub trait Props: DeserializeOwned + PartialSchema {
    /// Checks what serde does not (ranges, URLs, non-empty names), naming the field as
    /// `props.<field>`.
    ///
    /// # Errors
    /// The first field that does not hold up.
    fn check(&self) -> Result<()> {
        Ok(())
    }
}

/// Parses and checks `props`; an error names the offending field (`props.qos: ...`).
///
/// # Errors
/// The first field that does not hold up.
pub fn parse<P: Props>(props: &Value) -> Result<P> {
    let empty = Value::Object(serde_json::Map::new());
    let props = match props {
        Value::Null => &empty,
        Value::Object(_) => props,
        // serde would also read a struct from an array of its fields in order.
        _ => return Err(Error::Config("props: expected a JSON object".into())),
    };
    let parsed: P = serde_path_to_error::deserialize(props).map_err(|error| {
        let path = error.path().to_string();
        let field = if path == "." {
            "props".to_owned()
        } else {
            format!("props.{path}")
        };
        Error::Config(format!("{field}: {}", error.inner()))
    })?;
    parsed.check()?;
    Ok(parsed)
}

/// The JSON schema of `P`.
pub(crate) fn schema_of<P: Props>() -> Value {
    serde_json::to_value(P::schema()).unwrap_or(Value::Null)
}

/// Parses and checks `props` as `P`, keeping only whether they hold up.
pub(crate) fn check<P: Props>(props: &Value) -> Result<()> {
    parse::<P>(props).map(drop)
}

/// The props of a connector that takes none: `{}` or absent.
#[derive(Debug, Clone, Default, serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NoProps {}

impl Props for NoProps {}
