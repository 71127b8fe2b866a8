//! A deliberately plain reference implementation of the calling policy in DESIGN §4, written
//! from the text and not from the engine: a list of waiting tickets and five rules in order.
//! A green window calls green tickets first and then works like a standard one, without the
//! streak guard; a green-only window takes green tickets and nothing else.

use jiff::Timestamp;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Class {
    Normal,
    Green,
    Reservation,
}

#[derive(Debug, Clone)]
pub struct RefTicket {
    pub number: String,
    pub service: String,
    pub class: Class,
    /// Position in issue order.
    pub order: u64,
    pub issued_at: Timestamp,
    pub slot: Option<Timestamp>,
}

#[derive(Debug, Clone)]
pub struct RefWindow {
    pub number: u32,
    pub groups: Vec<Vec<String>>,
    /// A `green` window (爱心窗口).
    pub green: bool,
    /// ...that takes green tickets only.
    pub green_only: bool,
    pub streak: u32,
}

pub struct Reference {
    pub waiting: Vec<RefTicket>,
    pub windows: Vec<RefWindow>,
    pub streak_limit: u32,
    pub max_wait_minutes: i64,
    next_order: u64,
}

impl Reference {
    pub fn new(windows: Vec<RefWindow>, streak_limit: u32, max_wait_minutes: i64) -> Self {
        Reference {
            waiting: Vec::new(),
            windows,
            streak_limit,
            max_wait_minutes,
            next_order: 0,
        }
    }

    pub fn issue(
        &mut self,
        number: &str,
        service: &str,
        class: Class,
        at: Timestamp,
        slot: Option<Timestamp>,
    ) {
        self.next_order += 1;
        self.waiting.push(RefTicket {
            number: number.to_string(),
            service: service.to_string(),
            class,
            order: self.next_order,
            issued_at: at,
            slot,
        });
    }

    /// Call next at window `w`: the ticket's number and the rule's reason, or None.
    pub fn call(&mut self, w: u32, now: Timestamp) -> Option<(String, &'static str)> {
        let win = self
            .windows
            .iter()
            .find(|x| x.number == w)
            .expect("known window")
            .clone();
        let serves = |s: &str| win.groups.iter().any(|g| g.iter().any(|c| c == s));
        let mut candidates: Vec<RefTicket> = self
            .waiting
            .iter()
            .filter(|t| serves(&t.service))
            .filter(|t| !win.green_only || t.class == Class::Green)
            .cloned()
            .collect();
        candidates.sort_by_key(|t| t.order);
        let normal: Vec<&RefTicket> = candidates
            .iter()
            .filter(|t| t.class == Class::Normal)
            .collect();

        // The normal ticket rule 5 picks: the window's first preference group that has one.
        let first_group_normal = || {
            win.groups
                .iter()
                .find_map(|group| normal.iter().find(|t| group.contains(&t.service)))
                .map(|t| (*t).clone())
        };

        let mut pick: Option<(RefTicket, &'static str)> = None;
        // Rule 1 (never at a green window)
        if !win.green && self.streak_limit > 0 && win.streak >= self.streak_limit {
            pick = first_group_normal().map(|t| (t, "streak-guard"));
        }
        // Rule 2
        if pick.is_none() {
            if let Some(t) = candidates.iter().find(|t| t.class == Class::Green) {
                pick = Some((t.clone(), "green"));
            }
        }
        // Rule 3
        if pick.is_none() {
            for t in &normal {
                let waited = (now.as_second() - t.issued_at.as_second()) / 60;
                if waited >= self.max_wait_minutes {
                    pick = Some(((*t).clone(), "max-wait"));
                    break;
                }
            }
        }
        // Rule 4
        if pick.is_none() {
            let mut due: Vec<&RefTicket> = candidates
                .iter()
                .filter(|t| t.class == Class::Reservation && t.slot.unwrap() <= now)
                .collect();
            due.sort_by_key(|t| (t.slot.unwrap(), t.issued_at));
            if let Some(t) = due.first() {
                pick = Some(((*t).clone(), "reservation"));
            }
        }
        // Rule 5
        if pick.is_none() {
            pick = first_group_normal().map(|t| (t, "fifo"));
        }

        let (t, reason) = pick?;
        self.waiting.retain(|x| x.number != t.number);
        let win = self.windows.iter_mut().find(|x| x.number == w).unwrap();
        if t.class == Class::Normal {
            win.streak = 0;
        } else {
            win.streak += 1;
        }
        Some((t.number, reason))
    }
}
