//! The plumbing every mpsc handle triple (`Sender`, `WeakSender`, `Receiver` and their
//! unbounded twins) shares: counting on clone and drop, upgrading a weak sender, `Unpin`,
//! `Trace` and `Debug`. One macro, so that the bounded and unbounded channels differ only in
//! their sending and receiving methods.

/// Implements the shared plumbing for `$sender`, `$weak` and `$receiver`, each a struct with
/// one field `chan: Gc<Channel<T>>`.
macro_rules! handle_plumbing {
    ($sender:ident, $weak:ident, $receiver:ident) => {
        impl<T> Clone for $sender<T> {
            fn clone(&self) -> Self {
                self.chan.add_sender();
                $sender {
                    chan: Gc::clone(&self.chan),
                }
            }
        }

        impl<T> Drop for $sender<T> {
            fn drop(&mut self) {
                // `None` only while the collector frees a cycle this sender was in: nobody is
                // left to tell.
                if let Some(chan) = Gc::try_get(&self.chan) {
                    chan.drop_sender();
                }
            }
        }

        impl<T> $weak<T> {
            #[doc = concat!("A [`", stringify!($sender), "`], if any strong sender is still alive.")]
            pub fn upgrade(&self) -> Option<$sender<T>> {
                self.chan.try_upgrade().then(|| $sender {
                    chan: Gc::clone(&self.chan),
                })
            }

            /// Strong senders alive now.
            pub fn strong_count(&self) -> usize {
                self.chan.strong_count()
            }

            /// Weak senders alive now.
            pub fn weak_count(&self) -> usize {
                self.chan.weak_count()
            }
        }

        impl<T> Clone for $weak<T> {
            fn clone(&self) -> Self {
                self.chan.add_weak();
                $weak {
                    chan: Gc::clone(&self.chan),
                }
            }
        }

        impl<T> Drop for $weak<T> {
            fn drop(&mut self) {
                if let Some(chan) = Gc::try_get(&self.chan) {
                    chan.drop_weak();
                }
            }
        }

        impl<T> Drop for $receiver<T> {
            fn drop(&mut self) {
                if let Some(chan) = Gc::try_get(&self.chan) {
                    chan.drop_receiver();
                }
            }
        }

        // The handles are `Unpin` whatever `T` is, as tokio's are (nothing points into them).
        impl<T> Unpin for $sender<T> {}
        impl<T> Unpin for $weak<T> {}
        impl<T> Unpin for $receiver<T> {}

        // SAFETY: each handle owns exactly one handle to its channel's state.
        unsafe impl<T> Trace for $sender<T> {
            fn trace(&self, visitor: &mut dyn Visitor) {
                self.chan.trace(visitor);
            }
        }

        // SAFETY: as for the sender.
        unsafe impl<T> Trace for $weak<T> {
            fn trace(&self, visitor: &mut dyn Visitor) {
                self.chan.trace(visitor);
            }
        }

        // SAFETY: as for the sender.
        unsafe impl<T> Trace for $receiver<T> {
            fn trace(&self, visitor: &mut dyn Visitor) {
                self.chan.trace(visitor);
            }
        }

        impl<T> fmt::Debug for $sender<T> {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.debug_struct(stringify!($sender))
                    .field("chan", &*self.chan)
                    .finish()
            }
        }

        impl<T> fmt::Debug for $weak<T> {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.debug_struct(stringify!($weak)).finish()
            }
        }

        impl<T> fmt::Debug for $receiver<T> {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.debug_struct(stringify!($receiver))
                    .field("chan", &*self.chan)
                    .finish()
            }
        }
    };
}

pub(super) use handle_plumbing;
