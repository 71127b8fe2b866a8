//! Who may do what over the web: the web's role check, in one place.
//!
//! A TV page and anyone else only reads (`status`, `queue`); a clerk's session acts at its own
//! window only, with the clerk's window commands; a kiosk page only issues tickets (and checks
//! in reservations, which is issuing) at its own kiosk. [`needs`] says which role a request
//! needs; when the shared `Role` of the command list lands (`Command::role`), it replaces
//! `needs` and [`permit`] keeps its shape.

use crate::command::{Command, Query, Request};

/// Who is asking over the web.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Caller {
    /// No session and no kiosk: the TV page, an integrator's read-only client.
    Reader,
    /// A clerk's session at `window`.
    Clerk { window: u32 },
    /// The kiosk page of kiosk `id`, from one of its addresses.
    Kiosk { id: String },
}

/// What a request needs of its caller.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Needs {
    /// Anyone may read.
    Read,
    /// The clerk of this window.
    Clerk(u32),
    /// A kiosk (issuing; a check-in is an issue with a reservation code).
    Kiosk,
    /// Not over the web: supervisors' and operators' commands, evaluations, logins (which
    /// go through the PIN check), handoffs (personal data).
    Nobody,
}

fn needs(request: &Request) -> Needs {
    match request {
        Request::Query(Query::Status | Query::Queue) => Needs::Read,
        Request::Query(_) => Needs::Nobody,
        Request::Command(command) => match command {
            Command::Issue { .. } => Needs::Kiosk,
            Command::Call { window, .. }
            | Command::Recall { window }
            | Command::Start { window }
            | Command::Finish { window, .. }
            | Command::Skip { window }
            | Command::Hold { window }
            | Command::Transfer { window, .. }
            | Command::Pause { window }
            | Command::Resume { window }
            | Command::Logout { window, .. } => Needs::Clerk(*window),
            _ => Needs::Nobody,
        },
    }
}

/// Whether `caller` may make `request`; the refusal's message (Chinese, for the page) if not.
pub fn permit(caller: &Caller, request: &Request) -> Result<(), String> {
    match (caller, needs(request)) {
        (_, Needs::Read) => Ok(()),
        (Caller::Clerk { window }, Needs::Clerk(w)) if *window == w => Ok(()),
        (Caller::Clerk { window }, Needs::Clerk(w)) => {
            Err(format!("只能操作本窗口（{window}号），不能操作{w}号窗口"))
        }
        (Caller::Kiosk { id }, Needs::Kiosk) => match request {
            Request::Command(Command::Issue {
                kiosk: Some(kiosk), ..
            }) if kiosk == id => Ok(()),
            _ => Err(format!("自助机 {id} 只能在本机取号")),
        },
        _ => Err(format!("不能在此页面执行“{}”", request.name())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::command::ClerkChange;

    fn command(json: &str) -> Request {
        Request::parse(json).unwrap().0
    }

    #[test]
    fn a_clerk_acts_at_their_own_window_only() {
        let clerk = Caller::Clerk { window: 3 };
        for ok in [
            r#"{"cmd":"call","window":3}"#,
            r#"{"cmd":"call","window":3,"ticket":"A001"}"#,
            r#"{"cmd":"finish","window":3,"case_no":"ZW1"}"#,
            r#"{"cmd":"transfer","window":3,"to":"B"}"#,
            r#"{"cmd":"pause","window":3}"#,
            r#"{"cmd":"logout","window":3}"#,
            r#"{"cmd":"queue"}"#,
        ] {
            assert_eq!(permit(&clerk, &command(ok)), Ok(()), "{ok}");
        }
        for refused in [
            r#"{"cmd":"call","window":4}"#,
            r#"{"cmd":"login","window":3,"clerk":"0999"}"#,
            r#"{"cmd":"evaluate","window":3,"level":5}"#,
            r#"{"cmd":"issue","service":"A"}"#,
            r#"{"cmd":"requeue","number":"A001"}"#,
            r#"{"cmd":"reservations"}"#,
            r#"{"cmd":"undo","window":3,"reason":"wrong key"}"#,
            r#"{"cmd":"ticket","number":"A001"}"#,
        ] {
            assert!(permit(&clerk, &command(refused)).is_err(), "{refused}");
        }
    }

    #[test]
    fn a_kiosk_only_issues_at_itself_and_a_reader_only_reads() {
        let kiosk = Caller::Kiosk { id: "k1".into() };
        let at_k1 = r#"{"cmd":"issue","service":"A","kiosk":"k1"}"#;
        let reserved = r#"{"cmd":"issue","service":"A","reservation":"R001","kiosk":"k1"}"#;
        assert_eq!(permit(&kiosk, &command(at_k1)), Ok(()));
        assert_eq!(permit(&kiosk, &command(reserved)), Ok(()));
        for refused in [
            r#"{"cmd":"issue","service":"A","kiosk":"k2"}"#,
            r#"{"cmd":"issue","service":"A"}"#,
            r#"{"cmd":"call","window":1}"#,
        ] {
            assert!(permit(&kiosk, &command(refused)).is_err(), "{refused}");
        }
        let reader = Caller::Reader;
        assert_eq!(permit(&reader, &command(r#"{"cmd":"status"}"#)), Ok(()));
        assert!(permit(&reader, &command(at_k1)).is_err());
        assert!(permit(&reader, &command(r#"{"cmd":"call","window":1}"#)).is_err());
        let clerk_change = Request::Command(Command::Clerk(ClerkChange::Remove {
            staff: "0123".into(),
        }));
        assert!(permit(&Caller::Clerk { window: 1 }, &clerk_change).is_err());
    }
}
