//! `JoinHandle` and `JoinError`: awaiting a G's output.
//!
//! A `JoinHandle<T>` owns async-task's `FallibleTask` for the G. Awaiting it yields the G's
//! output, a panic `JoinError` if the G panicked, or a cancelled one if it was aborted or
//! dropped by runtime shutdown. Dropping the handle detaches the G (it keeps running), as in
//! tokio; `abort` asks the G to drop its future at its next scheduling point, and
//! `abort_handle` gives that right to others (`abort.rs`).
//!
//! # A waker that panics
//!
//! async-task wakes the awaiter of a task that completes from the thread that completed it,
//! inside an abort-on-panic guard: a `JoinHandle` polled by another executor with a waker that
//! panics aborted the process. A handle polled with the runtime's own waker for the current G
//! or `block_on` main (`context::is_own_waker`: gort's, which never panics) hands it to
//! async-task as before; any other waker goes into a slot of the handle's [`Forward`], whose
//! waker async-task gets instead, and which wakes the real one under `catch_unwind` (reporting
//! a panic, which has nowhere else to go, on stderr). Made once per handle, on its first such
//! poll; later polls only register the new waker in the slot.

use std::any::Any;
use std::fmt;
use std::future::Future;
use std::panic::{RefUnwindSafe, UnwindSafe};
use std::pin::Pin;
use std::ptr::NonNull;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Wake, Waker};

use crate::abort::AbortHandle;
use crate::context;
use crate::g::{WaitReason, G};
use crate::task_id::Id;
use crate::task_output::TaskOutput;

/// An owned permission to await a spawned G's output. Dropping it detaches the G.
///
/// Not `#[must_use]`, as tokio's is not: `spawn(fut);` as a statement is how tokio programs
/// detach a task, and a port must not turn it into a warning.
pub struct JoinHandle<T> {
    /// `None` only after `Drop` detached it.
    task: Option<async_task::FallibleTask<TaskOutput<T>, G>>,
    /// The G record in the task's allocation (`FallibleTask` does not expose its metadata).
    ///
    /// # Invariant
    ///
    /// Valid while `task` is `Some`: the task handle keeps the allocation, and so the record,
    /// alive.
    g: NonNull<G>,
    /// Made on the first poll with a waker that is not the runtime's own (module doc).
    forward: Option<(Arc<Forward>, Waker)>,
}

/// Where a foreign waker of a `JoinHandle` waits for the G's completion (module doc).
struct Forward {
    waker: gort_context::WakerSlot,
}

impl Wake for Forward {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        if let Some(waker) = self.waker.take() {
            context::contain_waker_panics(|| waker.wake());
        }
    }
}

// SAFETY: the fields are a `FallibleTask` (Send when `T: Send`) and a pointer used only as `&G`,
// and `G` is `Sync`.
unsafe impl<T: Send> Send for JoinHandle<T> {}
// SAFETY: `&JoinHandle` only reads the G record (`Sync`) and `FallibleTask::is_finished`.
unsafe impl<T: Send> Sync for JoinHandle<T> {}

impl<T> Unpin for JoinHandle<T> {}

// As tokio's: a panic while a handle is borrowed leaves nothing half-updated in it.
impl<T> UnwindSafe for JoinHandle<T> {}
impl<T> RefUnwindSafe for JoinHandle<T> {}

impl<T> JoinHandle<T> {
    pub(crate) fn new(task: async_task::Task<TaskOutput<T>, G>) -> JoinHandle<T> {
        let g = NonNull::from(task.metadata());
        JoinHandle {
            task: Some(task.fallible()),
            g,
            forward: None,
        }
    }

    fn g(&self) -> &G {
        assert!(self.task.is_some(), "JoinHandle used after drop");
        // SAFETY: see the invariant on `g`; `task` is `Some`.
        unsafe { self.g.as_ref() }
    }

    /// Aborts the G: it will not be polled again, and its future is dropped at its next
    /// scheduling point (at once if it is parked). Awaiting the handle afterwards yields
    /// `JoinError::Cancelled` unless the G had already finished. Aborting twice, or after
    /// completion, does nothing.
    pub fn abort(&self) {
        if let Some(waker) = self.g().begin_abort() {
            waker.wake();
        }
    }

    /// An [`AbortHandle`] for the G: it can abort it (as [`JoinHandle::abort`]) from anywhere,
    /// also after this handle is gone, but not await it.
    pub fn abort_handle(&self) -> AbortHandle {
        self.g().abort_handle()
    }

    /// Whether the G has finished (completed, panicked, or been cancelled).
    pub fn is_finished(&self) -> bool {
        self.task.as_ref().is_some_and(|task| task.is_finished())
    }

    /// The G's id, as in task dumps, error messages and `task::id()` inside the G.
    pub fn id(&self) -> Id {
        self.g().task_id()
    }
}

impl<T> Future for JoinHandle<T> {
    type Output = Result<T, JoinError>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        // One unit of the coop budget per result taken (`gort_context`).
        let progress = std::task::ready!(gort_context::poll_proceed(cx));
        let this = &mut *self;
        let task = this
            .task
            .as_mut()
            .unwrap_or_else(|| unreachable!("JoinHandle used after drop"));
        let polled = if context::is_own_waker(cx.waker()) {
            Pin::new(&mut *task).poll(cx)
        } else {
            let (forward, waker) = this.forward.get_or_insert_with(|| {
                let forward = Arc::new(Forward {
                    waker: gort_context::WakerSlot::new(),
                });
                let waker = Waker::from(Arc::clone(&forward));
                (forward, waker)
            });
            forward.waker.register(cx.waker());
            Pin::new(&mut *task).poll(&mut Context::from_waker(waker))
        };
        match polled {
            Poll::Ready(Some(output)) => {
                progress.made();
                Poll::Ready(output.into_result())
            }
            // The G was dropped without producing output: runtime shutdown.
            Poll::Ready(None) => {
                progress.made();
                Poll::Ready(Err(JoinError::cancelled(self.g())))
            }
            Poll::Pending => {
                context::set_current_wait_reason(WaitReason::Join);
                Poll::Pending
            }
        }
    }
}

impl<T> Drop for JoinHandle<T> {
    fn drop(&mut self) {
        if let Some(task) = self.task.take() {
            task.detach();
        }
    }
}

impl<T> fmt::Debug for JoinHandle<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JoinHandle")
            .field("id", &self.id())
            .finish()
    }
}

/// Why a G produced no output: it panicked, or it was cancelled (aborted, or dropped by runtime
/// shutdown).
pub struct JoinError {
    /// The G's id.
    id: Id,
    repr: Repr,
}

enum Repr {
    Cancelled,
    /// The payload sits in a `Mutex` only so that `JoinError` is `Sync`, as tokio's is (the
    /// payload is merely `Send`); it is locked only to look at the message or take it out.
    Panic(Mutex<Box<dyn Any + Send + 'static>>),
}

impl JoinError {
    pub(crate) fn cancelled(g: &G) -> JoinError {
        JoinError {
            id: g.task_id(),
            repr: Repr::Cancelled,
        }
    }

    pub(crate) fn panic(g: &G, payload: Box<dyn Any + Send + 'static>) -> JoinError {
        JoinError {
            id: g.task_id(),
            repr: Repr::Panic(Mutex::new(payload)),
        }
    }

    /// Whether the G was aborted or dropped by shutdown.
    pub fn is_cancelled(&self) -> bool {
        matches!(self.repr, Repr::Cancelled)
    }

    /// Whether the G panicked.
    pub fn is_panic(&self) -> bool {
        matches!(self.repr, Repr::Panic(_))
    }

    /// The panic payload. Panics if the error is not a panic; see [`JoinError::try_into_panic`].
    #[track_caller]
    pub fn into_panic(self) -> Box<dyn Any + Send + 'static> {
        // A `match`, not `unwrap_or_else`: a closure would report its own location, not the
        // caller's (`#[track_caller]` does not reach into closures).
        match self.try_into_panic() {
            Ok(payload) => payload,
            Err(err) => panic!("`JoinError::into_panic` on a non-panic error: {err}"),
        }
    }

    /// The panic payload, or the error itself if the G was cancelled.
    pub fn try_into_panic(self) -> Result<Box<dyn Any + Send + 'static>, JoinError> {
        match self.repr {
            Repr::Panic(payload) => Ok(payload
                .into_inner()
                .unwrap_or_else(|poisoned| poisoned.into_inner())),
            Repr::Cancelled => Err(self),
        }
    }

    /// The id of the G that failed.
    pub fn id(&self) -> Id {
        self.id
    }

    /// The panic message, if the error is a panic whose payload is a string.
    fn panic_message(&self) -> Option<String> {
        match &self.repr {
            Repr::Cancelled => None,
            Repr::Panic(payload) => {
                let payload = payload
                    .lock()
                    .unwrap_or_else(|poisoned| poisoned.into_inner());
                panic_message(payload.as_ref()).map(str::to_owned)
            }
        }
    }
}

/// The text of a panic payload, when it is a string (as `panic!` makes it).
pub(crate) fn panic_message(payload: &(dyn Any + Send)) -> Option<&str> {
    payload
        .downcast_ref::<&'static str>()
        .copied()
        .or_else(|| payload.downcast_ref::<String>().map(String::as_str))
}

impl fmt::Display for JoinError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (&self.repr, self.panic_message()) {
            (Repr::Cancelled, _) => write!(f, "task {} was cancelled", self.id),
            (Repr::Panic(_), Some(message)) => {
                write!(f, "task {} panicked with message {message:?}", self.id)
            }
            (Repr::Panic(_), None) => write!(f, "task {} panicked", self.id),
        }
    }
}

impl fmt::Debug for JoinError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (&self.repr, self.panic_message()) {
            (Repr::Cancelled, _) => write!(f, "JoinError::Cancelled({:?})", self.id),
            (Repr::Panic(_), Some(message)) => {
                write!(f, "JoinError::Panic({:?}, {message:?}, ...)", self.id)
            }
            (Repr::Panic(_), None) => write!(f, "JoinError::Panic({:?}, ...)", self.id),
        }
    }
}

impl std::error::Error for JoinError {}

/// As tokio's: the text says how the task failed, not which task or what its panic said.
impl From<JoinError> for std::io::Error {
    fn from(err: JoinError) -> std::io::Error {
        std::io::Error::other(match err.repr {
            Repr::Cancelled => "task was cancelled",
            Repr::Panic(_) => "task panicked",
        })
    }
}
