//! Every kind of source, sink, decoder and encoder, by the `type` name users write. Adding a
//! connector or a codec is a folder of its own plus one line in [`Registry::new`].

use std::sync::LazyLock;

use crate::codec::{csv, json};
use crate::kind::{BuildDecoder, BuildEncoder, BuildSink, BuildSource, Kind};
use crate::{Error, Result, file, http, log, memory, mqtt, nats, nop};

/// Every kind, by role, as `GET /connectors` lists them.
#[derive(Debug)]
pub struct Registry {
    /// Where messages come from (`type` of a stream).
    pub sources: Vec<Kind<BuildSource>>,
    /// Where results go (`type` of a pipeline's sink).
    pub sinks: Vec<Kind<BuildSink>>,
    /// How payloads become rows (`decoder.type` of a stream).
    pub decoders: Vec<Kind<BuildDecoder>>,
    /// How rows become messages (`encoder.type` of a sink).
    pub encoders: Vec<Kind<BuildEncoder>>,
}

/// The registry of this build.
pub fn registry() -> &'static Registry {
    static REGISTRY: LazyLock<Registry> = LazyLock::new(Registry::new);
    &REGISTRY
}

impl Registry {
    fn new() -> Self {
        Self {
            sources: vec![
                mqtt::source(),
                memory::source(),
                http::source(),
                file::source(),
                nats::source(),
            ],
            sinks: vec![
                mqtt::sink(),
                memory::sink(),
                nop::sink(),
                log::sink(),
                http::sink(),
                file::sink(),
                nats::sink(),
            ],
            decoders: vec![json::decoder(), csv::decoder()],
            encoders: vec![json::encoder(), csv::encoder()],
        }
    }

    /// The source kind `name`.
    ///
    /// # Errors
    /// An unknown name, with the known ones.
    pub fn source(&self, name: &str) -> Result<&Kind<BuildSource>> {
        find(&self.sources, name, "source")
    }

    /// The sink kind `name`.
    ///
    /// # Errors
    /// An unknown name, with the known ones.
    pub fn sink(&self, name: &str) -> Result<&Kind<BuildSink>> {
        find(&self.sinks, name, "sink")
    }

    /// The decoder kind `name`.
    ///
    /// # Errors
    /// An unknown name, with the known ones.
    pub fn decoder(&self, name: &str) -> Result<&Kind<BuildDecoder>> {
        find(&self.decoders, name, "decoder")
    }

    /// The encoder kind `name`.
    ///
    /// # Errors
    /// An unknown name, with the known ones.
    pub fn encoder(&self, name: &str) -> Result<&Kind<BuildEncoder>> {
        find(&self.encoders, name, "encoder")
    }
}

fn find<'a, B>(kinds: &'a [Kind<B>], name: &str, role: &str) -> Result<&'a Kind<B>> {
    kinds.iter().find(|kind| kind.name == name).ok_or_else(|| {
        let known: Vec<_> = kinds
            .iter()
            .map(|kind| format!("\"{}\"", kind.name))
            .collect();
        Error::Config(format!(
            "type: unknown {role} type \"{name}\"; known: {}",
            known.join(", ")
        ))
    })
}
