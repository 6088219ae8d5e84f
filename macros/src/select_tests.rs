//! The tables of `select!`'s pattern handling and expansion shape.

use super::{expand, irrefutable, shared_ref_pattern};
use quote::ToTokens;
use syn::Pat;

/// Token text with all whitespace removed, so comparisons ignore spacing.
fn squash(text: &str) -> String {
    text.chars().filter(|c| !c.is_whitespace()).collect()
}

fn pattern(text: &str) -> Pat {
    syn::parse::Parser::parse_str(Pat::parse_multi_with_leading_vert, text).unwrap()
}

/// (pattern, the pattern the mismatch check uses, whether no check is needed)
#[test]
fn pattern_table() {
    let cases: &[(&str, &str, bool)] = &[
        ("x", "x", true),
        ("mut x", "x", true),
        ("_", "_", true),
        ("(x)", "(x)", true),
        ("Some(mut x)", "Some(x)", false),
        ("Some(ref x)", "Some(x)", false),
        ("Some(ref mut x)", "Some(x)", false),
        ("(Some(ref mut a), mut b)", "(Some(a), b)", false),
        ("n @ 1..=9", "n @ 1..=9", false),
        ("ref mut n @ Some(mut m)", "n @ Some(m)", false),
        ("S { a: ref mut a, mut b, .. }", "S { a: a, b, .. }", false),
        ("[first, ref rest @ ..]", "[first, rest @ ..]", false),
        ("Ok(mut v) | Err(mut v)", "Ok(v) | Err(v)", false),
        ("&mut x", "&mut x", false),
        ("Some(_)", "Some(_)", false),
        ("()", "()", false),
    ];
    for (written, checked, no_check) in cases {
        let pat = pattern(written);
        let cleaned = shared_ref_pattern(&pat).to_token_stream().to_string();
        assert_eq!(
            squash(&cleaned),
            squash(checked),
            "the check pattern of `{written}`"
        );
        assert_eq!(
            irrefutable(&pat),
            *no_check,
            "whether `{written}` needs a check"
        );
    }
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
    let cases: &[(&str, Expect)] = &[
        // Each future goes through `IntoFuture`.
        (
            "k; v = f() => v",
            Ok(&["::core::future::IntoFuture::into_future(f())"]),
        ),
        // The handler sees the pattern as written; the check a cleaned copy.
        (
            "k; Some(mut v) = f() => v",
            Ok(&["match&__output{Some(v)=>", "__Out::_0(Some(mutv)))=>{v}"]),
        ),
        (
            "k; biased; a = f() => a, b = g() => b",
            Ok(&[
                "SelectDriver::<true,false>::new(__enabled)",
                "into_future(g())",
            ]),
        ),
        (
            "k; a = f(), if ok => a, default => 0",
            Ok(&[
                "enabled_mask([ok])",
                "SelectDriver::<false,true>::new(__enabled)",
            ]),
        ),
        ("k; else => 1", Ok(&["{1}"])),
        ("k; biased; else => 1", Ok(&["{1}"])),
        // Errors.
        ("k;", Err("needs at least one")),
        (
            "k; a = f() => a, else => 1, else => 2",
            Err("two `else` cases"),
        ),
        (
            "k; a = f() => a, default => 1, default => 2",
            Err("two `default` cases"),
        ),
        (
            "k; a = f() => a b = g() => b",
            Err("expected `,` after a select! handler"),
        ),
    ];
    for (input, expect) in cases {
        let output = expand(input.parse().unwrap());
        let text = squash(&output.to_string());
        match expect {
            Ok(fragments) => {
                assert!(!text.contains("compile_error"), "`{input}`: {text}");
                for fragment in *fragments {
                    assert!(
                        text.contains(&squash(fragment)),
                        "`{input}`: `{text}` lacks `{fragment}`"
                    );
                }
            }
            Err(msg) => assert!(
                text.contains("compile_error") && text.contains(&squash(msg)),
                "`{input}`: `{text}` lacks `{msg}`"
            ),
        }
    }
    // 64 cases are accepted, 65 are not (tokio's limit).
    let many = |n: usize| {
        let cases: Vec<String> = (0..n).map(|i| format!("x{i} = f() => x{i}")).collect();
        expand(format!("k; {}", cases.join(", ")).parse().unwrap()).to_string()
    };
    assert!(!many(64).contains("compile_error"));
    assert!(many(65).contains("at most 64 cases"));
}
