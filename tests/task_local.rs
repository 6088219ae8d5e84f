//! `task_local!` and `task::LocalKey`: a value scoped to a future, visible across its awaits on
//! whichever thread polls it, and nowhere else.

mod common;

use std::cell::Cell;
use std::future::Future;
use std::pin::pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};

use futures::channel::oneshot;
use gort::task::{self, LocalKey};

use common::{panic_text, runtime};

gort::task_local! {
    /// A request id, as a server would scope one per connection.
    static REQUEST: u32;
    pub(crate) static USER: String;
}

gort::task_local! {
    static DEPTH: Cell<usize>
}

#[test]
fn the_value_is_visible_across_awaits_inside_the_scope() {
    let rt = runtime(2);
    let seen = rt.block_on(gort::spawn(REQUEST.scope(7, async {
        let mut seen = Vec::new();
        for _ in 0..20 {
            // Each yield may move the task to another thread.
            task::yield_now().await;
            gort::time::sleep(std::time::Duration::ZERO).await;
            seen.push(REQUEST.get());
        }
        seen
    })));
    assert_eq!(seen.unwrap(), vec![7; 20]);
}

#[test]
fn outside_a_scope_there_is_no_value() {
    assert!(REQUEST.try_with(|_| ()).is_err());
    assert!(REQUEST.try_get().is_err());
    let err = REQUEST.try_get().unwrap_err();
    assert_eq!(err.to_string(), "task-local value not set");
    assert_eq!(format!("{err:?}"), "AccessError");
    let panic = std::panic::catch_unwind(|| REQUEST.get()).expect_err("get outside a scope");
    assert!(panic_text(panic.as_ref()).contains("outside any scope"));

    let rt = runtime(1);
    rt.block_on(async {
        REQUEST.scope(1, async {}).await;
        assert!(
            REQUEST.try_get().is_err(),
            "not after the scope ended either"
        );
    });
}

#[test]
fn nested_scopes_shadow_and_restore() {
    let rt = runtime(2);
    rt.block_on(async {
        REQUEST
            .scope(1, async {
                assert_eq!(REQUEST.get(), 1);
                let inner = REQUEST
                    .scope(2, async {
                        task::yield_now().await;
                        REQUEST.get()
                    })
                    .await;
                assert_eq!(inner, 2);
                assert_eq!(REQUEST.get(), 1, "the outer value is back");
                let sync_inner = REQUEST.sync_scope(3, || REQUEST.get());
                assert_eq!(sync_inner, 3);
                assert_eq!(REQUEST.get(), 1);
            })
            .await;
    });
}

#[test]
fn spawned_tasks_do_not_inherit_the_value() {
    let rt = runtime(2);
    rt.block_on(REQUEST.scope(9, async {
        let inherited = gort::spawn(async { REQUEST.try_get() }).await.unwrap();
        assert!(inherited.is_err(), "a spawned task saw its spawner's value");
        assert_eq!(REQUEST.get(), 9);
    }));
}

#[test]
fn interleaved_tasks_see_only_their_own_values() {
    // One P: the two tasks take turns on one thread, each parked while the other runs.
    let rt = runtime(1);
    rt.block_on(async {
        let (to_b, from_a) = oneshot::channel::<()>();
        let (to_a, from_b) = oneshot::channel::<()>();
        let a = gort::spawn(USER.scope("alice".to_string(), async move {
            let before = USER.get();
            to_b.send(()).unwrap();
            from_b.await.unwrap();
            (before, USER.get())
        }));
        let b = gort::spawn(USER.scope("bob".to_string(), async move {
            from_a.await.unwrap();
            let seen = USER.get();
            to_a.send(()).unwrap();
            seen
        }));
        let (a_before, a_after) = a.await.unwrap();
        assert_eq!((a_before.as_str(), a_after.as_str()), ("alice", "alice"));
        assert_eq!(b.await.unwrap(), "bob");
        assert!(USER.try_get().is_err(), "block_on's main never had a value");
    });
}

#[test]
fn sync_scope_sets_the_value_for_a_closure_and_restores_after_a_panic() {
    assert_eq!(REQUEST.sync_scope(4, || REQUEST.get() + 1), 5);
    assert!(REQUEST.try_get().is_err());
    let panicked = std::panic::catch_unwind(|| {
        REQUEST.sync_scope(5, || -> u32 { panic!("inside the scope") })
    });
    assert!(panicked.is_err());
    assert!(
        REQUEST.try_get().is_err(),
        "the value leaked out of a scope that panicked"
    );
    DEPTH.sync_scope(Cell::new(0), || {
        DEPTH.with(|depth| depth.set(depth.get() + 1));
        assert_eq!(DEPTH.with(Cell::get), 1, "with gives the scope's own value");
    });
}

#[test]
fn entering_a_scope_inside_with_of_the_same_key_panics() {
    let panicked = std::panic::catch_unwind(|| {
        REQUEST.sync_scope(1, || REQUEST.with(|_| REQUEST.sync_scope(2, || ())))
    })
    .expect_err("a scope inside with");
    assert!(
        panic_text(panicked.as_ref()).contains("inside a `with` closure"),
        "{}",
        panic_text(panicked.as_ref())
    );
    assert!(REQUEST.try_get().is_err());
}

/// Records what `REQUEST` was when it was dropped.
struct RecordsOnDrop(Arc<Mutex<Option<Option<u32>>>>);

impl Drop for RecordsOnDrop {
    fn drop(&mut self) {
        *self.0.lock().unwrap() = Some(REQUEST.try_get().ok());
    }
}

#[test]
fn a_scoped_future_dropped_early_is_dropped_inside_its_scope() {
    let seen = Arc::new(Mutex::new(None));
    let guard = RecordsOnDrop(Arc::clone(&seen));
    let scoped = REQUEST.scope(11, async move {
        let _guard = guard;
        std::future::pending::<()>().await;
    });
    {
        let mut scoped = pin!(scoped);
        let mut cx = Context::from_waker(std::task::Waker::noop());
        assert!(scoped.as_mut().poll(&mut cx).is_pending());
        assert!(REQUEST.try_get().is_err(), "the value left with the poll");
    }
    assert_eq!(*seen.lock().unwrap(), Some(Some(11)));
}

#[test]
fn take_value_takes_the_scopes_value() {
    let mut scoped = pin!(REQUEST.scope(12, async { REQUEST.try_get().ok() }));
    assert_eq!(scoped.as_mut().take_value(), Some(12));
    assert_eq!(scoped.as_mut().take_value(), None);
    let mut cx = Context::from_waker(std::task::Waker::noop());
    assert_eq!(scoped.as_mut().poll(&mut cx), Poll::Ready(None));
}

#[test]
fn keys_have_tokios_shape() {
    fn key_of<T: 'static>(key: &'static LocalKey<T>) -> &'static LocalKey<T> {
        key
    }
    assert_eq!(format!("{:?}", key_of(&REQUEST)), "LocalKey { .. }");
    fn assert_send<T: Send>(_: &T) {}
    let scoped = REQUEST.scope(1, async {});
    assert_send(&scoped);
    let _: &gort::task::futures::TaskLocalFuture<u32, _> = &scoped;
}
