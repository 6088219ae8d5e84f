"""Reading tokio's test files without compiling them: cfg predicates, test counts, the rename
`tokio::` -> `gort::` and the names a file imports from gort."""

import re
import subprocess
from collections import defaultdict


def host_cfg(features):
    """The host's cfg values (`rustc --print cfg`) with `features` on, for evaluating the
    files' `#![cfg(..)]` and `cfg_attr`s."""
    out = subprocess.run(["rustc", "--print", "cfg"], capture_output=True, text=True,
                         check=True).stdout
    flags, pairs = set(), defaultdict(set)
    for line in out.splitlines():
        if "=" in line:
            k, v = line.split("=", 1)
            pairs[k].add(v.strip('"'))
        else:
            flags.add(line)
    pairs["feature"] = set(features)
    flags.add("test")
    return flags, pairs


# ---------------------------------------------------------------------------------------------
# cfg predicates

def tokenize_cfg(text):
    return re.findall(r'"(?:[^"\\]|\\.)*"|[A-Za-z_][A-Za-z0-9_]*|[(),=]', text)


def eval_cfg(text, cfg):
    """Evaluates a cfg predicate (`any(unix, feature = "x")`); unknown names are false."""
    flags, pairs = cfg
    toks = tokenize_cfg(text)
    pos = 0

    def pred():
        nonlocal pos
        name = toks[pos]
        pos += 1
        if pos < len(toks) and toks[pos] == "(" and name in ("any", "all", "not"):
            pos += 1
            args = []
            while toks[pos] != ")":
                args.append(pred())
                if toks[pos] == ",":
                    pos += 1
            pos += 1
            if name == "any":
                return any(args)
            if name == "all":
                return all(args)
            return not args[0]
        if pos < len(toks) and toks[pos] == "=":
            value = toks[pos + 1].strip('"')
            pos += 2
            return value in pairs.get(name, ())
        return name in flags

    return pred()


def balanced(text, start):
    """Index just past the bracket group opening at text[start]."""
    opener = text[start]
    closer = {"(": ")", "[": "]", "{": "}"}[opener]
    depth, i = 0, start
    while i < len(text):
        c = text[i]
        if c == '"':
            i += 1
            while text[i] != '"':
                i += 2 if text[i] == "\\" else 1
        elif c == opener:
            depth += 1
        elif c == closer:
            depth -= 1
            if depth == 0:
                return i + 1
        i += 1
    return len(text)


def strip_comments(src):
    src = re.sub(r"/\*.*?\*/", "", src, flags=re.S)
    return re.sub(r"//[^\n]*", "", src)


def file_cfgs(src):
    """The predicates of the crate-level `#![cfg(..)]` attributes."""
    text = strip_comments(src)
    out = []
    for m in re.finditer(r"#!\[\s*cfg\s*\(", text):
        end = balanced(text, m.end() - 1)
        out.append(" ".join(text[m.end():end - 1].split()))
    return out


def static_test_count(src, cfg):
    """Test functions the file declares, counted in its text (macro-generated copies count
    once): `#[test]`, `#[tokio::test..]`, `#[maybe_tokio_test]` and `cfg_attr(true, test)`."""
    text = strip_comments(src)
    count = 0
    for m in re.finditer(r"#\[", text):
        end = balanced(text, m.end() - 1)
        attr = " ".join(text[m.end():end - 1].split())
        if re.match(r"(::)?(\w+::)*(test|maybe_tokio_test)\b", attr):
            count += 1
        elif attr.startswith("cfg_attr"):
            inner = attr[attr.index("(") + 1:attr.rindex(")")]
            # cfg_attr(pred, attr): split at the top-level comma.
            depth = 0
            for i, c in enumerate(inner):
                depth += c == "("
                depth -= c == ")"
                if c == "," and depth == 0:
                    pred, what = inner[:i], inner[i + 1:].strip()
                    if re.match(r"(::)?(\w+::)*test\b", what) and eval_cfg(pred, cfg):
                        count += 1
                    break
    return count


# ---------------------------------------------------------------------------------------------
# the rename

def rename(src):
    """tokio's paths to gort's; tokio_test::, tokio_stream::, tokio_util:: stay."""
    s = re.sub(r"\bextern\s+crate\s+tokio\b", "extern crate gort", src)
    s = re.sub(r'(\bcrate\s*=\s*")([^"]*)(")',
               lambda m: m[1] + re.sub(r"\btokio\b", "gort", m[2]) + m[3], s)
    s = re.sub(r"\btokio::", "gort::", s)
    s = re.sub(r"::tokio\b", "::gort", s)
    s = re.sub(r"\buse\s+tokio\b", "use gort", s)
    s = re.sub(r"\bas\s+tokio\b", "as gort", s)
    return s


def use_map(src):
    """Local name -> full path, from the file's `use gort::..` statements (use trees)."""
    mapping = {}
    text = strip_comments(src)

    def walk(prefix, tree):
        tree = tree.strip()
        if not tree:
            return
        if tree.startswith("{"):
            body = tree[1:tree.rindex("}")]
            depth, start = 0, 0
            for i, c in enumerate(body + ","):
                depth += c == "{"
                depth -= c == "}"
                if c == "," and depth == 0:
                    walk(prefix, body[start:i])
                    start = i + 1
            return
        m = re.match(r"((?:\w+::)*)(\{.*\}|\w+|\*)(?:\s+as\s+(\w+))?$", tree, re.S)
        if not m:
            return
        head = [p for p in m[1].split("::") if p]
        last = m[2]
        if last.startswith("{"):
            walk(prefix + head, last)
        elif last == "self":
            if prefix + head:
                mapping[m[3] or (prefix + head)[-1]] = "::".join(prefix + head)
        elif last != "*":
            mapping[m[3] or last] = "::".join(prefix + head + [last])

    for m in re.finditer(r"\buse\s+(::)?gort::([^;]*);", text, re.S):
        walk(["gort"], " ".join(m[2].split()))
    return mapping
