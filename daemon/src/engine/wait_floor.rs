//! The floor under a wait estimate early in the day: until enough services of a service have
//! finished today to measure it, a quick first few (or an estimator that learned from them)
//! must not promise a shorter wait than the service's configured minutes per person ahead,
//! shared by the open windows that can call the ticket.
//!
//! Composes with any estimator as `max(estimate, floor)` (`Engine::told`), except where the
//! forward walk has a free window call the ticket at once; from [`MEASURED_AFTER`] finished
//! services on the floor is gone and the estimator alone decides.
//! Pure arithmetic; it does not own the estimator (`estimate`).

use super::model::{Ticket, TicketState};
use super::Engine;

/// Finished services of a service today after which its estimate stands on measurements.
pub const MEASURED_AFTER: usize = 10;

/// `ceil(ahead x minutes / open_windows)` while fewer than [`MEASURED_AFTER`] services of the
/// service finished today, else 0.
pub fn floor(
    ahead: u32,
    configured_minutes: u32,
    open_windows: usize,
    finished_today: usize,
) -> u32 {
    if finished_today >= MEASURED_AFTER || ahead == 0 {
        return 0;
    }
    let windows = open_windows.max(1) as u64;
    let total = u64::from(ahead) * u64::from(configured_minutes);
    u32::try_from(total.div_ceil(windows)).unwrap_or(u32::MAX)
}

impl Engine {
    /// The floor for `ticket` with `ahead` people before it and `open` windows that can call it.
    pub(super) fn wait_floor(&self, ticket: &Ticket, ahead: u32, open: usize) -> u32 {
        let service = &ticket.current_service;
        let Some(configured) = self.config().service(service) else {
            return 0;
        };
        let day = self.state().business_day;
        let finished = self
            .state()
            .tickets
            .values()
            .filter(|t| {
                t.business_day == day
                    && t.state == TicketState::Done
                    && t.current_service == *service
            })
            .count();
        floor(ahead, configured.minutes, open, finished)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_floor_holds_until_the_service_is_measured() {
        assert_eq!(floor(3, 8, 2, 0), 12, "3 x 8 min over 2 windows");
        assert_eq!(floor(1, 8, 3, 0), 3, "rounded up");
        assert_eq!(floor(5, 8, 0, 0), 40, "no open window counts as one");
        assert_eq!(floor(0, 8, 1, 0), 0, "nobody ahead");
        assert_eq!(floor(3, 8, 2, MEASURED_AFTER - 1), 12);
        assert_eq!(floor(3, 8, 2, MEASURED_AFTER), 0, "measured: no floor");
    }
}
