//! Task-local storage: `task_local!` and `LocalKey` (tokio's).
//!
//! A task-local value belongs to a future, not to a thread: `KEY.scope(value, future)` makes
//! `value` visible to `future` (and whatever it awaits) on every poll, on whichever thread the
//! G happens to run, and nowhere else. A task spawned from inside the scope does not inherit
//! it.
//!
//! # How
//!
//! Each key is a thread-local `RefCell<Option<T>>`. A scope owns its value in a slot; around
//! each poll of its future (and around its drop) it swaps the slot with the thread-local, so the
//! value is in the thread-local exactly while the future's code runs, and back in the slot
//! (travelling with the future to its next thread) in between. Swapping, rather than setting,
//! is what makes nested scopes of one key shadow and then restore the outer value. A guard
//! swaps back on unwinding too, so a panic inside the scope does not leak its value into the
//! thread's later polls.
//!
//! No user code runs while the `RefCell` is mutably borrowed (only the swaps do), so `with`
//! never meets a conflicting borrow; entering a scope of a key from inside that key's `with`
//! closure does, and panics, as in tokio.

use std::cell::RefCell;
use std::error::Error;
use std::fmt;
use std::future::Future;
use std::marker::PhantomPinned;
use std::mem;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::thread;

use pin_project_lite::pin_project;

/// Declares task-local keys: `task_local! { pub static NAME: Type; }`. Each is a
/// [`LocalKey`](crate::task::LocalKey), set for a future with `NAME.scope(value, future)` or for
/// a closure with `NAME.sync_scope(value, f)`.
#[macro_export]
macro_rules! task_local {
    () => {};
    ($(#[$attr:meta])* $vis:vis static $name:ident: $t:ty; $($rest:tt)*) => {
        $crate::__task_local_key!($(#[$attr])* $vis $name, $t);
        $crate::task_local!($($rest)*);
    };
    ($(#[$attr:meta])* $vis:vis static $name:ident: $t:ty) => {
        $crate::__task_local_key!($(#[$attr])* $vis $name, $t);
    };
}

/// One key of [`task_local!`]: a static `LocalKey` over its own thread-local slot.
#[doc(hidden)]
#[macro_export]
macro_rules! __task_local_key {
    ($(#[$attr:meta])* $vis:vis $name:ident, $t:ty) => {
        $(#[$attr])*
        $vis static $name: $crate::task::LocalKey<$t> = {
            ::std::thread_local! {
                static SLOT: ::std::cell::RefCell<::std::option::Option<$t>> =
                    const { ::std::cell::RefCell::new(::std::option::Option::None) };
            }
            $crate::task::LocalKey::__from_thread_local(SLOT)
        };
    };
}

/// A key to a task-local value, declared with [`task_local!`](crate::task_local).
pub struct LocalKey<T: 'static> {
    /// Where the value of the scope whose code is running on this thread sits meanwhile.
    slot: thread::LocalKey<RefCell<Option<T>>>,
}

impl<T: 'static> LocalKey<T> {
    /// The key over `slot`; for `task_local!` only.
    #[doc(hidden)]
    pub const fn __from_thread_local(slot: thread::LocalKey<RefCell<Option<T>>>) -> LocalKey<T> {
        LocalKey { slot }
    }

    /// Runs `future` with this key set to `value`: the value is visible to `future`'s code on
    /// every poll (whichever thread polls it) and nowhere else.
    pub fn scope<F: Future>(&'static self, value: T, future: F) -> TaskLocalFuture<T, F> {
        TaskLocalFuture {
            key: self,
            value: Some(value),
            future: Some(future),
            _pinned: PhantomPinned,
        }
    }

    /// Runs `f` with this key set to `value`, and returns what it returns.
    ///
    /// Panics if called inside this key's [`LocalKey::with`] closure.
    #[track_caller]
    pub fn sync_scope<F, R>(&'static self, value: T, f: F) -> R
    where
        F: FnOnce() -> R,
    {
        let mut value = Some(value);
        match self.enter(&mut value, f) {
            Ok(result) => result,
            Err(err) => err.panic(),
        }
    }

    /// Calls `f` with a reference to the value of the enclosing scope. Panics outside one; see
    /// [`LocalKey::try_with`].
    #[track_caller]
    pub fn with<F, R>(&'static self, f: F) -> R
    where
        F: FnOnce(&T) -> R,
    {
        match self.try_with(f) {
            Ok(result) => result,
            Err(AccessError { .. }) => panic!(
                "a task-local value was read outside any scope that sets it (LocalKey::scope or \
                 sync_scope)"
            ),
        }
    }

    /// Calls `f` with a reference to the value of the enclosing scope, or returns
    /// [`AccessError`] outside one (`f` is then not called).
    pub fn try_with<F, R>(&'static self, f: F) -> Result<R, AccessError>
    where
        F: FnOnce(&T) -> R,
    {
        // A thread-local already destroyed (thread exit) means no scope is running here.
        let result = self.slot.try_with(|slot| slot.borrow().as_ref().map(f));
        match result {
            Ok(Some(result)) => Ok(result),
            Ok(None) | Err(_) => Err(AccessError { _private: () }),
        }
    }

    /// Swaps `value` into the thread-local slot, runs `f`, and swaps it back (also on
    /// unwinding): `value` holds the key's value outside its scope and the enclosing scope's
    /// value (or `None`) while `f` runs (module doc).
    fn enter<F, R>(&'static self, value: &mut Option<T>, f: F) -> Result<R, EnterError>
    where
        F: FnOnce() -> R,
    {
        struct SwapBack<'a, T: 'static> {
            key: &'static LocalKey<T>,
            value: &'a mut Option<T>,
        }
        impl<T: 'static> Drop for SwapBack<'_, T> {
            fn drop(&mut self) {
                // Cannot fail: the slot was reachable and unborrowed on entry, and no guard of a
                // borrow is ever left to user code.
                self.key
                    .slot
                    .with(|slot| mem::swap(self.value, &mut *slot.borrow_mut()));
            }
        }
        self.slot
            .try_with(|slot| {
                let mut slot = slot.try_borrow_mut().map_err(|_| EnterError::Borrowed)?;
                mem::swap(value, &mut *slot);
                Ok(())
            })
            .map_err(|_| EnterError::Destroyed)??;
        let _swap_back = SwapBack { key: self, value };
        Ok(f())
    }
}

impl<T: Clone + 'static> LocalKey<T> {
    /// A clone of the value of the enclosing scope. Panics outside one; see
    /// [`LocalKey::try_get`].
    #[track_caller]
    pub fn get(&'static self) -> T {
        self.with(T::clone)
    }

    /// A clone of the value of the enclosing scope, or [`AccessError`] outside one.
    pub fn try_get(&'static self) -> Result<T, AccessError> {
        self.try_with(T::clone)
    }
}

impl<T: 'static> fmt::Debug for LocalKey<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad("LocalKey { .. }")
    }
}

pin_project! {
    /// The future of [`LocalKey::scope`]: `future` with the key set while it runs.
    pub struct TaskLocalFuture<T, F>
    where
        T: 'static,
    {
        key: &'static LocalKey<T>,
        // The scope's value, between polls (module doc).
        value: Option<T>,
        // `None` once it completed (then dropped inside the scope).
        #[pin]
        future: Option<F>,
        // As tokio's: the future stays `!Unpin` whatever `F` is.
        #[pin]
        _pinned: PhantomPinned,
    }

    impl<T: 'static, F> PinnedDrop for TaskLocalFuture<T, F> {
        fn drop(this: Pin<&mut Self>) {
            let this = this.project();
            if mem::needs_drop::<F>() && this.future.is_some() {
                // Its destructors see the value too. If the scope cannot be entered (thread
                // exit), the future is dropped with the struct, outside it.
                let mut future = this.future;
                let _ = this.key.enter(this.value, || future.set(None));
            }
        }
    }
}

impl<T: 'static, F> TaskLocalFuture<T, F> {
    /// Takes the scope's value out, leaving the future without it: `None` if it was taken
    /// before. Only call it between polls; the future's later polls see no value.
    pub fn take_value(self: Pin<&mut Self>) -> Option<T> {
        self.project().value.take()
    }
}

impl<T: 'static, F: Future> Future for TaskLocalFuture<T, F> {
    type Output = F::Output;

    #[track_caller]
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        let this = self.project();
        let mut future = this.future;
        let polled = this.key.enter(this.value, || {
            let inner = future.as_mut().as_pin_mut()?;
            let poll = inner.poll(cx);
            if poll.is_ready() {
                // Dropped inside the scope, so that its destructors see the value.
                future.set(None);
            }
            Some(poll)
        });
        match polled {
            Ok(Some(poll)) => poll,
            Ok(None) => panic!("a TaskLocalFuture was polled after it completed"),
            Err(err) => err.panic(),
        }
    }
}

impl<T: fmt::Debug + 'static, F> fmt::Debug for TaskLocalFuture<T, F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TaskLocalFuture")
            .field("value", &self.value)
            .finish_non_exhaustive()
    }
}

/// A task-local value was read outside any scope that sets it.
#[derive(Clone, Copy, Eq, PartialEq)]
pub struct AccessError {
    _private: (),
}

impl fmt::Debug for AccessError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AccessError").finish()
    }
}

impl fmt::Display for AccessError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad("task-local value not set")
    }
}

impl Error for AccessError {}

/// Why a scope could not be entered.
enum EnterError {
    /// Inside this key's `with` closure.
    Borrowed,
    /// The thread-local is gone (the thread is exiting).
    Destroyed,
}

impl EnterError {
    #[track_caller]
    fn panic(&self) -> ! {
        match self {
            EnterError::Borrowed => panic!(
                "a task-local scope was entered inside a `with` closure of the same key, which \
                 holds a borrow of its value"
            ),
            EnterError::Destroyed => panic!(
                "a task-local scope was entered while this thread's storage is being destroyed"
            ),
        }
    }
}
