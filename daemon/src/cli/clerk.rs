//! `hallq clerk add|reset|remove|list`: the clerks who may log in on the web call pad.
//!
//! A PIN is never an argument (it would stay in shell history and show in `ps`). On a terminal
//! it is asked for twice without echo; otherwise the first line of standard input is the PIN,
//! so scripts and tests can pipe it in (`printf '2468\n' | hallq clerk add 0123`). The PIN is
//! hashed here (Argon2id, `crate::pin`); only the hash goes to the daemon.

use std::io::{BufRead, IsTerminal, Read};

use clap::Subcommand;

use crate::command::{ClerkChange, Command, Query, Request};
use crate::pin::Pin;

#[derive(Debug, Clone, PartialEq, Eq, Subcommand)]
pub enum ClerkCli {
    /// Add a clerk (staff number, 工号); asks for their PIN (4 to 12 digits).
    Add { staff: String },
    /// Give a clerk a new PIN; their web sessions end.
    Reset { staff: String },
    /// Remove a clerk; their web sessions end.
    Remove { staff: String },
    /// List the clerks (staff numbers only).
    List,
}

impl ClerkCli {
    /// The socket request; `read_pin` is asked for the PIN of `add` and `reset` (given the
    /// staff number) and its error is the usage error to report.
    pub fn request(
        &self,
        read_pin: impl FnOnce(&str) -> Result<Pin, String>,
    ) -> Result<Request, String> {
        let change = match self {
            ClerkCli::List => return Ok(Request::Query(Query::Clerks)),
            ClerkCli::Remove { staff } => ClerkChange::Remove {
                staff: staff.clone(),
            },
            ClerkCli::Add { staff } | ClerkCli::Reset { staff } => {
                crate::pin::check_staff(staff)?;
                let pin_hash = read_pin(staff)?.hash()?;
                let staff = staff.clone();
                match self {
                    ClerkCli::Add { .. } => ClerkChange::Add { staff, pin_hash },
                    _ => ClerkChange::Reset { staff, pin_hash },
                }
            }
        };
        Ok(Request::Command(Command::Clerk(change)))
    }
}

/// Longest line read as a PIN from standard input.
const MAX_PIN_LINE: u64 = 64;

/// The PIN for `staff`: asked twice without echo on a terminal, else the first line of stdin.
pub fn read_pin(staff: &str) -> Result<Pin, String> {
    if std::io::stdin().is_terminal() {
        let ask = |prompt: &str| {
            rpassword::prompt_password(prompt).map_err(|e| format!("cannot read the PIN: {e}"))
        };
        let first = Pin::parse(&ask(&format!("PIN for clerk {staff}: "))?)?;
        let again = Pin::parse(&ask("the same PIN again: ")?)?;
        if first != again {
            return Err("the two PINs differ; nothing was changed".into());
        }
        return Ok(first);
    }
    let mut line = String::new();
    std::io::stdin()
        .lock()
        .take(MAX_PIN_LINE)
        .read_line(&mut line)
        .map_err(|e| format!("cannot read the PIN from standard input: {e}"))?;
    if line.is_empty() {
        return Err("no PIN on standard input (give it as the first line)".into());
    }
    Pin::parse(&line)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_pin_travels_only_as_its_hash() {
        let add = ClerkCli::Add {
            staff: "0123".into(),
        };
        let request = add.request(|_| Pin::parse("2468")).unwrap();
        let line = serde_json::to_string(&request).unwrap();
        assert!(
            line.contains(r#""cmd":"clerk","action":"add","staff":"0123""#),
            "{line}"
        );
        assert!(
            line.contains("$argon2id$") && !line.contains("2468"),
            "{line}"
        );
        let (back, _) = Request::parse(&line).unwrap();
        assert_eq!(back, request);
    }

    #[test]
    fn a_bad_pin_or_staff_number_is_a_usage_error() {
        let add = ClerkCli::Add {
            staff: "0123".into(),
        };
        assert!(add.request(|_| Pin::parse("12")).is_err());
        let bad = ClerkCli::Add {
            staff: "张 三".into(),
        };
        let e = bad.request(|_| Pin::parse("2468")).unwrap_err();
        assert!(e.contains("staff number"), "{e}");
        assert_eq!(
            ClerkCli::List.request(|_| unreachable!()).unwrap(),
            Request::Query(Query::Clerks)
        );
    }
}
