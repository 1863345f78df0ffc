//! The Arrow Flight endpoint (cargo feature `flight`, at `debug.flight_addr`): `do_get` with
//! the ticket `<pipeline>/<tap>` streams the batches passing that tap of a running pipeline,
//! as `/pipelines/:id/debug/tail` does over HTTP, until the client leaves. `list_flights`
//! names every pipeline's taps, and `get_flight_info`/`get_schema` take the descriptor path
//! `[pipeline, tap]`. Nothing can be written through it. With `server.auth_token` set, calls
//! carry the token as for the REST API; with `server.tls_cert` set, it speaks TLS only.

use std::sync::Arc;

use arrow::datatypes::SchemaRef;
use arrow_flight::encode::FlightDataEncoderBuilder;
use arrow_flight::error::FlightError;
use arrow_flight::flight_service_server::{FlightService, FlightServiceServer};
use arrow_flight::{
    Action, ActionType, Criteria, Empty, FlightData, FlightDescriptor, FlightEndpoint, FlightInfo,
    HandshakeRequest, HandshakeResponse, IpcMessage, PollInfo, PutResult, SchemaAsIpc,
    SchemaResult, Ticket,
};
use futures_util::stream::{self, BoxStream, StreamExt, TryStreamExt};
use tokio::net::TcpListener;
use tonic::{Request, Response, Status, Streaming};

use crate::control::{Control, ControlError};
use crate::manager::Access;
use crate::runtime::{TapPoint, Taps};
use crate::tls::{Protocol, ServerTls};

/// Serves Flight on `listener`, through TLS when `tls` is given, until the process ends; with
/// a token set, every call needs the `authorization: Bearer <token>` metadata.
///
/// # Errors
/// When serving fails.
pub async fn serve(
    listener: TcpListener,
    tls: Option<ServerTls>,
    control: Arc<Control>,
    access: Access,
) -> std::io::Result<()> {
    let service = FlightServiceServer::new(DebugFlight { control });
    let check = move |request: Request<()>| {
        let authorization = request
            .metadata()
            .get("authorization")
            .map(|value| value.as_bytes());
        if access.allows("/flight", authorization) {
            Ok(request)
        } else {
            Err(Status::unauthenticated(
                "this server needs a token: send authorization: Bearer <server.auth_token>",
            ))
        }
    };
    let router = tonic::transport::Server::builder().add_service(
        tonic::service::interceptor::InterceptedService::new(service, check),
    );
    let served = match tls {
        Some(tls) => {
            let incoming = tls.listen(listener, Protocol::Grpc)?.incoming();
            router.serve_with_incoming(incoming).await
        }
        None => {
            let incoming = tonic::transport::server::TcpIncoming::from(listener);
            router.serve_with_incoming(incoming).await
        }
    };
    served.map_err(std::io::Error::other)
}

/// The taps of every pipeline, read-only.
struct DebugFlight {
    control: Arc<Control>,
}

type Answer<T> = Result<Response<T>, Status>;
type Stream<T> = BoxStream<'static, Result<T, Status>>;

/// What this endpoint refuses, and why.
fn read_only() -> Status {
    Status::unimplemented(
        "this Flight endpoint only reads taps: list_flights, get_flight_info, get_schema, do_get",
    )
}

impl DebugFlight {
    /// The taps and schema at `pipeline`/`point`; the schema is known once the pipeline ran.
    async fn tap(&self, pipeline: &str, point: TapPoint) -> Result<(Arc<Taps>, SchemaRef), Status> {
        let taps = self.control.taps(pipeline).await.map_err(status_of)?;
        let (schema, _) = taps.retained(point, 0);
        let schema = schema.ok_or_else(|| {
            Status::failed_precondition(format!(
                "pipeline '{pipeline}' has not run since the server started: start it to see its batches"
            ))
        })?;
        Ok((taps, schema))
    }

    async fn info(&self, pipeline: &str, point: TapPoint) -> Result<FlightInfo, Status> {
        let (_, schema) = self.tap(pipeline, point).await?;
        let ticket = Ticket::new(format!("{pipeline}/{}", point.name()));
        FlightInfo::new()
            .try_with_schema(&schema)
            .map_err(|error| Status::internal(error.to_string()))
            .map(|info| {
                info.with_descriptor(descriptor(pipeline, point))
                    .with_endpoint(FlightEndpoint::new().with_ticket(ticket))
                    .with_total_records(-1)
                    .with_total_bytes(-1)
            })
    }
}

fn descriptor(pipeline: &str, point: TapPoint) -> FlightDescriptor {
    FlightDescriptor::new_path(vec![pipeline.to_owned(), point.name().to_owned()])
}

fn status_of(error: ControlError) -> Status {
    match error {
        ControlError::NotFound(message) => Status::not_found(message),
        ControlError::Invalid(message) => Status::invalid_argument(message),
        ControlError::Conflict(message) => Status::failed_precondition(message),
        ControlError::Storage(error) => Status::internal(error.to_string()),
        ControlError::Internal(message) => Status::internal(message),
        ControlError::Unavailable(message) => Status::unavailable(message),
    }
}

/// `<pipeline>/<tap>`.
fn parse_ticket(ticket: &[u8]) -> Result<(&str, TapPoint), Status> {
    let text = std::str::from_utf8(ticket)
        .map_err(|_| Status::invalid_argument("the ticket must be UTF-8: <pipeline>/<tap>"))?;
    let (pipeline, point) = text.rsplit_once('/').ok_or_else(|| {
        Status::invalid_argument(format!("the ticket must be <pipeline>/<tap>, not '{text}'"))
    })?;
    Ok((pipeline, parse_point(point)?))
}

/// `[pipeline, tap]`.
fn parse_descriptor(descriptor: &FlightDescriptor) -> Result<(&str, TapPoint), Status> {
    match descriptor.path.as_slice() {
        [pipeline, point] => Ok((pipeline, parse_point(point)?)),
        _ => Err(Status::invalid_argument(
            "the descriptor must be the path [pipeline, tap]",
        )),
    }
}

fn parse_point(text: &str) -> Result<TapPoint, Status> {
    text.parse()
        .map_err(|error: crate::runtime::UnknownTap| Status::invalid_argument(error.to_string()))
}

#[tonic::async_trait]
impl FlightService for DebugFlight {
    type HandshakeStream = Stream<HandshakeResponse>;
    type ListFlightsStream = Stream<FlightInfo>;
    type DoGetStream = Stream<FlightData>;
    type DoPutStream = Stream<PutResult>;
    type DoActionStream = Stream<arrow_flight::Result>;
    type ListActionsStream = Stream<ActionType>;
    type DoExchangeStream = Stream<FlightData>;

    async fn list_flights(&self, _: Request<Criteria>) -> Answer<Self::ListFlightsStream> {
        let mut infos = Vec::new();
        for pipeline in self.control.pipelines().await {
            for point in TapPoint::ALL {
                if let Ok(info) = self.info(&pipeline.id, point).await {
                    infos.push(Ok(info));
                }
            }
        }
        Ok(Response::new(stream::iter(infos).boxed()))
    }

    async fn get_flight_info(&self, request: Request<FlightDescriptor>) -> Answer<FlightInfo> {
        let (pipeline, point) = parse_descriptor(request.get_ref())?;
        Ok(Response::new(self.info(pipeline, point).await?))
    }

    async fn get_schema(&self, request: Request<FlightDescriptor>) -> Answer<SchemaResult> {
        let (pipeline, point) = parse_descriptor(request.get_ref())?;
        let (_, schema) = self.tap(pipeline, point).await?;
        let options = arrow_ipc::writer::IpcWriteOptions::default();
        let IpcMessage(schema) = SchemaAsIpc::new(&schema, &options)
            .try_into()
            .map_err(|error: arrow::error::ArrowError| Status::internal(error.to_string()))?;
        Ok(Response::new(SchemaResult { schema }))
    }

    async fn do_get(&self, request: Request<Ticket>) -> Answer<Self::DoGetStream> {
        let (pipeline, point) = parse_ticket(&request.get_ref().ticket)?;
        let (taps, _) = self.tap(pipeline, point).await?;
        let (schema, tail) = taps.tail(point);
        let batches = stream::unfold(tail, |mut tail| async move {
            let batch = tail.next().await?;
            Some((Ok::<_, FlightError>(batch), tail))
        });
        let mut encoder = FlightDataEncoderBuilder::new();
        if let Some(schema) = schema {
            encoder = encoder.with_schema(schema);
        }
        let flight = encoder.build(batches).map_err(Status::from);
        Ok(Response::new(flight.boxed()))
    }

    async fn handshake(
        &self,
        _: Request<Streaming<HandshakeRequest>>,
    ) -> Answer<Self::HandshakeStream> {
        Err(read_only())
    }

    async fn poll_flight_info(&self, _: Request<FlightDescriptor>) -> Answer<PollInfo> {
        Err(read_only())
    }

    async fn do_put(&self, _: Request<Streaming<FlightData>>) -> Answer<Self::DoPutStream> {
        Err(read_only())
    }

    async fn do_action(&self, _: Request<Action>) -> Answer<Self::DoActionStream> {
        Err(read_only())
    }

    async fn list_actions(&self, _: Request<Empty>) -> Answer<Self::ListActionsStream> {
        Ok(Response::new(stream::empty().boxed()))
    }

    async fn do_exchange(
        &self,
        _: Request<Streaming<FlightData>>,
    ) -> Answer<Self::DoExchangeStream> {
        Err(read_only())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tickets_name_a_pipeline_and_a_tap() {
        assert_eq!(
            parse_ticket(b"temps/filter").unwrap(),
            ("temps", TapPoint::Filter)
        );
        let error = parse_ticket(b"temps").unwrap_err();
        assert!(error.message().contains("<pipeline>/<tap>"), "{error}");
        let error = parse_ticket(b"temps/middle").unwrap_err();
        assert!(
            error.message().contains("source, filter, project or sink"),
            "{error}"
        );
    }
}
