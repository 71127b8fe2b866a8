//! Recording a handoff (出件): validation, duplicates, the event and the masked reply.

use super::*;

pub(super) fn handoff(
    e: &Engine,
    r: &crate::engine::HandoffRequest,
    now: Timestamp,
) -> Result<Change, Refusal> {
    use crate::engine::handoff::{
        check_id_last4, check_tracking, valid_resident_id, Handoff, Method, Verification,
    };
    use crate::engine::HandoffMethodRequest;
    let invalid = |m: String| Refusal::InvalidArgument(m);
    let case_no = valid_case_no(&r.case_no)?;
    let title = r.title.trim();
    if title.is_empty() || title.chars().count() > 100 || title.chars().any(char::is_control) {
        return Err(invalid("document title must be 1 to 100 characters".into()));
    }
    check_person("recipient name", &r.recipient, &r.phone)?;
    if let Some((day, method)) = e.state.handed_over.get(&case_no) {
        return Err(not_allowed(format!(
            "case {case_no} was already handed over on {day} ({method})"
        )));
    }
    let method = match &r.method {
        HandoffMethodRequest::Pickup {
            id_last4,
            id_number,
        } => {
            let verification = match (id_last4, id_number) {
                (Some(_), Some(_)) => {
                    return Err(invalid(
                        "give the ID's last 4 or the whole ID, not both".into(),
                    ))
                }
                (Some(tail), None) => Verification::IdLast4(check_id_last4(tail).map_err(invalid)?),
                (None, Some(id)) => {
                    let id_text = id.expose().trim().to_ascii_uppercase();
                    if !valid_resident_id(&id_text) {
                        return Err(invalid(format!("ID number {id} fails the GB 11643 check")));
                    }
                    Verification::IdLast4(id_text[14..].to_string())
                }
                (None, None) => Verification::Signature,
            };
            Method::Pickup { verification }
        }
        HandoffMethodRequest::Mail {
            address,
            carrier,
            tracking,
        } => {
            let chars = address.expose().trim().chars().count();
            if !(5..=200).contains(&chars) || address.expose().chars().any(char::is_control) {
                return Err(invalid("address must be 5 to 200 characters".into()));
            }
            let carrier: crate::engine::handoff::Carrier = carrier.parse().map_err(invalid)?;
            let tracking = check_tracking(carrier, tracking).map_err(invalid)?;
            Method::Mail {
                carrier,
                tracking,
                address: address.clone(),
            }
        }
    };
    let clerk = match r.window {
        Some(w) => window_state(e, w)?.1.clerk,
        None => None,
    };
    let today = e.state.business_day;
    let seq = e
        .state
        .handed_over
        .values()
        .filter(|(d, _)| *d == today)
        .count()
        + 1;
    let id = format!("H{}-{seq:04}", today.strftime("%Y%m%d"));
    let h = Handoff {
        id: id.clone(),
        case_no: case_no.clone(),
        title: title.to_string(),
        method,
        recipient: r.recipient.clone(),
        phone: r.phone.clone(),
        clerk,
        window: r.window,
        at: now,
    };
    let mut body = json!({
        "id": id, "case_no": case_no, "title": h.title, "method": h.method.as_str(),
        "recipient": h.recipient.expose(), "phone": h.phone.expose(), "clerk": h.clerk, "window": h.window,
    });
    let mut data = json!({
        "id": id, "case_no": case_no, "title": h.title, "method": h.method.as_str(),
        "recipient": h.recipient.masked(), "phone": h.phone.masked(), "window": h.window,
    });
    match &h.method {
        Method::Pickup { verification } => {
            let v = match verification {
                Verification::IdLast4(tail) => json!({"id_last4": tail}),
                Verification::Signature => json!("signature"),
            };
            body["verification"] = v.clone();
            data["verification"] = if matches!(verification, Verification::Signature) {
                v
            } else {
                json!("id_last4")
            };
        }
        Method::Mail {
            carrier,
            tracking,
            address,
        } => {
            body["carrier"] = json!(carrier.code());
            body["tracking"] = json!(tracking);
            body["address"] = json!(address.expose());
            data["carrier"] = json!(carrier.code());
            data["tracking"] = json!(tracking);
            data["address"] = json!(address.masked());
        }
    }
    let mut change = Change {
        event: event(e, "handoff_recorded", now, body),
        ..Change::default()
    };
    let how = match &h.method {
        Method::Pickup { .. } => "handed over".to_string(),
        Method::Mail {
            carrier, tracking, ..
        } => format!("sent by {} {tracking}", carrier.name()),
    };
    change.reply = reply(
        format!("{id}: case {case_no} {how} to {} {}", h.recipient, h.phone),
        data,
    );
    change.handoffs.push(h);
    Ok(change)
}
