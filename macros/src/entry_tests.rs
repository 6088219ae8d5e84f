//! The expansion table of `#[gort::main]` and `#[gort::test]`: accepted shapes and every error.

// Not a glob import: that would make `#[test]` ambiguous with this crate's
// `test` attribute macro.
use super::{expand, finish, quote, Kind, TokenStream2};

/// Token text with all whitespace removed, so comparisons ignore spacing.
fn squash(text: &str) -> String {
    text.chars().filter(|c| !c.is_whitespace()).collect()
}

/// Expected outcome of one expansion.
enum Expect {
    /// Expansion succeeds and its text contains every fragment.
    Ok(&'static [&'static str]),
    /// Expansion fails with a message containing this text.
    Err(&'static str),
}

#[test]
fn expansion_table() {
    use Expect::{Err, Ok};
    let none = "::core::option::Option::None";
    let cases: &[(Kind, &str, &str, Expect)] = &[
        // Accepted shapes.
        (Kind::Main, "", "async fn main() { f().await }", Ok(&["fn main() {", "::gort::__private::run_main(::gort::__private::EntryFlavor::MultiThread, ::core::option::Option::None, false, async move { f().await })"])),
        (Kind::Main, "worker_threads = 4", "async fn main() {}", Ok(&["run_main(::gort::__private::EntryFlavor::MultiThread, ::core::option::Option::Some(4), false, async move {})"])),
        (Kind::Main, "start_paused = true", "async fn main() {}", Ok(&["run_main(::gort::__private::EntryFlavor::MultiThread, ::core::option::Option::None, true, async move {})"])),
        (Kind::Main, "start_paused = false", "async fn main() {}", Ok(&["run_main(::gort::__private::EntryFlavor::MultiThread, ::core::option::Option::None, false, async move {})"])),
        (Kind::Main, "worker_threads = 2, start_paused = true", "async fn main() {}", Ok(&["run_main(::gort::__private::EntryFlavor::MultiThread, ::core::option::Option::Some(2), true, async move {})"])),
        (Kind::Test, "start_paused = true, worker_threads = 3, flavor = \"multi_thread\",", "async fn t() {}", Ok(&["run_test(::gort::__private::EntryFlavor::MultiThread, ::core::option::Option::Some(3), true, async move {})"])),
        (Kind::Main, "flavor = \"current_thread\"", "async fn main() {}", Ok(&["run_main(::gort::__private::EntryFlavor::CurrentThread, ::core::option::Option::None, false, async move {})"])),
        (Kind::Test, "flavor = \"multi_thread\"", "async fn t() {}", Ok(&["run_test(::gort::__private::EntryFlavor::MultiThread, ::core::option::Option::None, false, async move {})"])),
        (Kind::Test, "crate = \"my::gort\"", "async fn t() {}", Ok(&["my::gort::__private::run_test(my::gort::__private::EntryFlavor::CurrentThread, ::core::option::Option::None, false, async move {})"])),
        (Kind::Main, "worker_threads = 2usize,", "async fn main() {}", Ok(&["Option::Some(2),"])),
        (Kind::Main, "", "pub async fn main() -> Result<(), E> { Ok(()) }", Ok(&["pub fn main() -> Result<(), E> {", "async move { Ok(()) }"])),
        (Kind::Main, "", "async fn start() {}", Ok(&["fn start() {"])),
        (Kind::Main, "", "#[allow(unused)] async fn main() { #![allow(dead_code)] x }", Ok(&["#[allow(unused)] fn main() { #![allow(dead_code)] ::gort", "async move { x }"])),
        (Kind::Test, "", "async fn t() { assert!(true) }", Ok(&["#[::core::prelude::v1::test] fn t() {", "::gort::__private::run_test(::gort::__private::EntryFlavor::CurrentThread, ::core::option::Option::None, false, async move { assert!(true) })"])),
        (Kind::Test, "worker_threads = 1, flavor = \"multi_thread\"", "#[should_panic] #[ignore] async fn t() -> Result<(), E> { Ok(()) }", Ok(&["#[::core::prelude::v1::test] #[should_panic] #[ignore] fn t() -> Result<(), E> {", "run_test(::gort::__private::EntryFlavor::MultiThread, ::core::option::Option::Some(1), false,"])),
        (Kind::Test, "start_paused = true", "#[should_panic] async fn t() {}", Ok(&["#[::core::prelude::v1::test] #[should_panic] fn t() {", "run_test(::gort::__private::EntryFlavor::CurrentThread, ::core::option::Option::None, true,"])),
        // Signature errors.
        (Kind::Main, "", "fn main() {}", Err("the `async` keyword is missing from the function declaration")),
        (Kind::Test, "", "fn t() {}", Err("the `async` keyword is missing")),
        (Kind::Main, "", "async fn main(x: u32) {}", Err("`#[gort::main]` functions cannot take arguments")),
        (Kind::Test, "", "async fn t(x: u32) {}", Err("`#[gort::test]` functions cannot take arguments")),
        (Kind::Main, "", "async fn main<T>() {}", Err("cannot have generic parameters")),
        (Kind::Test, "", "async fn t<T>() {}", Err("cannot have generic parameters")),
        // tokio's: only the program's `main` must take no arguments; another function run on
        // a fresh runtime (a trait method) may take `self`, arguments and generics.
        (Kind::Main, "", "async fn f(self) { self.g() }", Ok(&["fn f(self) {", "async move { self.g() }"])),
        (Kind::Main, "", "async fn f<T: Send>(x: T) -> T where T: Copy { x }", Ok(&["fn f<T: Send>(x: T) -> T where T: Copy {", "async move { x }"])),
        // `name`: the named entry points, with the name after `start_paused`.
        (Kind::Test, "name = \"rt one\"", "async fn t() {}", Ok(&["::gort::__private::run_test_named(::gort::__private::EntryFlavor::CurrentThread, ::core::option::Option::None, false, \"rt one\", async move {})"])),
        (Kind::Main, "name = \"svc\", start_paused = true", "async fn main() {}", Ok(&["::gort::__private::run_main_named(::gort::__private::EntryFlavor::MultiThread, ::core::option::Option::None, true, \"svc\", async move {})"])),
        (Kind::Test, "flavor = \"local\", name = \"l\"", "async fn t() {}", Ok(&["run_test_named(::gort::__private::EntryFlavor::Local, ::core::option::Option::None, false, \"l\", async move {})"])),
        (Kind::Main, "flavor = \"local\", name = \"l\"", "async fn main() {}", Err("does not support the `name` option with `flavor = \"local\"`")),
        (Kind::Main, "name = \"\"", "async fn main() {}", Err("the `name` option requires a non-empty string")),
        (Kind::Main, "name = \"  \"", "async fn main() {}", Err("the `name` option requires a non-empty string")),
        (Kind::Test, "name = rt", "async fn t() {}", Err("the `name` option requires a non-empty string")),
        (Kind::Test, "name = 1", "async fn t() {}", Err("the `name` option requires a non-empty string")),
        (Kind::Test, "name", "async fn t() {}", Err("the `name` option requires a non-empty string")),
        (Kind::Test, "name = \"a\", name = \"b\"", "async fn t() {}", Err("duplicate `name` option")),
        // tokio accepts `unhandled_panic` only under `tokio_unstable`.
        (Kind::Test, "flavor = \"current_thread\", unhandled_panic = \"ignore\"", "async fn t() {}", Err("unknown option `unhandled_panic`")),
        (Kind::Main, "", "async fn main() where u8: Copy {}", Err("cannot have a `where` clause")),
        (Kind::Test, "", "#[test] async fn t() {}", Err("second test attribute is supplied")),
        (Kind::Main, "", "struct S;", Err("expected")),
        // Option errors.
        (Kind::Main, "foo", "async fn main() {}", Err("unknown option `foo`; expected `flavor`, `worker_threads`, `start_paused`, `name` or `crate`")),
        (Kind::Test, "foo = 1", "async fn t() {}", Err("unknown option `foo`; expected `flavor`, `worker_threads`, `start_paused`, `name` or `crate`")),
        (Kind::Test, "worker_threads = 2", "async fn t() {}", Err("the `worker_threads` option requires the `multi_thread` runtime flavor; use `#[gort::test(flavor = \"multi_thread\")]`")),
        (Kind::Main, "flavor = \"current_thread\", worker_threads = 2", "async fn main() {}", Err("requires the `multi_thread` runtime flavor")),
        (Kind::Main, "flavor = \"single_thread\"", "async fn main() {}", Err("no such runtime flavor `single_thread`")),
        (Kind::Test, "flavor = \"local\"", "async fn t() {}", Ok(&["run_test(::gort::__private::EntryFlavor::Local, ::core::option::Option::None, false, async move {})"])),
        (Kind::Test, "flavor = \"local\", worker_threads = 2", "async fn t() {}", Err("requires the `multi_thread` runtime flavor")),
        (Kind::Main, "flavor = current_thread", "async fn main() {}", Err("the `flavor` option requires a string")),
        (Kind::Main, "flavor = \"multi_thread\", flavor = \"multi_thread\"", "async fn main() {}", Err("duplicate `flavor` option")),
        (Kind::Main, "crate = \"1x\"", "async fn main() {}", Err("the `crate` option requires a string holding a path")),
        (Kind::Test, "start_paused = true, paused = true", "async fn t() {}", Err("unknown option `paused`")),
        (Kind::Main, "flavor::x = 1", "async fn main() {}", Err("unknown option `flavor::x`")),
        (Kind::Main, "worker_threads = 0", "async fn main() {}", Err("the `worker_threads` option requires a positive integer")),
        (Kind::Main, "worker_threads = -1", "async fn main() {}", Err("requires a positive integer")),
        (Kind::Main, "worker_threads = \"4\"", "async fn main() {}", Err("requires a positive integer")),
        (Kind::Main, "worker_threads = 1.5", "async fn main() {}", Err("requires a positive integer")),
        (Kind::Main, "worker_threads = n", "async fn main() {}", Err("requires a positive integer")),
        (Kind::Main, "worker_threads", "async fn main() {}", Err("requires a positive integer")),
        (Kind::Main, "worker_threads(4)", "async fn main() {}", Err("requires a positive integer")),
        (Kind::Main, "worker_threads = 99999999999999999999999", "async fn main() {}", Err("requires a positive integer")),
        (Kind::Main, "foo = 1", "fn main(x: u8) {}", Err("unknown option `foo`")),
        (Kind::Main, "foo = 1", "fn main(x: u8) {}", Err("the `async` keyword is missing")),
        (Kind::Main, "worker_threads = true", "async fn main() {}", Err("the `worker_threads` option requires a positive integer")),
        (Kind::Main, "worker_threads = 1, worker_threads = 2", "async fn main() {}", Err("duplicate `worker_threads` option")),
        (Kind::Main, "worker_threads = 1, start_paused = true, worker_threads = 1", "async fn main() {}", Err("duplicate `worker_threads` option")),
        (Kind::Main, "start_paused = 1", "async fn main() {}", Err("the `start_paused` option requires a boolean (`true` or `false`)")),
        (Kind::Test, "start_paused = \"true\"", "async fn t() {}", Err("the `start_paused` option requires a boolean")),
        (Kind::Test, "start_paused = yes", "async fn t() {}", Err("the `start_paused` option requires a boolean")),
        (Kind::Test, "start_paused = !false", "async fn t() {}", Err("the `start_paused` option requires a boolean")),
        (Kind::Test, "start_paused", "async fn t() {}", Err("the `start_paused` option requires a boolean")),
        (Kind::Test, "start_paused(true)", "async fn t() {}", Err("the `start_paused` option requires a boolean")),
        (Kind::Test, "start_paused = true, start_paused = false", "async fn t() {}", Err("duplicate `start_paused` option")),
        (Kind::Test, "start_paused = 1", "fn t() {}", Err("the `start_paused` option requires a boolean")),
        (Kind::Test, "start_paused = 1", "fn t() {}", Err("the `async` keyword is missing")),
    ];
    for (kind, attr, item, expect) in cases {
        let attr_ts: TokenStream2 = attr.parse().unwrap();
        let item_ts: TokenStream2 = item.parse().unwrap();
        let result = expand(*kind, attr_ts, item_ts);
        let case = format!("#[{}] ({attr}) on `{item}`", kind.attr_name());
        match (result, expect) {
            (Result::Ok(tokens), Ok(fragments)) => {
                let text = squash(&tokens.to_string());
                for fragment in *fragments {
                    assert!(
                        text.contains(&squash(fragment)),
                        "{case}: `{text}` lacks `{fragment}`"
                    );
                }
                assert!(
                    !text.contains("async fn"),
                    "{case}: `{text}` is still async"
                );
                if attr.is_empty() {
                    // tokio's defaults: `main` is multi-thread, `test` current-thread.
                    let flavor = match kind {
                        Kind::Main => "MultiThread",
                        Kind::Test => "CurrentThread",
                    };
                    let defaults = format!("EntryFlavor::{flavor},{none},false,asyncmove");
                    assert!(
                        text.contains(&defaults),
                        "{case}: `{text}` lacks `{defaults}`"
                    );
                }
            }
            (Result::Err(err), Err(msg)) => {
                // `Display` shows only the first of combined errors.
                let all: Vec<String> = err.into_iter().map(|e| e.to_string()).collect();
                assert!(
                    all.iter().any(|e| e.contains(msg)),
                    "{case}: errors {all:?} lack `{msg}`"
                );
            }
            (Result::Ok(tokens), Err(msg)) => {
                panic!("{case}: expected error `{msg}`, got `{tokens}`")
            }
            (Result::Err(err), Ok(_)) => panic!("{case}: unexpected error `{err}`"),
        }
    }
}

#[test]
fn exact_main_expansion() {
    let out = expand(
        Kind::Main,
        quote!(worker_threads = 3),
        quote!(
            async fn main() -> u8 {
                7
            }
        ),
    )
    .unwrap();
    let expected = quote! {
        fn main() -> u8 {
            ::gort::__private::run_main(::gort::__private::EntryFlavor::MultiThread, ::core::option::Option::Some(3), false, async move { 7 })
        }
    };
    assert_eq!(out.to_string(), expected.to_string());
}

#[test]
fn exact_test_expansion() {
    let out = expand(
        Kind::Test,
        quote!(start_paused = true),
        quote!(
            #[ignore]
            pub async fn t() {}
        ),
    )
    .unwrap();
    let expected = quote! {
        #[::core::prelude::v1::test]
        #[ignore]
        pub fn t() {
            ::gort::__private::run_test(::gort::__private::EntryFlavor::CurrentThread, ::core::option::Option::None, true, async move {})
        }
    };
    assert_eq!(out.to_string(), expected.to_string());
}

#[test]
fn error_output_keeps_a_sync_function() {
    // An option error still yields the rewritten function (with default
    // options) next to the error, so rustc reports nothing else.
    let item = quote!(
        async fn main() {}
    );
    let result = expand(Kind::Main, quote!(start_paused = 1), item.clone());
    let text = squash(&finish(Kind::Main, result, item, quote!(::gort)).to_string());
    assert!(text.contains("compile_error!"), "{text}");
    assert!(
        text.contains(
            "fnmain(){::gort::__private::run_main(::gort::__private::EntryFlavor::MultiThread,::core::option::Option::None,false,asyncmove{})}"
        ),
        "{text}"
    );

    // A test that already has `#[test]` does not get a second one.
    let item = quote!(
        #[test]
        async fn t() {}
    );
    let result = expand(Kind::Test, quote!(), item.clone());
    let text = squash(&finish(Kind::Test, result, item, quote!(::gort)).to_string());
    assert!(text.contains("compile_error!"), "{text}");
    assert!(text.contains("#[test]fnt()"), "{text}");
    assert!(!text.contains("prelude::v1::test"), "{text}");

    // Something that is not a function is passed through untouched.
    let item = quote!(
        struct S;
    );
    let result = expand(Kind::Main, quote!(), item.clone());
    let text = squash(&finish(Kind::Main, result, item, quote!(::gort)).to_string());
    assert!(text.ends_with("structS;"), "{text}");
}

#[test]
fn the_tokio_shims_entry_points_name_the_runtime_tokio_unless_told_otherwise() {
    use super::expand_naming;
    let item = quote!(
        async fn main() {}
    );
    let out = expand_naming(Kind::Main, quote!(), item.clone(), quote!(::tokio)).unwrap();
    let text = squash(&out.to_string());
    assert!(
        text.contains("::tokio::__private::run_main(::tokio::__private::EntryFlavor::MultiThread"),
        "{text}"
    );
    // `crate = "..."` still wins, and a test defaults to the current-thread flavor.
    let out = expand_naming(Kind::Test, quote!(crate = "my_rt"), item, quote!(::tokio)).unwrap();
    let text = squash(&out.to_string());
    assert!(
        text.contains("my_rt::__private::run_test(my_rt::__private::EntryFlavor::CurrentThread"),
        "{text}"
    );
}
