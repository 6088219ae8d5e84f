//! `#[gort::main]` with the default number of Ps. A `harness = false` test: it prints
//! `1 passed, 0 failed` on success and exits non-zero (a panic) on failure.

mod common;

#[gort::main]
async fn main() {
    common::check_main_runtime(common::default_procs()).await;
    println!("1 passed, 0 failed");
}
