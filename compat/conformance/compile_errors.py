"""Turning rustc's JSON diagnostics into keys that group across files: `missing: gort::sync::mpsc`
for every way of not finding it (unresolved import, failed path, unknown method), rustc's message
otherwise."""

import re
from collections import Counter


def path_at(span):
    """The path written at a span: `gort::sync::mpsc` for the `mpsc` of
    `gort::sync::mpsc::channel`."""
    if not span.get("text"):
        return None
    t = span["text"][0]
    line, lo, hi = t["text"], t["highlight_start"] - 1, t["highlight_end"] - 1
    start = lo
    while start > 0 and re.match(r"[\w:]", line[start - 1]):
        start -= 1
    path = line[start:hi].strip(":")
    return path if re.fullmatch(r"(\w+::)*\w+", path or "") else None


def qualify(path, uses):
    if not path:
        return None
    first, _, rest = path.partition("::")
    if first == "gort":
        return path
    if first in uses:
        return uses[first] + ("::" + rest if rest else "")
    return None


def simplify_type(t):
    t = re.sub(r"\{(closure|async block|async closure body)@[^}]*\}", r"{\1}", t)
    t = re.sub(r"'\w+\s*", "", t)
    return t


def type_base(ty):
    """`Runtime` for `Arc<gort::runtime::Runtime>`: the type a method is looked up on, without
    references and smart pointers, generics or path."""
    ty = ty.strip()
    while True:
        m = re.fullmatch(r"&\s*(?:mut\s+)?(.*)", ty) or \
            re.fullmatch(r"(?:\w+::)*(?:Arc|Rc|Box|Pin)<(.*)>", ty)
        if not m:
            break
        ty = m[1].strip()
    return re.sub(r"<.*", "", ty).split("::")[-1]


def error_key(msg, uses):
    """What an error says is missing or wrong, in a form that groups across files."""
    code = (msg.get("code") or {}).get("code")
    text = msg["message"]
    primary = next((s for s in msg.get("spans", []) if s.get("is_primary")), None)
    ticks = re.findall(r"`([^`]*)`", text)
    if code == "E0432":
        # One key per unresolved path; rustc names them all in the message.
        keys = dict.fromkeys("missing: " + (qualify(p, uses) or p) for p in ticks)
        return list(keys) or ["E0432: " + text]
    if code in ("E0433", "E0425", "E0412", "E0405", "E0422", "E0423", "E0531", "E0532"):
        path = qualify(path_at(primary) if primary else None, uses)
        if path:
            return ["missing: " + path]
        m = re.search(r"`(\w+)` in (?:module|crate) `([\w:]+)`", text)
        if m:
            return ["missing: " + (qualify(m[2], uses) or m[2]) + "::" + m[1]]
        return [f"{code}: {text}"]
    if code == "E0599":
        m = re.match(r"no (method|function or associated item|associated item|variant or "
                     r"associated item) named `(\w+)` found for (?:\w+ )*`([^`]*)`", text)
        if m:
            base = type_base(simplify_type(m[3]))
            return [f"missing: {base}::{m[2]}" + ("()" if m[1] == "method" else "")]
    if code == "E0603":
        return ["private: " + text]
    key = f"{code or 'error'}: " + simplify_type(text)
    site = macro_call_site(primary)
    return [key + (f" in `{site}`" if site else "")]


def macro_call_site(span):
    """The short macro invocation an error's span was expanded from, if any: the assertion
    (`assert_value!(T: Send & !Sync)`) that a generic error inside the macro is about. Long
    invocations (a macro wrapping a whole module of tests) tell nothing."""
    if not span or not span.get("expansion"):
        return None
    while span.get("expansion"):
        if not span["expansion"].get("macro_decl_name", "").endswith("!"):
            return None  # a desugaring (`.await`, `?`), not a macro invocation
        span = span["expansion"]["span"]
    lines = span.get("text") or []
    if not lines or len(lines) > 6:
        return None
    parts = []
    for i, t in enumerate(lines):
        lo = t["highlight_start"] - 1 if i == 0 else 0
        hi = t["highlight_end"] - 1 if i == len(lines) - 1 else len(t["text"])
        parts.append(t["text"][lo:hi])
    site = " ".join(" ".join(parts).split()).rstrip(";")
    return re.sub(r"([(<]) ", r"\1", re.sub(r",? ([)>])", r"\1", site))


REAL_TOKIO = "harness limit (a real-tokio type from tokio-test/tokio-stream): "


# The types tokio-test and tokio-stream hand a test that carry the real tokio's traits or wrap
# the real tokio's types.
TOKIO_SIDE_TYPES = {
    "Mock", "Handle", "Builder", "StreamMock", "ReceiverStream", "UnboundedReceiverStream",
    "BroadcastStream", "WatchStream", "IntervalStream", "TcpListenerStream",
    "UnixListenerStream", "ReadDirStream", "SignalStream", "CtrlCStream", "LinesStream",
    "SplitStream",
}


def mentions_real_tokio(msg):
    """Whether the error is about a real-tokio type that tokio-test or tokio-stream gave the
    test. rustc's "`X` implements similarly named trait `tokio::..`" note counts only when `X`
    is one of theirs (std's `Cursor` implements the real tokio's traits too, and gort lacking
    them is no harness limit); otherwise a `tokio::` path in the message, labels or notes
    (expected `tokio::sync::mpsc::Receiver`, found gort's). Help suggestions to import a tokio
    trait do not count: those are gort lacking the item."""
    texts = [msg["message"]] + [s.get("label") or "" for s in msg.get("spans", [])]
    texts += [c["message"] for c in msg.get("children", []) if c.get("level") != "help"]
    for t in texts:
        m = re.search(r"`([^`]+)` implements similarly named trait `tokio::", t)
        if m:
            return type_base(m[1]) in TOKIO_SIDE_TYPES
    return any(re.search(r"\btokio::", t) for t in texts)


def error_summary(messages, uses):
    """Error keys and their counts. The renamed files name no `tokio::` path, so an error whose
    text does comes from a real-tokio type that tokio-test or tokio-stream handed the test
    (`tokio_test::io::Mock`, `ReceiverStream`): a limit of the harness until those crates run on
    the shim, tagged so."""
    keys = Counter()
    for m in messages:
        real = mentions_real_tokio(m)
        for k in error_key(m, uses):
            keys[(REAL_TOKIO if real else "") + k] += 1
    return keys
