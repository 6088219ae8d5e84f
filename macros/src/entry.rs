//! `#[gort::main]` and `#[gort::test]`: an `async fn` becomes a plain `fn` whose body hands the
//! original body, as an `async move` block, to a runtime entry point in `gort::__private`. The
//! signature is otherwise kept as written (name, visibility, other attributes, return type),
//! and the body's tokens keep their spans, so errors point at user code.
//!
//! ```ignore
//! #[gort::main(worker_threads = 4)]
//! async fn main() -> Result<(), Error> { BODY }
//!
//! // expands to
//! fn main() -> Result<(), Error> {
//!     ::gort::__private::run_main(
//!         ::gort::__private::EntryFlavor::MultiThread,
//!         ::core::option::Option::Some(4),
//!         false,
//!         async move { BODY },
//!     )
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
//!     ::gort::__private::run_test(
//!         ::gort::__private::EntryFlavor::CurrentThread,
//!         ::core::option::Option::None,
//!         true,
//!         async move { BODY },
//!     )
//! }
//! ```
//!
//! The options are tokio's (`flavor`, `worker_threads`, `start_paused`, `name`, `crate`; not
//! `unhandled_panic`, which tokio has only under `tokio_unstable`), with tokio's defaults
//! (`main` is multi-thread, `test` current-thread) and tokio's refusal of `worker_threads` on a
//! current-thread runtime. Values are literals rather than expressions,
//! so that a typo is a compile error here instead of a type error inside the expansion. With
//! `name = "..."` the entry points are `run_main_named`/`run_test_named`, which take the name
//! after `start_paused`.
//!
//! As in tokio, `#[gort::main]` on a function other than the program's `main` may take
//! arguments (a trait method's `self`) and generic parameters: the `async move` body captures
//! them. `main` itself and tests take none.

use proc_macro2::{Literal, Span, TokenStream as TokenStream2};
use quote::{quote, quote_spanned, ToTokens};
use syn::parse::Parser;
use syn::punctuated::Punctuated;
use syn::{parse_quote, Error, Expr, ExprLit, ItemFn, Lit, LitBool, LitStr, Meta, Path, Token};

/// Which attribute is being expanded.
#[derive(Clone, Copy)]
pub(crate) enum Kind {
    Main,
    Test,
}

impl Kind {
    /// The attribute as users write it, for error messages.
    fn attr_name(self) -> &'static str {
        match self {
            Kind::Main => "gort::main",
            Kind::Test => "gort::test",
        }
    }

    /// tokio's default: `main` is multi-thread, `test` current-thread.
    fn default_flavor(self) -> Flavor {
        match self {
            Kind::Main => Flavor::MultiThread,
            Kind::Test => Flavor::CurrentThread,
        }
    }
}

/// The runtime flavor an entry point asks for.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Flavor {
    CurrentThread,
    MultiThread,
    Local,
}

impl Flavor {
    /// The `EntryFlavor` variant the expansion names.
    fn variant(self) -> TokenStream2 {
        match self {
            Flavor::CurrentThread => quote!(CurrentThread),
            Flavor::MultiThread => quote!(MultiThread),
            Flavor::Local => quote!(Local),
        }
    }
}

/// The options of one attribute, as written by the user.
///
/// Values are kept as tokens carrying the user's spans, so that anything rustc reports about a
/// value in the expansion points at the option as written.
#[derive(Default)]
struct Options {
    /// `flavor = "..."`; `None` means the attribute's default.
    flavor: Option<Flavor>,
    /// `worker_threads = N`: the positive integer, re-emitted unsuffixed (so `4u8` still yields
    /// a `usize`); `None` lets the runtime choose.
    worker_threads: Option<Literal>,
    /// `start_paused = true|false`; `None` means `false`.
    start_paused: Option<LitBool>,
    /// `crate = "path"`; `None` means `::gort`.
    krate: Option<Path>,
    /// `name = "..."`: the runtime's name (`Builder::name`, seen as `Handle::name`); `None`
    /// leaves it unnamed.
    name: Option<LitStr>,
}

/// Converts an expansion result into the macro output.
///
/// On error the compile error is emitted together with a best-effort expansion (or, if the item
/// is not a function, the untouched item), so the function stays visible to name resolution and
/// IDEs and rustc does not add follow-up errors such as "`main` function is not allowed to be
/// `async`".
pub(crate) fn finish(
    kind: Kind,
    result: syn::Result<TokenStream2>,
    item: TokenStream2,
    default_crate: TokenStream2,
) -> TokenStream2 {
    match result {
        Ok(tokens) => tokens,
        Err(err) => {
            let fallback = match syn::parse2::<ItemFn>(item.clone()) {
                Ok(func) => rewrite(kind, func, &Options::default(), default_crate),
                Err(_) => item,
            };
            let mut tokens = err.into_compile_error();
            tokens.extend(fallback);
            tokens
        }
    }
}

/// Validates options and signature (reporting both if both are wrong), then rewrites the
/// function.
pub(crate) fn expand(
    kind: Kind,
    attr: TokenStream2,
    item: TokenStream2,
) -> syn::Result<TokenStream2> {
    expand_naming(kind, attr, item, quote!(::gort))
}

/// [`expand`] with `default_crate` as the path the expansion names gort by when no `crate =`
/// option is given: `::tokio` for the `tokio` shim's `#[tokio::main]`/`#[tokio::test]`, whose
/// users have no `gort` in scope.
pub(crate) fn expand_naming(
    kind: Kind,
    attr: TokenStream2,
    item: TokenStream2,
    default_crate: TokenStream2,
) -> syn::Result<TokenStream2> {
    let func: ItemFn = syn::parse2(item)?;
    match (parse_options(kind, attr), check_signature(kind, &func)) {
        (Ok(options), Ok(())) => Ok(rewrite(kind, func, &options, default_crate)),
        (Err(mut first), Err(second)) => {
            first.combine(second);
            Err(first)
        }
        (Err(err), _) | (_, Err(err)) => Err(err),
    }
}

/// Turns `func` into the synchronous wrapper shown in the module docs.
fn rewrite(
    kind: Kind,
    mut func: ItemFn,
    options: &Options,
    default_crate: TokenStream2,
) -> TokenStream2 {
    let krate = match &options.krate {
        Some(path) => path.to_token_stream(),
        None => default_crate,
    };
    let flavor = options.flavor.unwrap_or(kind.default_flavor()).variant();
    let workers = match &options.worker_threads {
        Some(n) => quote!(::core::option::Option::Some(#n)),
        None => quote!(::core::option::Option::None),
    };
    let paused = match &options.start_paused {
        Some(flag) => flag.to_token_stream(),
        None => quote!(false),
    };
    // A named runtime goes through the facade's `run_*_named`, which take the name too.
    let (runner, name) = match (kind, &options.name) {
        (Kind::Main, None) => (quote!(run_main), None),
        (Kind::Test, None) => (quote!(run_test), None),
        (Kind::Main, Some(name)) => (quote!(run_main_named), Some(name)),
        (Kind::Test, Some(name)) => (quote!(run_test_named), Some(name)),
    };
    let name = name.map(|name| quote!(#name,));
    let body = &func.block;
    // Give the call the span of the body's last token, so that a mismatch between the body's
    // value and the declared return type points there instead of at the attribute. The body
    // itself keeps its own spans.
    let last = body
        .stmts
        .last()
        .and_then(|stmt| stmt.to_token_stream().into_iter().last());
    let span = last.map_or_else(Span::call_site, |token| token.span());
    let call = quote_spanned!(span=> #krate::__private::#runner(
        #krate::__private::EntryFlavor::#flavor,
        #workers,
        #paused,
        #name
        async move #body
    ));
    func.block = parse_quote!({ #call });
    func.sig.asyncness = None;
    if matches!(kind, Kind::Test) && !func.attrs.iter().any(is_test_attr) {
        func.attrs
            .insert(0, parse_quote!(#[::core::prelude::v1::test]));
    }
    // `ItemFn`'s printer puts inner attributes (`#![...]`) back inside the new body.
    func.into_token_stream()
}

/// Whether `attr` is a `#[test]`-like attribute (`test`, `core::prelude::v1::test`,
/// `gort::test`, ...).
fn is_test_attr(attr: &syn::Attribute) -> bool {
    attr.path()
        .segments
        .last()
        .is_some_and(|seg| seg.ident == "test")
}

/// Parses the option list and checks the combination (tokio's rules).
///
/// Stops at the first bad option: later ones are often bad for the same reason.
fn parse_options(kind: Kind, attr: TokenStream2) -> syn::Result<Options> {
    const WORKERS_MSG: &str = "the `worker_threads` option requires a positive integer";
    const PAUSED_MSG: &str = "the `start_paused` option requires a boolean (`true` or `false`)";
    const FLAVOR_MSG: &str = "the `flavor` option requires a string: \"current_thread\", \
                              \"local\" or \"multi_thread\"";
    const CRATE_MSG: &str = "the `crate` option requires a string holding a path";
    const NAME_MSG: &str = "the `name` option requires a non-empty string";
    let metas = Punctuated::<Meta, Token![,]>::parse_terminated.parse2(attr)?;
    let mut options = Options::default();
    let mut workers_meta = None;
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
                    workers_meta = Some(meta.clone());
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
        } else if path.is_ident("flavor") {
            reject_duplicate(&meta, options.flavor.is_some())?;
            let lit = option_literal(&meta, FLAVOR_MSG)?;
            let Lit::Str(name) = lit else {
                return Err(Error::new_spanned(lit, FLAVOR_MSG));
            };
            options.flavor = Some(match name.value().as_str() {
                "current_thread" => Flavor::CurrentThread,
                "multi_thread" => Flavor::MultiThread,
                "local" => Flavor::Local,
                other => {
                    let msg = format!(
                        "no such runtime flavor `{other}`; the flavors are `current_thread`, \
                         `local` and `multi_thread`"
                    );
                    return Err(Error::new_spanned(name, msg));
                }
            });
        } else if path.is_ident("crate") {
            reject_duplicate(&meta, options.krate.is_some())?;
            let lit = option_literal(&meta, CRATE_MSG)?;
            let Lit::Str(text) = lit else {
                return Err(Error::new_spanned(lit, CRATE_MSG));
            };
            let krate = text
                .parse::<Path>()
                .map_err(|_| Error::new_spanned(text, CRATE_MSG))?;
            options.krate = Some(krate);
        } else if path.is_ident("name") {
            reject_duplicate(&meta, options.name.is_some())?;
            let lit = option_literal(&meta, NAME_MSG)?;
            let Lit::Str(text) = lit else {
                return Err(Error::new_spanned(lit, NAME_MSG));
            };
            // `Builder::name` would panic on it at run time.
            if text.value().trim().is_empty() {
                return Err(Error::new_spanned(text, NAME_MSG));
            }
            options.name = Some(text.clone());
        } else {
            let name = path.to_token_stream().to_string().replace(' ', "");
            let msg = format!(
                "unknown option `{name}`; expected `flavor`, `worker_threads`, `start_paused`, \
                 `name` or `crate`"
            );
            return Err(Error::new_spanned(path, msg));
        }
    }
    let flavor = options.flavor.unwrap_or(kind.default_flavor());
    if let (Flavor::CurrentThread | Flavor::Local, Some(meta)) = (flavor, workers_meta) {
        let msg = format!(
            "the `worker_threads` option requires the `multi_thread` runtime flavor; use \
             `#[{}(flavor = \"multi_thread\")]`",
            kind.attr_name()
        );
        return Err(Error::new_spanned(meta, msg));
    }
    if let (Kind::Main, Flavor::Local, Some(name)) = (kind, flavor, &options.name) {
        // Refused since the option came in, when the facade could not install a named
        // `LocalRuntime` as the process default. The executor's `run_main_named` now can, so
        // this refusal may be lifted (with its row in `entry_tests.rs`).
        let msg = "`#[gort::main]` does not support the `name` option with `flavor = \"local\"`";
        return Err(Error::new_spanned(name, msg));
    }
    Ok(options)
}

/// Fails with "duplicate `name` option" if `seen`: the option in `meta` was already given, and
/// silently keeping either value would hide a mistake.
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

/// The literal of a `name = literal` option, or the error `msg` (which says what the option
/// requires) when it has another shape, such as a bare `name`, `name(..)` or `name = path`.
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
    // As in tokio, `#[gort::main]` may run any function on a fresh runtime, a method taking
    // `self` or a generic one included (the `async move` body captures the arguments); only
    // the program's `main` (which rustc calls without arguments) and a test (which the test
    // harness calls without arguments) must take none.
    let is_program_main = matches!(kind, Kind::Main) && sig.ident == "main";
    if matches!(kind, Kind::Main) && !is_program_main {
        return Ok(());
    }
    if !sig.inputs.is_empty() || sig.variadic.is_some() {
        let msg = format!("`#[{name}]` functions cannot take arguments");
        return Err(Error::new_spanned(&sig.inputs, msg));
    }
    let generics = &sig.generics;
    if !generics.params.is_empty() {
        let msg = format!("`#[{name}]` functions cannot have generic parameters");
        return Err(Error::new_spanned(generics, msg));
    }
    if let Some(clause) = &generics.where_clause {
        let msg = format!("`#[{name}]` functions cannot have a `where` clause");
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
#[path = "entry_tests.rs"]
mod tests;
