//! Connector and codec props: parsed from the JSON users send, checked beyond what serde
//! checks, and described by a JSON schema that `GET /connectors` serves.

use std::collections::HashMap;

use serde::de::DeserializeOwned;
use serde_json::Value;
use utoipa::ToSchema;

use crate::{Error, Result};

/// The props of a connector or codec.
pub trait Props: DeserializeOwned + ToSchema {
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

/// The JSON schema of `P`, whole: the types its fields name (`ReadMode`, `HttpMethod`) are
/// written out where they are used, as a client reading one connector's schema has no
/// document to resolve a `$ref` in.
pub(crate) fn schema_of<P: Props>() -> Value {
    let mut named = Vec::new();
    P::schemas(&mut named);
    let definitions: HashMap<String, Value> = named
        .into_iter()
        .map(|(name, schema)| {
            let schema = serde_json::to_value(schema).unwrap_or(Value::Null);
            (format!("{REFERENCE_PREFIX}{name}"), schema)
        })
        .collect();
    let mut schema = serde_json::to_value(P::schema()).unwrap_or(Value::Null);
    inline_references(&mut schema, &definitions, &mut Vec::new());
    schema
}

/// How utoipa writes a reference to a named schema.
const REFERENCE_PREFIX: &str = "#/components/schemas/";

/// Replaces every `{"$ref": ...}` in `schema` by the definition it names, keeping the keys
/// written beside it (a field's `description`). `expanding` holds the references being
/// written out: a type that contains itself keeps its `$ref` there.
fn inline_references(
    schema: &mut Value,
    definitions: &HashMap<String, Value>,
    expanding: &mut Vec<String>,
) {
    match schema {
        Value::Object(map) => {
            let reference = map.get("$ref").and_then(Value::as_str).map(str::to_owned);
            if let Some(reference) = reference
                && !expanding.contains(&reference)
                && let Some(Value::Object(definition)) = definitions.get(&reference)
            {
                map.remove("$ref");
                for (key, value) in definition {
                    map.entry(key.clone()).or_insert_with(|| value.clone());
                }
                expanding.push(reference);
                map.values_mut()
                    .for_each(|value| inline_references(value, definitions, expanding));
                expanding.pop();
                return;
            }
            map.values_mut()
                .for_each(|value| inline_references(value, definitions, expanding));
        }
        Value::Array(items) => items
            .iter_mut()
            .for_each(|item| inline_references(item, definitions, expanding)),
        _ => {}
    }
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

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::kind::Kind;
    use crate::registry::registry;

    fn references(schema: &Value) -> Vec<String> {
        match schema {
            Value::Object(map) => map
                .iter()
                .flat_map(|(key, value)| match (key.as_str(), value) {
                    ("$ref", Value::String(reference)) => vec![reference.clone()],
                    _ => references(value),
                })
                .collect(),
            Value::Array(items) => items.iter().flat_map(references).collect(),
            _ => Vec::new(),
        }
    }

    fn named<B>(kinds: &[Kind<B>]) -> impl Iterator<Item = (&'static str, &Value)> {
        kinds.iter().map(|kind| (kind.name, &kind.props))
    }

    #[test]
    fn no_schema_served_refers_to_a_definition_it_does_not_hold() {
        let registry = registry();
        let schemas = named(&registry.sources)
            .chain(named(&registry.sinks))
            .chain(named(&registry.decoders))
            .chain(named(&registry.encoders));
        for (name, schema) in schemas {
            assert_eq!(references(schema), Vec::<String>::new(), "{name}: {schema}");
        }
    }

    #[test]
    fn a_named_type_is_written_out_with_the_description_of_the_field_using_it() {
        let file = registry().source("file").unwrap();
        let mode = &file.props["properties"]["mode"];
        assert_eq!(mode["enum"], json!(["once", "follow"]), "{mode}");
        assert_eq!(
            mode["description"],
            "Read the file once, or follow it as it grows."
        );
    }
}
