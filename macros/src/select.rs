//! `select!`'s expansion (the facade's `macro_rules! select` forwards here with its `$crate`).
//!
//! Input: `<crate path>; [biased;] case, case, ...` where a case is
//! `<pattern> = <future> [, if <precondition>] => <handler>`, `default => <handler>` (Go's:
//! runs when no case is ready right now) or `else => <handler>` (tokio's: runs when every case
//! is disabled). The expansion evaluates the preconditions, then the futures in order, and
//! hands the futures and one poll function for them to `gort_sync::select::Select`, whose
//! driver decides which case wins (atomically over channel operations; see `sync/src/select.rs`).
//!
//! ```ignore
//! // select! { v = rx.recv() => a(v), _ = sleep(d) => b() } expands to, roughly:
//! {
//!     enum __Out<_0, _1> { _0(_0), _1(_1) }
//!     let __enabled = enabled_mask([true, true]);
//!     match match (into_future(rx.recv()), into_future(sleep(d))) {
//!         __futures => Select::new(SelectDriver::<false, false>::new(__enabled), __futures,
//!             |__futures, __driver, cx| {
//!                 let (mut __future0, mut __future1) = /* pin-project the tuple's fields */;
//!                 __driver.poll(cx, |case, cx| match case {
//!                     0 => /* poll __future0; Ready(out) if it matches `v` */,
//!                     1 => /* ... */,
//!                 })
//!             }).await,
//!     } {
//!         Selected::Case(__Out::_0(v)) => a(v),
//!         Selected::Case(__Out::_1(_)) => b(),
//!         ...
//!     }
//! }
//! ```

use proc_macro2::{Span, TokenStream};
use quote::{format_ident, quote};
use syn::parse::{Parse, ParseStream};
use syn::{Expr, Pat, Path, Token};

/// One `pattern = future => handler` case.
struct Case {
    pattern: Pat,
    future: Expr,
    precondition: Option<Expr>,
    handler: Expr,
}

/// A parsed `select!` invocation.
struct Select {
    krate: Path,
    biased: bool,
    cases: Vec<Case>,
    default: Option<Expr>,
    otherwise: Option<Expr>,
}

impl Parse for Select {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        let krate: Path = input.parse()?;
        input.parse::<Token![;]>()?;
        let mut select = Select {
            krate,
            biased: false,
            cases: Vec::new(),
            default: None,
            otherwise: None,
        };
        if input.peek(syn::Ident) && input.fork().parse::<syn::Ident>()? == "biased" {
            let fork = input.fork();
            fork.parse::<syn::Ident>()?;
            if fork.peek(Token![;]) {
                input.parse::<syn::Ident>()?;
                input.parse::<Token![;]>()?;
                select.biased = true;
            }
        }
        while !input.is_empty() {
            if input.peek(Token![else]) && input.peek2(Token![=>]) {
                let keyword: Token![else] = input.parse()?;
                input.parse::<Token![=>]>()?;
                let handler = parse_handler(input)?;
                if select.otherwise.replace(handler).is_some() {
                    return Err(syn::Error::new(
                        keyword.span,
                        "select! has two `else` cases",
                    ));
                }
                continue;
            }
            if input.peek(Token![default]) && input.peek2(Token![=>]) {
                let keyword: Token![default] = input.parse()?;
                input.parse::<Token![=>]>()?;
                let handler = parse_handler(input)?;
                if select.default.replace(handler).is_some() {
                    return Err(syn::Error::new(
                        keyword.span,
                        "select! has two `default` cases",
                    ));
                }
                continue;
            }
            let pattern = Pat::parse_multi_with_leading_vert(input)?;
            input.parse::<Token![=]>()?;
            let future = Expr::parse_without_eager_brace(input)?;
            let precondition = if input.peek(Token![,]) && input.peek2(Token![if]) {
                input.parse::<Token![,]>()?;
                input.parse::<Token![if]>()?;
                Some(Expr::parse_without_eager_brace(input)?)
            } else {
                None
            };
            input.parse::<Token![=>]>()?;
            let handler = parse_handler(input)?;
            select.cases.push(Case {
                pattern,
                future,
                precondition,
                handler,
            });
        }
        if select.cases.is_empty() && select.otherwise.is_none() {
            return Err(syn::Error::new(
                Span::call_site(),
                "select! needs at least one `pattern = future => handler` case (or an `else`)",
            ));
        }
        if select.cases.len() > 64 {
            return Err(syn::Error::new(
                Span::call_site(),
                "select! supports at most 64 cases",
            ));
        }
        Ok(select)
    }
}

/// A handler: a block (comma optional) or an expression (comma required unless last).
fn parse_handler(input: ParseStream<'_>) -> syn::Result<Expr> {
    let is_block = input.peek(syn::token::Brace);
    let handler: Expr = input.parse()?;
    if input.peek(Token![,]) {
        input.parse::<Token![,]>()?;
    } else if !is_block && !input.is_empty() {
        return Err(input.error("expected `,` after a select! handler"));
    }
    Ok(handler)
}

/// Whether `pattern` matches every value (a binding or `_`): no mismatch check needed.
fn irrefutable(pattern: &Pat) -> bool {
    match pattern {
        Pat::Ident(ident) => ident.subpat.is_none(),
        Pat::Wild(_) => true,
        Pat::Type(typed) => irrefutable(&typed.pat),
        Pat::Paren(inner) => irrefutable(&inner.pat),
        _ => false,
    }
}

/// `pattern` with every binding made a plain by-value name (`mut x`, `ref x` and `ref mut x`
/// become `x`), for the mismatch check, which matches a `&` to the output: there default
/// binding modes bind each name by reference, whereas `mut x` would move out of the reference
/// and `ref mut x` would need a `&mut`. The handler still sees the pattern as written.
fn shared_ref_pattern(pattern: &Pat) -> Pat {
    let mut pattern = pattern.clone();
    strip_binding_modes(&mut pattern);
    pattern
}

fn strip_binding_modes(pattern: &mut Pat) {
    match pattern {
        Pat::Ident(ident) => {
            ident.by_ref = None;
            ident.mutability = None;
            if let Some((_, sub)) = &mut ident.subpat {
                strip_binding_modes(sub);
            }
        }
        Pat::Or(or) => or.cases.iter_mut().for_each(strip_binding_modes),
        Pat::Paren(paren) => strip_binding_modes(&mut paren.pat),
        Pat::Reference(reference) => strip_binding_modes(&mut reference.pat),
        Pat::Slice(slice) => slice.elems.iter_mut().for_each(strip_binding_modes),
        Pat::Struct(strukt) => strukt
            .fields
            .iter_mut()
            .for_each(|field| strip_binding_modes(&mut field.pat)),
        Pat::Tuple(tuple) => tuple.elems.iter_mut().for_each(strip_binding_modes),
        Pat::TupleStruct(tuple) => tuple.elems.iter_mut().for_each(strip_binding_modes),
        Pat::Type(typed) => strip_binding_modes(&mut typed.pat),
        _ => {}
    }
}

/// Expands a `select!` invocation.
pub(crate) fn expand(input: TokenStream) -> TokenStream {
    match syn::parse2::<Select>(input) {
        Ok(select) => generate(&select),
        Err(error) => error.to_compile_error(),
    }
}

fn generate(select: &Select) -> TokenStream {
    // Only `else` (and perhaps `default`): every case is disabled from the start, as tokio
    // treats it.
    if select.cases.is_empty() {
        let handler = select.otherwise.as_ref().expect("checked by the parser");
        return quote!({ #handler });
    }
    let krate = &select.krate;
    let private = quote!(#krate::__private::select);
    // Mixed-site hygiene: the expansion's locals cannot collide with the user's names in the
    // futures, preconditions and handlers.
    let local = |name: &str| format_ident!("{}", name, span = Span::mixed_site());
    let (enabled, futures, driver, cx, case_index, output, selected) = (
        local("__enabled"),
        local("__futures"),
        local("__driver"),
        local("__cx"),
        local("__case"),
        local("__output"),
        local("__selected"),
    );
    let count = select.cases.len();
    // The pinned field of each case's future.
    let pinned: Vec<_> = (0..count).map(|i| local(&format!("__future{i}"))).collect();
    let variants: Vec<_> = (0..count).map(|i| format_ident!("_{}", i)).collect();
    let indices: Vec<syn::Index> = (0..count).map(syn::Index::from).collect();
    let preconditions = select.cases.iter().map(|case| match &case.precondition {
        Some(condition) => quote!(#condition),
        None => quote!(true),
    });
    let exprs = select.cases.iter().map(|case| &case.future);
    let polls = select.cases.iter().enumerate().map(|(i, case)| {
        let variant = &variants[i];
        let future = &pinned[i];
        let ready = if irrefutable(&case.pattern) {
            quote!(#private::CasePoll::Ready(__Out::#variant(#output)))
        } else {
            let pattern = shared_ref_pattern(&case.pattern);
            quote! {
                #[allow(unused_variables, unreachable_patterns)]
                match &#output {
                    #pattern => #private::CasePoll::Ready(__Out::#variant(#output)),
                    _ => #private::CasePoll::Mismatch,
                }
            }
        };
        // `return` in the `Pending` arm (rather than a value) makes the output's type
        // variable meet a diverging one, so that a future whose output nothing else names
        // (`poll_fn(|_| panic!())` in a disabled case) falls back to `()`, as in tokio.
        quote! {
            // A case whose future never completes (output `!`) has an unreachable tail.
            #[allow(unreachable_code)]
            #i => {
                let #output = match ::core::future::Future::poll(#future.as_mut(), #cx) {
                    ::core::task::Poll::Ready(#output) => #output,
                    ::core::task::Poll::Pending => return #private::CasePoll::Pending,
                };
                #ready
            }
        }
    });
    let arms = select.cases.iter().enumerate().map(|(i, case)| {
        let variant = &variants[i];
        let pattern = &case.pattern;
        let handler = &case.handler;
        quote!(#private::Selected::Case(__Out::#variant(#pattern)) => { #handler })
    });
    let biased = select.biased;
    let has_default = select.default.is_some();
    let default_arm = match &select.default {
        Some(handler) => quote!(#private::Selected::Default => { #handler }),
        None => quote!(#private::Selected::Default => ::core::unreachable!()),
    };
    let else_arm = match &select.otherwise {
        Some(handler) => quote!(#private::Selected::AllDisabled => { #handler }),
        None => quote! {
            #private::Selected::AllDisabled => ::core::panic!(
                "all select! cases are disabled and there is no `else` case"
            )
        },
    };
    // The future expressions are the scrutinee of a `match`, so that temporaries in them
    // (`after(d).recv()` borrows the receiver `after` returns; `&mut ready(())`) live while
    // the select waits; in a `let` of their own they would be dropped at the end of that
    // statement. Each is turned into its future with `IntoFuture`, as tokio's are, and the
    // tuple moves whole into the `Select` future, the one thing the enclosing `async` frame
    // keeps across the `.await`. The `match` is the initialiser of `__selected`, so the
    // futures and those temporaries are dropped before the handler runs (tokio's order: a
    // handler may use what the futures borrowed) and never outlive the caller's locals, even
    // when the select is a block's tail expression.
    quote! {{
        #[allow(non_camel_case_types)]
        enum __Out<#(#variants,)*> { #(#variants(#variants),)* }
        let #enabled = #private::enabled_mask([#(#preconditions),*]);
        // `mut`: a handler's `ref mut` binding borrows the output in place.
        #[allow(unused_mut)]
        let mut #selected = match (
            #( ::core::future::IntoFuture::into_future(#exprs), )*
        ) {
            #futures => #private::Select::new(
                #private::SelectDriver::<#biased, #has_default>::new(#enabled),
                #futures,
                |#futures, #driver, #cx| {
                    // Projected once per poll (`Select`'s doc says why not per case).
                    // SAFETY: a field of the pinned tuple is pinned too: the select never
                    // moves the tuple or any of its fields.
                    #[allow(unused_mut)]
                    let (#(mut #pinned,)*) = unsafe {
                        let #futures = ::core::pin::Pin::get_unchecked_mut(#futures);
                        (#(::core::pin::Pin::new_unchecked(&mut #futures.#indices),)*)
                    };
                    #driver.poll(#cx, |#case_index, #cx| match #case_index {
                        #(#polls)*
                        _ => ::core::unreachable!(),
                    })
                },
            )
            .await,
        };
        #[allow(unreachable_patterns)]
        match #selected {
            #(#arms)*
            #default_arm,
            #else_arm,
            _ => ::core::unreachable!(),
        }
    }}
}

#[cfg(test)]
#[path = "select_tests.rs"]
mod tests;
