//! tower 0.5, unchanged, on gort: its timeout, concurrency-limit, rate-limit and buffer
//! middleware, which lean on tokio's timers, semaphores, channels and spawn.

use std::convert::Infallible;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use tower::{service_fn, BoxError, Service, ServiceBuilder, ServiceExt};

#[tokio::test(start_paused = true)]
async fn timeout_layer_fails_a_slow_call_and_passes_a_fast_one() {
    let mut service = ServiceBuilder::new()
        .timeout(Duration::from_millis(100))
        .service_fn(|delay_ms: u64| async move {
            tokio::time::sleep(Duration::from_millis(delay_ms)).await;
            Ok::<_, Infallible>(delay_ms * 2)
        });
    let fast = service.ready().await.unwrap().call(10).await.unwrap();
    assert_eq!(fast, 20);
    let slow: BoxError = service.ready().await.unwrap().call(500).await.unwrap_err();
    assert!(slow.is::<tower::timeout::error::Elapsed>(), "{slow:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrency_limit_bounds_calls_in_flight() {
    let in_flight = Arc::new(AtomicUsize::new(0));
    let most = Arc::new(AtomicUsize::new(0));
    let (counter, peak) = (in_flight.clone(), most.clone());
    let service = ServiceBuilder::new()
        .concurrency_limit(2)
        .service(service_fn(move |n: usize| {
            let (counter, peak) = (counter.clone(), peak.clone());
            async move {
                let now = counter.fetch_add(1, Ordering::SeqCst) + 1;
                peak.fetch_max(now, Ordering::SeqCst);
                for _ in 0..3 {
                    tokio::task::yield_now().await;
                }
                counter.fetch_sub(1, Ordering::SeqCst);
                Ok::<_, Infallible>(n)
            }
        }));
    // A buffer in front lets many tasks share the limited service.
    let shared = ServiceBuilder::new().buffer(16).service(service);
    let calls: Vec<_> = (0..12)
        .map(|n| {
            let shared = shared.clone();
            tokio::spawn(async move { shared.oneshot(n).await.unwrap() })
        })
        .collect();
    let mut results = Vec::new();
    for call in calls {
        results.push(call.await.unwrap());
    }
    assert_eq!(results, (0..12).collect::<Vec<_>>());
    assert!(most.load(Ordering::SeqCst) <= 2, "{most:?} in flight");
    assert_eq!(in_flight.load(Ordering::SeqCst), 0);
}

#[tokio::test(start_paused = true)]
async fn rate_limit_spaces_calls_by_its_period() {
    let mut service = ServiceBuilder::new()
        .rate_limit(2, Duration::from_secs(1))
        .service_fn(|()| async { Ok::<_, Infallible>(tokio::time::Instant::now()) });
    let start = tokio::time::Instant::now();
    let mut seconds = Vec::new();
    for _ in 0..6 {
        let at = service.ready().await.unwrap().call(()).await.unwrap();
        seconds.push((at - start).as_secs());
    }
    // Two calls per one-second window.
    assert_eq!(seconds, [0, 0, 1, 1, 2, 2]);
}
