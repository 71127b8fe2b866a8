//! The three pages in headless Chromium against the real daemon: the hall TV at 1920x1080 and
//! 1080x1920 showing a call within a second of `hallq call` (and captured to PNG), going stale
//! when the daemon is lost and coming back by itself; the clerk's call pad logging in, calling
//! and finishing with a case number (events with the clerk's web origin); the touch kiosk
//! printing on the sim printer, and issuing nothing when the printer is out of paper.

use std::path::{Path, PathBuf};
use std::time::Duration;

use hallq_tests::util::browser::{png_size, Browser, Page};
use hallq_tests::util::Daemon;

use super::{events, start_with_clerk, web_hall, PIN, STAFF};

/// Where screenshots go: `target/web-screens/`, and `docs/` too with HALLQ_UPDATE_DOCS=1
/// (look at them before committing).
fn keep_png(name: &str, png: &[u8]) -> PathBuf {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let dir = root.join("target/web-screens");
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    std::fs::write(&path, png).unwrap();
    if std::env::var_os("HALLQ_UPDATE_DOCS").is_some() {
        std::fs::write(root.join("docs").join(name), png).unwrap();
    }
    path
}

/// Open `/display` at a size and wait until it draws the hall, connected.
fn tv(b: &mut Browser, base: &str, width: u32, height: u32) -> Page {
    let page = b.page(width, height);
    b.navigate(&page, &format!("{base}/display"));
    let drawn = "document.getElementById('hall-name').textContent === '端到端测试大厅' \
                 && document.body.dataset.stale === '0'";
    assert!(
        b.wait_until(&page, drawn, Duration::from_secs(10))
            .is_some(),
        "the TV page never drew the hall"
    );
    page
}

fn showing(number: &str) -> String {
    format!("document.getElementById('newest-number').textContent.startsWith('{number}')")
}

#[test]
fn the_tv_shows_a_call_within_a_second_at_both_sizes() {
    let d = Daemon::start_new(&web_hall(""));
    let base = d.http_base();
    d.ok(&["issue", "A"]);
    d.ok(&["issue", "B"]);
    d.ok(&["login", "1", "clerk-01"]);
    d.ok(&["login", "2", "clerk-02"]);
    d.ok(&["call", "2"]);

    let mut b = Browser::launch();
    let wide = tv(&mut b, &base, 1920, 1080);
    let tall = tv(&mut b, &base, 1080, 1920);
    for page in [&wide, &tall] {
        assert!(b.text(page, "#newest-number").starts_with("B001"));
        assert!(b.text(page, "#notice").contains("请保管好随身物品"));
    }

    let start = std::time::Instant::now();
    let call = d.ok(&["call", "1"]);
    assert_eq!(call["number"], "A001");
    for (page, size) in [(&wide, "1920x1080"), (&tall, "1080x1920")] {
        let left = Duration::from_secs(1).saturating_sub(start.elapsed());
        let shown = b.wait_until(page, &showing("A001"), left);
        assert!(
            shown.is_some(),
            "the {size} TV did not show A001 within 1 s of `hallq call` ({:?})",
            start.elapsed()
        );
        println!(
            "{size}: A001 on screen {:?} after `hallq call` started",
            start.elapsed()
        );
        assert_eq!(b.text(page, "#newest-window"), "到 1号窗口 办理");
        // The rest of the board follows within the same second: the call before is listed,
        // the waiting counts are down.
        let rest = "document.getElementById('recent').textContent.includes('B001') && \
                    document.getElementById('waiting').textContent.includes('综合受理A0人')";
        let left = Duration::from_secs(1).saturating_sub(start.elapsed());
        assert!(
            b.wait_until(page, rest, left).is_some(),
            "the {size} TV's lists did not follow within 1 s: {} / {}",
            b.text(page, "#recent"),
            b.text(page, "#waiting")
        );
    }

    // Everything the pages loaded came from hallq itself.
    for page in [&wide, &tall] {
        for url in b.requests(page) {
            assert!(url.starts_with(&base), "loaded from outside hallq: {url}");
        }
    }

    // Let the arrival flash end, then keep a picture of each size.
    let still = "document.getAnimations().length === 0";
    for (page, name, size) in [
        (&wide, "web-display-1920x1080.png", (1920, 1080)),
        (&tall, "web-display-1080x1920.png", (1080, 1920)),
    ] {
        b.wait_until(page, still, Duration::from_secs(10));
        let png = b.screenshot(page);
        assert_eq!(png_size(&png), size);
        let path = keep_png(name, &png);
        println!("TV screenshot: {}", path.display());
    }
}

#[test]
fn the_tv_says_when_it_lost_the_daemon_and_comes_back_by_itself() {
    let mut d = Daemon::start_new(&web_hall(""));
    let base = d.http_base();
    let mut b = Browser::launch();
    let page = tv(&mut b, &base, 1920, 1080);

    assert_eq!(d.stop(), Some(0));
    assert!(
        b.wait_until(
            &page,
            "document.body.dataset.stale === '1'",
            Duration::from_secs(20)
        )
        .is_some(),
        "the TV page did not show that it lost the daemon"
    );
    assert!(
        b.eval(
            &page,
            "getComputedStyle(document.getElementById('stale')).display !== 'none'"
        ) == true
    );

    // The daemon comes back on the same address: the page reconnects without anyone touching it.
    let port = base.rsplit(':').next().unwrap();
    let config = std::fs::read_to_string(&d.config).unwrap();
    let fixed = config.replace("127.0.0.1:0", &format!("127.0.0.1:{port}"));
    std::fs::write(&d.config, fixed).unwrap();
    d.start();
    assert_eq!(d.http_base(), base);
    assert!(
        b.wait_until(
            &page,
            "document.body.dataset.stale === '0'",
            Duration::from_secs(30)
        )
        .is_some(),
        "the TV page did not reconnect"
    );
    d.ok(&["issue", "C"]);
    d.ok(&["login", "3", "clerk-03"]);
    d.ok(&["call", "3"]);
    assert!(b
        .wait_until(&page, &showing("C001"), Duration::from_secs(5))
        .is_some());
}

#[test]
fn a_clerk_logs_in_calls_and_finishes_with_a_case_number() {
    let d = start_with_clerk(&web_hall(""));
    let base = d.http_base();
    d.ok(&["issue", "A"]);
    d.ok(&["issue", "A"]);

    let mut b = Browser::launch();
    let pad = b.page(1280, 800);
    b.navigate(&pad, &format!("{base}/window/1"));
    let login_shown = "!document.getElementById('login').classList.contains('hidden')";
    assert!(b
        .wait_until(&pad, login_shown, Duration::from_secs(10))
        .is_some());
    b.fill(&pad, "#staff", STAFF);
    b.fill(&pad, "#pin", PIN);
    b.click(&pad, "#login-button");
    let pad_shown = "!document.getElementById('pad').classList.contains('hidden')";
    assert!(
        b.wait_until(&pad, pad_shown, Duration::from_secs(10))
            .is_some(),
        "login failed: {}",
        b.text(&pad, "#message")
    );
    assert_eq!(b.text(&pad, "#who"), format!("工号 {STAFF}"));
    assert_eq!(d.status()["windows"][0]["clerk"], STAFF);
    let waiting = "document.getElementById('waiting').textContent.includes('2 人')";
    assert!(b
        .wait_until(&pad, waiting, Duration::from_secs(5))
        .is_some());

    b.click(&pad, "[data-cmd=call]");
    let called = "document.getElementById('current-number').textContent === 'A001'";
    assert!(
        b.wait_until(&pad, called, Duration::from_secs(5)).is_some(),
        "{}",
        b.text(&pad, "#message")
    );
    // A press the hall refuses says why, in the daemon's words.
    b.click(&pad, "[data-cmd=call]");
    let refused = "document.getElementById('message').classList.contains('bad')";
    assert!(b
        .wait_until(&pad, refused, Duration::from_secs(5))
        .is_some());
    let why = b.text(&pad, "#message");
    assert!(why.contains("还有 A001"), "{why}");

    b.click(&pad, "[data-cmd=start]");
    let serving = "document.getElementById('current-state').textContent === '办理中'";
    assert!(b
        .wait_until(&pad, serving, Duration::from_secs(5))
        .is_some());
    b.fill(&pad, "#case-no", "ZW2026113001");
    b.click(&pad, "#finish-form button");
    let finished = "document.getElementById('message').textContent.startsWith('已办结 A001')";
    assert!(
        b.wait_until(&pad, finished, Duration::from_secs(5))
            .is_some(),
        "{}",
        b.text(&pad, "#message")
    );
    let png = b.screenshot(&pad);
    keep_png("web-window.png", &png);

    let case = d.store_rows("SELECT case_no, state FROM tickets WHERE number = 'A001'");
    assert_eq!(
        case,
        vec![vec![Some("ZW2026113001".into()), Some("done".into())]]
    );
    let by_clerk: Vec<(String, String)> = events(&d)
        .into_iter()
        .filter(|(_, origin)| origin.starts_with("web "))
        .collect();
    let kinds: Vec<&str> = by_clerk.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(
        kinds,
        [
            "clerk_login",
            "ticket_called",
            "service_started",
            "service_finished"
        ]
    );
    let origin = &by_clerk[0].1;
    assert!(
        origin.starts_with(&format!("web clerk={STAFF} window=1 session="))
            && origin.ends_with(" addr=127.0.0.1"),
        "{origin}"
    );
    assert!(
        by_clerk.iter().all(|(_, o)| o == origin),
        "one session: {by_clerk:?}"
    );
}

#[test]
fn the_kiosk_prints_on_its_printer_and_issues_nothing_without_paper() {
    let d = Daemon::start_new(&web_hall(""));
    let base = d.http_base();
    let printer = d.dir.path().join("sim/k1-printer");
    let mut b = Browser::launch();
    let kiosk = b.page(1080, 1920);
    b.navigate(&kiosk, &format!("{base}/kiosk/k1"));
    let buttons = "document.querySelectorAll('#services button').length === 3";
    assert!(b
        .wait_until(&kiosk, buttons, Duration::from_secs(10))
        .is_some());

    b.click(&kiosk, "[data-service=A]");
    let issued = "document.getElementById('result-number').textContent === 'A001'";
    assert!(
        b.wait_until(&kiosk, issued, Duration::from_secs(10))
            .is_some(),
        "{}",
        b.text(&kiosk, "#result")
    );
    assert_eq!(b.text(&kiosk, "#result-title"), "取号成功，请取走号票");
    let text = std::fs::read_to_string(printer.join("0001-A001.txt")).expect("printed");
    assert!(text.contains("A001") && text.contains("综合受理"), "{text}");
    let issue = events(&d)
        .into_iter()
        .find(|(kind, _)| kind == "ticket_issued")
        .unwrap();
    assert_eq!(issue.1, "web kiosk=k1 addr=127.0.0.1");

    // Green channel: the toggle, then the service.
    b.click(&kiosk, "#result-close");
    b.click(&kiosk, "#green");
    b.click(&kiosk, "[data-service=B]");
    let green = "document.getElementById('result-number').textContent === 'B001'";
    assert!(b
        .wait_until(&kiosk, green, Duration::from_secs(10))
        .is_some());
    assert!(b.text(&kiosk, "#result-detail").contains("绿色通道"));
    let png = b.screenshot(&kiosk);
    keep_png("web-kiosk.png", &png);

    // Out of paper: a clear message, no number used, nothing printed.
    std::fs::write(printer.join("status"), "paper_out\n").unwrap();
    b.click(&kiosk, "#result-close");
    b.click(&kiosk, "[data-service=A]");
    let refused = "document.getElementById('result').classList.contains('bad')";
    assert!(b
        .wait_until(&kiosk, refused, Duration::from_secs(10))
        .is_some());
    assert_eq!(
        b.text(&kiosk, "#result-title"),
        "打印机暂时无法出票，本次未取号"
    );
    assert!(
        b.text(&kiosk, "#result-detail").contains("缺纸"),
        "{}",
        b.text(&kiosk, "#result-detail")
    );
    assert_eq!(d.status()["issued"], 2);
    let printed = std::fs::read_dir(&printer)
        .unwrap()
        .filter(|e| {
            e.as_ref()
                .unwrap()
                .path()
                .extension()
                .is_some_and(|x| x == "txt")
        })
        .count();
    assert_eq!(printed, 2);
}
