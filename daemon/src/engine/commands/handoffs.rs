//! Recording a handoff (出件): the request is validated here, duplicates are checked against
//! the state, and the record writes its own event body and masked view (`engine::handoff`).

use super::*;
use crate::command::{Handoff as Request, HandoffCase};
use crate::engine::handoff::{
    check_id_last4, check_tracking, valid_resident_id, Carrier, Handoff, Method, Verification,
};

pub(super) fn handoff(e: &Engine, request: &Request, now: Timestamp) -> Result<Change, Refusal> {
    let (case_no, title, method) = validate(request)?;
    let HandoffCase {
        recipient,
        phone,
        window,
        ..
    } = request.case();
    let window = *window;
    check_person(true, recipient, phone)?;
    if let Some(done) = e.state.handed_over.get(&case_no) {
        return Err(Refusal::HandedOver {
            case_no,
            day: Some(done.day),
            method: Some(done.method.to_string()),
        });
    }
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
        ..Change::default()
    };
    Ok(change)
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
