//! `Gc<T>`: a handle to an object in the arena.

use std::fmt;
use std::marker::PhantomData;
use std::ops::Deref;
use std::ptr::NonNull;
use std::sync::atomic::{fence, Ordering};

use crate::object::{allocate, Header, Kind, Object, Tracer, VTableOf};
use crate::trace::{Trace, Visitor};

/// A shared handle to an object in the arena. It clones and drops like `Arc`: the object is
/// freed when its last handle goes. Objects whose type can hold handles (`T::NEEDS_TRACE`) are
/// also freed when the collector finds them unreachable from outside the arena, which is what
/// reclaims cycles (`crate` doc).
pub struct Gc<T> {
    header: NonNull<Header>,
    _owns: PhantomData<T>,
}

// SAFETY: a `Gc<T>` shares `T` between threads like an `Arc<T>`.
unsafe impl<T: Send + Sync> Send for Gc<T> {}
// SAFETY: as above.
unsafe impl<T: Send + Sync> Sync for Gc<T> {}

/// [`Tracer`] through the value's own [`Trace`].
pub(crate) struct ByTrace;

// SAFETY: `Trace`'s contract is `Tracer`'s, and a type whose `NEEDS_TRACE` is false reports
// nothing.
unsafe impl<T: Trace> Tracer<T> for ByTrace {
    const KIND: Kind = if T::NEEDS_TRACE {
        Kind::Cycle
    } else {
        Kind::Leaf
    };
    fn trace(value: &T, visitor: &mut dyn Visitor) {
        value.trace(visitor);
    }
}

impl<T: Trace> Gc<T> {
    /// Allocates `value` in the arena.
    pub fn new(value: T) -> Gc<T> {
        Gc::new_traced_by::<ByTrace>(value)
    }
}

impl<T> Gc<T> {
    /// Allocates `value`, traced by `R` instead of `T: Trace` (channel state, whose elements are
    /// traced or not depending on how the channel was made).
    pub fn new_traced_by<R: Tracer<T>>(value: T) -> Gc<T> {
        let vtable = const { &VTableOf::<T, R>::VTABLE };
        let header = allocate(value, vtable);
        crate::stats::allocated(vtable.size, vtable.kind);
        if vtable.kind == Kind::Cycle {
            let _pin = crate::pin();
            crate::registry::REGISTRY.insert(header);
        }
        let gc = Gc {
            header,
            _owns: PhantomData,
        };
        #[cfg(not(loom))]
        if vtable.kind == Kind::Cycle {
            crate::collector::after_allocation();
        }
        gc
    }

    /// Whether `a` and `b` are handles to the same object.
    pub fn ptr_eq(a: &Gc<T>, b: &Gc<T>) -> bool {
        a.header == b.header
    }

    /// The object's address, stable for its lifetime (channels order their locks by it, as Go's
    /// `select` does by `hchan` address; an [`Edge`](crate::Edge) names it).
    pub fn addr(this: &Gc<T>) -> usize {
        this.header.as_ptr().addr()
    }

    /// The object's header pointer (an [`Edge`](crate::Edge) keeps it).
    pub(crate) fn header_ptr(this: &Gc<T>) -> NonNull<Header> {
        this.header
    }

    /// The value, or `None` while the collector is freeing this object as part of an
    /// unreachable cycle. A destructor of a value in such a cycle sees the other objects of the
    /// cycle this way: their values may already be dropped, so dereferencing them panics.
    /// Destructors that can run there (a `Sender` closing its channel) use this instead.
    pub fn try_get(this: &Gc<T>) -> Option<&T> {
        if this.header().is_dead() {
            return None;
        }
        // SAFETY: the handle keeps the object alive, and its value is not dropped.
        Some(unsafe { &this.header.cast::<Object<T>>().as_ref().value })
    }

    fn header(&self) -> &Header {
        // SAFETY: a handle keeps its object's allocation alive.
        unsafe { self.header.as_ref() }
    }
}

impl<T> Clone for Gc<T> {
    fn clone(&self) -> Self {
        let header = self.header();
        // A clone of a registered object changes a count the collector reads (safepoint.rs).
        let _pin = (header.vtable.kind != Kind::Leaf).then(crate::pin);
        let old = header.strong.fetch_add(1, Ordering::Relaxed);
        if old > isize::MAX as usize {
            std::process::abort();
        }
        Gc {
            header: self.header,
            _owns: PhantomData,
        }
    }
}

impl<T> Drop for Gc<T> {
    fn drop(&mut self) {
        let header = self.header();
        let _pin = (header.vtable.kind != Kind::Leaf).then(crate::pin);
        if header.strong.fetch_sub(1, Ordering::Release) != 1 {
            return;
        }
        fence(Ordering::Acquire);
        // SAFETY: that was the last handle: nobody else can reach the object, and the
        // collector cannot see it while we are pinned.
        unsafe { free(self.header) };
    }
}

/// Frees an object whose last handle is gone: forgets it, drops its value (unless the collector
/// already did) and frees the memory.
///
/// # Safety
///
/// No handle to the object is left, and the caller is pinned (or the object is a leaf).
pub(crate) unsafe fn free(header: NonNull<Header>) {
    // SAFETY: per the caller, we own the object.
    let vtable = unsafe { header.as_ref() }.vtable;
    if vtable.kind == Kind::Cycle {
        crate::registry::REGISTRY.remove(header);
    }
    // SAFETY: as above.
    if !unsafe { header.as_ref() }.is_dead() {
        // SAFETY: the value is alive and nobody can reach it.
        unsafe { (vtable.drop_value)(header) };
    }
    crate::stats::freed(vtable.size, vtable.kind);
    // SAFETY: the value is dropped, no handle is left.
    unsafe { (vtable.dealloc)(header) };
}

impl<T> Deref for Gc<T> {
    type Target = T;

    fn deref(&self) -> &T {
        let header = self.header();
        if header.is_dead() {
            dead_handle();
        }
        // SAFETY: the handle keeps the object alive, and its value is not dropped.
        unsafe { &self.header.cast::<Object<T>>().as_ref().value }
    }
}

#[cold]
#[inline(never)]
fn dead_handle() -> ! {
    panic!(
        "gort::gc: a destructor run by the collector stored a handle to an unreachable object, \
         and it was used after the collector dropped the object's value"
    )
}

impl<T: fmt::Debug> fmt::Debug for Gc<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}
