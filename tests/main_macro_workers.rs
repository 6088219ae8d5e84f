//! `#[gort::main(worker_threads = 2)]`. A `harness = false` test: it prints `1 passed, 0 failed`
//! on success and exits non-zero (a panic) on failure.

mod common;

#[gort::main(worker_threads = 2)]
async fn main() {
    common::check_main_runtime(2).await;
    println!("1 passed, 0 failed");
}
