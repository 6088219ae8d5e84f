//! Attribute macros for the `gort` runtime: `#[gort::main]` and `#[gort::test]`.
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
//!     ::gort::__private::run_main(::core::option::Option::Some(4), async move { BODY })
//! }
//!
//! #[gort::test]
//! #[should_panic]
//! async fn name() { BODY }
//!
//! // expands to
//! #[::core::prelude::v1::test]
//! #[should_panic]
//! fn name() {
//!     ::gort::__private::run_test(::core::option::Option::None, async move { BODY })
//! }
//! ```
//!
//! The only option is `worker_threads = N`, with `N` a positive integer
//! literal; without it the runtime picks its default (`None`).

use proc_macro::TokenStream;
use proc_macro2::{Literal, Span, TokenStream as TokenStream2};
use quote::{quote, quote_spanned, ToTokens};
use syn::parse::Parser;
use syn::punctuated::Punctuated;
use syn::{parse_quote, Error, Expr, ExprLit, ItemFn, Lit, Meta, Token};

/// Runs an `async fn main` on the gort runtime.
///
/// The function must be `async`, take no arguments and have no generic
/// parameters. It may return any type a `main` function may return, such as
/// `Result<(), E>`. The block is run to completion by
/// `gort::__private::run_main`, which returns the block's output.
///
/// Options: `worker_threads = N` (a positive integer literal) sets the number
/// of worker threads; by default the runtime chooses.
///
/// ```ignore
/// #[gort::main(worker_threads = 2)]
/// async fn main() -> std::io::Result<()> {
///     let answer = gort::spawn(async { 42 }).await;
///     println!("{answer}");
///     Ok(())
/// }
/// ```
#[proc_macro_attribute]
pub fn main(attr: TokenStream, item: TokenStream) -> TokenStream {
    let item = TokenStream2::from(item);
    finish(Kind::Main, expand_main(attr.into(), item.clone()), item).into()
}

/// Runs an `async fn` test on a fresh gort runtime.
///
/// The function is turned into a regular `#[test]` function; other attributes
/// such as `#[should_panic]` or `#[ignore]` are passed through. The same rules
/// and the same `worker_threads = N` option as for [`macro@main`] apply. Do not
/// add `#[test]` yourself: this attribute already does.
///
/// ```ignore
/// #[gort::test(worker_threads = 1)]
/// async fn adds() {
///     assert_eq!(gort::spawn(async { 1 + 1 }).await, 2);
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
                Ok(func) => rewrite(kind, func, None),
                Err(_) => item,
            };
            let mut tokens = err.into_compile_error();
            tokens.extend(fallback);
            tokens
        }
    }
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
    match (parse_worker_threads(attr), check_signature(kind, &func)) {
        (Ok(workers), Ok(())) => Ok(rewrite(kind, func, workers)),
        (Err(mut first), Err(second)) => {
            first.combine(second);
            Err(first)
        }
        (Err(err), _) | (_, Err(err)) => Err(err),
    }
}

/// Turns `func` into the synchronous wrapper shown in the crate docs.
fn rewrite(kind: Kind, mut func: ItemFn, workers: Option<Literal>) -> TokenStream2 {
    let workers = match workers {
        Some(n) => quote!(::core::option::Option::Some(#n)),
        None => quote!(::core::option::Option::None),
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
    let call = quote_spanned!(span=> ::gort::__private::#runner(#workers, async move #body));
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

/// Parses the option list, returning the `worker_threads` value if given.
///
/// The literal is re-emitted unsuffixed (so `4u8` still yields a `usize`) but
/// keeps the user's span.
fn parse_worker_threads(attr: TokenStream2) -> syn::Result<Option<Literal>> {
    const MSG: &str = "the `worker_threads` option requires a positive integer";
    let options = Punctuated::<Meta, Token![,]>::parse_terminated.parse2(attr)?;
    let mut workers = None;
    for option in options {
        let path = option.path();
        if !path.is_ident("worker_threads") {
            let name = path.to_token_stream().to_string().replace(' ', "");
            let msg = format!("unknown option `{name}`; expected `worker_threads`");
            return Err(Error::new_spanned(path, msg));
        }
        if workers.is_some() {
            return Err(Error::new_spanned(
                &option,
                "duplicate `worker_threads` option",
            ));
        }
        let Meta::NameValue(pair) = &option else {
            return Err(Error::new_spanned(&option, MSG));
        };
        let Expr::Lit(ExprLit {
            lit: Lit::Int(int), ..
        }) = &pair.value
        else {
            return Err(Error::new_spanned(&pair.value, MSG));
        };
        match int.base10_parse::<usize>() {
            Ok(n) if n > 0 => {
                let mut lit = Literal::usize_unsuffixed(n);
                lit.set_span(int.span());
                workers = Some(lit);
            }
            _ => return Err(Error::new_spanned(int, MSG)),
        }
    }
    Ok(workers)
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
            (Kind::Main, "", "async fn main() { f().await }", Ok(&["fn main() {", "::gort::__private::run_main(::core::option::Option::None, async move { f().await })"])),
            (Kind::Main, "worker_threads = 4", "async fn main() {}", Ok(&["run_main(::core::option::Option::Some(4), async move {})"])),
            (Kind::Main, "worker_threads = 2usize,", "async fn main() {}", Ok(&["Option::Some(2),"])),
            (Kind::Main, "", "pub async fn main() -> Result<(), E> { Ok(()) }", Ok(&["pub fn main() -> Result<(), E> {", "async move { Ok(()) }"])),
            (Kind::Main, "", "async fn start() {}", Ok(&["fn start() {"])),
            (Kind::Main, "", "#[allow(unused)] async fn main() { #![allow(dead_code)] x }", Ok(&["#[allow(unused)] fn main() { #![allow(dead_code)] ::gort", "async move { x }"])),
            (Kind::Test, "", "async fn t() { assert!(true) }", Ok(&["#[::core::prelude::v1::test] fn t() {", "::gort::__private::run_test(::core::option::Option::None, async move { assert!(true) })"])),
            (Kind::Test, "worker_threads = 1", "#[should_panic] #[ignore] async fn t() -> Result<(), E> { Ok(()) }", Ok(&["#[::core::prelude::v1::test] #[should_panic] #[ignore] fn t() -> Result<(), E> {", "run_test(::core::option::Option::Some(1),"])),
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
            (Kind::Main, "foo", "async fn main() {}", Err("unknown option `foo`; expected `worker_threads`")),
            (Kind::Test, "start_paused = true", "async fn t() {}", Err("unknown option `start_paused`; expected `worker_threads`")),
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
            (Kind::Main, "worker_threads = 1, worker_threads = 2", "async fn main() {}", Err("duplicate `worker_threads` option")),
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
                        assert!(text.contains(none), "{case}: `{text}` lacks `{none}`");
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
                ::gort::__private::run_main(::core::option::Option::Some(3), async move { 7 })
            }
        };
        assert_eq!(out.to_string(), expected.to_string());
    }

    #[test]
    fn exact_test_expansion() {
        let out = expand_test(
            quote!(),
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
                ::gort::__private::run_test(::core::option::Option::None, async move {})
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
        let result = expand_main(quote!(foo), item.clone());
        let text = squash(&finish(Kind::Main, result, item).to_string());
        assert!(text.contains("compile_error!"), "{text}");
        assert!(
            text.contains(
                "fnmain(){::gort::__private::run_main(::core::option::Option::None,asyncmove{})}"
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
