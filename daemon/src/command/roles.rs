//! Who may ask what (DESIGN §9): the roles, and the one role each command and query needs.
//!
//! - `kiosk`: issue tickets, check in a reservation (`issue --reservation`).
//! - `clerk`: window actions (call, recall, start, finish, skip, hold, transfer, pause, resume,
//!   login, logout, requeue), handoffs, phone reservations, and the queue, reservation and
//!   handoff lists (masked).
//! - `supervisor`: corrections (voiding), force-logout, reports, unmasked registers.
//! - `evaluator`: evaluations, only from the window's evaluator device (or the evaluator web
//!   page), never from a clerk's CLI: a clerk does not rate their own service.
//! - `operator`: status, doctor, reload.
//!
//! This module owns the list above, next to the command list so a new command cannot be
//! added without saying who may send it (the matches have no wildcard). Which callers hold
//! which roles is the config's `[roles]` section (socket peers) and the device's kind
//! (devices); the check itself is made once, in `runtime::services`, for every front end.

use super::{Command, Query, Request};
use crate::config::DeviceKind;
pub use crate::role::{Role, RoleSet};

/// The roles a device holds: those of its kind (a call pad acts for its window's clerk, an
/// evaluator for the citizen, kiosk keys for the kiosk, a pickup window's scanner for its clerk,
/// a kiosk's scanner for the kiosk).
pub fn of_device(device: &crate::config::Device) -> RoleSet {
    match device.kind {
        DeviceKind::Scanner if device.kiosk.is_some() => [Role::Kiosk].into_iter().collect(),
        DeviceKind::Caller | DeviceKind::Scanner => [Role::Clerk].into_iter().collect(),
        DeviceKind::Evaluator => [Role::Evaluator].into_iter().collect(),
        DeviceKind::KioskKeys => [Role::Kiosk].into_iter().collect(),
        DeviceKind::Printer | DeviceKind::WindowDisplay | DeviceKind::HallBoard => RoleSet::NONE,
    }
}

impl Command {
    /// The role a caller must hold to send this command.
    pub fn role(&self) -> Role {
        match self {
            Command::Issue { .. } => Role::Kiosk,
            Command::Reserve { .. }
            | Command::Call { .. }
            | Command::Recall { .. }
            | Command::Start { .. }
            | Command::Finish { .. }
            | Command::Skip { .. }
            | Command::Hold { .. }
            | Command::Transfer { .. }
            | Command::Requeue { .. }
            | Command::Pause { .. }
            | Command::Resume { .. }
            | Command::Login { .. }
            | Command::Logout { force: false, .. }
            | Command::Handoff(_)
            | Command::CallHeld { .. }
            | Command::ScanCase { .. } => Role::Clerk,
            Command::Evaluate { .. } => Role::Evaluator,
            // Cancelling a citizen's booking is a correction, audited like one; who may log in
            // on the web call pad is the hall manager's to say.
            Command::CancelReservation { .. }
            | Command::Clerk(_)
            | Command::Logout { force: true, .. } => Role::Supervisor,
            // The hall's own commands (no front end can send them): a correction, housekeeping,
            // the sync's reservations.
            Command::Void { .. } => Role::Supervisor,
            Command::Rollover | Command::Tick | Command::SyncReservations { .. } => Role::Operator,
        }
    }
}

impl Query {
    /// The role a caller must hold to ask this question.
    pub fn role(&self) -> Role {
        match self {
            Query::Status | Query::SyncStatus => Role::Operator,
            Query::Clerks | Query::Report(_) => Role::Supervisor,
            Query::Queue | Query::Reservations { .. } | Query::Handoffs { .. } => Role::Clerk,
        }
    }
}

impl Request {
    /// The role a caller must hold for this request.
    pub fn role(&self) -> Role {
        match self {
            Request::Query(q) => q.role(),
            Request::Command(c) => c.role(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sets_hold_what_was_put_in() {
        let set: RoleSet = [Role::Kiosk, Role::Operator].into_iter().collect();
        assert!(set.contains(Role::Kiosk) && set.contains(Role::Operator));
        assert!(!set.contains(Role::Evaluator));
        assert_eq!(set.to_string(), "kiosk, operator");
        assert_eq!(RoleSet::NONE.to_string(), "no role");
        assert!(!RoleSet::socket_default().contains(Role::Evaluator));
        assert!(RoleSet::socket_default().contains(Role::Supervisor));
        assert_eq!(RoleSet::all().union(RoleSet::NONE), RoleSet::all());
    }

    #[test]
    fn only_an_evaluator_evaluates() {
        let evaluate = Command::Evaluate {
            window: 1,
            level: 5,
        };
        assert_eq!(evaluate.role(), Role::Evaluator);
        assert_eq!(Command::call_next(1).role(), Role::Clerk);
        let issue = Command::issue("A", crate::command::IssueClass::Normal);
        assert_eq!(issue.role(), Role::Kiosk);
        assert_eq!(Request::Query(Query::Status).role(), Role::Operator);
    }

    #[test]
    fn role_names_round_trip() {
        for role in Role::ALL {
            assert_eq!(Role::parse(role.as_str()), Some(role));
        }
        assert_eq!(Role::parse("admin"), None);
    }
}
