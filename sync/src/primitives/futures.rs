//! `gort::sync::futures`: the named future types of the primitives, at tokio's path
//! (`tokio::sync::futures`), for code that stores them in a struct or names them in a
//! signature.

pub use super::notify::{Notified, OwnedNotified};
