//! `axum-hello serve ADDR`: an axum service answering `GET /` with "Hello, World!", on a
//! multi-thread runtime. `axum-hello fetch URL N`: a reqwest client fetching URL N times over
//! one pooled connection, printing the mean microseconds per request. The same source is built
//! on tokio and on gort (through the tokio shim); see `benches/shim/run.sh`.

use std::time::Instant;

use axum::routing::get;
use axum::Router;

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    match args.get(1).map(String::as_str) {
        Some("serve") => {
            let listener = tokio::net::TcpListener::bind(&args[2]).await.unwrap();
            let app = Router::new().route("/", get(|| async { "Hello, World!" }));
            axum::serve(listener, app).await.unwrap();
        }
        Some("fetch") => {
            let url = &args[2];
            let n: u32 = args[3].parse().unwrap();
            let client = reqwest::Client::new();
            // One warm-up request opens the pooled connection.
            client.get(url).send().await.unwrap().text().await.unwrap();
            let start = Instant::now();
            for _ in 0..n {
                let body = client.get(url).send().await.unwrap().text().await.unwrap();
                assert_eq!(body, "Hello, World!");
            }
            let per = start.elapsed().as_secs_f64() * 1e6 / f64::from(n);
            println!("fetch: {per:.1} µs/request");
        }
        _ => eprintln!("usage: axum-hello serve ADDR | fetch URL N"),
    }
}
