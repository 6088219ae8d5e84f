//! `Trace`: how the collector sees the handles an object holds.
//!
//! The collector (`collector.rs`) finds roots by "refcount minus internal references" (trial
//! deletion): an object whose count exceeds the edges found by tracing the other objects is held
//! from outside the arena (a future, a stack, a global) and is a root. That makes one direction
//! of error fatal and the other harmless:
//!
//! - **Reporting an edge that is not there** (or one edge twice) makes an outside handle look
//!   internal, and the collector could free an object that is still in use. Hence `unsafe`.
//! - **Not reporting an edge** leaves the count unexplained, so the object stays a root: a
//!   cycle through it is not reclaimed, but nothing is freed wrongly. This is why shared
//!   containers (`Arc`, `Rc`, `Mutex`) are opaque here: a `Gc` behind an `Arc` may be reachable
//!   through several owners, and counting it once per owner would over-report.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet, VecDeque};
use std::ptr::NonNull;
use std::sync::Arc;

use crate::gc::Gc;
use crate::object::Header;

/// One reference from a traced value to an arena object.
///
/// It keeps the object's pointer, not just its address, so the collector can turn an edge back
/// into the object under strict provenance (Miri checks this).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Edge {
    object: NonNull<Header>,
}

// SAFETY: an edge is only a name for an object; only the collector dereferences it, and only
// while the handle it was made from keeps the object alive.
unsafe impl Send for Edge {}
// SAFETY: as above.
unsafe impl Sync for Edge {}

impl Edge {
    /// The edge to the object `handle` points to.
    pub fn to<T>(handle: &Gc<T>) -> Edge {
        Edge {
            object: Gc::header_ptr(handle),
        }
    }

    /// The object's address, as [`Gc::addr`] gives it.
    pub fn addr(self) -> usize {
        self.object.as_ptr().addr()
    }

    /// The object's header.
    pub(crate) fn header(self) -> NonNull<Header> {
        self.object
    }
}

/// Receives the edges a value reports.
pub trait Visitor {
    /// One `Gc` held by the value being traced.
    fn visit(&mut self, edge: Edge);

    /// A waker held on behalf of a waiting task (a channel's wait queue). `holder` names the
    /// place it is held in: reports with the same holder are one waker (a `select!` parked on
    /// several channels shares one). `reason` says what the task waits for, as Go names it
    /// (`chan receive`, `chan send`, `select`).
    fn visit_waker(&mut self, holder: usize, waker: &std::task::Waker, reason: &'static str) {
        let _ = (holder, waker, reason);
    }
}

/// A value the collector can look inside (module doc). Derive it with `#[derive(Trace)]`.
///
/// # Safety
///
/// `trace` must report each `Gc` the value owns at most once, and no `Gc` it does not own
/// (directly, or through fields it owns exclusively). Reporting fewer is always safe.
///
/// `trace` runs while the world is stopped for a collection: it must not panic, block or
/// touch other arena objects' handles. A panic there aborts the process.
pub unsafe trait Trace {
    /// Whether a value of this type can hold a `Gc` at all. The collector never looks inside a
    /// type where this is `false` (a `chan![u64]` costs nothing to collect).
    const NEEDS_TRACE: bool = true;

    /// Reports the `Gc`s this value holds to `visitor`.
    fn trace(&self, visitor: &mut dyn Visitor);
}

// SAFETY: reports exactly the handle itself.
unsafe impl<T> Trace for Gc<T> {
    fn trace(&self, visitor: &mut dyn Visitor) {
        visitor.visit(Edge::to(self));
    }
}

/// Traces each of `items` (the elements a container owns), unless their type cannot hold a
/// `Gc`: then the container is not walked at all.
fn trace_each<'a, T: Trace + ?Sized + 'a>(
    items: impl IntoIterator<Item = &'a T>,
    visitor: &mut dyn Visitor,
) {
    if T::NEEDS_TRACE {
        items.into_iter().for_each(|item| item.trace(visitor));
    }
}

/// Types that hold no `Gc`: nothing to report.
macro_rules! leaf {
    ($($t:ty),* $(,)?) => {$(
        // SAFETY: reports nothing, which is always allowed.
        unsafe impl Trace for $t {
            const NEEDS_TRACE: bool = false;
            fn trace(&self, _: &mut dyn Visitor) {}
        }
    )*};
}

leaf!(
    (),
    bool,
    char,
    u8,
    u16,
    u32,
    u64,
    u128,
    usize,
    i8,
    i16,
    i32,
    i64,
    i128,
    isize,
    f32,
    f64,
    String,
    str,
    std::time::Duration,
    std::time::Instant,
);

// SAFETY: reports nothing.
unsafe impl<T: ?Sized> Trace for &'static T {
    const NEEDS_TRACE: bool = false;
    fn trace(&self, _: &mut dyn Visitor) {}
}

// Shared ownership is opaque (module doc): reporting a `Gc` behind an `Arc` once per owner
// would over-report. SAFETY: reports nothing.
unsafe impl<T: ?Sized> Trace for Arc<T> {
    const NEEDS_TRACE: bool = false;
    fn trace(&self, _: &mut dyn Visitor) {}
}

// SAFETY: reports nothing; a locked value may be mutated meanwhile, and is opaque.
unsafe impl<T: ?Sized> Trace for std::sync::Mutex<T> {
    const NEEDS_TRACE: bool = false;
    fn trace(&self, _: &mut dyn Visitor) {}
}

// SAFETY: a box owns its value exclusively; its edges are the value's.
unsafe impl<T: Trace + ?Sized> Trace for Box<T> {
    const NEEDS_TRACE: bool = T::NEEDS_TRACE;
    fn trace(&self, visitor: &mut dyn Visitor) {
        (**self).trace(visitor);
    }
}

// SAFETY: the option owns its value.
unsafe impl<T: Trace> Trace for Option<T> {
    const NEEDS_TRACE: bool = T::NEEDS_TRACE;
    fn trace(&self, visitor: &mut dyn Visitor) {
        if let Some(value) = self {
            value.trace(visitor);
        }
    }
}

// SAFETY: the result owns its value.
unsafe impl<T: Trace, E: Trace> Trace for Result<T, E> {
    const NEEDS_TRACE: bool = T::NEEDS_TRACE || E::NEEDS_TRACE;
    fn trace(&self, visitor: &mut dyn Visitor) {
        match self {
            Ok(value) => value.trace(visitor),
            Err(error) => error.trace(visitor),
        }
    }
}

/// Collections that own their elements: their edges are the elements'.
macro_rules! owning_sequence {
    ($($collection:ident),*) => {$(
        // SAFETY: the collection owns each element exclusively.
        unsafe impl<T: Trace> Trace for $collection<T> {
            const NEEDS_TRACE: bool = T::NEEDS_TRACE;
            fn trace(&self, visitor: &mut dyn Visitor) {
                trace_each(self, visitor);
            }
        }
    )*};
}

owning_sequence!(Vec, VecDeque, BTreeSet);

// SAFETY: a slice's elements are owned by whoever owns the slice.
unsafe impl<T: Trace> Trace for [T] {
    const NEEDS_TRACE: bool = T::NEEDS_TRACE;
    fn trace(&self, visitor: &mut dyn Visitor) {
        trace_each(self, visitor);
    }
}

// SAFETY: an array owns its elements.
unsafe impl<T: Trace, const N: usize> Trace for [T; N] {
    const NEEDS_TRACE: bool = T::NEEDS_TRACE;
    fn trace(&self, visitor: &mut dyn Visitor) {
        self.as_slice().trace(visitor);
    }
}

// SAFETY: the set owns its elements.
unsafe impl<T: Trace, S> Trace for HashSet<T, S> {
    const NEEDS_TRACE: bool = T::NEEDS_TRACE;
    fn trace(&self, visitor: &mut dyn Visitor) {
        trace_each(self, visitor);
    }
}

// SAFETY: the map owns its keys and values.
unsafe impl<K: Trace, V: Trace, S> Trace for HashMap<K, V, S> {
    const NEEDS_TRACE: bool = K::NEEDS_TRACE || V::NEEDS_TRACE;
    fn trace(&self, visitor: &mut dyn Visitor) {
        trace_each(self.keys(), visitor);
        trace_each(self.values(), visitor);
    }
}

// SAFETY: the map owns its keys and values.
unsafe impl<K: Trace, V: Trace> Trace for BTreeMap<K, V> {
    const NEEDS_TRACE: bool = K::NEEDS_TRACE || V::NEEDS_TRACE;
    fn trace(&self, visitor: &mut dyn Visitor) {
        trace_each(self.keys(), visitor);
        trace_each(self.values(), visitor);
    }
}

/// Tuples own their fields.
macro_rules! tuple {
    ($($name:ident),+) => {
        // SAFETY: a tuple owns its fields.
        unsafe impl<$($name: Trace),+> Trace for ($($name,)+) {
            const NEEDS_TRACE: bool = false $(|| $name::NEEDS_TRACE)+;
            #[allow(non_snake_case)]
            fn trace(&self, visitor: &mut dyn Visitor) {
                let ($($name,)+) = self;
                $($name.trace(visitor);)+
            }
        }
    };
}

tuple!(A);
tuple!(A, B);
tuple!(A, B, C);
tuple!(A, B, C, D);
tuple!(A, B, C, D, E);
tuple!(A, B, C, D, E, F);

#[cfg(test)]
mod tests {
    use super::*;

    /// Records every edge it is shown.
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
        record.0
    }

    #[test]
    fn owned_containers_report_each_handle_once_and_shared_ones_none() {
        let a = Gc::new(1u32);
        let b = Gc::new(2u32);
        let edge = |gc: &Gc<u32>| Edge::to(gc);
        let owned = (
            vec![a.clone(), b.clone()],
            Some(a.clone()),
            Box::new([b.clone()]),
            HashMap::from([(7u8, a.clone())]),
        );
        let mut got = edges(&owned);
        got.sort();
        let mut expected = vec![edge(&a), edge(&b), edge(&a), edge(&b), edge(&a)];
        expected.sort();
        assert_eq!(got, expected);
        assert!(edges(&Arc::new(a.clone())).is_empty(), "Arc is opaque");
        assert!(
            edges(&std::sync::Mutex::new(b.clone())).is_empty(),
            "Mutex is opaque"
        );
        assert!(edges(&None::<Gc<u32>>).is_empty());
        const { assert!(!<(u64, String, Vec<u8>)>::NEEDS_TRACE) };
        const { assert!(<(u64, Option<Gc<u8>>)>::NEEDS_TRACE) };
    }
}
