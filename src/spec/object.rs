//! Request objects read from JSON objects only. serde also reads a struct from an array of
//! its fields in order, so `"options": []` would pass as `{}` and `[null, "nop"]` as a sink;
//! no client means that, and the API's schema says object.
//!
//! The functions are for `#[serde(deserialize_with = ...)]` on fields holding structs; they
//! stay on the caller's deserializer, so errors still name the field's whole path.

use std::fmt;
use std::marker::PhantomData;

use serde::de::value::MapAccessDeserializer;
use serde::de::{MapAccess, Visitor};
use serde::{Deserialize, Deserializer};

/// A `T` that was a JSON object.
#[derive(Debug)]
pub struct Object<T>(pub T);

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Object<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_map(ObjectVisitor(PhantomData))
    }
}

struct ObjectVisitor<T>(PhantomData<T>);

impl<'de, T: Deserialize<'de>> Visitor<'de> for ObjectVisitor<T> {
    type Value = Object<T>;

    fn expecting(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str("a JSON object")
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Object<T>, A::Error> {
        T::deserialize(MapAccessDeserializer::new(map)).map(Object)
    }
}

/// A struct field, from an object only.
pub(super) fn object<'de, D, T>(deserializer: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    Object::deserialize(deserializer).map(|Object(value)| value)
}

/// An optional struct field, from an object or `null`.
pub(super) fn option_object<'de, D, T>(deserializer: D) -> Result<Option<T>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<Object<T>>::deserialize(deserializer).map(|value| value.map(|Object(value)| value))
}

/// A list of structs, each from an object.
pub(crate) fn objects<'de, D, T>(deserializer: D) -> Result<Vec<T>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    let items = Vec::<Object<T>>::deserialize(deserializer)?;
    Ok(items.into_iter().map(|Object(item)| item).collect())
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use crate::spec::PipelineSpec;

    #[test]
    fn nested_structs_must_be_objects() {
        let spec = |options, sinks| {
            let body = json!({"id": "p", "sql": "SELECT 1", "sinks": sinks, "options": options});
            serde_json::from_value::<PipelineSpec>(body).map_err(|error| error.to_string())
        };
        let nop = json!([{"type": "nop"}]);
        assert!(spec(json!({}), nop.clone()).is_ok());
        let error = spec(json!([]), nop).unwrap_err();
        assert_eq!(error, "invalid type: sequence, expected a JSON object");
        let error = spec(json!({}), json!([[null, "nop"]])).unwrap_err();
        assert_eq!(error, "invalid type: sequence, expected a JSON object");
    }
}
