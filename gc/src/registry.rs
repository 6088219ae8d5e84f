//! The registry: every object that can be part of a cycle ([`Kind::Cycle`]), so that a
//! collection can walk them all without scanning memory.
//!
//! Other objects never enter it. A [`Kind::Leaf`] (a `Gc<String>`) cannot be part of a cycle
//! or hold a waiting task, and reference counting alone frees it; a [`Kind::Waits`] (the state
//! of a `chan![u64]`) the leak pass finds by following edges (`collector.rs`). Channels of
//! plain data thus pay nothing for the registry.
//!
//! Sharded by address, so that threads allocating and freeing at once rarely share a lock. An
//! object's key in its shard lives in its header.

use std::ptr::NonNull;
use std::sync::{Mutex, MutexGuard};

use crate::lock;

use slab::Slab;

use crate::object::{Header, UNREGISTERED};

const SHARDS: usize = 32;

/// Objects within one 16 KiB span of addresses share a shard. Threads allocate from different
/// places (glibc gives each its own arena), so they still rarely share a lock; and objects
/// allocated one after another sit together in one shard, so a collection walks each shard's
/// objects roughly in address order. Sharding by 32-byte slot instead made the walk stride
/// through the whole heap once per shard: at 1M objects the pause p50 went from 51 to 30 ms
/// with spans (16 KiB beat 4 KiB and 64 KiB; `gc_pause`, interleaved processes).
const SHARD_SPAN_BITS: u32 = 14;

/// A header pointer in a shard. Only dereferenced by the collector with the world stopped, or
/// by the object's last owner.
struct Entry(NonNull<Header>);

// SAFETY: the pointer is an address in a shared arena; see `Entry`.
unsafe impl Send for Entry {}

pub(crate) struct Registry {
    shards: [Mutex<Slab<Entry>>; SHARDS],
}

pub(crate) static REGISTRY: Registry = Registry {
    shards: [const { Mutex::new(Slab::new()) }; SHARDS],
};

impl Registry {
    fn shard(&self, header: NonNull<Header>) -> MutexGuard<'_, Slab<Entry>> {
        let index = (header.as_ptr().addr() >> SHARD_SPAN_BITS) % SHARDS;
        lock(&self.shards[index])
    }

    /// Registers a new object (not yet shared with anyone).
    pub(crate) fn insert(&self, header: NonNull<Header>) {
        let mut shard = self.shard(header);
        let key = shard.insert(Entry(header));
        // SAFETY: the caller just allocated the object and holds its only handle.
        unsafe { header.as_ref() }.set_registry_key(key);
    }

    /// Forgets an object: its last handle is gone, or the collector found it unreachable.
    pub(crate) fn remove(&self, header: NonNull<Header>) {
        let mut shard = self.shard(header);
        // SAFETY: the caller owns the object (last handle, or the stopped world).
        let object = unsafe { header.as_ref() };
        let registered = object.registry_key();
        object.set_registry_key(UNREGISTERED);
        if registered != UNREGISTERED {
            shard.remove(registered);
        }
    }

    /// Gives back the shards' spare room: a slab keeps the capacity of its largest size, and
    /// after many objects went that is memory nothing uses (`free_os_memory`). Keys stay valid:
    /// a slab shrinks only past its last occupied entry.
    pub(crate) fn shrink(&self) {
        for shard in &self.shards {
            lock(shard).shrink_to_fit();
        }
    }

    /// Calls `visit` with every registered object. Call with the world stopped.
    pub(crate) fn for_each(&self, mut visit: impl FnMut(NonNull<Header>)) {
        for shard in &self.shards {
            for (_, entry) in lock(shard).iter() {
                visit(entry.0);
            }
        }
    }
}
