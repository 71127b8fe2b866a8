//! Serving the control socket: bind with owner/group-only permissions, accept connections,
//! read request lines, ask the hall, write response lines.
//!
//! A malformed line gets an error response and the connection stays usable; a line longer than
//! [`MAX_LINE`] closes the connection after the error.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use jiff::civil::{Date, Time};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{UnixListener, UnixStream};
use tokio_util::sync::CancellationToken;

use super::protocol::{parse_request, Request, Response, MAX_LINE};
use crate::engine::{Command, HandoffMethodRequest, HandoffRequest, IssueClass, Refusal};
use crate::privacy::{PersonName, Phone};
use crate::runtime::hall::{HallError, Query};
use crate::runtime::Ctx;

/// Errors binding the socket.
#[derive(Debug, thiserror::Error)]
pub enum BindError {
    #[error("another hallq is already serving {0}")]
    InUse(PathBuf),
    #[error("cannot create control socket {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// Bind the socket at `path`, replacing a stale one, with mode 0660.
pub fn bind(path: &Path) -> Result<UnixListener, BindError> {
    let io = |source| BindError::Io {
        path: path.to_path_buf(),
        source,
    };
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(io)?;
    }
    if path.exists() {
        if std::os::unix::net::UnixStream::connect(path).is_ok() {
            return Err(BindError::InUse(path.to_path_buf()));
        }
        std::fs::remove_file(path).map_err(io)?;
    }
    let listener = UnixListener::bind(path).map_err(io)?;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o660)).map_err(io)?;
    Ok(listener)
}

/// Accept connections until `shutdown`.
pub async fn serve(listener: UnixListener, ctx: Arc<Ctx>, shutdown: CancellationToken) {
    loop {
        tokio::select! {
            _ = shutdown.cancelled() => break,
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => {
                    let ctx = ctx.clone();
                    let shutdown = shutdown.clone();
                    tokio::spawn(async move {
                        if let Err(e) = connection(stream, ctx, shutdown).await {
                            tracing::debug!("control connection ended: {e}");
                        }
                    });
                }
                Err(e) => {
                    tracing::warn!("control socket accept failed: {e}");
                    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
                }
            },
        }
    }
}

async fn connection(
    stream: UnixStream,
    ctx: Arc<Ctx>,
    shutdown: CancellationToken,
) -> std::io::Result<()> {
    let (read, mut write) = stream.into_split();
    let mut reader = BufReader::new(read);
    let mut line = Vec::new();
    loop {
        line.clear();
        let mut limited = (&mut reader).take(MAX_LINE as u64 + 1);
        let n = tokio::select! {
            _ = shutdown.cancelled() => return Ok(()),
            n = limited.read_until(b'\n', &mut line) => n?,
        };
        if n == 0 {
            return Ok(());
        }
        let too_long = line.len() > MAX_LINE && !line.ends_with(b"\n");
        let response = if too_long {
            Response::error(
                "bad_request",
                format!("request line longer than {MAX_LINE} bytes"),
            )
        } else {
            match std::str::from_utf8(&line) {
                Ok(text) if text.trim().is_empty() => continue,
                Ok(text) => handle_line(text, &ctx).await,
                Err(_) => Response::error("bad_request", "request is not UTF-8"),
            }
        };
        let mut out = serde_json::to_vec(&response).expect("responses serialize");
        out.push(b'\n');
        write.write_all(&out).await?;
        if too_long {
            return Ok(());
        }
    }
}

async fn handle_line(line: &str, ctx: &Ctx) -> Response {
    let request = match parse_request(line) {
        Ok(r) => r,
        Err(message) => return Response::error("bad_request", message),
    };
    match handle(request, ctx).await {
        Ok(r) => r,
        Err(e) => Response::error(e.code(), e.to_string()),
    }
}

/// What a request becomes inside the daemon.
enum Action {
    Command(Command),
    Query(Query),
}

fn object(value: serde_json::Value) -> serde_json::Map<String, serde_json::Value> {
    match value {
        serde_json::Value::Object(map) => map,
        _ => serde_json::Map::new(),
    }
}

async fn handle(request: Request, ctx: &Ctx) -> Result<Response, HallError> {
    match action(request)? {
        Action::Command(Command::Issue {
            service,
            class,
            kiosk,
        }) => {
            let o = ctx
                .devices
                .printers
                .issue(&ctx.hall, service, class, kiosk)
                .await?;
            Ok(Response::ok(o.message, o.data))
        }
        Action::Command(command) => {
            let o = ctx.hall.execute(command).await?;
            Ok(Response::ok(o.message, o.data))
        }
        Action::Query(Query::Status) => {
            let mut data = object(ctx.hall.query(Query::Status).await?);
            let health = serde_json::to_value(ctx.devices.health.snapshot()).unwrap_or_default();
            data.insert("devices".into(), health);
            Ok(Response::ok(String::new(), data))
        }
        Action::Query(query) => {
            let data = object(ctx.hall.query(query).await?);
            Ok(Response::ok(String::new(), data))
        }
    }
}

fn bad(msg: String) -> HallError {
    HallError::Refused(Refusal::InvalidArgument(msg))
}

fn parse_date(s: &str) -> Result<Date, HallError> {
    s.parse().map_err(|_| {
        bad(format!(
            "date {} is not YYYY-MM-DD",
            crate::privacy::echo(s)
        ))
    })
}

/// Parse `HH:MM` (24-hour).
pub fn parse_hhmm(s: &str) -> Option<Time> {
    let (h, m) = s.trim().split_once(':')?;
    if h.is_empty() || h.len() > 2 || m.len() != 2 {
        return None;
    }
    Time::new(h.parse().ok()?, m.parse().ok()?, 0, 0).ok()
}

fn action(request: Request) -> Result<Action, HallError> {
    let c = |c| Ok(Action::Command(c));
    match request {
        Request::Status => Ok(Action::Query(Query::Status)),
        Request::Queue => Ok(Action::Query(Query::Queue)),
        Request::Handoffs { day } => {
            let day = day.as_deref().map(parse_date).transpose()?;
            Ok(Action::Query(Query::Handoffs { day }))
        }
        Request::Handoff {
            method,
            case_no,
            title,
            recipient,
            phone,
            id_last4,
            id_number,
            window,
            address,
            carrier,
            tracking,
        } => {
            let method = match method.as_str() {
                "pickup" => HandoffMethodRequest::Pickup {
                    id_last4,
                    id_number: id_number.map(crate::privacy::IdNumber::new),
                },
                "mail" => {
                    let missing = |what: &str| bad(format!("a mail handoff needs --{what}"));
                    HandoffMethodRequest::Mail {
                        address: crate::privacy::Address::new(
                            address.ok_or_else(|| missing("address"))?,
                        ),
                        carrier: carrier.ok_or_else(|| missing("carrier"))?,
                        tracking: tracking.ok_or_else(|| missing("tracking"))?,
                    }
                }
                other => {
                    return Err(bad(format!(
                        "handoff method {} is not pickup or mail",
                        crate::privacy::echo(other)
                    )))
                }
            };
            c(Command::Handoff(HandoffRequest {
                case_no,
                title,
                recipient: PersonName::new(recipient),
                phone: Phone::new(phone),
                method,
                window,
            }))
        }
        Request::Reservations { date } => {
            let date = date.as_deref().map(parse_date).transpose()?;
            Ok(Action::Query(Query::Reservations { date }))
        }
        Request::Issue {
            service,
            green,
            reservation,
            kiosk,
        } => {
            let class = match (green, reservation) {
                (true, Some(_)) => {
                    return Err(bad(
                        "a ticket is either green or a reservation, not both".into()
                    ))
                }
                (true, None) => IssueClass::Green,
                (false, Some(code)) => IssueClass::Reservation(code),
                (false, None) => IssueClass::Normal,
            };
            c(Command::Issue {
                service,
                class,
                kiosk,
            })
        }
        Request::Call {
            window,
            ticket: Some(number),
        } => c(Command::CallTicket { window, number }),
        Request::Call {
            window,
            ticket: None,
        } => c(Command::CallNext { window }),
        Request::Recall { window } => c(Command::Recall { window }),
        Request::Start { window } => c(Command::Start { window }),
        Request::Finish { window, case_no } => c(Command::Finish { window, case_no }),
        Request::Skip { window } => c(Command::Skip { window }),
        Request::Hold { window } => c(Command::Hold { window }),
        Request::Transfer { window, to } => c(Command::Transfer { window, to }),
        Request::Requeue { number } => c(Command::Requeue { number }),
        Request::Pause { window } => c(Command::Pause { window }),
        Request::Resume { window } => c(Command::Resume { window }),
        Request::Login { window, clerk } => c(Command::Login { window, clerk }),
        Request::Logout { window } => c(Command::Logout { window }),
        Request::Evaluate { window, level } => c(Command::Evaluate { window, level }),
        Request::Reserve {
            service,
            slot,
            date,
            name,
            phone,
        } => {
            let slot = parse_hhmm(&slot)
                .ok_or_else(|| bad(format!("slot {} is not HH:MM", crate::privacy::echo(&slot))))?;
            let date = date.as_deref().map(parse_date).transpose()?;
            c(Command::Reserve {
                service,
                date,
                slot,
                name: PersonName::new(name),
                phone: Phone::new(phone),
            })
        }
    }
}
