//! `hallq report` with the real binary: the formats, the masked and `--unmasked` register
//! (and its audit line), bad arguments, reading beside a running daemon and after it stopped,
//! and the HTML page rendered by headless Chromium with its charts and no request leaving it.

use hallq_tests::util::browser::Browser;
use hallq_tests::util::{hallq_bin, own_id, Daemon, HallSpec, WindowSpec, ALL_ROLES};

const NAME: &str = "王小明";
const PHONE: &str = "13912345678";

/// A small day: tickets through every outcome, evaluations (one poor), a pickup and a mailing.
fn busy_day() -> Daemon {
    let mut spec = HallSpec::default();
    spec.windows.push(WindowSpec {
        number: 6,
        serves: vec![vec!["A"]],
        kind: "pickup",
    });
    // The day is played from the CLI, ratings too: this user holds the evaluator's role as a
    // test rig would ([roles]).
    let spec = spec.granting_me(ALL_ROLES);
    let d = Daemon::start_new(&spec);
    for (w, clerk) in [(1, "1001"), (2, "1002"), (5, "1005"), (6, "1006")] {
        d.ok(&["login", &w.to_string(), clerk]);
    }
    for args in [
        &["issue", "A"][..],
        &["issue", "A"],
        &["issue", "B", "--green"],
        &["issue", "B"],
        &["issue", "C"],
    ] {
        d.ok(args);
    }
    // Window 5 (green) takes B001 (green); window 1 serves A001 and A002.
    for (w, level) in [("5", "5"), ("1", "2")] {
        d.ok(&["call", w]);
        d.ok(&["start", w]);
        d.ok(&["finish", w, "--case", &format!("ZW-{w}")]);
        d.ok(&["evaluate", w, level]);
    }
    d.ok(&["call", "1"]);
    d.ok(&["skip", "1"]);
    d.ok(&["call", "2"]);
    d.ok(&["transfer", "2", "--to", "A"]);
    d.ok(&["call", "2"]);
    d.ok(&["hold", "2"]);
    d.ok(&[
        "handoff",
        "pickup",
        "--case",
        "CJ-1",
        "--title",
        "营业执照",
        "--recipient",
        NAME,
        "--phone",
        PHONE,
        "--window",
        "6",
    ]);
    d.ok(&[
        "handoff",
        "mail",
        "--case",
        "CJ-2",
        "--title",
        "不动产权证书",
        "--recipient",
        NAME,
        "--phone",
        PHONE,
        "--address",
        "内蒙古鄂尔多斯市乌审旗嘎鲁图镇1号",
        "--carrier",
        "sf",
        "--tracking",
        "SF123456789012",
        "--window",
        "6",
    ]);
    d
}

#[test]
fn report_formats_masking_and_arguments() {
    let d = busy_day();
    let json = d.ok(&["report", "day"]);
    let s = &json["summary"];
    assert_eq!(
        (
            s["issued"].as_u64(),
            s["served"].as_u64(),
            s["no_show"].as_u64()
        ),
        (Some(5), Some(2), Some(1))
    );
    assert_eq!(
        (s["transfers"].as_u64(), s["holds"].as_u64()),
        (Some(1), Some(1))
    );
    assert_eq!(s["open"].as_u64(), Some(2), "C001 waits, B002 is held");
    assert_eq!(json["evaluations"]["satisfaction_rate"].as_f64(), Some(0.5));
    assert_eq!(json["evaluations"]["poor"][0]["case_no"], "ZW-1");
    assert_eq!(json["evaluations"]["poor"][0]["clerk"], "1001");
    assert_eq!(json["handoffs"]["by_carrier"][0]["carrier"], "sf");
    let register = json["handoffs"]["register"].to_string();
    assert!(
        register.contains("王**") && register.contains("139****5678"),
        "{register}"
    );
    assert!(
        !register.contains(NAME) && !register.contains(PHONE),
        "masked: {register}"
    );

    let text = d.cli(&["report", "day"]);
    assert_eq!(text.code, 0, "{text:?}");
    assert!(text.stdout.contains("日报") && text.stdout.contains("差评整改清单"));
    assert!(!text.stdout.contains(NAME));

    let csv_path = d.dir.path().join("day.csv");
    let out = d.cli(&[
        "report",
        "day",
        "--format",
        "csv",
        "--output",
        csv_path.to_str().unwrap(),
    ]);
    assert_eq!((out.code, out.stdout.as_str()), (0, ""), "{out:?}");
    let csv = std::fs::read_to_string(&csv_path).unwrap();
    assert!(csv.starts_with('\u{feff}'), "UTF-8 with BOM");
    assert!(csv.contains("\r\n概况\r\n指标,数值\r\n取号,5\r\n"), "{csv}");
    assert!(csv.contains("按业务\r\n业务,名称,取号,"));
    assert!(!csv.contains(NAME));

    // --unmasked: in clear, and an audit line that names who without the data.
    let clear = d.cli(&["report", "day", "--unmasked", "--format", "csv"]);
    assert_eq!(clear.code, 0, "{clear:?}");
    assert!(clear.stdout.contains(NAME) && clear.stdout.contains(PHONE));
    assert!(clear.stdout.contains("内蒙古鄂尔多斯市乌审旗嘎鲁图镇1号"));
    let audit = clear
        .stderr
        .lines()
        .find(|l| l.contains("hallq::audit"))
        .unwrap_or_else(|| panic!("no audit line: {:?}", clear.stderr));
    assert!(
        audit.contains("unmasked handoff register exported by uid"),
        "{audit}"
    );
    assert!(audit.contains("handoffs=2"), "{audit}");
    assert!(
        !clear.stderr.contains(NAME) && !clear.stderr.contains(PHONE),
        "{audit}"
    );
    assert!(
        !clear.stderr.contains("139****5678"),
        "not even masked: {audit}"
    );
    let masked = d.cli(&["report", "day", "--format", "csv"]);
    assert!(
        !masked.stderr.contains("audit"),
        "only --unmasked is logged"
    );

    // Bad arguments are usage errors that say what was wrong.
    let bad = d.cli(&["report", "day", "2026-13-01"]);
    assert_eq!(bad.code, 2);
    assert!(
        bad.stderr
            .contains("\"2026-13-01\" is not a date YYYY-MM-DD"),
        "{bad:?}"
    );
    let bad = d.cli(&["report", "fortnight"]);
    assert_eq!(bad.code, 2, "{bad:?}");
    let bad = d.cli(&["report", "day", "--json", "--format", "html"]);
    assert_eq!(bad.code, 2);
    assert!(bad.stdout.contains("\"usage\""), "{bad:?}");
    let bad = d.cli(&["report", "day", "--output", "/nonexistent/dir/r.html"]);
    assert_eq!(bad.code, 1);
    assert!(bad
        .stderr
        .contains("cannot write the report to /nonexistent/dir/r.html"));

    // With the daemon stopped the store gives the same figures.
    let mut d = d;
    d.stop();
    let after = d.ok(&["report", "day"]);
    assert_eq!(after["summary"], json["summary"]);
    assert_eq!(after["services"], json["services"]);
}

/// Pixels of exactly this colour in an RGB(A) PNG.
fn pixels_of(png: &[u8], rgb: [u8; 3]) -> usize {
    let decoder = png::Decoder::new(std::io::Cursor::new(png));
    let mut reader = decoder.read_info().unwrap();
    let mut buf = vec![0; reader.output_buffer_size().unwrap()];
    let info = reader.next_frame(&mut buf).unwrap();
    let step = info.color_type.samples();
    buf[..info.buffer_size()]
        .chunks(step)
        .filter(|p| p[..3] == rgb)
        .count()
}

#[test]
fn the_html_report_renders_offline_in_chromium() {
    let d = busy_day();
    let page = d.dir.path().join("day.html");
    let out = d.cli(&[
        "report",
        "day",
        "--format",
        "html",
        "--output",
        page.to_str().unwrap(),
    ]);
    assert_eq!(out.code, 0, "{out:?}");
    let html = std::fs::read_to_string(&page).unwrap();
    for forbidden in [
        "<script", "src=", "href=", "url(", "@import", "http:", "https:",
    ] {
        assert!(!html.contains(forbidden), "the page contains {forbidden:?}");
    }

    let charts = "[...document.querySelectorAll('svg.chart')].map(s => \
        s.classList[1] + ':' + s.querySelectorAll('rect.bar, rect.segment').length + ':' + \
        Math.round(s.getBoundingClientRect().width))";
    // A tab the size of A4 (794x1123 CSS pixels at 96 dpi); the charts must fill its width.
    let mut b = Browser::launch();
    let tab = b.page(794, 1123);
    b.navigate(&tab, &file_url(&page));
    let charts: Vec<String> = serde_json::from_value(b.eval(&tab, charts)).unwrap();
    let png = b.full_screenshot(&tab);
    let requests = b.requests(&tab);
    assert_eq!(requests.len(), 1, "only the page itself: {requests:?}");
    assert!(requests[0].starts_with("file://"), "{requests:?}");
    let names: Vec<&str> = charts
        .iter()
        .map(|c| c.split(':').next().unwrap())
        .collect();
    assert_eq!(
        names,
        ["chart-hourly", "chart-waits", "chart-satisfaction"],
        "{charts:?}"
    );
    for c in &charts {
        let parts: Vec<&str> = c.split(':').collect();
        assert!(
            parts[1].parse::<u32>().unwrap() > 0,
            "{c}: the chart draws bars"
        );
        assert!(parts[2].parse::<u32>().unwrap() > 600, "{c}: full width");
    }
    // The bars are on screen: arrivals blue, calls orange, 非常满意 green.
    assert!(pixels_of(&png, [0x2b, 0x6c, 0xb0]) > 200);
    assert!(pixels_of(&png, [0xdd, 0x6b, 0x20]) > 200);
    assert!(pixels_of(&png, [0x2f, 0x85, 0x5a]) > 200);
    std::fs::write(d.dir.path().join("day.png"), &png).unwrap();

    // The watch would see a request if the page made one.
    let leaky = d.dir.path().join("leaky.html");
    std::fs::write(
        &leaky,
        format!(
            "{}<img src=\"http://192.0.2.1/x.png\">",
            &html[..html.len() - 15]
        ),
    )
    .unwrap();
    // A new tab of the same browser: each tab's requests are its own.
    let tab = b.page(794, 1123);
    b.navigate(&tab, &file_url(&leaky));
    let requests = b.requests(&tab);
    assert!(
        requests.iter().any(|u| u.starts_with("http://192.0.2.1/")),
        "{requests:?}"
    );
}

/// The `file://` URL of a local file.
fn file_url(path: &std::path::Path) -> String {
    format!("file://{}", path.canonicalize().unwrap().display())
}

/// The store is the service user's alone (0700): anyone else's `hallq report` is made by the
/// running daemon over the socket (the supervisor role); with the daemon stopped they are told
/// the store is the service user's, not that there is none.
#[test]
fn another_user_gets_the_report_from_the_daemon() {
    use std::os::unix::fs::PermissionsExt;
    let mut d = Daemon::start_new(&HallSpec::default());
    d.ok(&["issue", "A"]);
    let data = d.dir.path().join("data");
    let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(
        mode(&data),
        0o700,
        "the daemon keeps its store folder to itself"
    );
    // As on a real machine the other user may read the config and open the socket (the hallq
    // group), but not the store.
    let set = |p: &std::path::Path, m| {
        std::fs::set_permissions(p, std::fs::Permissions::from_mode(m)).unwrap()
    };
    set(d.dir.path(), 0o755);
    set(&d.config, 0o644);
    set(&d.dir.path().join("run"), 0o755);
    set(&d.dir.path().join("run/control.sock"), 0o666);
    let as_root = own_id("Uid:") == 0;
    if !as_root {
        // A user passes the check on its own folder: take the folder from it instead.
        set(&data, 0o000);
    }
    let config = d.config.clone();
    let report = || {
        // root passes every permission check: then the report runs as nobody.
        let mut c = if as_root {
            let mut c = std::process::Command::new("setpriv");
            c.args(["--reuid=65534", "--regid=65534", "--clear-groups"])
                .arg(hallq_bin());
            c
        } else {
            std::process::Command::new(hallq_bin())
        };
        c.arg("--config")
            .arg(&config)
            .args(["report", "day", "--json"])
            .output()
            .unwrap()
    };
    let out = report();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{stdout} {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let json: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(json["summary"]["issued"].as_u64(), Some(1), "{json}");

    d.stop();
    let out = report();
    set(&data, 0o700);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("is readable by the service user only")
            && stderr.contains("sudo -u hallq hallq report"),
        "{stderr}"
    );
    // The service user itself still reads the store with the daemon stopped.
    assert_eq!(
        d.ok(&["report", "day"])["summary"]["issued"].as_u64(),
        Some(1)
    );
}
