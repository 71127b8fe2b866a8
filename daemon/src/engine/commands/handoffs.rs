//! Recording a handoff (出件): the request is validated here, duplicates are checked against
//! the state, and the record writes its own event body and masked view (`engine::handoff`).

use super::*;
use crate::command::{Handoff as Request, HandoffCase};
use crate::engine::handoff::{
    check_id_last4, check_tracking, valid_resident_id, Carrier, Handoff, Method, PendingChange,
    PendingHandoff, Verification,
};

pub(super) fn handoff(e: &Engine, request: &Request, now: Timestamp) -> Result<Change, Refusal> {
    let (case_no, title, method) = validate(request)?;
    let HandoffCase {
        recipient,
        phone,
        window,
        ..
    } = request.case();
    check_person(true, recipient, phone)?;
    already_handed_over(e, &case_no)?;
    // A scanned case: its window unless the clerk names another, and it is no longer pending.
    let pending = e.state.pending_handoffs.get(&case_no);
    let window = window.or(pending.map(|p| p.window));
    let clerk = match window {
        Some(w) => window_state(e, w)?.1.clerk,
        None => None,
    };
    let today = e.state.business_day;
    let seq = e.state.handoffs_today + 1;
    let h = Handoff {
        id: format!("H{}-{seq:04}", today.strftime("%Y%m%d")),
        case_no,
        title,
        method,
        recipient: recipient.clone(),
        phone: phone.clone(),
        clerk,
        window,
        at: now,
        voided: None,
    };
    let mut view = h.view();
    view.window_name = window.map(|w| name(e, w));
    let change = Change {
        event: event(e, "handoff_recorded", now, h.event_body()),
        outcome: Outcome::HandedOver(view),
        handoffs: vec![h],
        pending: pending
            .map(|p| PendingChange::Done(p.case_no.clone()))
            .into_iter()
            .collect(),
        ..Change::default()
    };
    Ok(change)
}

fn already_handed_over(e: &Engine, case_no: &str) -> Result<(), Refusal> {
    match e.state.handed_over.get(case_no) {
        Some(done) => Err(Refusal::HandedOver {
            case_no: case_no.to_string(),
            day: Some(done.day),
            method: Some(done.method.to_string()),
        }),
        None => Ok(()),
    }
}

/// A case number scanned at a pickup window opens its handoff, which the clerk completes.
pub(super) fn scan_case(
    e: &Engine,
    window: u32,
    case_no: &str,
    now: Timestamp,
) -> Result<Change, Refusal> {
    let case_no = valid_case_no(case_no)?;
    let (cfg, w) = window_state(e, window)?;
    if cfg.kind != WindowKind::Pickup {
        return Err(Refusal::NotPickupWindow {
            window: name(e, window),
        });
    }
    already_handed_over(e, &case_no)?;
    if let Some(p) = e.state.pending_handoffs.get(&case_no) {
        let at = day::local_hhmm(p.scanned_at, &e.config.hall.timezone);
        return Err(Refusal::AlreadyScanned {
            case_no,
            window: name(e, p.window),
            at,
        });
    }
    let pending = PendingHandoff {
        case_no: case_no.clone(),
        window,
        scanned_at: now,
        business_day: e.state.business_day,
    };
    Ok(Change {
        event: event(
            e,
            "handoff_scanned",
            now,
            json!({"case_no": case_no, "window": window, "clerk": w.clerk}),
        ),
        outcome: Outcome::Scanned(outcome::Scanned {
            pending: pending.clone(),
            window_name: name(e, window),
        }),
        pending: vec![PendingChange::Open(pending)],
        ..Change::default()
    })
}

/// The case number, the title and how it was handed over, each checked.
fn validate(request: &Request) -> Result<(String, String, Method), Refusal> {
    let case_no = valid_case_no(&request.case().case_no)?;
    let title = request.case().title.trim();
    if title.is_empty() || title.chars().count() > 100 || title.chars().any(char::is_control) {
        return Err(Refusal::BadTitle);
    }
    let method = match request {
        Request::Pickup(p) => {
            let verification = match (&p.id_last4, &p.id_number) {
                (Some(_), Some(_)) => return Err(Refusal::IdBothForms),
                (Some(tail), None) => Verification::IdLast4(check_id_last4(tail)?),
                (None, Some(id)) => {
                    let id_text = id.expose().trim().to_ascii_uppercase();
                    if !valid_resident_id(&id_text) {
                        return Err(Refusal::BadResidentId { id: id.to_string() });
                    }
                    Verification::IdLast4(id_text[14..].to_string())
                }
                (None, None) => Verification::Signature,
            };
            Method::Pickup { verification }
        }
        Request::Mail(m) => {
            let chars = m.address.expose().trim().chars().count();
            if !(5..=200).contains(&chars) || m.address.expose().chars().any(char::is_control) {
                return Err(Refusal::BadAddress);
            }
            let carrier: Carrier = m.carrier.parse()?;
            Method::Mail {
                carrier,
                tracking: check_tracking(carrier, &m.tracking)?,
                address: m.address.clone(),
            }
        }
    };
    Ok((case_no, title.to_string(), method))
}
