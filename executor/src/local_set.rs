//! `LocalSet` and `spawn_local`: tasks that are not `Send`, run on one thread (tokio's
//! `task::LocalSet`).
//!
//! # The problem
//!
//! A G may run on any M, so its future must be `Send`. A future holding an `Rc` or a `RefCell`
//! borrow across an `.await` is not, and the program that has one wants it polled on the thread
//! that made it. Such a task cannot go through the Ps' queues at all: an M that stole it would
//! poll it on the wrong thread.
//!
//! # The design
//!
//! A `LocalSet` is a small executor of its own, living inside one future of the runtime: its
//! tasks run only while something polls the set (the `run_until` future, or the set itself as a
//! future), on the thread that polls it, which is the set's own thread since the set is not
//! `Send`. Usually that is `block_on`'s main future, or a `LocalRuntime`'s.
//!
//! - A local task is a G like any other as far as its users see: async-task's `spawn_local`
//!   (which also checks, on every poll and on drop, that it stays on its thread) with the G
//!   record as metadata and the future wrapped in `GFuture`, so its `JoinHandle` is gort's
//!   `JoinHandle` (output, `JoinError::Panic`, `abort`, `is_finished`), and the runtime current
//!   at the spawn counts it in `num_goroutine` and reaches it through its parked-task registry
//!   (abort, shutdown).
//! - Its schedule function may run on any thread that wakes the task. While the set is
//!   running tasks on this thread (the common case: a task that yields, or wakes another of the
//!   set's tasks), it pushes onto the set's own run queue, a plain `RefCell` deque, with no lock
//!   and no wake (the set looks at its queue again before it stops). Anywhere else it pushes
//!   onto the set's shared queue (a mutex-guarded deque) and wakes the waker of whoever last
//!   polled the set, so that a local task woken from another thread makes the set's poller
//!   (the G or the `block_on` future holding it) runnable, and the task then runs on the set's
//!   thread. Each poll of the set moves the shared queue into the run queue first, one lock per
//!   poll rather than two per task.
//! - One poll of the set runs at most [`MAX_TASKS_PER_TICK`] tasks (tokio's 61), then wakes its
//!   own poller and returns, so that a set with busy tasks lets the Gs and IO of its thread
//!   have their turn.
//!
//! # Ownership, and why a task's future never leaves the thread
//!
//! The set keeps one waker of every task whose future is alive (`LocalContext::tasks`), and
//! each task's future takes its own entry out when it is dropped. Holding a waker keeps the
//! task from ever being "orphaned": async-task drops the future of a task that lost its last
//! waker and its handle by scheduling it once more, on whatever thread dropped that last one,
//! and the future would then have to be dropped there. With the set's waker alive, the last
//! reference goes only with the future, which is dropped by the set's thread: after the
//! completing poll, or by the set's `Drop`. That drop closes the set (spawns are refused from
//! then on: the future is dropped at once and the handle reports cancellation), drops every
//! queued task, wakes every task still alive so that it gets queued, and repeats until none is
//! left, yielding the thread if a wake from another thread is still on its way into the queue.

use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::fmt;
use std::future::Future;
use std::marker::PhantomData;
use std::panic::Location;
use std::pin::Pin;
use std::ptr;
use std::rc::Rc;
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll, Waker};

use pin_project_lite::pin_project;
use slab::Slab;

use crate::context;
use crate::g::G;
use crate::gfuture::GFuture;
use crate::join::JoinHandle;
use crate::runtime::{default_shared, Id, Runtime};
use crate::shared::Shared;
use crate::Task;

/// Tasks one poll of a set runs before it yields (tokio's number).
const MAX_TASKS_PER_TICK: usize = 61;

/// A set of tasks that are not `Send`, all run on the thread that owns the set (module doc).
///
/// Tasks are spawned with [`LocalSet::spawn_local`], or with [`spawn_local`] from inside the
/// set; they run while the set is driven, by [`LocalSet::run_until`] or [`LocalSet::block_on`],
/// or by awaiting the set itself, which completes once every task has. Dropping the set drops
/// every task still in it, on its thread.
///
/// ```
/// use std::rc::Rc;
/// use gort_executor::task::LocalSet;
///
/// let runtime = gort_executor::runtime::Builder::new_current_thread().build().unwrap();
/// let local = LocalSet::new();
/// let shared = Rc::new(7);
/// let answer = local.block_on(&runtime, async move {
///     let held = Rc::clone(&shared);
///     gort_executor::task::spawn_local(async move { *held * 6 }).await.unwrap()
/// });
/// assert_eq!(answer, 42);
/// ```
pub struct LocalSet {
    context: Rc<LocalContext>,
}

/// What a set and its tasks' futures share on the set's thread.
struct LocalContext {
    /// What the tasks' schedule functions share, on any thread.
    shared: Arc<LocalShared>,
    /// A waker of every task whose future is alive, keyed by the slot its future removes when
    /// dropped (`Owner`): the set's ownership of its tasks (module doc).
    tasks: RefCell<Slab<Waker>>,
    /// Tasks queued on this thread while the set runs, and those moved from the shared queue
    /// (module doc): only the set's thread touches it.
    run_queue: RefCell<VecDeque<Task>>,
    /// Set once the set is being dropped: spawns are refused.
    closed: Cell<bool>,
    /// `LocalSet::id`.
    id: Id,
}

/// The set's run queue and its poller's waker, reached from any thread by the schedule
/// function of its tasks.
pub(crate) struct LocalShared {
    /// Tasks woken or spawned while the set was not running on the waking thread, not yet
    /// run. The schedule function pushes; only the set's thread takes them (and runs or drops
    /// them).
    queue: Mutex<VecDeque<Task>>,
    /// The waker of whoever last polled the set, woken when a task is queued.
    waker: gort_context::WakerSlot,
}

/// Makes a set current on this thread until dropped ([`LocalSet::enter`]): [`spawn_local`]
/// spawns onto it meanwhile. Not `Send`.
#[must_use = "the set stops being current when the guard is dropped"]
pub struct LocalEnterGuard {
    previous: Option<Rc<LocalContext>>,
    _not_send: PhantomData<*const ()>,
}

/// This thread's sets: the one `spawn_local` spawns onto, and the one running tasks now.
struct Current {
    /// The innermost set entered (polled, or `LocalSet::enter`).
    entered: RefCell<Option<Rc<LocalContext>>>,
    /// The queue of the set whose poll runs on this thread now; its tasks' schedule function
    /// need not wake it (it looks at its queue again before it stops). Compared, never read.
    running: Cell<*const LocalShared>,
}

thread_local! {
    static CURRENT: Current = const {
        Current {
            entered: RefCell::new(None),
            running: Cell::new(ptr::null()),
        }
    };
}

/// Spawns `future`, which need not be `Send`, onto the `LocalSet` this thread is in (being
/// polled, or entered with [`LocalSet::enter`]), and returns its [`JoinHandle`]. The task runs
/// on this thread only, while the set is driven.
///
/// # Panics
///
/// Outside a `LocalSet` (and outside a `LocalRuntime`, which has one), and where the current
/// runtime is a `LocalRuntime` built on another thread.
#[track_caller]
pub fn spawn_local<F>(future: F) -> JoinHandle<F::Output>
where
    F: Future + 'static,
    F::Output: 'static,
{
    // As in tokio, a current runtime that is a `LocalRuntime` comes first: its tasks live on
    // the thread that built it, which no other thread's spawn may reach.
    let local_thread =
        context::with_current_shared(|shared| shared.and_then(|shared| shared.local_thread()));
    if local_thread.is_some_and(|owner| owner != std::thread::current().id()) {
        panic!(
            "Local tasks can only be spawned on a LocalRuntime from the thread the runtime was \
             created on"
        );
    }
    let entered = CURRENT
        .try_with(|current| current.entered.borrow().clone())
        .ok()
        .flatten();
    match entered {
        Some(context) => spawn_on(&context, future, None, Location::caller()),
        None => panic!(
            "`spawn_local` called from outside of a `task::LocalSet` or `runtime::LocalRuntime`"
        ),
    }
}

impl LocalSet {
    /// An empty set, owned by this thread.
    pub fn new() -> LocalSet {
        LocalSet {
            context: Rc::new(LocalContext {
                shared: Arc::new(LocalShared {
                    queue: Mutex::new(VecDeque::new()),
                    waker: gort_context::WakerSlot::new(),
                }),
                tasks: RefCell::new(Slab::new()),
                run_queue: RefCell::new(VecDeque::new()),
                closed: Cell::new(false),
                id: Id::next(),
            }),
        }
    }

    /// Makes this set current on this thread until the guard is dropped, so that
    /// [`spawn_local`] spawns onto it (the tasks run once the set is driven).
    pub fn enter(&self) -> LocalEnterGuard {
        let previous =
            CURRENT.with(|current| current.entered.replace(Some(Rc::clone(&self.context))));
        LocalEnterGuard {
            previous,
            _not_send: PhantomData,
        }
    }

    /// Spawns `future`, which need not be `Send`, onto this set and returns its
    /// [`JoinHandle`]. It runs on this thread while the set is driven; it may be spawned before
    /// the set is.
    #[track_caller]
    pub fn spawn_local<F>(&self, future: F) -> JoinHandle<F::Output>
    where
        F: Future + 'static,
        F::Output: 'static,
    {
        spawn_on(&self.context, future, None, Location::caller())
    }

    /// [`LocalSet::spawn_local`] for a `LocalRuntime`, whose tasks belong to its runtime even
    /// when spawned off it.
    #[track_caller]
    pub(crate) fn spawn_local_for<F>(
        &self,
        future: F,
        runtime: &Arc<Shared>,
    ) -> JoinHandle<F::Output>
    where
        F: Future + 'static,
        F::Output: 'static,
    {
        spawn_on(&self.context, future, Some(runtime), Location::caller())
    }

    /// Runs `future` and this set's tasks on `runtime` until `future` completes (on this thread,
    /// which works as one of the runtime's Ms meanwhile), and returns its output. Tasks still
    /// unfinished then stay in the set.
    ///
    /// # Panics
    ///
    /// Where `Runtime::block_on` panics: inside a task, or inside another `block_on`.
    #[track_caller]
    pub fn block_on<F>(&self, runtime: &Runtime, future: F) -> F::Output
    where
        F: Future,
    {
        runtime.block_on(self.run_until(future))
    }

    /// Runs `future` and this set's tasks until `future` completes, and returns its output.
    /// Inside it, [`spawn_local`] spawns onto this set. Tasks still unfinished then stay in the
    /// set.
    pub async fn run_until<F>(&self, future: F) -> F::Output
    where
        F: Future,
    {
        RunUntil {
            local_set: self,
            future,
        }
        .await
    }

    /// The set's id (from the same space as runtimes' ids).
    pub fn id(&self) -> Id {
        self.context.id
    }

    /// Runs up to [`MAX_TASKS_PER_TICK`] queued tasks; `true` if more are queued.
    fn tick(&self) -> bool {
        let context = &self.context;
        context.take_shared_queue();
        for _ in 0..MAX_TASKS_PER_TICK {
            // Popped in its own statement: running the task may queue onto `run_queue`.
            let task = context.run_queue.borrow_mut().pop_front();
            let Some(task) = task else {
                return false;
            };
            task.run();
        }
        !context.run_queue.borrow().is_empty() || !context.shared.lock().is_empty()
    }

    /// Runs `f` (a poll or the drop of the set) with the set entered and marked running on this
    /// thread, and `block_in_place` refused (it would block every task of the set).
    fn running<R>(&self, f: impl FnOnce() -> R) -> R {
        /// Restores the thread's previous sets, also when a task's poll unwinds (a panic in
        /// `run_until`'s future).
        struct Restore {
            entered: Option<Rc<LocalContext>>,
            running: *const LocalShared,
        }
        impl Drop for Restore {
            fn drop(&mut self) {
                let entered = self.entered.take();
                // `try_with`: a set dropped by a thread-local destructor at thread exit.
                let _ = CURRENT.try_with(|current| {
                    current.running.set(self.running);
                    current.entered.replace(entered)
                });
            }
        }
        let restore = CURRENT.try_with(|current| Restore {
            entered: current.entered.replace(Some(Rc::clone(&self.context))),
            running: current.running.replace(Arc::as_ptr(&self.context.shared)),
        });
        let _restore = restore.ok();
        context::refusing_block_in_place(f)
    }
}

impl Default for LocalSet {
    fn default() -> LocalSet {
        LocalSet::new()
    }
}

impl fmt::Debug for LocalSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LocalSet")
            .field("id", &self.context.id)
            .field("tasks", &self.context.tasks.borrow().len())
            .finish()
    }
}

/// Driving the set itself: runs its tasks, and completes once none is left.
impl Future for LocalSet {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        self.context.shared.waker.register(cx.waker());
        context::note_local_set_polled();
        if self.running(|| self.tick()) {
            cx.waker().wake_by_ref();
            return Poll::Pending;
        }
        if self.context.tasks.borrow().is_empty() {
            Poll::Ready(())
        } else {
            // The tasks left wait for wakes, which queue them and wake this poller.
            Poll::Pending
        }
    }
}

impl Drop for LocalSet {
    /// Drops every task still in the set, on this thread (module doc).
    fn drop(&mut self) {
        let context = Rc::clone(&self.context);
        context.closed.set(true);
        self.running(|| loop {
            context.take_shared_queue();
            let queued = std::mem::take(&mut *context.run_queue.borrow_mut());
            let dropped_some = !queued.is_empty();
            // Outside the lock and the borrow: destructors run user code, which may wake or
            // spawn. Each task is run once aborted, so that a destructor's panic is its
            // `JoinError::Panic`.
            queued.into_iter().for_each(crate::shared::cancel_now);
            if context.tasks.borrow().is_empty() {
                return;
            }
            if dropped_some {
                continue;
            }
            // Every task left is parked, or being queued by a wake on another thread: queue
            // the parked ones (a task queued already ignores the wake).
            let wakers: Vec<Waker> = context
                .tasks
                .borrow()
                .iter()
                .map(|(_, w)| w.clone())
                .collect();
            for waker in wakers {
                waker.wake();
            }
            if context.shared.lock().is_empty() && context.run_queue.borrow().is_empty() {
                std::thread::yield_now();
            }
        });
    }
}

impl Drop for LocalEnterGuard {
    fn drop(&mut self) {
        let previous = self.previous.take();
        let _ = CURRENT.try_with(|current| current.entered.replace(previous));
    }
}

impl fmt::Debug for LocalEnterGuard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LocalEnterGuard").finish_non_exhaustive()
    }
}

impl LocalContext {
    /// Moves the tasks of the shared queue onto the run queue (one lock).
    fn take_shared_queue(&self) {
        let mut shared = self.shared.lock();
        if !shared.is_empty() {
            self.run_queue.borrow_mut().append(&mut shared);
        }
    }
}

impl LocalShared {
    fn lock(&self) -> MutexGuard<'_, VecDeque<Task>> {
        // Pushes and pops only: a panic cannot leave the deque inconsistent.
        self.queue.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The schedule function of the set's tasks, on any thread (module doc).
    fn schedule(&self, task: Task) {
        let mut task = Some(task);
        let running_here = CURRENT
            .try_with(|current| {
                if !ptr::eq(current.running.get(), self) {
                    return false;
                }
                // Running here: onto the set's own queue when the entered set is this one (a
                // task may have entered another set meanwhile; then the shared queue).
                if let Ok(entered) = current.entered.try_borrow() {
                    if let Some(context) = entered.as_ref() {
                        if ptr::eq(Arc::as_ptr(&context.shared), self) {
                            if let Ok(mut queue) = context.run_queue.try_borrow_mut() {
                                queue.extend(task.take());
                            }
                        }
                    }
                }
                true
            })
            .unwrap_or(false);
        let Some(task) = task else {
            return;
        };
        self.lock().push_back(task);
        if !running_here {
            if let Some(waker) = self.waker.take() {
                // The poller's waker may be another executor's, and this runs inside
                // async-task's abort-on-panic guard.
                context::contain_waker_panics(|| waker.wake());
            }
        }
    }
}

pin_project! {
    /// The future behind [`LocalSet::run_until`].
    struct RunUntil<'a, F> {
        local_set: &'a LocalSet,
        #[pin]
        future: F,
    }
}

impl<F: Future> Future for RunUntil<'_, F> {
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        let this = self.project();
        let local_set = *this.local_set;
        let future = this.future;
        local_set.context.shared.waker.register(cx.waker());
        context::note_local_set_polled();
        local_set.running(|| {
            if let Poll::Ready(output) = future.poll(cx) {
                return Poll::Ready(output);
            }
            if local_set.tick() {
                cx.waker().wake_by_ref();
            }
            Poll::Pending
        })
    }
}

pin_project! {
    /// A local task's future, with the set's hold on the task, which it releases when dropped
    /// (after the future: fields drop in order).
    struct Owned<F> {
        #[pin]
        future: F,
        owner: Owner,
    }
}

impl<F: Future> Future for Owned<F> {
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        self.project().future.poll(cx)
    }
}

/// A task's entry in its set's `tasks` (module doc).
struct Owner {
    context: Rc<LocalContext>,
    key: usize,
}

impl Drop for Owner {
    fn drop(&mut self) {
        let waker = self.context.tasks.borrow_mut().try_remove(self.key);
        // Outside the borrow.
        drop(waker);
    }
}

/// The schedule function of every local task. A plain function, not a closure over the set's
/// queue: async-task wraps each call of a schedule function that captures anything in a
/// temporary waker, a reference-count increment and decrement on the task per wake and per
/// yield (14% of `localset_yield1000x200`'s samples). The queue comes from the G record.
fn schedule_local_task(task: Task) {
    let Some(set) = task.metadata().local_set() else {
        unreachable!("a local task without its set")
    };
    let set_ptr = Arc::as_ptr(set);
    let running_here = CURRENT
        .try_with(|current| ptr::eq(current.running.get(), set_ptr))
        .unwrap_or(false);
    if running_here {
        // SAFETY: the set's tasks run only on the thread running the set, which is inside this
        // call: the task, and with it the record's reference to the set, outlive the call.
        unsafe { &*set_ptr }.schedule(task);
    } else {
        // Another thread may run the task to completion (and drop the record's reference)
        // once it is queued: this call keeps a reference of its own.
        let set = Arc::clone(set);
        set.schedule(task);
    }
}

/// Spawns `future` onto the set of `context`, spawned at `location`, as a task of `runtime`
/// (by default the current one): the runtime that counts it and can reach it (abort,
/// shutdown).
fn spawn_on<F>(
    context: &Rc<LocalContext>,
    future: F,
    runtime: Option<&Arc<Shared>>,
    location: &'static Location<'static>,
) -> JoinHandle<F::Output>
where
    F: Future + 'static,
    F::Output: 'static,
{
    let runtime = match runtime {
        Some(runtime) => Arc::clone(runtime),
        None => context::current_shared().unwrap_or_else(default_shared),
    };
    let key = context.tasks.borrow().vacant_key();
    let owned = Owned {
        future,
        owner: Owner {
            context: Rc::clone(context),
            key,
        },
    };
    let record = G::new(
        Arc::clone(&runtime),
        location,
        None,
        None,
        crate::dead_tasks::NO_HOME,
    )
    .for_local_set(Arc::clone(&context.shared));
    let (task, handle) = async_task::Builder::new()
        .metadata(record)
        .spawn_local(move |g: &G| GFuture::new(owned, g), schedule_local_task);
    let inserted = context.tasks.borrow_mut().insert(task.waker());
    debug_assert_eq!(
        inserted, key,
        "a local task's slot was taken while it was spawned"
    );
    // Counted now, as every G is; its `GFuture`'s drop uncounts it.
    context::count_goroutines(&runtime, 1);
    if context.closed.get() {
        // The set is being dropped: the future is dropped now, the handle reports it cancelled.
        crate::shared::refuse(task);
    } else {
        task.schedule();
    }
    JoinHandle::new(handle)
}
