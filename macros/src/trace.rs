//! `#[derive(Trace)]`: reports every field's handles (`gort_gc::Trace`).
//!
//! For a struct, every field is traced; for an enum, the fields of the variant the value is.
//! `NEEDS_TRACE` is true if any traced field's type needs tracing. A field marked
//! `#[trace(skip)]` is not traced (always safe: its handles stay roots). Type parameters get a
//! `Trace` bound. The expansion names the trait through the facade, `::gort::gc::Trace`.

use proc_macro2::TokenStream;
use quote::{format_ident, quote};
use syn::{parse_quote, Data, DeriveInput, Fields};

/// Expands `#[derive(Trace)]` on `input`.
pub(crate) fn expand(input: TokenStream) -> TokenStream {
    match syn::parse2::<DeriveInput>(input).and_then(|input| generate(&input)) {
        Ok(tokens) => tokens,
        Err(error) => error.to_compile_error(),
    }
}

/// Whether a field carries `#[trace(skip)]` (errors on anything else inside `#[trace(..)]`).
fn skipped(field: &syn::Field) -> syn::Result<bool> {
    let mut skip = false;
    for attribute in &field.attrs {
        if !attribute.path().is_ident("trace") {
            continue;
        }
        attribute.parse_nested_meta(|meta| {
            if meta.path.is_ident("skip") {
                skip = true;
                Ok(())
            } else {
                Err(meta.error("expected `#[trace(skip)]`"))
            }
        })?;
    }
    Ok(skip)
}

/// The traced fields of `fields`: their types, and the patterns that bind them.
fn traced(fields: &Fields) -> syn::Result<(Vec<syn::Type>, TokenStream, Vec<syn::Ident>)> {
    let mut types = Vec::new();
    let mut bindings = Vec::new();
    let pattern = match fields {
        Fields::Named(named) => {
            let mut parts = Vec::new();
            for field in &named.named {
                let name = field.ident.clone().expect("named field");
                if skipped(field)? {
                    continue;
                }
                let binding = format_ident!("__field_{}", name);
                parts.push(quote!(#name: #binding));
                types.push(field.ty.clone());
                bindings.push(binding);
            }
            quote!({ #(#parts,)* .. })
        }
        Fields::Unnamed(unnamed) => {
            let mut parts = Vec::new();
            for (i, field) in unnamed.unnamed.iter().enumerate() {
                let binding = format_ident!("__field_{}", i);
                if skipped(field)? {
                    parts.push(quote!(_));
                    continue;
                }
                parts.push(quote!(#binding));
                types.push(field.ty.clone());
                bindings.push(binding);
            }
            quote!(( #(#parts,)* ))
        }
        Fields::Unit => quote!(),
    };
    Ok((types, pattern, bindings))
}

fn generate(input: &DeriveInput) -> syn::Result<TokenStream> {
    let name = &input.ident;
    let mut generics = input.generics.clone();
    for parameter in generics.type_params_mut() {
        parameter.bounds.push(parse_quote!(::gort::gc::Trace));
    }
    let (impl_generics, type_generics, where_clause) = generics.split_for_impl();
    let mut all_types = Vec::new();
    let body = match &input.data {
        Data::Struct(data) => {
            let (types, pattern, bindings) = traced(&data.fields)?;
            all_types.extend(types);
            quote! {
                let #name #pattern = self;
                #(::gort::gc::Trace::trace(#bindings, __visitor);)*
            }
        }
        Data::Enum(data) => {
            let mut arms = Vec::new();
            for variant in &data.variants {
                let variant_name = &variant.ident;
                let (types, pattern, bindings) = traced(&variant.fields)?;
                all_types.extend(types);
                arms.push(quote! {
                    #name::#variant_name #pattern => {
                        #(::gort::gc::Trace::trace(#bindings, __visitor);)*
                    }
                });
            }
            quote! {
                #[allow(unreachable_patterns)]
                match self {
                    #(#arms)*
                    _ => {}
                }
            }
        }
        Data::Union(data) => {
            return Err(syn::Error::new(
                data.union_token.span,
                "#[derive(Trace)] cannot see which field of a union is live",
            ))
        }
    };
    Ok(quote! {
        // SAFETY: reports each traced field's handles once; the value owns its fields.
        unsafe impl #impl_generics ::gort::gc::Trace for #name #type_generics #where_clause {
            const NEEDS_TRACE: bool = false #(|| <#all_types as ::gort::gc::Trace>::NEEDS_TRACE)*;

            #[allow(unused_variables)]
            fn trace(&self, __visitor: &mut dyn ::gort::gc::Visitor) {
                #body
            }
        }
    })
}
