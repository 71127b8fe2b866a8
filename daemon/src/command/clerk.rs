//! The clerk records a supervisor keeps: who may log in on the web call pad, with a PIN.
//!
//! On the wire `{"cmd": "clerk", "action": "add", "staff": "0123", "pin_hash": "$argon2id$..."}`:
//! the PIN itself never crosses the socket, only its Argon2id hash (`crate::pin`), which the CLI
//! makes from the PIN read on the clerk's terminal.

use serde::{Deserialize, Serialize};

use crate::pin::PinHash;

/// A change to the clerk records.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum ClerkChange {
    /// A new clerk with a PIN.
    Add { staff: String, pin_hash: PinHash },
    /// A new PIN for a clerk (ends the clerk's web sessions).
    Reset { staff: String, pin_hash: PinHash },
    /// The clerk may no longer log in on the web.
    Remove { staff: String },
}

impl ClerkChange {
    pub fn staff(&self) -> &str {
        match self {
            ClerkChange::Add { staff, .. }
            | ClerkChange::Reset { staff, .. }
            | ClerkChange::Remove { staff } => staff,
        }
    }

    /// The command's name, for logs.
    pub fn name(&self) -> &'static str {
        match self {
            ClerkChange::Add { .. } => "clerk_add",
            ClerkChange::Reset { .. } => "clerk_reset",
            ClerkChange::Remove { .. } => "clerk_remove",
        }
    }
}
