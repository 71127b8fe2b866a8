//! The control-socket client: one request line out, one response line back.

use std::io::{BufRead, BufReader, Write};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::command::Request;
use crate::control::protocol::{Response, CLI_CLIENT};

/// The request never got an answer.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    #[error("cannot reach hallq at {path}: {source} (is the daemon running? try `systemctl status hallq`)")]
    Connect {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("lost the connection to hallq at {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("hallq at {path} answered something that is not a response: {detail}")]
    Garbled { path: PathBuf, detail: String },
}

/// How long the CLI waits for an answer.
const TIMEOUT: Duration = Duration::from_secs(30);

pub fn request(socket: &Path, request: &Request) -> Result<Response, ClientError> {
    let path = socket.to_path_buf();
    let stream = UnixStream::connect(socket).map_err(|source| ClientError::Connect {
        path: path.clone(),
        source,
    })?;
    let io = |source| ClientError::Io {
        path: path.clone(),
        source,
    };
    stream.set_read_timeout(Some(TIMEOUT)).map_err(io)?;
    let mut value = serde_json::to_value(request).expect("requests serialize");
    if let Some(map) = value.as_object_mut() {
        map.insert("client".into(), CLI_CLIENT.into());
    }
    let mut line = serde_json::to_vec(&value).expect("requests serialize");
    line.push(b'\n');
    (&stream).write_all(&line).map_err(io)?;
    let mut answer = String::new();
    BufReader::new(&stream).read_line(&mut answer).map_err(io)?;
    if answer.is_empty() {
        return Err(ClientError::Garbled {
            path,
            detail: "the connection closed without an answer".into(),
        });
    }
    serde_json::from_str(&answer).map_err(|e| ClientError::Garbled {
        path,
        detail: e.to_string(),
    })
}
