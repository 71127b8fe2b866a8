//! Printing answers: a short human form by default (worded and laid out by the catalogue, in
//! the answer's language), one JSON object with `--json`.
//!
//! The human form of a view is laid out from the view's own type (deserialized from the
//! response), so a renamed field is a compile error here, never a blank column.

use serde::de::DeserializeOwned;
use serde_json::{json, Value};

use crate::catalogue::{self, Lang};
use crate::command::{Query, Request};
use crate::control::protocol::{ErrorBody, Response};
use crate::sync::SyncReport;

/// Print a successful response; views are laid out in `lang`.
pub fn print_response(request: &Request, response: &Response, as_json: bool, lang: Lang) {
    if as_json {
        let mut data = response.data.clone();
        if !response.message.is_empty() {
            data.entry("message")
                .or_insert_with(|| json!(response.message));
        }
        println!("{}", Value::Object(data));
        return;
    }
    use catalogue::views;
    let printed = match request {
        Request::Query(Query::Status) => view(response).map(|s| views::status(&s, lang)),
        Request::Query(Query::Queue) => view(response).map(|q| views::queue(&q, lang)),
        Request::Query(Query::Reservations { .. }) => {
            view(response).map(|r| views::reservations(&r, lang))
        }
        Request::Query(Query::Handoffs { .. }) => view(response).map(|h| views::handoffs(&h, lang)),
        Request::Query(Query::Ticket { .. }) => view(response).map(|t| views::ticket(&t, lang)),
        Request::Query(Query::Clerks) => view(response).map(|c| views::clerks(&c, lang)),
        Request::Query(Query::SyncStatus) => {
            // Times in this machine's zone (a hall PC's is the hall's), with the offset shown.
            let tz = jiff::tz::TimeZone::system();
            view(response)
                .map(|r: SyncReport| catalogue::sync::status(&r, lang, &tz).join("\n") + "\n")
        }
        Request::Query(Query::Report(_)) => {
            view(response).map(|r: crate::report::cli::ReportText| r.text)
        }
        Request::Query(Query::Backup { .. }) | Request::Command(_) => {
            Ok(format!("{}\n", response.message))
        }
    };
    match printed {
        Ok(text) => print!("{text}"),
        Err(e) => eprintln!(
            "hallq: {}",
            catalogue::cli::unreadable(&e.to_string(), lang)
        ),
    }
}

fn view<T: DeserializeOwned>(response: &Response) -> Result<T, serde_json::Error> {
    serde_json::from_value(Value::Object(response.data.clone()))
}

/// Print an error: the message on stderr, and with `--json` the error object on stdout.
pub fn print_error(error: &ErrorBody, as_json: bool) {
    eprintln!("hallq: {}", error.message);
    if as_json {
        println!("{}", json!({ "error": error }));
    }
}

/// Print an error of the CLI's own (`usage`, `unavailable`) the way errors are printed.
pub fn print_failure(code: &str, message: &str, as_json: bool) {
    let error = ErrorBody {
        code: code.to_string(),
        refusal: None,
        message: message.to_string(),
    };
    print_error(&error, as_json);
}
