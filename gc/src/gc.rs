//! `Gc<T>`: a handle to an object in the arena.

use std::fmt;
use std::ops::Deref;
use std::sync::Arc;

/// A shared handle to an object in the arena. Clones share the object; the object is freed when
/// the last handle is dropped (and, once the collector exists, when it is found unreachable).
pub struct Gc<T: ?Sized> {
    object: Arc<T>,
}

impl<T> Gc<T> {
    /// Allocates `value` in the arena.
    pub fn new(value: T) -> Gc<T> {
        Gc {
            object: Arc::new(value),
        }
    }
}

impl<T: ?Sized> Gc<T> {
    /// Whether `a` and `b` are handles to the same object.
    pub fn ptr_eq(a: &Gc<T>, b: &Gc<T>) -> bool {
        Arc::ptr_eq(&a.object, &b.object)
    }

    /// The object's address, stable for its lifetime (channels order their locks by it, as Go's
    /// `select` does by `hchan` address).
    pub fn addr(this: &Gc<T>) -> usize {
        Arc::as_ptr(&this.object).cast::<()>() as usize
    }
}

impl<T: ?Sized> Clone for Gc<T> {
    fn clone(&self) -> Self {
        Gc {
            object: Arc::clone(&self.object),
        }
    }
}

impl<T: ?Sized> Deref for Gc<T> {
    type Target = T;

    fn deref(&self) -> &T {
        &self.object
    }
}

impl<T: ?Sized + fmt::Debug> fmt::Debug for Gc<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::Gc;

    struct Counted<'a>(&'a AtomicUsize);

    impl Drop for Counted<'_> {
        fn drop(&mut self) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }

    #[test]
    fn the_object_is_freed_with_its_last_handle() {
        let drops = AtomicUsize::new(0);
        let first = Gc::new(Counted(&drops));
        let second = first.clone();
        assert!(Gc::ptr_eq(&first, &second));
        assert_eq!(Gc::addr(&first), Gc::addr(&second));
        drop(first);
        assert_eq!(drops.load(Ordering::SeqCst), 0);
        drop(second);
        assert_eq!(drops.load(Ordering::SeqCst), 1);
    }
}
