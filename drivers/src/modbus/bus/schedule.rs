//! Who gets the bus next: a pure choice among the devices with a transaction due.
//!
//! Owns: the three classes of transaction ([`Class`]: pad text and LEDs and the updates of
//! window bars and pad screens first, then key polls and acks, then the rest — hall-board
//! updates, idle display polls), round robin within a class, and the guard that keeps a lower class
//! from starving: a class that has waited `starve_after` transactions gets the next one. So a
//! press waits at most for the transaction in flight and the other polls before its own, never
//! for a whole hall-board frame, and a hall board still gets one transaction in every round of
//! polls.
//!
//! Does not own: what each device has due ([`super::device`]) or any I/O.

/// Transaction classes, most urgent first.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Class {
    /// Pad text and LEDs, window-bar and pad-screen updates (and identity reads of those
    /// devices): small and what a person waits for.
    Urgent = 0,
    /// Reads of the key FIFO and acks.
    Poll = 1,
    /// Hall-board updates, idle display polls.
    Bulk = 2,
}

const CLASSES: [Class; 3] = [Class::Urgent, Class::Poll, Class::Bulk];

/// The scheduler's memory between picks.
#[derive(Debug)]
pub(crate) struct Scheduler {
    next: [usize; 3],
    waited: [u32; 3],
    starve_after: u32,
}

impl Scheduler {
    /// A class gets a turn after waiting `starve_after` transactions (at least 1).
    pub(crate) fn new(starve_after: u32) -> Scheduler {
        Scheduler {
            next: [0; 3],
            waited: [0; 3],
            starve_after: starve_after.max(1),
        }
    }

    /// The device to serve, given the class of each device's due transaction (`None`: nothing
    /// due).
    pub(crate) fn pick(&mut self, due: &[Option<Class>]) -> Option<usize> {
        let present = CLASSES.map(|c| due.contains(&Some(c)));
        let starving = [Class::Poll, Class::Bulk]
            .into_iter()
            .find(|&c| present[c as usize] && self.waited[c as usize] >= self.starve_after);
        let class = starving.or_else(|| CLASSES.into_iter().find(|&c| present[c as usize]))?;
        for c in CLASSES {
            let k = c as usize;
            self.waited[k] = if c != class && present[k] {
                self.waited[k] + 1
            } else {
                0
            };
        }
        let n = due.len();
        let k = class as usize;
        let i = (0..n)
            .map(|step| (self.next[k] + step) % n)
            .find(|&i| due[i] == Some(class))?;
        self.next[k] = (i + 1) % n;
        Some(i)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use Class::*;

    #[test]
    fn urgent_first_then_polls_in_turn_then_bulk() {
        let mut s = Scheduler::new(4);
        assert_eq!(s.pick(&[Some(Bulk), Some(Poll), Some(Urgent)]), Some(2));
        assert_eq!(s.pick(&[Some(Bulk), Some(Poll), None, Some(Poll)]), Some(1));
        assert_eq!(s.pick(&[Some(Bulk), Some(Poll), None, Some(Poll)]), Some(3));
        assert_eq!(s.pick(&[Some(Bulk), None, None, None]), Some(0));
        assert_eq!(s.pick(&[None, None]), None);
    }

    #[test]
    fn a_waiting_class_gets_a_turn_after_starve_after_transactions() {
        // Four pads always due and a hall board with a long frame: the board gets one
        // transaction in every five.
        let mut s = Scheduler::new(4);
        let due = [Some(Poll), Some(Poll), Some(Poll), Some(Poll), Some(Bulk)];
        let picks: Vec<_> = (0..10).map(|_| s.pick(&due).unwrap()).collect();
        assert_eq!(picks, [0, 1, 2, 3, 4, 0, 1, 2, 3, 4]);
        // A stream of urgent work still lets polls through.
        let mut s = Scheduler::new(2);
        let due = [Some(Urgent), Some(Poll)];
        let picks: Vec<_> = (0..6).map(|_| s.pick(&due).unwrap()).collect();
        assert_eq!(picks, [0, 0, 1, 0, 0, 1]);
    }
}
