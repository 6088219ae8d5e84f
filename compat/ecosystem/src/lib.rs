//! Nothing to see here: this package exists for its integration tests (`tests/`), which drive
//! unchanged crates.io releases of tokio's ecosystem over loopback on gort, through the
//! `[patch.crates-io] tokio = { path = "../tokio" }` entry in this workspace's `Cargo.toml`.
