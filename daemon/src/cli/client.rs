//! The control-socket client: one request line out, one response line back. Its errors are
//! worded by the catalogue (`catalogue::cli`).

use std::io::{BufRead, BufReader, Write};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::catalogue::{Lang, Words};
use crate::command::Request;
use crate::control::protocol::{Response, CLI_CLIENT};

/// The request never got an answer.
#[derive(Debug)]
pub enum ClientError {
    Connect {
        path: PathBuf,
        source: std::io::Error,
    },
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    Garbled {
        path: PathBuf,
        detail: String,
    },
}

impl std::fmt::Display for ClientError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.words(Lang::En))
    }
}

impl std::error::Error for ClientError {}

/// How long the CLI waits for an answer.
const TIMEOUT: Duration = Duration::from_secs(30);

/// Send `request`; the answer's words are in the hall's language.
pub fn request(socket: &Path, request: &Request) -> Result<Response, ClientError> {
    request_in(socket, request, None)
}

/// Send `request`, asking for the answer's words in `lang` (the hall's language when `None`).
pub fn request_in(
    socket: &Path,
    request: &Request,
    lang: Option<Lang>,
) -> Result<Response, ClientError> {
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
        if let Some(lang) = lang {
            map.insert("lang".into(), lang.as_str().into());
        }
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
