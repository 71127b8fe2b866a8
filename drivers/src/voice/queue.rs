//! The announcement queue: which announcement plays next. Pure: no I/O, no clock (the time a
//! call arrived is passed in).
//!
//! Owns the rules: one announcement at a time; oldest first; a call for a ticket whose
//! announcement is still waiting replaces it in place (a recall is not stacked on the call it
//! repeats); a recall during the ticket's own announcement waits behind it like any new call,
//! so it plays once more afterwards, neither cutting it nor twice; an announcement cut by a
//! failing device goes back to the front to play whole; at most `capacity` wait, the oldest
//! giving way.
//!
//! Does not own: composing or playing sound, or deciding to give up on a dead device (the
//! task clears the queue then).

use std::collections::VecDeque;
use std::time::Instant;

use super::compose::Call;

/// An announcement waiting or playing.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Queued {
    pub call: Call,
    /// When the call (or the recall that replaced it) arrived.
    pub at: Instant,
}

/// What [`Queue::push`] did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Pushed {
    /// Waits at this place (0 = next).
    Queued { place: usize },
    /// Replaced the same ticket's waiting announcement at this place.
    Replaced { place: usize },
    /// Queued last; the oldest waiting announcement gave way (the queue was full).
    Displaced { dropped: Box<Queued> },
}

/// Waiting announcements and the one playing.
#[derive(Clone, Debug)]
pub struct Queue {
    waiting: VecDeque<Queued>,
    playing: Option<Queued>,
    capacity: usize,
}

impl Queue {
    /// A queue where at most `capacity` (at least 1) announcements wait.
    pub fn new(capacity: usize) -> Queue {
        Queue {
            waiting: VecDeque::new(),
            playing: None,
            capacity: capacity.max(1),
        }
    }

    /// A call arrived at `now`.
    pub fn push(&mut self, call: Call, now: Instant) -> Pushed {
        let entry = Queued { call, at: now };
        if let Some(place) = self.place_of(&entry.call.number) {
            self.waiting[place] = entry;
            return Pushed::Replaced { place };
        }
        let dropped = match self.waiting.len() >= self.capacity {
            true => self.waiting.pop_front(),
            false => None,
        };
        self.waiting.push_back(entry);
        match dropped {
            Some(dropped) => Pushed::Displaced {
                dropped: Box::new(dropped),
            },
            None => Pushed::Queued {
                place: self.waiting.len() - 1,
            },
        }
    }

    fn place_of(&self, number: &str) -> Option<usize> {
        self.waiting.iter().position(|q| q.call.number == number)
    }

    /// Starts the oldest waiting announcement if none is playing, and returns it.
    pub fn start_next(&mut self) -> Option<&Queued> {
        if self.playing.is_some() {
            return None;
        }
        self.playing = Some(self.waiting.pop_front()?);
        self.playing.as_ref()
    }

    /// The announcement playing now.
    pub fn playing(&self) -> Option<&Queued> {
        self.playing.as_ref()
    }

    /// The playing announcement ended (complete, or given up); returns it.
    pub fn finish(&mut self) -> Option<Queued> {
        self.playing.take()
    }

    /// The playing announcement was cut (the device failed): it goes back to the front to play
    /// whole, unless a newer call for the same ticket is already waiting. Returns whether it
    /// went back.
    pub fn interrupted(&mut self) -> bool {
        let Some(entry) = self.playing.take() else {
            return false;
        };
        if self.place_of(&entry.call.number).is_some() {
            return false;
        }
        self.waiting.push_front(entry);
        if self.waiting.len() > self.capacity {
            self.waiting.pop_back();
        }
        true
    }

    /// Empties the waiting list (the device has been gone too long); returns what was dropped.
    pub fn clear(&mut self) -> Vec<Queued> {
        self.waiting.drain(..).collect()
    }

    /// Announcements waiting (not counting the one playing).
    pub fn waiting(&self) -> usize {
        self.waiting.len()
    }

    /// Ticket numbers waiting, next first.
    pub fn numbers(&self) -> impl Iterator<Item = &str> {
        self.waiting.iter().map(|q| q.call.number.as_str())
    }

    /// Nothing waiting and nothing playing.
    pub fn is_idle(&self) -> bool {
        self.playing.is_none() && self.waiting.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    fn call(number: &str, window: u32, recall: bool) -> Call {
        Call {
            window,
            number: number.into(),
            service: number[..1].into(),
            recall,
        }
    }

    /// Plays everything: the numbers in the order they would be announced.
    fn play_all(q: &mut Queue) -> Vec<String> {
        let mut out = Vec::new();
        while let Some(next) = q.start_next() {
            out.push(next.call.number.clone());
            q.finish();
        }
        out
    }

    #[test]
    fn oldest_first_one_at_a_time() {
        let t0 = Instant::now();
        let mut q = Queue::new(64);
        assert_eq!(
            q.push(call("A001", 1, false), t0),
            Pushed::Queued { place: 0 }
        );
        assert_eq!(
            q.push(call("B001", 2, false), t0),
            Pushed::Queued { place: 1 }
        );
        assert_eq!(q.start_next().unwrap().call.number, "A001");
        // Nothing else starts while one plays.
        assert!(q.start_next().is_none());
        q.push(call("C001", 3, false), t0);
        assert_eq!(q.finish().unwrap().call.number, "A001");
        assert_eq!(play_all(&mut q), ["B001", "C001"]);
        assert!(q.is_idle());
    }

    #[test]
    fn a_recall_replaces_the_waiting_call_in_place() {
        let t0 = Instant::now();
        let t1 = t0 + Duration::from_secs(1);
        let mut q = Queue::new(64);
        q.push(call("A001", 1, false), t0);
        q.push(call("A002", 2, false), t0);
        q.push(call("A003", 3, false), t0);
        assert_eq!(
            q.push(call("A002", 2, true), t1),
            Pushed::Replaced { place: 1 }
        );
        assert_eq!(q.waiting(), 3);
        assert_eq!(q.numbers().collect::<Vec<_>>(), ["A001", "A002", "A003"]);
        q.start_next();
        q.finish();
        let replaced = q.start_next().unwrap();
        assert!(replaced.call.recall);
        assert_eq!(replaced.at, t1);
    }

    #[test]
    fn a_recall_during_its_own_announcement_plays_once_more_after_it() {
        let t0 = Instant::now();
        let mut q = Queue::new(64);
        q.push(call("A001", 1, false), t0);
        assert_eq!(q.start_next().unwrap().call.number, "A001");
        // Two recalls while it plays: one more announcement, not two, and it does not cut in.
        q.push(call("A001", 1, true), t0);
        q.push(call("A001", 1, true), t0);
        assert_eq!(q.playing().unwrap().call.number, "A001");
        assert!(!q.playing().unwrap().call.recall);
        assert!(q.start_next().is_none());
        q.finish();
        assert_eq!(play_all(&mut q), ["A001"]);
    }

    #[test]
    fn a_burst_of_twenty_calls_plays_in_call_order() {
        let t0 = Instant::now();
        let mut q = Queue::new(64);
        let numbers: Vec<String> = (1..=20).map(|i| format!("A{i:03}")).collect();
        for (i, n) in numbers.iter().enumerate() {
            q.push(call(n, i as u32 % 5 + 1, false), t0);
        }
        assert_eq!(play_all(&mut q), numbers);
    }

    #[test]
    fn a_full_queue_drops_the_oldest_waiting() {
        let t0 = Instant::now();
        let mut q = Queue::new(2);
        q.push(call("A001", 1, false), t0);
        q.push(call("A002", 1, false), t0);
        let Pushed::Displaced { dropped } = q.push(call("A003", 1, false), t0) else {
            panic!("expected a displacement")
        };
        assert_eq!(dropped.call.number, "A001");
        assert_eq!(play_all(&mut q), ["A002", "A003"]);
    }

    #[test]
    fn a_cut_announcement_goes_back_to_the_front_unless_recalled_meanwhile() {
        let t0 = Instant::now();
        let mut q = Queue::new(64);
        q.push(call("A001", 1, false), t0);
        q.push(call("A002", 2, false), t0);
        q.start_next();
        assert!(q.interrupted());
        assert_eq!(q.numbers().collect::<Vec<_>>(), ["A001", "A002"]);
        q.start_next();
        q.push(call("A001", 1, true), t0);
        assert!(!q.interrupted());
        assert_eq!(play_all(&mut q), ["A002", "A001"]);
        assert!(!q.interrupted());
    }

    #[test]
    fn clear_empties_the_waiting_list_but_not_the_one_playing() {
        let t0 = Instant::now();
        let mut q = Queue::new(64);
        q.push(call("A001", 1, false), t0);
        q.push(call("A002", 2, false), t0);
        q.start_next();
        let dropped: Vec<String> = q.clear().into_iter().map(|e| e.call.number).collect();
        assert_eq!(dropped, ["A002"]);
        assert_eq!(q.playing().unwrap().call.number, "A001");
    }
}
