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
            | Command::Logout { .. }
            | Command::Handoff(_)
            | Command::CallHeld { .. }
            | Command::ScanCase { .. } => Role::Clerk,
            Command::Evaluate { .. } => Role::Evaluator,
            // Cancelling a citizen's booking is a correction, audited like one; who may log in
            // on the web call pad is the hall manager's to say.
            Command::CancelReservation { .. } | Command::Clerk(_) => Role::Supervisor,
            // Corrections take back or change what a window recorded: the supervisor's, each
            // with a reason.
            Command::Undo { .. }
            | Command::CorrectCase { .. }
            | Command::CorrectEvaluation { .. }
            | Command::ForceLogout { .. }
            | Command::MoveHeld { .. }
            | Command::VoidHandoff { .. } => Role::Supervisor,
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
            // A backup is maintenance, like the status.
            Query::Status | Query::SyncStatus | Query::Backup { .. } => Role::Operator,
            Query::Clerks | Query::Report(_) => Role::Supervisor,
            // A ticket's history answers a citizen's "was I called?" at the window; it holds
            // no personal data (the clerks' and operators' ids, the reasons of corrections).
            Query::Queue
            | Query::Reservations { .. }
            | Query::Handoffs { .. }
            | Query::Ticket { .. } => Role::Clerk,
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
    fn corrections_are_the_supervisor_s_and_a_backup_the_operator_s() {
        let undo = Command::Undo {
            window: 1,
            reason: "wrong button".into(),
        };
        assert_eq!(undo.role(), Role::Supervisor);
        let force = Command::ForceLogout {
            window: 1,
            reason: "left".into(),
        };
        assert_eq!(force.role(), Role::Supervisor);
        let backup = Query::Backup {
            path: "/var/lib/hallq/backups/x.db".into(),
        };
        assert_eq!(backup.role(), Role::Operator);
        let ticket = Query::Ticket {
            number: "A012".into(),
            day: None,
        };
        assert_eq!(ticket.role(), Role::Clerk);
    }

    #[test]
    fn role_names_round_trip() {
        for role in Role::ALL {
            assert_eq!(Role::parse(role.as_str()), Some(role));
        }
        assert_eq!(Role::parse("admin"), None);
    }
}
