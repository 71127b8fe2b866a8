//! Serving the control socket: bind with owner/group-only permissions, accept connections,
//! read request lines, learn who is asking (the peer's uid and pid), hand each request to the
//! [`Handler`], write response lines.
//!
//! A malformed line gets an error response and the connection stays usable; a line longer than
//! [`MAX_LINE`] closes the connection after the error. The server knows the wire format, not
//! the hall: what a request does is the handler's business.

use std::future::Future;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{UnixListener, UnixStream};
use tokio_util::sync::CancellationToken;

use super::protocol::{Response, CLI_CLIENT, MAX_LINE};
use crate::catalogue::Lang;
use crate::command::{Origin, Request};

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

/// Accept connections until `shutdown`.
pub async fn serve<H: Handler>(
    listener: UnixListener,
    handler: Arc<H>,
    shutdown: CancellationToken,
) {
    loop {
        tokio::select! {
            _ = shutdown.cancelled() => break,
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => {
                    let handler = handler.clone();
                    let shutdown = shutdown.clone();
                    tokio::spawn(async move {
                        if let Err(e) = connection(stream, handler, shutdown).await {
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

/// The peer as the kernel reports it (SO_PEERCRED).
#[derive(Debug, Clone, Copy)]
struct Peer {
    uid: u32,
    pid: Option<i32>,
}

impl Peer {
    fn origin(self, client: Option<&str>) -> Origin {
        match client {
            Some(CLI_CLIENT) => Origin::Cli { uid: self.uid },
            _ => Origin::Socket {
                uid: self.uid,
                pid: self.pid,
            },
        }
    }
}

async fn connection<H: Handler>(
    stream: UnixStream,
    handler: Arc<H>,
    shutdown: CancellationToken,
) -> std::io::Result<()> {
    let cred = stream.peer_cred()?;
    let peer = Peer {
        uid: cred.uid(),
        pid: cred.pid(),
    };
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
        let mut out = serde_json::to_vec(&response).expect("responses serialize");
        out.push(b'\n');
        write.write_all(&out).await?;
        if too_long {
            return Ok(());
        }
    }
}
