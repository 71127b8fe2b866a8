//! The keys of upstream sync, the store's disk limit and reservation slots: their ranges and
//! defaults (`[upstream] reservations_interval_seconds`, `timeout_seconds`,
//! `warn_backlog_minutes`; `[store] min_free_mb`; `[reservations] slot_minutes`,
//! `slot_capacity`). Each bound is one a real hall could want, so a typo (an extra zero, hours
//! for minutes) is caught at `file:line:col`.

use super::check::Checker;
use super::raw::{RawReservations, RawStore, RawUpstream};
use super::{Reservations, StoreLimits};

/// More bookings than this for one service in one slot is a typo.
pub(super) const MAX_SLOT_CAPACITY: i64 = 1000;

impl Checker<'_> {
    /// `(reservations_interval_seconds, timeout_seconds, warn_backlog_minutes)`.
    pub(super) fn upstream_extra(&mut self, u: &RawUpstream) -> (u32, u32, u32) {
        let pull = self.int_or(
            "upstream.reservations_interval_seconds",
            &u.reservations_interval_seconds,
            300,
            1,
            86_400,
        );
        let timeout = self.int_or("upstream.timeout_seconds", &u.timeout_seconds, 10, 1, 300);
        let backlog = self.int_or(
            "upstream.warn_backlog_minutes",
            &u.warn_backlog_minutes,
            60,
            1,
            43_200,
        );
        (pull, timeout, backlog)
    }

    pub(super) fn store_limits(&mut self, raw: &RawStore) -> StoreLimits {
        let d = StoreLimits::default();
        StoreLimits {
            // Up to 1 TiB: the store of a hall is a few GiB at most.
            min_free_mb: self.int_or(
                "store.min_free_mb",
                &raw.min_free_mb,
                d.min_free_mb,
                1,
                1 << 20,
            ),
        }
    }

    pub(super) fn reservations(&mut self, raw: &RawReservations) -> Reservations {
        let d = Reservations::default();
        let slot_minutes = self.int_or(
            "reservations.slot_minutes",
            &raw.slot_minutes,
            d.slot_minutes,
            5,
            240,
        );
        if let Some(at) = &raw.slot_minutes {
            if 1440 % slot_minutes != 0 {
                let message = format!(
                    "must divide a day evenly (5, 10, 15, 20, 30, 60, 120, ...), got {slot_minutes}"
                );
                self.error(at, "reservations.slot_minutes", message);
            }
        }
        Reservations {
            slot_minutes,
            slot_capacity: raw
                .slot_capacity
                .as_ref()
                .map(|n| self.int("reservations.slot_capacity", n, 1, MAX_SLOT_CAPACITY)),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use crate::config::parse;

    /// A valid hall of 10 lines; text appended starts at line 11.
    const BASE: &str = "[hall]\nid = \"demo\"\nname = \"示范大厅\"\n[[services]]\ncode = \"A\"\nname = \"综合受理\"\nminutes = 8\n[[windows]]\nnumber = 1\nserves = [[\"A\"]]\n";

    fn errors(extra: &str) -> Vec<String> {
        match parse(&format!("{BASE}{extra}"), Path::new("hall.toml")) {
            Ok(_) => panic!("accepted: {extra}"),
            Err(e) => e.0.iter().map(ToString::to_string).collect(),
        }
    }

    #[test]
    fn defaults_and_values() {
        let c = parse(BASE, Path::new("hall.toml")).unwrap();
        assert_eq!(c.store.min_free_mb, 200);
        assert_eq!(
            (c.reservations.slot_minutes, c.reservations.slot_capacity),
            (30, None)
        );
        assert_eq!(c.slot_capacity("A"), None);
        let text = format!(
            "{}\n[[services]]\ncode = \"B\"\nname = \"社保\"\nminutes = 5\nslot_capacity = 2\n\
             [store]\nmin_free_mb = 500\n[reservations]\nslot_minutes = 15\nslot_capacity = 6\n\
             [upstream]\nurl = \"https://p.example\"\ntoken_file = \"t\"\n\
             reservations_interval_seconds = 120\ntimeout_seconds = 20\nwarn_backlog_minutes = 30\n",
            BASE.trim_end()
        );
        let c = parse(&text, Path::new("hall.toml")).unwrap();
        assert_eq!(c.store.min_free_mb, 500);
        assert_eq!(
            (c.slot_capacity("A"), c.slot_capacity("B")),
            (Some(6), Some(2))
        );
        assert_eq!(c.reservations.slot_minutes, 15);
        let u = c.upstream.unwrap();
        assert_eq!(
            (
                u.reservations_interval_seconds,
                u.timeout_seconds,
                u.warn_backlog_minutes
            ),
            (120, 20, 30)
        );
        let d = parse(
            &format!("{BASE}[upstream]\nurl = \"https://p.example\"\ntoken_file = \"t\"\n"),
            Path::new("hall.toml"),
        )
        .unwrap()
        .upstream
        .unwrap();
        assert_eq!(
            (
                d.reservations_interval_seconds,
                d.timeout_seconds,
                d.warn_backlog_minutes
            ),
            (300, 10, 60)
        );
    }

    #[test]
    fn out_of_range_values_name_file_line_and_column() {
        assert_eq!(
            errors("[store]\nmin_free_mb = 0\n"),
            ["hall.toml:12:15: store.min_free_mb: must be between 1 and 1048576, got 0"]
        );
        assert_eq!(
            errors("[reservations]\nslot_minutes = 50\nslot_capacity = 5000\n"),
            [
                "hall.toml:12:16: reservations.slot_minutes: must divide a day evenly (5, 10, 15, 20, 30, 60, 120, ...), got 50",
                "hall.toml:13:17: reservations.slot_capacity: must be between 1 and 1000, got 5000",
            ]
        );
        assert_eq!(
            errors(
                "[upstream]\nurl = \"http://u\"\ntoken_file = \"t\"\nreservations_interval_seconds = 0\n\
                 timeout_seconds = 900\nwarn_backlog_minutes = 100000\n"
            ),
            [
                "hall.toml:14:33: upstream.reservations_interval_seconds: must be between 1 and 86400, got 0",
                "hall.toml:15:19: upstream.timeout_seconds: must be between 1 and 300, got 900",
                "hall.toml:16:24: upstream.warn_backlog_minutes: must be between 1 and 43200, got 100000",
            ]
        );
    }
}
