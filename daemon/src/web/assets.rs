//! The pages, their style sheet and their scripts, compiled into the binary from `assets/`, so
//! a hall without internet gets everything from hallq. Plain HTML, CSS and a small script of
//! our own per page (no library: each page is a form or a list redrawn from one JSON object).
//! No page has inline script or style, as the content security policy demands.

use axum::extract::Path;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};

/// A page or file: its bytes and content type.
pub struct Asset {
    pub body: &'static str,
    pub content_type: &'static str,
}

const HTML: &str = "text/html; charset=utf-8";

pub const INDEX: Asset = Asset {
    body: include_str!("assets/index.html"),
    content_type: HTML,
};
pub const DISPLAY: Asset = Asset {
    body: include_str!("assets/display.html"),
    content_type: HTML,
};
pub const WINDOW: Asset = Asset {
    body: include_str!("assets/window.html"),
    content_type: HTML,
};
pub const KIOSK: Asset = Asset {
    body: include_str!("assets/kiosk.html"),
    content_type: HTML,
};

/// `/assets/{name}`: the files the pages load.
fn file(name: &str) -> Option<Asset> {
    let (body, content_type) = match name {
        "hallq.css" => (include_str!("assets/hallq.css"), "text/css; charset=utf-8"),
        "common.js" => (include_str!("assets/common.js"), JS),
        "display.js" => (include_str!("assets/display.js"), JS),
        "window.js" => (include_str!("assets/window.js"), JS),
        "kiosk.js" => (include_str!("assets/kiosk.js"), JS),
        _ => return None,
    };
    Some(Asset { body, content_type })
}

const JS: &str = "text/javascript; charset=utf-8";

pub fn page(asset: Asset) -> Response {
    ([(header::CONTENT_TYPE, asset.content_type)], asset.body).into_response()
}

/// A plain page saying what is missing or not allowed (404 unless the caller sets another).
pub fn missing(what: &str) -> Response {
    let body = format!(
        "<!doctype html><html lang=\"zh-CN\"><head><meta charset=\"utf-8\">\
         <title>hallq</title><link rel=\"stylesheet\" href=\"/assets/hallq.css\"></head>\
         <body class=\"plain\"><main><h1>{}</h1><p><a href=\"/\">返回首页</a></p></main></body></html>",
        escape(what)
    );
    (StatusCode::NOT_FOUND, [(header::CONTENT_TYPE, HTML)], body).into_response()
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

pub async fn index() -> Response {
    page(INDEX)
}

pub async fn display() -> Response {
    page(DISPLAY)
}

pub async fn asset(Path(name): Path<String>) -> Response {
    match file(&name) {
        Some(asset) => page(asset),
        None => missing("没有这个文件"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An attribute like ` onclick=`: letters after ` on` up to `=`.
    fn has_event_attribute(html: &str) -> bool {
        html.match_indices(" on").any(|(i, _)| {
            let rest = &html[i + 3..];
            let name_len = rest.bytes().take_while(u8::is_ascii_lowercase).count();
            name_len > 0 && rest[name_len..].starts_with('=')
        })
    }

    #[test]
    fn pages_load_nothing_from_outside_and_run_no_inline_script() {
        for (name, page) in [
            ("index", INDEX),
            ("display", DISPLAY),
            ("window", WINDOW),
            ("kiosk", KIOSK),
        ] {
            let html = page.body;
            assert!(
                !html.contains("http://") && !html.contains("https://") && !html.contains("//cdn"),
                "{name}"
            );
            assert!(
                !html.contains(" style=") && !html.contains("<style"),
                "{name}: inline style"
            );
            assert!(!has_event_attribute(html), "{name}: inline event handler");
            for script in html.split("<script").skip(1) {
                let tag = script.split('>').next().unwrap_or("");
                assert!(
                    tag.contains("src=\"/assets/"),
                    "{name}: inline script {tag}"
                );
                let src = tag
                    .split("src=\"/assets/")
                    .nth(1)
                    .unwrap()
                    .split('"')
                    .next()
                    .unwrap();
                assert!(file(src).is_some(), "{name}: {src} is not served");
            }
        }
        for name in [
            "hallq.css",
            "common.js",
            "display.js",
            "window.js",
            "kiosk.js",
        ] {
            let body = file(name).unwrap().body;
            assert!(
                !body.contains("http://") && !body.contains("https://"),
                "{name}"
            );
            assert!(
                !body.contains("innerHTML") && !body.contains("eval("),
                "{name}"
            );
        }
    }
}
