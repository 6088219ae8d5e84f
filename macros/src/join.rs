//! `join!` and `try_join!`'s expansion (the facade's `macro_rules!` forward here with their
//! `$crate`).
//!
//! Input: `<crate path>; [biased;] future, future, ...`. Each future is wrapped in the facade's
//! `MaybeDone` (built from anything `IntoFuture`) and pinned on the caller's stack, one local
//! each (no allocation, no `unsafe`), then a `poll_fn` polls every unfinished one on each
//! wake-up. Without `biased;` the first
//! future polled rotates by one per wake-up, so that a future that is always ready cannot starve
//! the ones after it of the coop budget (tokio does the same); with it they go in order.
//!
//! ```ignore
//! // join!(a, b) expands to, roughly:
//! {
//!     let mut __join_0 = pin!(MaybeDone::new(a));
//!     let mut __join_1 = pin!(MaybeDone::new(b));
//!     let mut __start = 0;
//!     poll_fn(move |cx| {
//!         let mut pending = false;
//!         for step in 0..2 {
//!             match (__start + step) % 2 {
//!                 0 => pending |= __join_0.as_mut().poll_done(cx).is_pending(),
//!                 _ => pending |= __join_1.as_mut().poll_done(cx).is_pending(),
//!             }
//!         }
//!         __start = (__start + 1) % 2;
//!         if pending { Pending } else { Ready((__join_0.take(), __join_1.take())) }
//!     }).await
//! }
//! ```
//!
//! `try_join!` is the same over `TryMaybeDone`, which keeps only a future's `Ok` value: a future
//! finishing with `Err` ends the whole join at once with that error (the other futures are
//! dropped with the join). Not storing the `Result` lets the slot share the future's niche, so
//! the join's future is as small as tokio's (tokio's tests assert `size_of`). With `biased;` the
//! closure captures no rotation counter, for the same reason.
//!
//! Each argument may be anything `IntoFuture`, as in tokio.

use proc_macro2::{Span, TokenStream};
use quote::{format_ident, quote};
use syn::parse::{Parse, ParseStream};
use syn::punctuated::Punctuated;
use syn::{Expr, Path, Token};

/// A parsed `join!`/`try_join!` invocation.
struct Join {
    krate: Path,
    biased: bool,
    futures: Vec<Expr>,
}

impl Parse for Join {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        let krate: Path = input.parse()?;
        input.parse::<Token![;]>()?;
        let mut biased = false;
        if input.peek(syn::Ident) && input.peek2(Token![;]) {
            let fork = input.fork();
            if fork.parse::<syn::Ident>()? == "biased" {
                input.parse::<syn::Ident>()?;
                input.parse::<Token![;]>()?;
                biased = true;
            }
        }
        let futures = Punctuated::<Expr, Token![,]>::parse_terminated(input)?;
        Ok(Join {
            krate,
            biased,
            futures: futures.into_iter().collect(),
        })
    }
}

/// Expands `join!` (`fallible == false`) or `try_join!` (`fallible == true`).
pub fn expand(input: TokenStream, fallible: bool) -> TokenStream {
    match syn::parse2::<Join>(input) {
        Ok(join) => generate(&join, fallible),
        Err(err) => err.to_compile_error(),
    }
}

fn generate(join: &Join, fallible: bool) -> TokenStream {
    let krate = &join.krate;
    let count = join.futures.len();
    if count == 0 {
        return if fallible {
            quote!(::core::result::Result::<(), _>::Ok(()))
        } else {
            quote!(())
        };
    }
    // Mixed-site hygiene: the locals cannot collide with the user's names inside the futures.
    let slots: Vec<_> = (0..count)
        .map(|i| format_ident!("__gort_join_{}", i, span = Span::mixed_site()))
        .collect();
    let start = format_ident!("__gort_join_start", span = Span::mixed_site());
    let cx = format_ident!("__gort_join_cx", span = Span::mixed_site());
    let pending = format_ident!("__gort_join_pending", span = Span::mixed_site());
    let futures = &join.futures;
    let slot_type = if fallible {
        quote!(TryMaybeDone)
    } else {
        quote!(MaybeDone)
    };
    let pins = quote! {
        #( let mut #slots = ::core::pin::pin!(#krate::__private::#slot_type::new(#futures)); )*
    };
    let indices = 0..count;
    let polls = slots.iter().map(|slot| {
        if fallible {
            quote! {
                match #slot.as_mut().poll_ok(#cx) {
                    ::core::task::Poll::Pending => #pending = true,
                    ::core::task::Poll::Ready(::core::result::Result::Ok(())) => {}
                    ::core::task::Poll::Ready(::core::result::Result::Err(err)) => {
                        return ::core::task::Poll::Ready(::core::result::Result::Err(err));
                    }
                }
            }
        } else {
            quote! {
                if #slot.as_mut().poll_done(#cx).is_pending() {
                    #pending = true;
                }
            }
        }
    });
    let outputs = if fallible {
        quote!(::core::result::Result::Ok(( #( #slots.as_mut().take_ok(), )* )))
    } else {
        quote!(( #( #slots.as_mut().take_output(), )* ))
    };
    // `biased;` has no rotation state at all: the closure captures only the slots, which keeps
    // the join's future as small as tokio's.
    let (start_binding, first, rotate) = if join.biased {
        (quote!(), quote!(0usize), quote!())
    } else {
        (
            quote!(let mut #start: u32 = 0;),
            quote!(#start as usize),
            quote!(#start = if #start as usize + 1 == #count { 0 } else { #start + 1 };),
        )
    };
    quote! {{
        #pins
        #start_binding
        ::core::future::poll_fn(move |#cx: &mut ::core::task::Context<'_>| {
            let mut #pending = false;
            for step in 0..#count {
                let index = #first + step;
                let index = if index >= #count { index - #count } else { index };
                match index {
                    #( #indices => { #polls } )*
                    _ => ::core::unreachable!(),
                }
            }
            #rotate
            if #pending {
                ::core::task::Poll::Pending
            } else {
                // An uninhabited output type makes the tuple unreachable, which is no
                // concern of the caller's.
                #[allow(unreachable_code)]
                {
                    ::core::task::Poll::Ready(#outputs)
                }
            }
        })
        .await
    }}
}
