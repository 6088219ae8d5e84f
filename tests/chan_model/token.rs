//! `Token`: the value the model tests send, and `Ledger`, the book of what became of each one.
//!
//! A token is a unique id that writes its own fate in a shared ledger: *taken* (the test got it
//! back out of the channel API, from a receive or from a send's error) or *dropped* (something
//! else dropped it: a cancelled send future, a losing `select!` case, a freed channel). A token
//! can be neither duplicated nor created by the channel, so the ledger sees every token end
//! exactly once; one that never ends was leaked (kept in a waiter or a buffer nobody can
//! reach), and one that ends twice was copied out of a slot that should have been emptied.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

/// A token's id: the model's values.
pub type Id = u32;

/// What became of a token.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fate {
    /// The test took it back from the channel API ([`Token::take`]).
    Taken,
    /// Dropped without being taken.
    Dropped,
}

/// The shared book of fates, one per case.
#[derive(Default)]
pub struct Ledger {
    /// Every token made, with its fate once it has one. Written by `Token::new`, `take` and
    /// `drop`, on whichever thread the token is on, under the mutex.
    fates: Mutex<BTreeMap<Id, Option<Fate>>>,
    /// Tokens made twice or ended twice: a copy made by the code under test (never panics from
    /// `Drop`; reported by [`Ledger::check_all_ended`]).
    errors: Mutex<Vec<String>>,
}

impl Ledger {
    /// A fresh ledger.
    pub fn new() -> Arc<Ledger> {
        Arc::new(Ledger::default())
    }

    fn end(&self, id: Id, fate: Fate) {
        let mut fates = self.fates.lock().unwrap();
        match fates.get_mut(&id) {
            Some(slot @ None) => *slot = Some(fate),
            Some(Some(earlier)) => self.errors.lock().unwrap().push(format!(
                "token {id} ended twice: {earlier:?}, then {fate:?}"
            )),
            None => self
                .errors
                .lock()
                .unwrap()
                .push(format!("token {id} ended but was never made")),
        }
    }

    /// The ids of the tokens dropped without being taken.
    pub fn dropped(&self) -> Vec<Id> {
        let fates = self.fates.lock().unwrap();
        fates
            .iter()
            .filter(|(_, fate)| **fate == Some(Fate::Dropped))
            .map(|(id, _)| *id)
            .collect()
    }

    /// The fate of `id` so far (`None`: still alive).
    pub fn fate(&self, id: Id) -> Option<Fate> {
        self.fates.lock().unwrap().get(&id).copied().flatten()
    }

    /// Checks that no token was made or ended twice and that every token has ended (none is
    /// still alive somewhere: call it once every handle and future is gone).
    pub fn check_all_ended(&self) -> Result<(), String> {
        let errors = self.errors.lock().unwrap();
        if let Some(error) = errors.first() {
            return Err(error.clone());
        }
        let fates = self.fates.lock().unwrap();
        let alive: Vec<Id> = fates
            .iter()
            .filter(|(_, fate)| fate.is_none())
            .map(|(id, _)| *id)
            .collect();
        if alive.is_empty() {
            Ok(())
        } else {
            Err(format!(
                "tokens {alive:?} are still alive after every handle was dropped (leaked)"
            ))
        }
    }
}

/// A value sent over the channels under test (module doc).
pub struct Token {
    id: Id,
    /// `None` once taken, so that `Drop` records nothing.
    ledger: Option<Arc<Ledger>>,
}

impl Token {
    /// Makes token `id`, entered in `ledger` as alive.
    pub fn new(id: Id, ledger: &Arc<Ledger>) -> Token {
        let fresh = ledger.fates.lock().unwrap().insert(id, None).is_none();
        if !fresh {
            ledger
                .errors
                .lock()
                .unwrap()
                .push(format!("token {id} made twice (a test bug)"));
        }
        Token {
            id,
            ledger: Some(Arc::clone(ledger)),
        }
    }

    /// Takes the token back out of the channel API: records it as taken and gives its id.
    pub fn take(mut self) -> Id {
        if let Some(ledger) = self.ledger.take() {
            ledger.end(self.id, Fate::Taken);
        }
        self.id
    }
}

impl Drop for Token {
    fn drop(&mut self) {
        if let Some(ledger) = self.ledger.take() {
            ledger.end(self.id, Fate::Dropped);
        }
    }
}
