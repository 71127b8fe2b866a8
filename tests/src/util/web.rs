//! A client of hallq's web API for the tests: JSON requests with the session cookie and CSRF
//! token as a browser would send them, from a chosen local address (127.0.0.2 is "another
//! machine" to the kiosk check), and raw Server-Sent Events streams.

use std::io::{BufRead, BufReader, Write};
use std::net::{IpAddr, TcpStream};
use std::time::Duration;

use serde_json::Value;

/// One answer: status, headers and the JSON body (Null when the body is not JSON).
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    pub headers: reqwest::header::HeaderMap,
    pub json: Value,
}

impl Answer {
    pub fn header(&self, name: &str) -> Option<String> {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
    }

    /// `error.code` of a refusal.
    pub fn code(&self) -> &str {
        self.json["error"]["code"].as_str().unwrap_or("")
    }
}

/// A browser-like client of one daemon's web pages.
pub struct WebClient {
    pub base: String,
    client: reqwest::blocking::Client,
    /// The session cookie (`hallq_session=...`) once logged in.
    pub cookie: Option<String>,
    pub csrf: Option<String>,
}

impl WebClient {
    pub fn new(base: &str) -> WebClient {
        WebClient::from_address(base, None)
    }

    /// Requests leave from `local` (any 127.x.y.z works on Linux's loopback).
    pub fn from_address(base: &str, local: Option<IpAddr>) -> WebClient {
        let client = reqwest::blocking::Client::builder()
            .local_address(local)
            .timeout(Duration::from_secs(30))
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        WebClient {
            base: base.to_string(),
            client,
            cookie: None,
            csrf: None,
        }
    }

    fn finish(&mut self, request: reqwest::blocking::RequestBuilder) -> Answer {
        let mut request = request;
        if let Some(cookie) = &self.cookie {
            request = request.header("cookie", cookie);
        }
        let response = request.send().expect("the web server answers");
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let text = response.text().unwrap_or_default();
        Answer {
            status,
            headers,
            json: serde_json::from_str(&text).unwrap_or(Value::Null),
        }
    }

    pub fn get(&mut self, path: &str) -> Answer {
        let request = self.client.get(format!("{}{path}", self.base));
        self.finish(request)
    }

    /// POST a JSON body with the session's CSRF token, as the pages do.
    pub fn post(&mut self, path: &str, body: &Value) -> Answer {
        let mut request = self
            .client
            .post(format!("{}{path}", self.base))
            .header("content-type", "application/json")
            .body(body.to_string());
        if let Some(csrf) = &self.csrf {
            request = request.header("x-csrf-token", csrf);
        }
        self.finish(request)
    }

    /// POST with extra headers and no automatic CSRF token.
    pub fn post_with(&mut self, path: &str, body: &str, headers: &[(&str, &str)]) -> Answer {
        let mut request = self
            .client
            .post(format!("{}{path}", self.base))
            .body(body.to_string());
        for (k, v) in headers {
            request = request.header(*k, *v);
        }
        self.finish(request)
    }

    /// Log in at `window`; keeps the cookie and CSRF token of a success.
    pub fn login(&mut self, window: u32, staff: &str, pin: &str) -> Answer {
        let answer = self.post(
            &format!("/api/window/{window}/login"),
            &serde_json::json!({"staff": staff, "pin": pin}),
        );
        if answer.status == 200 {
            let set = answer.header("set-cookie").expect("a session cookie");
            self.cookie = Some(set.split(';').next().unwrap().to_string());
            self.csrf = answer.json["data"]["csrf"].as_str().map(str::to_string);
        }
        answer
    }
}

/// A raw Server-Sent Events stream of `/api/events`, read line by line.
pub struct EventStream {
    reader: BufReader<TcpStream>,
}

/// One event: its name and data.
#[derive(Debug, Clone)]
pub struct SseEvent {
    pub event: String,
    pub data: String,
}

impl EventStream {
    /// Open the stream at `addr` (`127.0.0.1:PORT`) and read its response head.
    pub fn open(addr: &str) -> EventStream {
        let mut stream = TcpStream::connect(addr).expect("connects");
        stream
            .set_read_timeout(Some(Duration::from_secs(30)))
            .unwrap();
        write!(
            stream,
            "GET /api/events HTTP/1.1\r\nHost: {addr}\r\nAccept: text/event-stream\r\n\r\n"
        )
        .unwrap();
        let mut reader = BufReader::new(stream);
        let mut status = String::new();
        reader.read_line(&mut status).unwrap();
        assert!(status.contains(" 200 "), "event stream refused: {status}");
        loop {
            let mut line = String::new();
            reader.read_line(&mut line).unwrap();
            if line == "\r\n" {
                break;
            }
        }
        EventStream { reader }
    }

    /// The next event (chunked transfer framing is skipped: chunk sizes are lines of hex).
    pub fn next_event(&mut self) -> SseEvent {
        let (mut event, mut data) = (String::new(), String::new());
        loop {
            let mut line = String::new();
            let n = self.reader.read_line(&mut line).expect("event stream read");
            assert!(n > 0, "event stream closed");
            let line = line.trim_end_matches(['\r', '\n']);
            if let Some(name) = line.strip_prefix("event:") {
                event = name.trim().to_string();
            } else if let Some(d) = line.strip_prefix("data:") {
                data.push_str(d.trim_start());
            } else if line.is_empty() && !event.is_empty() {
                return SseEvent { event, data };
            }
        }
    }
}
