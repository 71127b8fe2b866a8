//! Serving the control socket: bind with owner/group-only permissions, accept connections
//! within a cap, read request lines within time limits, learn who is asking (the peer's uid,
//! gid and pid as the kernel reports them), hand each request to the [`Handler`], write
//! response lines.
//!
//! Limits (`[control]`, DESIGN §9): at most `max_connections` connections; when one more
//! arrives, the connection idle longest is closed to make room, and only when every connection
//! has a request in flight is the newcomer refused with a `busy` line. So idle connections —
//! any number of them — never keep `hallq status` out, and a flood cannot exhaust file
//! descriptors. A request line must arrive whole within `line_timeout` of its first byte, a
//! connection without a request for `idle_timeout` is closed, and a client that does not read
//! its answers is dropped after `line_timeout`. Accept errors (EMFILE...) are logged at most
//! once a minute with a count.
//!
//! A malformed line gets an error response and the connection stays usable; a line longer than
//! [`MAX_LINE`] closes the connection after the error. The server knows the wire format, not
//! the hall: what a request does, and who may ask it, is the handler's business.

use std::collections::HashMap;
use std::future::Future;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use hallq_drivers::{Noise, NOISE_INTERVAL};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::unix::OwnedReadHalf;
use tokio::net::{UnixListener, UnixStream};
use tokio::time::{timeout, Instant};
use tokio_util::sync::CancellationToken;

use super::protocol::{Response, CLI_CLIENT, MAX_LINE};
use crate::catalogue::Lang;
use crate::command::{Origin, Request};
use crate::config::Control;

/// What serves the requests: the daemon's services, or a test's stand-in. `lang` is the
/// request's `lang` field, if any.
pub trait Handler: Send + Sync + 'static {
    fn handle(
        &self,
        request: Request,
        origin: Origin,
        lang: Option<Lang>,
    ) -> impl Future<Output = Response> + Send;
}

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

/// Accept connections until `shutdown`, within `limits`.
pub async fn serve<H: Handler>(
    listener: UnixListener,
    handler: Arc<H>,
    limits: Control,
    shutdown: CancellationToken,
) {
    let slots = Arc::new(Slots::new(limits.max_connections as usize));
    let mut accept_errors = Noise::new(NOISE_INTERVAL);
    loop {
        let accepted = tokio::select! {
            _ = shutdown.cancelled() => break,
            accepted = listener.accept() => accepted,
        };
        let stream = match accepted {
            Ok((stream, _)) => {
                if let Some(r) = accept_errors.flush(Instant::now()) {
                    tracing::warn!(
                        cause = "accept_failed",
                        count = r.count,
                        total = r.total,
                        "control socket: accept failed {} more time(s) before it recovered",
                        r.count
                    );
                }
                stream
            }
            Err(e) => {
                if let Some(r) = accept_errors.record(Instant::now()) {
                    tracing::error!(
                        cause = "accept_failed",
                        count = r.count,
                        total = r.total,
                        "control socket: accept failed {} time(s): {e} (at most one line per {} s)",
                        r.count,
                        NOISE_INTERVAL.as_secs()
                    );
                }
                // Out of file descriptors: let connections finish before trying again.
                tokio::time::sleep(std::time::Duration::from_millis(100)).await;
                continue;
            }
        };
        let Some(slot) = slots.admit() else {
            refuse_busy(&stream, limits.max_connections);
            continue;
        };
        let (handler, shutdown) = (handler.clone(), shutdown.clone());
        tokio::spawn(async move {
            if let Err(e) = connection(stream, handler, &slot, limits, shutdown).await {
                tracing::debug!("control connection ended: {e}");
            }
        });
    }
}

/// Every connection has a request in flight: say so and close, without waiting on the peer.
fn refuse_busy(stream: &UnixStream, max: u32) {
    let response = Response::error(
        "busy",
        format!(
            "hallq is answering {max} control connections at once (control.max_connections); \
             try again in a moment"
        ),
    );
    let mut line = serde_json::to_vec(&response).expect("responses serialize");
    line.push(b'\n');
    let _ = stream.try_write(&line);
}

/// The open connections and whether each is idle (since when) or has a request in flight.
struct Slots {
    max: usize,
    state: Mutex<SlotTable>,
}

#[derive(Default)]
struct SlotTable {
    next: u64,
    open: HashMap<u64, SlotState>,
}

struct SlotState {
    idle_since: Option<Instant>,
    evict: CancellationToken,
}

/// One admitted connection; frees its slot when dropped.
struct Slot {
    id: u64,
    slots: Arc<Slots>,
    evicted: CancellationToken,
}

impl Slots {
    fn new(max: usize) -> Slots {
        Slots {
            max,
            state: Mutex::default(),
        }
    }

    fn table(&self) -> std::sync::MutexGuard<'_, SlotTable> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// A slot for a new connection: a free one, else the one idle longest (closed to make
    /// room); `None` when every connection has a request in flight.
    fn admit(self: &Arc<Self>) -> Option<Slot> {
        let mut table = self.table();
        if table.open.len() >= self.max {
            let oldest = table
                .open
                .iter()
                .filter_map(|(id, s)| s.idle_since.map(|t| (t, *id)))
                .min()?;
            if let Some(evicted) = table.open.remove(&oldest.1) {
                evicted.evict.cancel();
            }
        }
        table.next += 1;
        let id = table.next;
        let evicted = CancellationToken::new();
        table.open.insert(
            id,
            SlotState {
                idle_since: Some(Instant::now()),
                evict: evicted.clone(),
            },
        );
        Some(Slot {
            id,
            slots: self.clone(),
            evicted,
        })
    }
}

impl Slot {
    fn set_idle(&self, idle: bool) {
        if let Some(s) = self.slots.table().open.get_mut(&self.id) {
            s.idle_since = idle.then(Instant::now);
        }
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        self.slots.table().open.remove(&self.id);
    }
}

/// The peer as the kernel reports it (SO_PEERCRED).
#[derive(Debug, Clone, Copy)]
struct Peer {
    uid: u32,
    gid: u32,
    pid: Option<i32>,
}

impl Peer {
    fn origin(self, client: Option<&str>) -> Origin {
        match client {
            Some(CLI_CLIENT) => Origin::Cli {
                uid: self.uid,
                gid: self.gid,
            },
            _ => Origin::Socket {
                uid: self.uid,
                gid: self.gid,
                pid: self.pid,
            },
        }
    }
}

/// How reading the next request line ended.
enum Read {
    Line,
    Eof,
    /// Nothing arrived within the idle timeout.
    Idle,
    /// A line started but did not end within the line timeout.
    Slow,
    /// Closed to make room for another connection.
    Evicted,
}

async fn read_line(
    reader: &mut BufReader<OwnedReadHalf>,
    line: &mut Vec<u8>,
    limits: Control,
) -> std::io::Result<Read> {
    match timeout(limits.idle_timeout, reader.fill_buf()).await {
        Err(_) => return Ok(Read::Idle),
        Ok(Err(e)) => return Err(e),
        Ok(Ok([])) => return Ok(Read::Eof),
        Ok(Ok(_)) => {}
    }
    let mut limited = (&mut *reader).take(MAX_LINE as u64 + 1);
    match timeout(limits.line_timeout, limited.read_until(b'\n', line)).await {
        Err(_) => Ok(Read::Slow),
        Ok(Err(e)) => Err(e),
        Ok(Ok(_)) => Ok(Read::Line),
    }
}

async fn connection<H: Handler>(
    stream: UnixStream,
    handler: Arc<H>,
    slot: &Slot,
    limits: Control,
    shutdown: CancellationToken,
) -> std::io::Result<()> {
    let cred = stream.peer_cred()?;
    let peer = Peer {
        uid: cred.uid(),
        gid: cred.gid(),
        pid: cred.pid(),
    };
    let (read, mut write) = stream.into_split();
    let mut reader = BufReader::new(read);
    let mut line = Vec::new();
    loop {
        line.clear();
        let read = tokio::select! {
            biased;
            _ = shutdown.cancelled() => return Ok(()),
            _ = slot.evicted.cancelled() => Read::Evicted,
            read = read_line(&mut reader, &mut line, limits) => read?,
        };
        let closing = match read {
            Read::Line => None,
            Read::Eof => return Ok(()),
            Read::Evicted => Some(Response::error(
                "idle",
                "closing this idle connection to make room for another client \
                 (control.max_connections)",
            )),
            Read::Idle => Some(Response::error(
                "idle",
                format!(
                    "closing a connection without a request for {} s \
                     (control.idle_timeout_seconds)",
                    limits.idle_timeout.as_secs()
                ),
            )),
            Read::Slow => Some(Response::error(
                "bad_request",
                format!(
                    "request line did not end within {} s (control.line_timeout_seconds)",
                    limits.line_timeout.as_secs()
                ),
            )),
        };
        if let Some(response) = closing {
            let _ = send(&mut write, &response, limits).await;
            return Ok(());
        }
        slot.set_idle(false);
        let too_long = line.len() > MAX_LINE && !line.ends_with(b"\n");
        let response = if too_long {
            Response::error(
                "bad_request",
                format!("request line longer than {MAX_LINE} bytes"),
            )
        } else {
            match std::str::from_utf8(&line) {
                Ok(text) if text.trim().is_empty() => {
                    slot.set_idle(true);
                    continue;
                }
                Ok(text) => match Request::parse(text) {
                    Ok((request, meta)) => {
                        let origin = peer.origin(meta.client.as_deref());
                        handler.handle(request, origin, meta.lang).await
                    }
                    Err(message) => Response::error("bad_request", message),
                },
                Err(_) => Response::error("bad_request", "request is not UTF-8"),
            }
        };
        send(&mut write, &response, limits).await?;
        slot.set_idle(true);
        if too_long {
            return Ok(());
        }
    }
}

/// Write one response line; a peer that does not read it within the line timeout is dropped.
async fn send(
    write: &mut tokio::net::unix::OwnedWriteHalf,
    response: &Response,
    limits: Control,
) -> std::io::Result<()> {
    let mut out = serde_json::to_vec(response).expect("responses serialize");
    out.push(b'\n');
    match timeout(limits.line_timeout, write.write_all(&out)).await {
        Ok(result) => result,
        Err(_) => Err(std::io::Error::new(
            std::io::ErrorKind::TimedOut,
            "the client does not read its answers",
        )),
    }
}
