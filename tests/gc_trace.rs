//! `#[derive(gort::gc::Trace)]`: every traced field's handles are reported once, skipped fields
//! and shared containers are not, enums report the live variant's, generics get bounds, and
//! `NEEDS_TRACE` is false for types that cannot hold a handle.

mod common;

use std::collections::HashMap;
use std::sync::Arc;

use gort::gc::{Edge, Gc, Trace, Visitor};

#[derive(Default)]
struct Record(Vec<Edge>);

impl Visitor for Record {
    fn visit(&mut self, edge: Edge) {
        self.0.push(edge);
    }
}

fn edges(value: &impl Trace) -> Vec<Edge> {
    let mut record = Record::default();
    value.trace(&mut record);
    record.0.sort();
    record.0
}

fn edge<T>(gc: &Gc<T>) -> Edge {
    Edge::to(gc)
}

#[derive(gort::gc::Trace)]
struct Node {
    name: String,
    next: Option<Gc<u32>>,
    children: Vec<Gc<u32>>,
    #[trace(skip)]
    skipped: Gc<u32>,
    shared: Arc<Gc<u32>>,
}

#[derive(gort::gc::Trace)]
enum Shape {
    Empty,
    One(Gc<u32>),
    Two { left: Gc<u32>, right: Gc<u32> },
}

#[derive(gort::gc::Trace)]
struct Pair<T>(T, u8);

#[derive(gort::gc::Trace)]
struct Plain {
    count: u64,
    names: HashMap<String, Vec<u8>>,
}

#[test]
fn a_struct_reports_each_traced_handle_once() {
    let (a, b, c, d, e) = (Gc::new(1), Gc::new(2), Gc::new(3), Gc::new(4), Gc::new(5));
    let node = Node {
        name: "n".into(),
        next: Some(a.clone()),
        children: vec![b.clone(), c.clone()],
        skipped: d.clone(),
        shared: Arc::new(e.clone()),
    };
    let mut expected = vec![edge(&a), edge(&b), edge(&c)];
    expected.sort();
    assert_eq!(edges(&node), expected, "skip and Arc are not traced");
    assert_eq!(node.name, "n");
    assert!(Gc::ptr_eq(&node.skipped, &d) && Gc::ptr_eq(&node.shared, &e));
    const { assert!(<Node as Trace>::NEEDS_TRACE) };
}

#[test]
fn an_enum_reports_the_live_variants_handles() {
    let (a, b) = (Gc::new(1), Gc::new(2));
    assert!(edges(&Shape::Empty).is_empty());
    assert_eq!(edges(&Shape::One(a.clone())), vec![edge(&a)]);
    let mut expected = vec![edge(&a), edge(&b)];
    expected.sort();
    assert_eq!(
        edges(&Shape::Two {
            left: a.clone(),
            right: b.clone()
        }),
        expected
    );
}

#[test]
fn generics_and_plain_types() {
    let a = Gc::new(1);
    assert_eq!(edges(&Pair(a.clone(), 0)), vec![edge(&a)]);
    const { assert!(<Pair<Gc<u32>> as Trace>::NEEDS_TRACE) };
    const { assert!(!<Pair<u32> as Trace>::NEEDS_TRACE) };
    const { assert!(!<Plain as Trace>::NEEDS_TRACE) };
    let plain = Plain {
        count: 1,
        names: HashMap::new(),
    };
    assert!(edges(&plain).is_empty());
    assert_eq!(plain.count, 1);
}

/// A value whose `Trace` panics (breaking the trait's contract).
struct PanicsWhenTraced(gort::gc::GcCell<Option<Gc<PanicsWhenTraced>>>);

// SAFETY: reports nothing it does not own: it reports nothing at all, it panics.
unsafe impl Trace for PanicsWhenTraced {
    fn trace(&self, _: &mut dyn Visitor) {
        panic!("a broken Trace implementation");
    }
}

/// A `Trace` implementation that panics during a collection (the world stopped, every other
/// thread waiting) ends the process with a message saying why, rather than unwinding into the
/// caller with the world still stopped. The test runs itself in a child process.
#[test]
fn a_trace_that_panics_aborts_with_a_message() {
    const CHILD: &str = "GORT_TEST_PANICKING_TRACE";
    if std::env::var_os(CHILD).is_some() {
        let object = Gc::new(PanicsWhenTraced(gort::gc::GcCell::new(None)));
        object.0.set(Some(object.clone()));
        drop(object);
        gort::gc::collect();
        return;
    }
    let child = common::run_in_child("a_trace_that_panics_aborts_with_a_message", &[(CHILD, "1")]);
    assert!(!child.succeeded, "the child went on: {}", child.stderr);
    assert!(
        child
            .stderr
            .contains("gort: a `Trace` implementation panicked while the world was stopped"),
        "{}",
        child.stderr
    );
}
