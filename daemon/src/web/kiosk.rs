//! The touch kiosk (`/kiosk/{id}`): a ticket per service, green channel, reservation check-in,
//! printed at the kiosk's own printer through the issuing service.
//!
//! ```text
//! POST /api/kiosk/{id}/request  {"cmd": "issue", "service": "A", "green": false}
//! POST /api/kiosk/{id}/checkin  {"code": "R001"}   (the reservation's service is looked up)
//! ```
//!
//! Only the addresses listed for the kiosk in `[[http.kiosks]]` may load its page or use its
//! API; a printer that cannot print refuses before a number is used (the issuing service's
//! rule), and the page says so.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{ConnectInfo, Path, State};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use super::access::{permit, Caller};
use super::limits::client;
use super::reply::{answer, hall_error, parse_request, Refused, Reply};
use super::{assets, Web};
use crate::command::{Command, Origin, Query, Request, WebActor};
use crate::config::WebKiosk;
use crate::engine::Refusal;
use crate::runtime::error::HallError;
use crate::runtime::queries::Answer;

/// The configured kiosk `id`, if `addr` is one of its addresses.
fn kiosk_at<'a>(web: &'a Web, id: &str, addr: IpAddr) -> Result<&'a WebKiosk, Refused> {
    let http = &web.http;
    let kiosk = http
        .kiosk(id)
        .ok_or_else(|| Refused::NotFound("这台自助机".into()))?;
    if !kiosk.addresses.contains(&addr) {
        tracing::warn!(kiosk = %kiosk.id, addr = %addr, "web kiosk refused: address not listed for it");
        return Err(Refused::AddressNotAllowed);
    }
    Ok(kiosk)
}

fn origin(kiosk: &WebKiosk, addr: IpAddr) -> Origin {
    Origin::Web {
        actor: WebActor::Kiosk(kiosk.id.clone()),
        addr,
    }
}

/// `GET /kiosk/{id}`
pub async fn page(
    State(web): State<Arc<Web>>,
    Path(id): Path<String>,
    peer: ConnectInfo<SocketAddr>,
) -> Response {
    match kiosk_at(&web, &id, client(&peer)) {
        Ok(_) => assets::page(assets::KIOSK),
        Err(refused @ Refused::AddressNotAllowed) => {
            let mut response = assets::missing("本终端的网络地址未登记为此自助机，不能使用");
            *response.status_mut() = refused.reply().status;
            response
        }
        Err(_) => assets::missing("没有这台自助机"),
    }
}

/// `POST /api/kiosk/{id}/request`: issue at this kiosk (the `kiosk` field may be left out), or
/// a read.
pub async fn request(
    State(web): State<Arc<Web>>,
    Path(id): Path<String>,
    peer: ConnectInfo<SocketAddr>,
    body: Bytes,
) -> Result<Reply, Refused> {
    let addr = client(&peer);
    let kiosk = kiosk_at(&web, &id, addr)?;
    let mut request = parse_request(&body)?;
    if let Request::Command(Command::Issue { kiosk: at, .. }) = &mut request {
        at.get_or_insert_with(|| kiosk.id.clone());
    }
    permit(
        &Caller::Kiosk {
            id: kiosk.id.clone(),
        },
        &request,
    )
    .map_err(Refused::Forbidden)?;
    Ok(answer(
        web.services.handle(request, origin(kiosk, addr)).await,
        web.lang(),
    ))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CheckIn {
    code: String,
    /// The last four digits of the phone the reservation was booked with, when it has one.
    #[serde(default)]
    phone_last4: Option<String>,
}

/// `POST /api/kiosk/{id}/checkin`: a reservation's ticket, for its service.
pub async fn checkin(
    State(web): State<Arc<Web>>,
    Path(id): Path<String>,
    peer: ConnectInfo<SocketAddr>,
    body: Bytes,
) -> Result<Response, Refused> {
    let addr = client(&peer);
    let kiosk = kiosk_at(&web, &id, addr)?;
    let checkin = serde_json::from_slice::<CheckIn>(&body)
        .map_err(|_| Refused::BadRequest("预约码应为 1 至 16 位字母或数字".into()))?;
    let code = Some(checkin.code.trim().to_ascii_uppercase())
        .filter(|c| (1..=16).contains(&c.len()) && c.bytes().all(|b| b.is_ascii_alphanumeric()))
        .ok_or_else(|| Refused::BadRequest("预约码应为 1 至 16 位字母或数字".into()))?;
    let phone_last4 = match checkin.phone_last4.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(d) if d.len() == 4 && d.bytes().all(|b| b.is_ascii_digit()) => Some(d.to_string()),
        Some(_) => return Err(Refused::BadRequest("手机号后四位应为 4 位数字".into())),
    };
    let today = web
        .services
        .hall
        .query(Query::Reservations { date: None })
        .await;
    let service = match today {
        Ok(Answer::Reservations(view)) => view
            .reservations
            .into_iter()
            .find(|r| r.code.eq_ignore_ascii_case(&code))
            .map(|r| r.service),
        Ok(_) => None,
        Err(e) => return Ok(hall_error(&e, web.lang()).into_response()),
    };
    let Some(service) = service else {
        let unknown = HallError::Refused(Refusal::UnknownReservation { code });
        return Ok(hall_error(&unknown, web.lang()).into_response());
    };
    let command = Command::Issue {
        service,
        green: false,
        reservation: Some(code),
        phone_last4,
        kiosk: Some(kiosk.id.clone()),
        scanned: false,
    };
    let result = web
        .services
        .handle(Request::Command(command), origin(kiosk, addr))
        .await;
    Ok(answer(result, web.lang()).into_response())
}
