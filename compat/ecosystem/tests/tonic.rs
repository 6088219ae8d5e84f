//! tonic 0.14, unchanged, on gort: a gRPC server (`transport::Server` over a
//! `TcpListenerStream`, shut down by a oneshot) and client (`transport::Channel`), with a unary
//! RPC, a server-streaming RPC and an error status. The service is written by hand against
//! tonic's `server::Grpc`/`client::Grpc` and prost-derived messages, which is what tonic's code
//! generator emits, so the test needs no `protoc` at build time.

use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use futures::{Stream, StreamExt};
use http::uri::PathAndQuery;
use tokio::net::TcpListener;
use tokio_stream::wrappers::TcpListenerStream;
use tonic::body::Body;
use tonic::server::NamedService;
use tonic::transport::{Channel, Server};
use tonic::{Code, Request, Response, Status};
use tonic_prost::ProstCodec;

#[derive(Clone, PartialEq, prost::Message)]
struct HelloRequest {
    #[prost(string, tag = "1")]
    name: String,
}

#[derive(Clone, PartialEq, prost::Message)]
struct HelloReply {
    #[prost(string, tag = "1")]
    message: String,
}

#[derive(Clone, PartialEq, prost::Message)]
struct CountRequest {
    #[prost(uint32, tag = "1")]
    up_to: u32,
}

#[derive(Clone, PartialEq, prost::Message)]
struct Number {
    #[prost(uint32, tag = "1")]
    value: u32,
}

const SAY_HELLO: &str = "/demo.Greeter/SayHello";
const COUNT: &str = "/demo.Greeter/Count";

type NumberStream = Pin<Box<dyn Stream<Item = Result<Number, Status>> + Send>>;

/// The `demo.Greeter` service: `SayHello` (unary) and `Count` (server streaming).
#[derive(Clone)]
struct Greeter;

impl NamedService for Greeter {
    const NAME: &'static str = "demo.Greeter";
}

impl tower::Service<http::Request<Body>> for Greeter {
    type Response = http::Response<Body>;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, Infallible>> + Send>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: http::Request<Body>) -> Self::Future {
        match request.uri().path() {
            SAY_HELLO => Box::pin(async move {
                let say_hello = tower::service_fn(|request: Request<HelloRequest>| async move {
                    let name = request.into_inner().name;
                    if name.is_empty() {
                        return Err(Status::invalid_argument("name is empty"));
                    }
                    Ok(Response::new(HelloReply {
                        message: format!("hello, {name}"),
                    }))
                });
                let mut grpc =
                    tonic::server::Grpc::new(ProstCodec::<HelloReply, HelloRequest>::new());
                Ok(grpc.unary(say_hello, request).await)
            }),
            COUNT => Box::pin(async move {
                let count = tower::service_fn(|request: Request<CountRequest>| async move {
                    let up_to = request.into_inner().up_to;
                    let numbers = futures::stream::iter(1..=up_to).then(|value| async move {
                        tokio::task::yield_now().await;
                        Ok(Number { value })
                    });
                    Ok::<_, Status>(Response::new(Box::pin(numbers) as NumberStream))
                });
                let mut grpc = tonic::server::Grpc::new(ProstCodec::<Number, CountRequest>::new());
                Ok(grpc.server_streaming(count, request).await)
            }),
            _ => Box::pin(async { Ok(Status::unimplemented("no such method").into_http()) }),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unary_and_server_streaming_rpcs_round_trip() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(
        Server::builder()
            .add_service(Greeter)
            .serve_with_incoming_shutdown(TcpListenerStream::new(listener), async move {
                stopped.await.ok();
            }),
    );

    let channel = Channel::from_shared(format!("http://{addr}"))
        .unwrap()
        .connect()
        .await
        .unwrap();
    let mut client = tonic::client::Grpc::new(channel);

    client.ready().await.unwrap();
    let reply = client
        .unary(
            Request::new(HelloRequest {
                name: "gort".into(),
            }),
            PathAndQuery::from_static(SAY_HELLO),
            ProstCodec::<HelloRequest, HelloReply>::new(),
        )
        .await
        .unwrap();
    assert_eq!(reply.into_inner().message, "hello, gort");

    client.ready().await.unwrap();
    let error = client
        .unary(
            Request::new(HelloRequest::default()),
            PathAndQuery::from_static(SAY_HELLO),
            ProstCodec::<HelloRequest, HelloReply>::new(),
        )
        .await
        .unwrap_err();
    assert_eq!(error.code(), Code::InvalidArgument);
    assert_eq!(error.message(), "name is empty");

    client.ready().await.unwrap();
    let mut numbers = client
        .server_streaming(
            Request::new(CountRequest { up_to: 5 }),
            PathAndQuery::from_static(COUNT),
            ProstCodec::<CountRequest, Number>::new(),
        )
        .await
        .unwrap()
        .into_inner();
    let mut got = Vec::new();
    while let Some(number) = numbers.message().await.unwrap() {
        got.push(number.value);
    }
    assert_eq!(got, [1, 2, 3, 4, 5]);

    client.ready().await.unwrap();
    let missing = client
        .unary(
            Request::new(HelloRequest::default()),
            PathAndQuery::from_static("/demo.Greeter/Nope"),
            ProstCodec::<HelloRequest, HelloReply>::new(),
        )
        .await
        .unwrap_err();
    assert_eq!(missing.code(), Code::Unimplemented);

    drop(client);
    stop.send(()).unwrap();
    server.await.unwrap().unwrap();
}
