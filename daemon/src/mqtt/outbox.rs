//! Everything hallq publishes, as the broker should hold it: one retained payload per topic,
//! latest wins. Producers (the boards' animators, the key devices' screens, acknowledgements,
//! hallq's own Homie properties) only set a topic's value; the link publishes what changed,
//! and everything again after every (re)connection, so a device never waits on a session
//! state that the broker or the client may have lost.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex};

use tokio::sync::Notify;

/// The topics and their latest payloads. Cheap to clone.
#[derive(Debug, Clone, Default)]
pub struct Outbox {
    inner: Arc<Inner>,
}

#[derive(Debug, Default)]
struct Inner {
    state: Mutex<State>,
    changed: Notify,
}

#[derive(Debug, Default)]
struct State {
    values: BTreeMap<String, Arc<[u8]>>,
    dirty: BTreeSet<String>,
}

impl Outbox {
    pub fn new() -> Outbox {
        Outbox::default()
    }

    /// Set `topic` to `payload` (retained); published soon unless it is what the topic holds.
    pub fn set(&self, topic: String, payload: Vec<u8>) {
        let mut state = self.lock();
        if state.values.get(&topic).is_some_and(|v| **v == *payload) {
            return;
        }
        state.values.insert(topic.clone(), payload.into());
        state.dirty.insert(topic);
        drop(state);
        self.inner.changed.notify_one();
    }

    /// The payload `topic` holds.
    pub fn get(&self, topic: &str) -> Option<Arc<[u8]>> {
        self.lock().values.get(topic).cloned()
    }

    /// Every topic is to be published again (after a connection).
    pub(super) fn all_dirty(&self) {
        let mut state = self.lock();
        let topics: Vec<String> = state.values.keys().cloned().collect();
        state.dirty.extend(topics);
        drop(state);
        self.inner.changed.notify_one();
    }

    /// The topics changed since the last take, with their payloads now.
    pub(super) fn take_dirty(&self) -> Vec<(String, Arc<[u8]>)> {
        let mut state = self.lock();
        let dirty = std::mem::take(&mut state.dirty);
        dirty
            .into_iter()
            .filter_map(|t| state.values.get(&t).cloned().map(|v| (t, v)))
            .collect()
    }

    /// Put topics back to be published again (a publish that could not be queued).
    pub(super) fn again(&self, topics: impl IntoIterator<Item = String>) {
        self.lock().dirty.extend(topics);
    }

    /// Resolves when something was set since the last call.
    pub(super) async fn changed(&self) {
        self.inner.changed.notified().await
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.inner.state.lock().unwrap_or_else(|p| p.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn latest_wins_and_a_same_value_is_not_sent_again() {
        let out = Outbox::new();
        out.set("a".into(), b"1".to_vec());
        out.set("a".into(), b"2".to_vec());
        out.set("b".into(), b"x".to_vec());
        let sent = out.take_dirty();
        assert_eq!(sent.len(), 2);
        assert_eq!(&*sent[0].1, b"2");
        out.set("a".into(), b"2".to_vec());
        assert!(out.take_dirty().is_empty());
        out.all_dirty();
        assert_eq!(out.take_dirty().len(), 2);
    }
}
