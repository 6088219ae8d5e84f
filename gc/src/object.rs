//! The object header every arena allocation starts with, and the per-type table of functions
//! the collector calls through it.
//!
//! An object is `#[repr(C)] Object<T> { header, value }`, so a pointer to the header is a
//! pointer to the object, and an [`Edge`](crate::Edge) (an object's address) leads straight to
//! its header. The header holds what Go keeps in the heap bitmap and span (the count of
//! handles, the collector's scratch word, where the object is registered) plus the type's
//! [`VTable`]: how to trace, drop and free a value the collector no longer knows the type of.

use std::alloc::Layout;
use std::ptr::NonNull;
use std::sync::atomic::{AtomicUsize, Ordering};

use crate::trace::Visitor;

/// How the collector treats objects of a type.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// Can hold handles to other objects, so can be part of a cycle: registered, traced by
    /// every collection.
    Cycle,
    /// Holds no handles but can hold the wakers of waiting tasks (a channel of untraced
    /// elements): traced only by the leak pass, which finds such objects by following edges
    /// (one nothing traced points to is held from outside, so it is a root either way).
    Waits,
    /// Holds neither: plain reference counting, invisible to the collector.
    Leaf,
}

/// The functions the collector needs for objects of one type.
pub(crate) struct VTable {
    /// Reports the value's edges.
    pub(crate) trace: unsafe fn(NonNull<Header>, &mut dyn Visitor),
    /// Drops the value in place (the header stays).
    pub(crate) drop_value: unsafe fn(NonNull<Header>),
    /// Frees the allocation (the value is already dropped).
    pub(crate) dealloc: unsafe fn(NonNull<Header>),
    /// Bytes of the whole object, for `live_bytes`.
    pub(crate) size: usize,
    pub(crate) kind: Kind,
}

/// `Header::meta` bit: the collector dropped (or is about to drop) the value of this
/// unreachable object. Normally the object is freed right after; if a destructor stored a new
/// handle to it somewhere (resurrection), the allocation stays and dereferencing panics.
pub(crate) const DEAD: usize = 1 << (usize::BITS - 1);

/// `Header::meta` key of an object that is in no registry shard.
pub(crate) const UNREGISTERED: usize = DEAD - 1;

/// The start of every object.
#[repr(C)]
pub(crate) struct Header {
    /// Handles to this object, wherever they are (Arc's strong count).
    pub(crate) strong: AtomicUsize,
    /// The collector's word: this object's node index plus one in the current collection, zero
    /// if it never was in one. A registered object keeps a stale index between collections
    /// (each numbers all of them first); any other has zero outside a collection. Only touched
    /// with the world stopped (`safepoint.rs`), hence `Relaxed`.
    pub(crate) scratch: AtomicUsize,
    /// The object's key in its registry shard (or [`UNREGISTERED`]), and the [`DEAD`] bit.
    /// The key is written under the shard lock; the bit by the collector, world stopped.
    pub(crate) meta: AtomicUsize,
    pub(crate) vtable: &'static VTable,
}

/// A header followed by the value.
#[repr(C)]
pub(crate) struct Object<T> {
    pub(crate) header: Header,
    pub(crate) value: T,
}

/// How a type is traced: [`Trace`](crate::Trace) for user types, custom for channel state
/// (whose elements are traced or not depending on how the channel was made).
///
/// # Safety
///
/// As [`Trace`](crate::Trace): `trace` reports only handles `value` owns, each at most once;
/// and `KIND` may be [`Kind::Leaf`] only if `trace` reports nothing.
pub unsafe trait Tracer<T> {
    /// How the collector treats the objects.
    const KIND: Kind;
    /// Reports `value`'s edges (and the wakers it holds) to `visitor`.
    fn trace(value: &T, visitor: &mut dyn Visitor);
}

/// The vtable of `Object<T>` traced by `R`, a promoted constant (one per type pair).
pub(crate) struct VTableOf<T, R>(std::marker::PhantomData<(T, R)>);

impl<T, R: Tracer<T>> VTableOf<T, R> {
    pub(crate) const VTABLE: VTable = VTable {
        trace: trace_erased::<T, R>,
        drop_value: drop_erased::<T>,
        dealloc: dealloc_erased::<T>,
        size: size_of::<Object<T>>(),
        kind: R::KIND,
    };
}

/// SAFETY (for callers): `header` heads a live `Object<T>`.
unsafe fn trace_erased<T, R: Tracer<T>>(header: NonNull<Header>, visitor: &mut dyn Visitor) {
    // SAFETY: per the caller, the object is an `Object<T>` whose value is alive.
    let value = unsafe { &header.cast::<Object<T>>().as_ref().value };
    R::trace(value, visitor);
}

/// SAFETY (for callers): `header` heads an `Object<T>` whose value is alive and never used
/// again.
unsafe fn drop_erased<T>(header: NonNull<Header>) {
    let object = header.cast::<Object<T>>().as_ptr();
    // SAFETY: per the caller.
    unsafe { std::ptr::drop_in_place(&raw mut (*object).value) };
}

/// SAFETY (for callers): `header` heads an `Object<T>` allocated by [`allocate`] whose value
/// is already dropped, with no handle left.
unsafe fn dealloc_erased<T>(header: NonNull<Header>) {
    // SAFETY: allocated by `allocate::<T>` with this layout (a `Box<Object<T>>`); the value is
    // dropped, so only the header (no drop glue of its own that matters) is left: free the
    // memory without dropping the value again.
    unsafe { std::alloc::dealloc(header.as_ptr().cast(), Layout::new::<Object<T>>()) };
}

/// Allocates `value` with one handle's count, unregistered.
pub(crate) fn allocate<T>(value: T, vtable: &'static VTable) -> NonNull<Header> {
    let object = Box::new(Object {
        header: Header {
            strong: AtomicUsize::new(1),
            scratch: AtomicUsize::new(0),
            meta: AtomicUsize::new(UNREGISTERED),
            vtable,
        },
        value,
    });
    NonNull::from(Box::leak(object)).cast()
}

impl Header {
    /// Whether the collector dropped this object's value (see [`DEAD`]).
    #[inline]
    pub(crate) fn is_dead(&self) -> bool {
        self.meta.load(Ordering::Relaxed) & DEAD != 0
    }

    /// The object's registry key, or [`UNREGISTERED`].
    pub(crate) fn registry_key(&self) -> usize {
        self.meta.load(Ordering::Relaxed) & !DEAD
    }

    /// Sets the registry key, keeping the dead bit.
    pub(crate) fn set_registry_key(&self, key: usize) {
        let dead = self.meta.load(Ordering::Relaxed) & DEAD;
        self.meta.store(dead | key, Ordering::Relaxed);
    }

    /// Marks the value dropped (collector, world stopped).
    pub(crate) fn set_dead(&self) {
        self.meta.fetch_or(DEAD, Ordering::Relaxed);
    }
}
