//! axum 0.8, unchanged, on gort: `axum::serve` on a gort `TcpListener` with a router, `Path`,
//! `Json` and `State` extractors, server-sent events with keep-alive, and graceful shutdown that
//! lets an in-flight request finish.

use std::future::IntoFuture;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use axum::extract::{Path, State};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::routing::{get, post};
use axum::{Json, Router};
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::{Method, Request};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use serde::{Deserialize, Serialize};
use tokio::net::TcpListener;
use tokio::sync::{oneshot, Notify};

#[derive(Serialize, Deserialize, Debug, PartialEq)]
struct User {
    id: u32,
    name: String,
}

#[derive(Clone, Default)]
struct AppState {
    created: Arc<AtomicUsize>,
    release_slow: Arc<Notify>,
    slow_started: Arc<Notify>,
}

async fn user(Path(id): Path<u32>) -> Json<User> {
    Json(User {
        id,
        name: format!("user-{id}"),
    })
}

async fn create(State(state): State<AppState>, Json(mut user): Json<User>) -> Json<User> {
    state.created.fetch_add(1, Ordering::SeqCst);
    user.name = user.name.to_uppercase();
    Json(user)
}

async fn slow(State(state): State<AppState>) -> &'static str {
    state.slow_started.notify_one();
    state.release_slow.notified().await;
    "finished"
}

async fn events() -> Sse<impl futures::Stream<Item = Result<Event, std::convert::Infallible>>> {
    let stream = futures::stream::iter(1..=3).then(|n| async move {
        tokio::task::yield_now().await;
        Ok(Event::default().event("tick").data(n.to_string()))
    });
    Sse::new(stream).keep_alive(KeepAlive::new().interval(Duration::from_secs(1)))
}

use futures::StreamExt;

fn app(state: AppState) -> Router {
    Router::new()
        .route("/users/{id}", get(user))
        .route("/users", post(create))
        .route("/slow", get(slow))
        .route("/events", get(events))
        .with_state(state)
}

async fn text(response: hyper::Response<hyper::body::Incoming>) -> String {
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    String::from_utf8(bytes.to_vec()).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_routes_extracts_and_shuts_down_gracefully() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let state = AppState::default();
    let (stop, stop_signal) = oneshot::channel::<()>();
    let server = tokio::spawn(
        axum::serve(listener, app(state.clone()))
            .with_graceful_shutdown(async move {
                stop_signal.await.ok();
            })
            .into_future(),
    );
    let client = Client::builder(TokioExecutor::new()).build_http::<Full<Bytes>>();

    let response = client
        .get(format!("http://{addr}/users/7").parse().unwrap())
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "application/json");
    let got: User = serde_json::from_str(&text(response).await).unwrap();
    assert_eq!(
        got,
        User {
            id: 7,
            name: "user-7".into()
        }
    );

    let bad = client
        .get(format!("http://{addr}/users/not-a-number").parse().unwrap())
        .await
        .unwrap();
    assert_eq!(bad.status(), 400);
    let missing = client
        .get(format!("http://{addr}/nowhere").parse().unwrap())
        .await
        .unwrap();
    assert_eq!(missing.status(), 404);

    for name in ["ada", "grace"] {
        let body = serde_json::to_vec(&User {
            id: 1,
            name: name.into(),
        })
        .unwrap();
        let request = Request::builder()
            .method(Method::POST)
            .uri(format!("http://{addr}/users"))
            .header("content-type", "application/json")
            .body(Full::new(Bytes::from(body)))
            .unwrap();
        let response = client.request(request).await.unwrap();
        let created: User = serde_json::from_str(&text(response).await).unwrap();
        assert_eq!(created.name, name.to_uppercase());
    }
    assert_eq!(state.created.load(Ordering::SeqCst), 2);

    // A request in flight when shutdown begins still gets its response.
    let slow_client = client.clone();
    let in_flight = tokio::spawn(async move {
        let response = slow_client
            .get(format!("http://{addr}/slow").parse().unwrap())
            .await
            .unwrap();
        text(response).await
    });
    state.slow_started.notified().await;
    stop.send(()).unwrap();
    state.release_slow.notify_one();
    assert_eq!(in_flight.await.unwrap(), "finished");
    drop(client);
    server.await.unwrap().unwrap();

    // The listener went with the server.
    let refused = tokio::net::TcpStream::connect(addr).await.unwrap_err();
    assert_eq!(refused.kind(), std::io::ErrorKind::ConnectionRefused);
}

#[tokio::test]
async fn server_sent_events_arrive_in_order() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(axum::serve(listener, app(AppState::default())).into_future());
    let client = Client::builder(TokioExecutor::new()).build_http::<Full<Bytes>>();
    let response = client
        .get(format!("http://{addr}/events").parse().unwrap())
        .await
        .unwrap();
    assert_eq!(response.headers()["content-type"], "text/event-stream");
    let body = text(response).await;
    let events: Vec<&str> = body.split("\n\n").filter(|e| !e.is_empty()).collect();
    assert_eq!(
        events,
        [
            "event: tick\ndata: 1",
            "event: tick\ndata: 2",
            "event: tick\ndata: 3"
        ]
    );
}
