//! The web pages and their API end to end: the real binary serving `[http]`, headless
//! Chromium on the pages, a plain HTTP client on the API. (200 event streams at once are the
//! `web_load` test binary, which runs alone.)

mod api;
mod pages;
mod refusals;

use hallq_tests::util::{Daemon, HallSpec};

/// The clerk every web test adds, and their PIN.
pub const STAFF: &str = "0123";
pub const PIN: &str = "246810";

/// The default test hall with `[http]` on a free port, kiosk `k1` usable from 127.0.0.1 only
/// (its printer a sim folder), a 2-second lockout, and `http_extra` in the `[http]` table.
pub fn web_hall(http_extra: &str) -> HallSpec {
    HallSpec {
        extra: format!(
            "[[devices]]\nid = \"k1-printer\"\nkind = \"printer\"\nkiosk = \"k1\"\n\
             protocol = \"escpos\"\npaper = \"80mm\"\nstatus_max_age_ms = 0\n\
             transport = {{ type = \"sim\", dir = \"sim/k1-printer\" }}\n\n\
             [http]\nlisten = \"127.0.0.1:0\"\nnotice = \"请保管好随身物品\"\nlockout_seconds = 2\n\
             {http_extra}\n\n\
             [[http.kiosks]]\nid = \"k1\"\naddresses = [\"127.0.0.1\"]\n"
        ),
        ..HallSpec::default()
    }
}

/// Start the hall and add the test clerk (PIN on standard input, as a script gives it).
pub fn start_with_clerk(spec: &HallSpec) -> Daemon {
    let d = Daemon::start_new(spec);
    let out = d.cli_with_input(&["clerk", "add", STAFF], &format!("{PIN}\n"));
    assert_eq!(out.code, 0, "clerk add: {out:?}");
    d
}

/// Every event row as (kind, origin).
pub fn events(d: &Daemon) -> Vec<(String, String)> {
    d.event_origins()
        .into_iter()
        .map(|(kind, origin)| (kind, origin.unwrap_or_default()))
        .collect()
}
