//! Model-based tests of channels and `select!` (issue 14): random programs, checked against a
//! reference model or against conservation laws, shrunk by proptest to a minimal failing
//! program when they fail.
//!
//! # Two kinds of case
//!
//! **One-task programs** (`chan_model/sequential.rs`, against `chan_model/model.rs`). One
//! thread runs 1 to 40 random steps over 1 to 3 channels of capacity 0 to 3: `try_send`,
//! `try_recv`, `close` from either side, cloning and dropping senders and receivers (the last
//! sender closes, the last receiver does not), `send` and `recv` futures polled once and kept
//! while pending, `select!` over up to three send and receive cases (with or without
//! `default`, `biased;`, `if` preconditions, `Some(v) =` patterns), polling a pending
//! operation again, and dropping one. The model is plain data (per channel a `VecDeque`
//! buffer, a closed flag, handle counts, and FIFO queues of parked operations) moved by rules
//! written from the documented semantics, numbered in its module doc. One thread drives every
//! future, so each step's outcome is determined, except which ready case an unbiased select
//! takes: there the model checks that gort took *a* ready case, and follows it.
//!
//! After every step the test compares exactly: each result (the value; `Full` or `Closed`
//! with the value back; `Empty` or `Closed`; which select case, or `default`, or `else`;
//! `Pending`); `len`, `is_closed` and `capacity` from both sides; the set of values dropped
//! without reaching the test (a cancelled send's, a losing case's, a freed channel's); and
//! that every pending operation a peer completed had its waker woken, the one-thread form of
//! "no hang". At the end it drops what is pending, drains the channels, drops every handle,
//! and requires every value to have ended exactly once where the model says: taken by a
//! receive, given back by a failed send, or dropped (`chan_model/token.rs`'s ledger; a value
//! still alive was leaked).
//!
//! **Concurrent scenarios** (`chan_model/concurrent.rs`). A runtime of 1 to 4 Ps runs 1 to 3
//! producers (scripts of awaited sends, `try_send`, sends under a timeout, sends polled once
//! and dropped a few yields later, `select!` of sends with and without `default`, `close`)
//! and consumers (loops of a wait on every open channel, receives under a timeout or dropped
//! after a poll, `try_recv`, `select!` with `default`, `close`) that stop once they have
//! seen every channel closed; the last producer to end closes the channels by dropping the
//! last senders. Values are unique (`producer << 20 | sequence`). Schedules cannot be
//! replayed, so there is no exact model; the checks are what every interleaving must keep:
//!
//! - each value received was received once, on the channel it was sent on, by a send that
//!   returned `Ok` or was dropped while pending (a receiver may take it just before);
//! - each value sent `Ok` was received; each failed send returned its own value; values of
//!   losing `select!` cases and of `default`s were dropped, never received; a send dropped
//!   while pending was either received or dropped;
//! - every consumer saw `None` on every channel, and `None` only on a closed one (so every
//!   close, by `close()` or by the last sender's drop, is observed); the channels end closed
//!   and empty; the ledger shows no value leaked or duplicated;
//! - with one consumer, each producer's values arrive on each channel in the order sent
//!   (Go's FIFO guarantee);
//! - the scenario ends within `concurrent::HANG_LIMIT` (the module doc argues that every
//!   scenario ends when gort is right); a watchdog aborts the run if even that cannot fire.
//!
//! # Why that is enough
//!
//! A channel bug shows as a wrong answer to an operation, a value lost, duplicated or sent
//! somewhere else, a wake lost, or state that drifts (`len`, `is_closed`). The one-task model
//! pins answers and state down exactly, step by step, over every protocol path one task can
//! reach, and these cases reach them all (counted while writing this file): hand-off to a
//! parked receiver, refill from a parked sender, `close` completing both queues, a select
//! committed by a peer, a select re-parking, a `Some(_)` case refuted after it was committed,
//! cancellation with and without a value handed over, a value given back to a parked receiver
//! or into a full buffer. What one thread cannot produce is the races between those paths on
//! different Ps: a peer committing a select while the select locks its channels, a timeout
//! dropping a receive the instant a sender hands it a value. The concurrent scenarios make
//! those races by the thousand and check the laws that hold whichever way each one goes.
//!
//! # What they found
//!
//! A select with a send and a receive case on the same rendezvous channel that was parked, then
//! polled again before a peer committed it (a spurious wake, a `join!` or timeout around it),
//! matched itself: one case completed against the select's own waiter of the other case, left
//! over from the earlier round (debug builds panicked with "a select case was committed twice";
//! release builds reported the send delivered and left the value buffered in the rendezvous
//! channel). The driver now withdraws all its old waiters before it tries any case
//! (`sync/src/select.rs`); the one-task property found it within a few thousand cases, shrunk
//! to "park `select! { r = tx.send(v) => .., v = rx.recv() => .. }`, poll it again", and
//! `tests/select.rs` keeps that program as a regression test.
//!
//! # Running
//!
//! CI runs 2048 one-task programs and 512 cases of each concurrent property, a few seconds in
//! a debug build. `PROPTEST_CASES` overrides every count; a long run by hand (about 30 s on
//! two cores):
//!
//! ```text
//! PROPTEST_CASES=100000 cargo test --release --test chan_model
//! ```
//!
//! A failure prints the shrunk program. Nothing is written to the checkout (no
//! `proptest-regressions` files): a program worth keeping becomes a plain test at the end of
//! this file, as a `Program` value run by `sequential::run`.

mod common;

#[path = "chan_model/concurrent.rs"]
mod concurrent;
#[path = "chan_model/model.rs"]
mod model;
#[path = "chan_model/sequential.rs"]
mod sequential;
#[path = "chan_model/token.rs"]
mod token;

use proptest::prelude::*;
use proptest::test_runner::Config;

/// `cases` cases unless `PROPTEST_CASES` says otherwise (`Config::with_cases` would override
/// the variable); no failure files written next to the sources.
fn config(cases: u32) -> Config {
    let mut config = Config::default();
    if std::env::var_os("PROPTEST_CASES").is_none() {
        config.cases = cases;
    }
    config.failure_persistence = None;
    config
}

/// [`config`] for scenarios on threads: shrinking stops after a minute (a hang costs
/// `HANG_LIMIT` per try, and a race may not come back on every try).
fn concurrent_config(cases: u32) -> Config {
    Config {
        max_shrink_time: 60_000,
        ..config(cases)
    }
}

proptest! {
    #![proptest_config(config(2048))]

    /// One task's steps over a few channels give exactly the model's results, state, wakes
    /// and value fates, step by step.
    #[test]
    fn every_step_of_a_one_task_program_matches_the_model(program in sequential::program(40)) {
        sequential::run(&program).map_err(TestCaseError::fail)?;
    }
}

proptest! {
    #![proptest_config(concurrent_config(512))]

    /// Producers and consumers on 1 to 4 Ps: every value is delivered once or returned,
    /// every close is observed, nothing leaks, the scenario ends.
    #[test]
    fn every_value_sent_is_received_once_or_returned(
        scenario in concurrent::scenario(12, 1..=3),
    ) {
        concurrent::run(&scenario).map_err(TestCaseError::fail)?;
    }

    /// The same with a single consumer, which must also see each producer's values on each
    /// channel in the order they were sent.
    #[test]
    fn one_consumer_gets_each_senders_values_in_order(scenario in concurrent::scenario(12, 1..=1)) {
        concurrent::run(&scenario).map_err(TestCaseError::fail)?;
    }
}

/// A `Some(_)` case refuted by a close drops its `Receiver` when it is refuted, not when its
/// select ends: here the only other handle of the closed channel is a receive that a sender
/// had handed a value, so dropping that receive gives the value back and frees the channel
/// (dropping the value) while the select is still parked. A long run found the model
/// getting this wrong.
#[test]
fn a_refuted_select_case_lets_go_of_its_channel_at_once() {
    use sequential::{CaseKind, CaseSpec, Program, Step};
    let program = Program {
        capacities: vec![0, 0],
        steps: vec![
            // Pending: [receive on 0].
            Step::Recv { ch: 0 },
            // Pending: [receive on 0, select { value = recv on 1, Some(value) = recv on 0 }].
            Step::Select {
                cases: vec![
                    CaseSpec {
                        ch: 1,
                        kind: CaseKind::Recv,
                        enabled: true,
                    },
                    CaseSpec {
                        ch: 0,
                        kind: CaseKind::RecvSome,
                        enabled: true,
                    },
                ],
                biased: false,
                default: false,
            },
            // Handed to the plain receive.
            Step::TrySend { ch: 0 },
            // Closes channel 0: the select is committed to its `Some(_)` case with `None`.
            Step::DropSender { ch: 0 },
            Step::DropReceiver { ch: 0 },
            // The case is refuted; the select parks again on channel 1 alone.
            Step::Poll { pending: 1 },
            // The value goes back into channel 0, whose last handle this receive held.
            Step::Drop { pending: 0 },
        ],
    };
    sequential::run(&program).unwrap();
}
