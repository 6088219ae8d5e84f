//! Macros for the `gort` runtime: `#[gort::main]` and `#[gort::test]` (`entry.rs`), the
//! expansions of `gort::select!` (`select.rs`) and `gort::join!`/`try_join!` (`join.rs`), and
//! `#[derive(gort::gc::Trace)]` (`trace.rs`).
//!
//! This crate is an implementation detail of `gort`; use the macros through the facade
//! (`#[gort::main]`, `gort::select!`, ...) rather than depending on it directly.

use proc_macro::TokenStream;
use proc_macro2::TokenStream as TokenStream2;

mod entry;
mod join;
mod select;
mod trace;

use entry::Kind;

/// `#[derive(gort::gc::Trace)]`: reports every field's `Gc` handles to the collector
/// (`trace.rs`). Mark a field `#[trace(skip)]` to leave it out (its handles then stay roots).
#[proc_macro_derive(Trace, attributes(trace))]
pub fn derive_trace(input: TokenStream) -> TokenStream {
    trace::expand(input.into()).into()
}

/// The expansion of `gort::select!`, which forwards here with its crate path (`select.rs`).
#[doc(hidden)]
#[proc_macro]
pub fn select_internal(input: TokenStream) -> TokenStream {
    select::expand(input.into()).into()
}

/// The expansion of the facade's `join!`; not for direct use.
#[doc(hidden)]
#[proc_macro]
pub fn join_internal(input: TokenStream) -> TokenStream {
    join::expand(input.into(), false).into()
}

/// The expansion of the facade's `try_join!`; not for direct use.
#[doc(hidden)]
#[proc_macro]
pub fn try_join_internal(input: TokenStream) -> TokenStream {
    join::expand(input.into(), true).into()
}

/// Runs an `async fn main` on a gort runtime (tokio's `#[tokio::main]`).
///
/// The function must be `async`; it may return anything a `main` may, such as `Result<(), E>`.
/// The program's `main` takes no arguments; as in tokio, any other function may (a method's
/// `self`, generic parameters): it then runs its body on a fresh runtime each call. The runtime is built before the body runs, installed as the
/// process's default runtime (so plain threads spawn onto it), and shut down when the body
/// returns.
///
/// Options (tokio's), each at most once:
///
/// - `flavor = "multi_thread"` (the default) or `"current_thread"`: a runtime of Ps and Ms, or
///   one P whose only thread is `main`'s; `"local"`: a current-thread `LocalRuntime`, whose body
///   may `task::spawn_local` `!Send` futures.
/// - `worker_threads = N` (multi-thread only): the number of Ps; by default `GORT_MAXPROCS` or
///   the available parallelism.
/// - `start_paused = true|false`: starts the clock paused (`gort::time::pause`): whenever every
///   task is idle the runtime moves the clock to the next timer instead of sleeping. tokio
///   allows it on the current-thread flavor only; gort on both.
/// - `name = "..."`: names the runtime (`Builder::name`; `runtime::Handle::name` returns it).
/// - `crate = "path"`: the path the expansion names gort by, for a re-exported or renamed
///   crate.
///
/// tokio's `unhandled_panic` option exists only under `tokio_unstable` and is not accepted.
///
/// ```ignore
/// #[gort::main(worker_threads = 2)]
/// async fn main() -> std::io::Result<()> {
///     let answer = gort::spawn(async { 42 }).await;
///     println!("{answer:?}");
///     Ok(())
/// }
/// ```
#[proc_macro_attribute]
pub fn main(attr: TokenStream, item: TokenStream) -> TokenStream {
    let item = TokenStream2::from(item);
    entry::finish(
        Kind::Main,
        entry::expand(Kind::Main, attr.into(), item.clone()),
        item,
        quote::quote!(::gort),
    )
    .into()
}

/// Runs an `async fn` test on a fresh gort runtime (tokio's `#[tokio::test]`).
///
/// The function becomes a regular `#[test]`; other attributes (`#[should_panic]`,
/// `#[ignore]`) are kept. The options are [`macro@main`]'s, but as in tokio the default flavor
/// is `"current_thread"`: the test's tasks run on the test's own thread, and only while the
/// body runs. Ask for `flavor = "multi_thread"` to test parallel code. Do not add `#[test]`
/// yourself: this attribute already does.
///
/// ```ignore
/// #[gort::test]
/// async fn adds() {
///     assert_eq!(gort::spawn(async { 1 + 1 }).await.unwrap(), 2);
/// }
///
/// // A paused clock makes an hour-long sleep finish at once.
/// #[gort::test(start_paused = true)]
/// async fn sleeps_an_hour() {
///     gort::time::sleep(std::time::Duration::from_secs(3600)).await;
/// }
/// ```
#[proc_macro_attribute]
pub fn test(attr: TokenStream, item: TokenStream) -> TokenStream {
    let item = TokenStream2::from(item);
    entry::finish(
        Kind::Test,
        entry::expand(Kind::Test, attr.into(), item.clone()),
        item,
        quote::quote!(::gort),
    )
    .into()
}

/// `#[tokio::main]` of the `tokio` shim (`compat/tokio`): [`macro@main`] naming the runtime as
/// `::tokio` (its users have no `gort` in scope). Not for direct use.
#[doc(hidden)]
#[proc_macro_attribute]
pub fn tokio_main(attr: TokenStream, item: TokenStream) -> TokenStream {
    let item = TokenStream2::from(item);
    let expanded = entry::expand_naming(
        Kind::Main,
        attr.into(),
        item.clone(),
        quote::quote!(::tokio),
    );
    entry::finish(Kind::Main, expanded, item, quote::quote!(::tokio)).into()
}

/// `#[tokio::test]` of the `tokio` shim: [`macro@test`] naming the runtime as `::tokio`. Not
/// for direct use.
#[doc(hidden)]
#[proc_macro_attribute]
pub fn tokio_test(attr: TokenStream, item: TokenStream) -> TokenStream {
    let item = TokenStream2::from(item);
    let expanded = entry::expand_naming(
        Kind::Test,
        attr.into(),
        item.clone(),
        quote::quote!(::tokio),
    );
    entry::finish(Kind::Test, expanded, item, quote::quote!(::tokio)).into()
}
