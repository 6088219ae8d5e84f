//! Attribute macros for the `gort` runtime: `#[gort::main]` and `#[gort::test]`; the
//! expansion of `gort::select!` (`select.rs`); and `#[derive(gort::gc::Trace)]` (`trace.rs`).
//!
//! This crate is an implementation detail of `gort`; use the macros through the
//! facade (`#[gort::main]`, `#[gort::test]`) rather than depending on it directly.
//!
//! Both macros turn an `async fn` without arguments into a plain `fn` whose body
//! hands the original body, as an `async move` block, to a runtime entry point
//! in `gort::__private`. The signature is otherwise kept as written: the
//! function's name, visibility, other attributes and return type are preserved,
//! and the body's tokens keep their spans, so errors point at user code.
//!
//! ```ignore
//! #[gort::main(worker_threads = 4)]
//! async fn main() -> Result<(), Error> { BODY }
//!
//! // expands to
//! fn main() -> Result<(), Error> {
//!     ::gort::__private::run_main(::core::option::Option::Some(4), false, async move { BODY })
//! }
//!
//! #[gort::test(start_paused = true)]
//! #[should_panic]
//! async fn name() { BODY }
//!
//! // expands to
//! #[::core::prelude::v1::test]
//! #[should_panic]
//! fn name() {
//!     ::gort::__private::run_test(::core::option::Option::None, true, async move { BODY })
//! }
//! ```
//!
//! The entry points take `(worker_threads: Option<usize>, start_paused: bool,
//! future)`. Two options fill them in, each at most once, in any order:
//!
//! - `worker_threads = N`, with `N` a positive integer literal; without it the
//!   runtime picks its default (`None`).
//! - `start_paused = true|false`, a boolean literal; without it `false`. It is
//!   a literal rather than any expression so that a typo is a compile error
//!   here instead of a type error inside the expansion.

use proc_macro::TokenStream;
use proc_macro2::{Literal, Span, TokenStream as TokenStream2};
use quote::{quote, quote_spanned, ToTokens};
use syn::parse::Parser;
use syn::punctuated::Punctuated;
use syn::{parse_quote, Error, Expr, ExprLit, ItemFn, Lit, LitBool, Meta, Token};

/// Runs an `async fn main` on the gort runtime.
///
/// The function must be `async`, take no arguments and have no generic
/// parameters. It may return any type a `main` function may return, such as
/// `Result<(), E>`. The block is run to completion by
/// `gort::__private::run_main`, which returns the block's output.
///
/// Options, each at most once:
///
/// - `worker_threads = N` (a positive integer literal) sets the number of
///   worker threads; by default the runtime chooses.
/// - `start_paused = true|false` (a boolean literal, default `false`) starts
///   the runtime's clock paused, like tokio's option of the same name:
///   `gort::time::Instant::now()` stands still, and whenever every task is
///   idle the runtime moves the clock straight to the next timer instead of
///   sleeping. `gort::time::resume()` lets it run again.
///
/// ```ignore
/// #[gort::main(worker_threads = 2)]
/// async fn main() -> std::io::Result<()> {
///     let answer = gort::spawn(async { 42 }).await;
///     println!("{answer}");
///     Ok(())
/// }
/// ```
mod join;
mod select;
mod trace;

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

#[proc_macro_attribute]
pub fn main(attr: TokenStream, item: TokenStream) -> TokenStream {
    let item = TokenStream2::from(item);
    finish(Kind::Main, expand_main(attr.into(), item.clone()), item).into()
}

/// Runs an `async fn` test on a fresh gort runtime.
///
/// The function is turned into a regular `#[test]` function; other attributes
/// such as `#[should_panic]` or `#[ignore]` are passed through. The same rules
/// and the same options (`worker_threads = N`, `start_paused = true|false`) as
/// for [`macro@main`] apply. Do not add `#[test]` yourself: this attribute
/// already does.
///
/// ```ignore
/// #[gort::test(worker_threads = 1)]
/// async fn adds() {
///     assert_eq!(gort::spawn(async { 1 + 1 }).await, 2);
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
    finish(Kind::Test, expand_test(attr.into(), item.clone()), item).into()
}

/// Converts an expansion result into the macro output.
///
/// On error the compile error is emitted together with a best-effort expansion
/// (or, if the item is not a function, the untouched item), so the function
/// stays visible to name resolution and IDEs and rustc does not add follow-up
/// errors such as "`main` function is not allowed to be `async`".
fn finish(kind: Kind, result: syn::Result<TokenStream2>, item: TokenStream2) -> TokenStream2 {
    match result {
        Ok(tokens) => tokens,
        Err(err) => {
            let fallback = match syn::parse2::<ItemFn>(item.clone()) {
                Ok(func) => rewrite(kind, func, &Options::default()),
                Err(_) => item,
            };
            let mut tokens = err.into_compile_error();
            tokens.extend(fallback);
            tokens
        }
    }
}

/// The options of one attribute, as written by the user.
///
/// Values are kept as tokens carrying the user's spans, so that anything rustc
/// reports about a value in the expansion points at the option as written.
#[derive(Default)]
struct Options {
    /// `worker_threads = N`: the positive integer, re-emitted unsuffixed (so
    /// `4u8` still yields a `usize`); `None` lets the runtime choose.
    worker_threads: Option<Literal>,
    /// `start_paused = true|false`; `None` means `false`.
    start_paused: Option<LitBool>,
}

/// Which attribute is being expanded.
#[derive(Clone, Copy)]
enum Kind {
    Main,
    Test,
}

impl Kind {
    /// The attribute as users write it, for error messages.
    fn attr_name(self) -> &'static str {
        match self {
            Kind::Main => "#[gort::main]",
            Kind::Test => "#[gort::test]",
        }
    }
}

/// Expands `#[gort::main]`; `attr` is the option list, `item` the function.
fn expand_main(attr: TokenStream2, item: TokenStream2) -> syn::Result<TokenStream2> {
    expand(Kind::Main, attr, item)
}

/// Expands `#[gort::test]`; `attr` is the option list, `item` the function.
fn expand_test(attr: TokenStream2, item: TokenStream2) -> syn::Result<TokenStream2> {
    expand(Kind::Test, attr, item)
}

/// Validates options and signature (reporting both if both are wrong), then
/// rewrites the function.
fn expand(kind: Kind, attr: TokenStream2, item: TokenStream2) -> syn::Result<TokenStream2> {
    let func: ItemFn = syn::parse2(item)?;
    match (parse_options(attr), check_signature(kind, &func)) {
        (Ok(options), Ok(())) => Ok(rewrite(kind, func, &options)),
        (Err(mut first), Err(second)) => {
            first.combine(second);
            Err(first)
        }
        (Err(err), _) | (_, Err(err)) => Err(err),
    }
}

/// Turns `func` into the synchronous wrapper shown in the crate docs.
fn rewrite(kind: Kind, mut func: ItemFn, options: &Options) -> TokenStream2 {
    let workers = match &options.worker_threads {
        Some(n) => quote!(::core::option::Option::Some(#n)),
        None => quote!(::core::option::Option::None),
    };
    let paused = match &options.start_paused {
        Some(flag) => flag.to_token_stream(),
        None => quote!(false),
    };
    let runner = match kind {
        Kind::Main => quote!(run_main),
        Kind::Test => quote!(run_test),
    };
    let body = &func.block;
    // Give the call the span of the body's last token, so that a mismatch
    // between the body's value and the declared return type points there
    // instead of at the attribute. The body itself keeps its own spans.
    let last = body
        .stmts
        .last()
        .and_then(|stmt| stmt.to_token_stream().into_iter().last());
    let span = last.map_or_else(Span::call_site, |token| token.span());
    let call =
        quote_spanned!(span=> ::gort::__private::#runner(#workers, #paused, async move #body));
    func.block = parse_quote!({ #call });
    func.sig.asyncness = None;
    if matches!(kind, Kind::Test) && !func.attrs.iter().any(is_test_attr) {
        func.attrs
            .insert(0, parse_quote!(#[::core::prelude::v1::test]));
    }
    // `ItemFn`'s printer puts inner attributes (`#![...]`) back inside the new body.
    func.into_token_stream()
}

/// Whether `attr` is a `#[test]`-like attribute (`test`, `core::prelude::v1::test`, `gort::test`, ...).
fn is_test_attr(attr: &syn::Attribute) -> bool {
    attr.path()
        .segments
        .last()
        .is_some_and(|seg| seg.ident == "test")
}

/// Parses the option list (`worker_threads = N`, `start_paused = true|false`).
///
/// Stops at the first bad option: later ones are often bad for the same reason.
fn parse_options(attr: TokenStream2) -> syn::Result<Options> {
    const WORKERS_MSG: &str = "the `worker_threads` option requires a positive integer";
    const PAUSED_MSG: &str = "the `start_paused` option requires a boolean (`true` or `false`)";
    let metas = Punctuated::<Meta, Token![,]>::parse_terminated.parse2(attr)?;
    let mut options = Options::default();
    for meta in metas {
        let path = meta.path();
        if path.is_ident("worker_threads") {
            reject_duplicate(&meta, options.worker_threads.is_some())?;
            let lit = option_literal(&meta, WORKERS_MSG)?;
            let Lit::Int(int) = lit else {
                return Err(Error::new_spanned(lit, WORKERS_MSG));
            };
            match int.base10_parse::<usize>() {
                Ok(n) if n > 0 => {
                    let mut workers = Literal::usize_unsuffixed(n);
                    workers.set_span(int.span());
                    options.worker_threads = Some(workers);
                }
                _ => return Err(Error::new_spanned(int, WORKERS_MSG)),
            }
        } else if path.is_ident("start_paused") {
            reject_duplicate(&meta, options.start_paused.is_some())?;
            let lit = option_literal(&meta, PAUSED_MSG)?;
            let Lit::Bool(flag) = lit else {
                return Err(Error::new_spanned(lit, PAUSED_MSG));
            };
            options.start_paused = Some(flag.clone());
        } else {
            let name = path.to_token_stream().to_string().replace(' ', "");
            let msg =
                format!("unknown option `{name}`; expected `worker_threads` or `start_paused`");
            return Err(Error::new_spanned(path, msg));
        }
    }
    Ok(options)
}

/// Fails with "duplicate `name` option" if `seen`: the option in `meta` was
/// already given, and silently keeping either value would hide a mistake.
fn reject_duplicate(meta: &Meta, seen: bool) -> syn::Result<()> {
    if seen {
        let name = meta.path().to_token_stream().to_string();
        return Err(Error::new_spanned(
            meta,
            format!("duplicate `{name}` option"),
        ));
    }
    Ok(())
}

/// The literal of a `name = literal` option, or the error `msg` (which says
/// what the option requires) when it has another shape, such as a bare `name`,
/// `name(..)` or `name = path`.
fn option_literal<'a>(meta: &'a Meta, msg: &str) -> syn::Result<&'a Lit> {
    let Meta::NameValue(pair) = meta else {
        return Err(Error::new_spanned(meta, msg));
    };
    match &pair.value {
        Expr::Lit(ExprLit { lit, .. }) => Ok(lit),
        value => Err(Error::new_spanned(value, msg)),
    }
}

/// Rejects signatures the expansion cannot support.
fn check_signature(kind: Kind, func: &ItemFn) -> syn::Result<()> {
    let sig = &func.sig;
    let name = kind.attr_name();
    if sig.asyncness.is_none() {
        let msg = "the `async` keyword is missing from the function declaration";
        return Err(Error::new_spanned(sig.fn_token, msg));
    }
    if !sig.inputs.is_empty() || sig.variadic.is_some() {
        let msg = format!("`{name}` functions cannot take arguments");
        return Err(Error::new_spanned(&sig.inputs, msg));
    }
    let generics = &sig.generics;
    if !generics.params.is_empty() {
        let msg = format!("`{name}` functions cannot have generic parameters");
        return Err(Error::new_spanned(generics, msg));
    }
    if let Some(clause) = &generics.where_clause {
        let msg = format!("`{name}` functions cannot have a `where` clause");
        return Err(Error::new_spanned(clause, msg));
    }
    if let Kind::Test = kind {
        if let Some(attr) = func.attrs.iter().find(|attr| is_test_attr(attr)) {
            let msg = "second test attribute is supplied; `#[gort::test]` already adds `#[test]`";
            return Err(Error::new_spanned(attr, msg));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    // Not a glob import: that would make `#[test]` ambiguous with this crate's
    // `test` attribute macro.
    use super::{expand_main, expand_test, finish, quote, Kind, TokenStream2};

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
            (Kind::Main, "", "async fn main() { f().await }", Ok(&["fn main() {", "::gort::__private::run_main(::core::option::Option::None, false, async move { f().await })"])),
            (Kind::Main, "worker_threads = 4", "async fn main() {}", Ok(&["run_main(::core::option::Option::Some(4), false, async move {})"])),
            (Kind::Main, "start_paused = true", "async fn main() {}", Ok(&["run_main(::core::option::Option::None, true, async move {})"])),
            (Kind::Main, "start_paused = false", "async fn main() {}", Ok(&["run_main(::core::option::Option::None, false, async move {})"])),
            (Kind::Main, "worker_threads = 2, start_paused = true", "async fn main() {}", Ok(&["run_main(::core::option::Option::Some(2), true, async move {})"])),
            (Kind::Test, "start_paused = true, worker_threads = 3,", "async fn t() {}", Ok(&["run_test(::core::option::Option::Some(3), true, async move {})"])),
            (Kind::Main, "worker_threads = 2usize,", "async fn main() {}", Ok(&["Option::Some(2),"])),
            (Kind::Main, "", "pub async fn main() -> Result<(), E> { Ok(()) }", Ok(&["pub fn main() -> Result<(), E> {", "async move { Ok(()) }"])),
            (Kind::Main, "", "async fn start() {}", Ok(&["fn start() {"])),
            (Kind::Main, "", "#[allow(unused)] async fn main() { #![allow(dead_code)] x }", Ok(&["#[allow(unused)] fn main() { #![allow(dead_code)] ::gort", "async move { x }"])),
            (Kind::Test, "", "async fn t() { assert!(true) }", Ok(&["#[::core::prelude::v1::test] fn t() {", "::gort::__private::run_test(::core::option::Option::None, false, async move { assert!(true) })"])),
            (Kind::Test, "worker_threads = 1", "#[should_panic] #[ignore] async fn t() -> Result<(), E> { Ok(()) }", Ok(&["#[::core::prelude::v1::test] #[should_panic] #[ignore] fn t() -> Result<(), E> {", "run_test(::core::option::Option::Some(1), false,"])),
            (Kind::Test, "start_paused = true", "#[should_panic] async fn t() {}", Ok(&["#[::core::prelude::v1::test] #[should_panic] fn t() {", "run_test(::core::option::Option::None, true,"])),
            // Signature errors.
            (Kind::Main, "", "fn main() {}", Err("the `async` keyword is missing from the function declaration")),
            (Kind::Test, "", "fn t() {}", Err("the `async` keyword is missing")),
            (Kind::Main, "", "async fn main(x: u32) {}", Err("`#[gort::main]` functions cannot take arguments")),
            (Kind::Test, "", "async fn t(x: u32) {}", Err("`#[gort::test]` functions cannot take arguments")),
            (Kind::Main, "", "async fn main<T>() {}", Err("cannot have generic parameters")),
            (Kind::Main, "", "async fn main() where u8: Copy {}", Err("cannot have a `where` clause")),
            (Kind::Test, "", "#[test] async fn t() {}", Err("second test attribute is supplied")),
            (Kind::Main, "", "struct S;", Err("expected")),
            // Option errors.
            (Kind::Main, "foo", "async fn main() {}", Err("unknown option `foo`; expected `worker_threads` or `start_paused`")),
            (Kind::Test, "flavor = \"current_thread\"", "async fn t() {}", Err("unknown option `flavor`; expected `worker_threads` or `start_paused`")),
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
            let result = match kind {
                Kind::Main => expand_main(attr_ts, item_ts),
                Kind::Test => expand_test(attr_ts, item_ts),
            };
            let case = format!("{} ({attr}) on `{item}`", kind.attr_name());
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
                        let defaults = format!("{none},false,asyncmove");
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
        let out = expand_main(
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
                ::gort::__private::run_main(::core::option::Option::Some(3), false, async move { 7 })
            }
        };
        assert_eq!(out.to_string(), expected.to_string());
    }

    #[test]
    fn exact_test_expansion() {
        let out = expand_test(
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
                ::gort::__private::run_test(::core::option::Option::None, true, async move {})
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
        let result = expand_main(quote!(start_paused = 1), item.clone());
        let text = squash(&finish(Kind::Main, result, item).to_string());
        assert!(text.contains("compile_error!"), "{text}");
        assert!(
            text.contains(
                "fnmain(){::gort::__private::run_main(::core::option::Option::None,false,asyncmove{})}"
            ),
            "{text}"
        );

        // A test that already has `#[test]` does not get a second one.
        let item = quote!(
            #[test]
            async fn t() {}
        );
        let result = expand_test(quote!(), item.clone());
        let text = squash(&finish(Kind::Test, result, item).to_string());
        assert!(text.contains("compile_error!"), "{text}");
        assert!(text.contains("#[test]fnt()"), "{text}");
        assert!(!text.contains("prelude::v1::test"), "{text}");

        // Something that is not a function is passed through untouched.
        let item = quote!(
            struct S;
        );
        let result = expand_main(quote!(), item.clone());
        let text = squash(&finish(Kind::Main, result, item).to_string());
        assert!(text.ends_with("structS;"), "{text}");
    }
}
