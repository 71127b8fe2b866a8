//! Clerk records: who may log in on the web call pad, with the hash of their PIN.

use super::*;
use crate::command::ClerkChange;
use crate::engine::model::{Clerk, ClerkWrite};

pub(super) fn change(e: &Engine, request: &ClerkChange, now: Timestamp) -> Result<Change, Refusal> {
    let staff = request.staff().trim();
    crate::pin::check_staff(staff).map_err(|_| Refusal::BadStaffNumber)?;
    let known = e.state.clerks.contains_key(staff);
    let (write, kind, action) = match request {
        ClerkChange::Add { pin_hash, .. } | ClerkChange::Reset { pin_hash, .. } => {
            let adding = matches!(request, ClerkChange::Add { .. });
            if adding && known {
                return Err(Refusal::ClerkExists {
                    staff: staff.to_string(),
                });
            }
            if !adding && !known {
                return Err(unknown(staff));
            }
            pin_hash
                .check()
                .map_err(|detail| Refusal::BadPinHash { detail })?;
            let clerk = Clerk {
                staff: staff.to_string(),
                pin_hash: pin_hash.clone(),
                updated_at: now,
            };
            match adding {
                true => (ClerkWrite::Put(clerk), "clerk_added", "added"),
                false => (ClerkWrite::Put(clerk), "clerk_pin_reset", "reset"),
            }
        }
        ClerkChange::Remove { .. } => {
            if !known {
                return Err(unknown(staff));
            }
            (
                ClerkWrite::Remove(staff.to_string()),
                "clerk_removed",
                "removed",
            )
        }
    };
    Ok(Change {
        event: event(e, kind, now, json!({ "staff": staff })),
        clerks: vec![write],
        outcome: Outcome::Clerk(outcome::ClerkChanged {
            staff: staff.to_string(),
            action,
        }),
        ..Change::default()
    })
}

fn unknown(staff: &str) -> Refusal {
    Refusal::UnknownClerk {
        staff: staff.to_string(),
    }
}
