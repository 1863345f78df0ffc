//! One kind of connector or codec in one role: its `type` name, a description, the JSON
//! schema of its props, and how to check them and build it.

use arrow::datatypes::SchemaRef;
use serde_json::Value;

use crate::Result;
use crate::codec::{Decoder, Encoder};
use crate::connector::{ConnectorContext, Sink, Source};
use crate::props::{Props, check, schema_of};
use crate::template::{Template, dynamic_template};

/// Builds a source from its props.
pub type BuildSource = fn(&Value, &ConnectorContext<'_>) -> Result<Box<dyn Source>>;
/// Builds a sink from its props.
pub type BuildSink = fn(&Value, &ConnectorContext<'_>) -> Result<Box<dyn Sink>>;
/// Builds a decoder producing `schema` from its props.
pub type BuildDecoder = fn(&Value, SchemaRef) -> Result<Box<dyn Decoder>>;
/// Builds an encoder from its props.
pub type BuildEncoder = fn(&Value) -> Result<Box<dyn Encoder>>;

/// One kind of connector or codec in one role.
#[derive(Debug)]
pub struct Kind<B> {
    /// The name users write as `type`.
    pub name: &'static str,
    /// What it does, in a sentence.
    pub description: &'static str,
    /// The JSON schema of its props.
    pub props: Value,
    /// The prop holding a destination that may depend on the row (`topic`, `url`, `path`).
    pub destination: Option<&'static str>,
    check: fn(&Value) -> Result<()>,
    build: B,
}

impl<B> Kind<B> {
    /// A kind whose props are `P`.
    pub fn new<P: Props>(name: &'static str, description: &'static str, build: B) -> Self {
        Self {
            name,
            description,
            props: schema_of::<P>(),
            destination: None,
            check: check::<P>,
            build,
        }
    }

    /// Checks `props` without building anything.
    ///
    /// # Errors
    /// The first field that does not hold up, as `props.<field>`.
    pub fn check(&self, props: &Value) -> Result<()> {
        (self.check)(props)
    }
}

impl Kind<BuildSource> {
    /// Builds the source `props` describe.
    ///
    /// # Errors
    /// Props that do not hold up.
    pub fn build(&self, props: &Value, context: &ConnectorContext<'_>) -> Result<Box<dyn Source>> {
        (self.build)(props, context)
    }
}

impl Kind<BuildSink> {
    /// The same kind, whose prop `field` names a destination that may hold `{{column}}`
    /// placeholders.
    #[must_use]
    pub fn with_destination(mut self, field: &'static str) -> Self {
        self.destination = Some(field);
        self
    }

    /// The template of the destination `props` name, when it has a placeholder.
    ///
    /// # Errors
    /// When a placeholder is malformed.
    pub fn template(&self, props: &Value) -> Result<Option<Template>> {
        let Some(field) = self.destination else {
            return Ok(None);
        };
        match props.get(field).and_then(Value::as_str) {
            Some(text) => dynamic_template(field, text),
            None => Ok(None),
        }
    }

    /// Builds the sink `props` describe.
    ///
    /// # Errors
    /// Props that do not hold up.
    pub fn build(&self, props: &Value, context: &ConnectorContext<'_>) -> Result<Box<dyn Sink>> {
        (self.build)(props, context)
    }
}

impl Kind<BuildDecoder> {
    /// Builds a decoder producing `schema`.
    ///
    /// # Errors
    /// Props that do not hold up, or a column type the format cannot hold.
    pub fn build(&self, props: &Value, schema: SchemaRef) -> Result<Box<dyn Decoder>> {
        (self.build)(props, schema)
    }
}

impl Kind<BuildEncoder> {
    /// Builds the encoder `props` describe.
    ///
    /// # Errors
    /// Props that do not hold up.
    pub fn build(&self, props: &Value) -> Result<Box<dyn Encoder>> {
        (self.build)(props)
    }
}
