//! `hallq doctor`: a maintenance check of everything hallq depends on, printed as a table of
//! OK / WARN / FAIL with a one-line hint for each problem.
//!
//! Runs in the CLI process, reads the config and the store read-only, probes devices, the
//! broker and the upstream with short timeouts, and asks the running daemon (if any) for its
//! view. It changes nothing.

use std::fmt;
use std::net::{TcpStream, ToSocketAddrs};
use std::path::Path;
use std::time::Duration;

use serde::Serialize;
use serde_json::Value;

use hallq_drivers::transport::{SerialConfig, UsblpConfig};
use hallq_drivers::HealthState;

use crate::command::{Query, Request};
use crate::config::{Config, Device, Transport, Voice, VoiceClips, VOICE_DEVICE_ID};
use crate::runtime::disk::{free_bytes, human_bytes};
use crate::runtime::queries::StatusView;
use crate::runtime::snapshot::{HallSnapshot, StoreState};
use crate::store::Store;

/// How long a network probe may take.
const PROBE_TIMEOUT: Duration = Duration::from_secs(2);
/// Free space below which a warning is given (or five times `[store] min_free_mb`, if more).
const DISK_WARN_BYTES: u64 = 1024 * 1024 * 1024;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Verdict {
    Ok,
    Warn,
    Fail,
}

impl fmt::Display for Verdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Verdict::Ok => "OK",
            Verdict::Warn => "WARN",
            Verdict::Fail => "FAIL",
        })
    }
}

/// One line of the report.
#[derive(Debug, Clone, Serialize)]
pub struct Finding {
    pub check: String,
    pub result: Verdict,
    pub detail: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hint: Option<String>,
}

fn ok(check: impl Into<String>, detail: impl Into<String>) -> Finding {
    Finding {
        check: check.into(),
        result: Verdict::Ok,
        detail: detail.into(),
        hint: None,
    }
}

fn problem(
    result: Verdict,
    check: impl Into<String>,
    detail: impl Into<String>,
    hint: &str,
) -> Finding {
    Finding {
        check: check.into(),
        result,
        detail: detail.into(),
        hint: Some(hint.to_string()),
    }
}

/// Run every check. `config` is the parse result of `path`.
pub fn examine(path: &Path, config: Result<Config, String>) -> Vec<Finding> {
    let config = match config {
        Ok(c) => c,
        Err(errors) => {
            return vec![problem(
                Verdict::Fail,
                "config",
                errors.lines().next().unwrap_or("invalid").to_string(),
                "fix the file; `hallq check-config --config PATH` lists every error",
            )]
        }
    };
    let mut out = vec![ok(
        "config",
        format!(
            "{}: hall {}, {} services, {} windows, {} devices",
            path.display(),
            config.hall.id,
            config.services.len(),
            config.windows.len(),
            config.devices.len()
        ),
    )];
    let daemon = daemon_status(&config);
    let (store_finding, last_event) = store(&config, daemon.as_ref().map(|s| &s.snapshot));
    out.push(store_finding);
    out.push(disk(&config));
    out.push(match &daemon {
        Some(status) => ok(
            "daemon",
            format!(
                "serving at {}; business day {}",
                config.socket_path().display(),
                status.snapshot.hall.business_day
            ),
        ),
        None => problem(
            Verdict::Warn,
            "daemon",
            format!("not answering at {}", config.socket_path().display()),
            "start it: `systemctl start hallq` (or `hallq run --config PATH` in a terminal); then `journalctl -u hallq -e`",
        ),
    });
    for device in &config.devices {
        out.push(device_check(device, daemon.as_ref().map(|s| &s.snapshot)));
    }
    if let Some(voice) = &config.voice {
        out.push(voice_check(
            voice,
            &config,
            daemon.as_ref().map(|s| &s.snapshot),
        ));
    }
    if let Some(mqtt) = &config.mqtt {
        out.push(tcp_probe(
            "broker",
            &format!("{}:{}", mqtt.host, mqtt.port),
            "is Mosquitto running and reachable? `systemctl status mosquitto`",
        ));
    }
    if let Some(upstream) = &config.upstream {
        out.push(sync_check(
            upstream,
            daemon.as_ref().and_then(|s| s.sync.as_ref()),
            &config.store_path(),
        ));
        out.push(match url_authority(&upstream.url) {
            Some(addr) => tcp_probe(
                "upstream",
                &addr,
                "check the network route and [upstream] url",
            ),
            None => problem(
                Verdict::Fail,
                "upstream",
                format!("cannot read host from {}", upstream.url),
                "fix [upstream] url",
            ),
        });
    }
    out.push(clock(last_event, &config.hall.timezone));
    out
}

/// The sync's backlog and credential, from the daemon's report or else the store itself.
fn sync_check(
    upstream: &crate::config::Upstream,
    report: Option<&crate::sync::SyncReport>,
    store_path: &Path,
) -> Finding {
    use crate::sync::report::human_age;
    let limit = i64::from(upstream.warn_backlog_minutes) * 60;
    if let Some(r) = report {
        if r.credential_problem {
            let cause = r.last_error.as_ref().map_or("", |e| e.cause.as_str());
            return problem(
                Verdict::Fail,
                "sync",
                format!("credential problem: {cause}"),
                "check [upstream] token_file (readable by hallq, the token the platform issued)",
            );
        }
    }
    let backlog = match report {
        Some(r) => Some((r.waiting, r.oldest_waiting_age_seconds, r.acked_through)),
        None => Store::open_read_only(store_path).ok().and_then(|s| {
            let (acked, _) = s.acked_through().ok()?;
            let b = s.backlog(acked).ok()?;
            let age = b
                .oldest_at
                .map(|t| jiff::Timestamp::now().as_second() - t.as_second());
            Some((b.waiting, age, acked))
        }),
    };
    let Some((waiting, age, acked)) = backlog else {
        return ok("sync", "no events recorded yet");
    };
    let failing = report
        .and_then(|r| r.last_error.as_ref())
        .map(|e| format!("; last error: {}", e.cause))
        .unwrap_or_default();
    let detail = format!(
        "acknowledged through event {acked}; {waiting} waiting{}{failing}",
        age.map(|a| format!(", oldest {} old", human_age(a)))
            .unwrap_or_default()
    );
    if age.is_some_and(|a| a > limit) {
        problem(
            Verdict::Warn,
            "sync",
            detail,
            "the platform has not taken events for longer than [upstream] warn_backlog_minutes: `hallq sync status`, `journalctl -u hallq -g upstream`",
        )
    } else {
        ok("sync", detail)
    }
}

fn store(config: &Config, daemon: Option<&HallSnapshot>) -> (Finding, Option<jiff::Timestamp>) {
    let path = config.store_path();
    if let Some(s) = daemon.filter(|s| s.store.state == StoreState::Fail) {
        let hint = "hallq writes to a file that is no longer at its path: do not stop it before \
                    saving what it holds (docs/install.md, Troubleshooting: store deleted or \
                    replaced)";
        return (
            problem(Verdict::Fail, "store", s.store.detail.clone(), hint),
            None,
        );
    }
    if let Err(e) = std::fs::File::open(&path) {
        if e.kind() == std::io::ErrorKind::PermissionDenied {
            return (unreadable_store(&path, daemon.is_some()), None);
        }
    }
    if !path.exists() {
        return (
            problem(
                Verdict::Warn,
                "store",
                format!("{} does not exist yet", path.display()),
                "it is created when hallq first starts",
            ),
            None,
        );
    }
    let hint =
        "restore the last backup (docs/install.md, Backups) or move the file aside to start empty";
    let store = match Store::open_read_only(&path) {
        Ok(s) => s,
        Err(e) => return (problem(Verdict::Fail, "store", e.to_string(), hint), None),
    };
    if let Err(e) = store.quick_check() {
        return (
            problem(
                Verdict::Fail,
                "store",
                format!("{}: {e}", path.display()),
                hint,
            ),
            None,
        );
    }
    match (store.event_stats(), store.last_event_at()) {
        (Ok((count, _)), Ok(last)) => (
            ok(
                "store",
                format!("{}: integrity ok, {count} events", path.display()),
            ),
            last,
        ),
        (Err(e), _) | (_, Err(e)) => (
            problem(
                Verdict::Fail,
                "store",
                format!("{}: {e}", path.display()),
                hint,
            ),
            None,
        ),
    }
}

/// The store is the service user's alone (0600 in a 0700 folder): another user's doctor
/// relies on the running daemon's own check.
fn unreadable_store(path: &Path, daemon_ok: bool) -> Finding {
    if daemon_ok {
        ok(
            "store",
            format!(
                "{}: the running daemon reports it intact (readable by the service user only)",
                path.display()
            ),
        )
    } else {
        problem(
            Verdict::Warn,
            "store",
            format!("{}: not readable by this user", path.display()),
            "the store is for the service user only; start hallq, or run `sudo -u hallq hallq \
             doctor` for a check of the file itself",
        )
    }
}

fn disk(config: &Config) -> Finding {
    let dir = &config.hall.data_dir;
    // Before the first start the folder may not exist yet: measure where it will be created.
    let probe = dir
        .ancestors()
        .find(|p| p.exists())
        .unwrap_or(Path::new("/"));
    let fail_below = u64::from(config.store.min_free_mb) * 1024 * 1024;
    match free_bytes(probe) {
        Ok(free) => {
            let detail = format!("{} free at {}", human_bytes(free), dir.display());
            if free < fail_below {
                problem(
                    Verdict::Fail,
                    "disk",
                    detail,
                    "free space now: below [store] min_free_mb hallq refuses to issue tickets",
                )
            } else if free < DISK_WARN_BYTES.max(fail_below.saturating_mul(5)) {
                problem(
                    Verdict::Warn,
                    "disk",
                    detail,
                    "free some space soon (old logs: `journalctl --vacuum-size=200M`)",
                )
            } else {
                ok("disk", detail)
            }
        }
        Err(e) => problem(
            Verdict::Fail,
            "disk",
            format!("{}: {e}", dir.display()),
            "check [hall] data_dir exists",
        ),
    }
}

fn daemon_status(config: &Config) -> Option<StatusView> {
    let request = Request::Query(Query::Status);
    let response = crate::cli::request(&config.socket_path(), &request).ok()?;
    if !response.ok {
        return None;
    }
    serde_json::from_value(Value::Object(response.data)).ok()
}

fn device_check(
    device: &Device,
    daemon: Option<&crate::runtime::snapshot::HallSnapshot>,
) -> Finding {
    let name = format!("device {}", device.id);
    let reach = reachable(device);
    if reach.result != Verdict::Ok {
        return Finding {
            check: name,
            ..reach
        };
    }
    let health = daemon.and_then(|s| s.devices.get(&device.id));
    let state = health.map(|h| h.health.state);
    let cause = health.and_then(|h| h.health.cause.as_deref()).unwrap_or("");
    let verdict = match state {
        Some(HealthState::Offline) => Verdict::Fail,
        Some(HealthState::Degraded) => Verdict::Warn,
        _ => {
            return Finding {
                check: name,
                ..reach
            }
        }
    };
    let detail = format!(
        "{}; hallq reports it {}: {cause}",
        reach.detail,
        state.map_or_else(|| "?".to_string(), |s| s.to_string())
    );
    problem(verdict, name, detail, cause_hint(cause))
}

/// `[voice]`: the build can play to the output, the clips load in one format, none the hall
/// needs is missing, and the running daemon does not report the output offline. Voice that is
/// off because it is optional and has no clips is OK, with a hint.
fn voice_check(voice: &Voice, config: &Config, daemon: Option<&HallSnapshot>) -> Finding {
    use hallq_drivers::voice::{OutputConfig, ALSA_SUPPORTED};
    let output = voice.output.describe();
    if matches!(voice.output, OutputConfig::Alsa { .. }) && !ALSA_SUPPORTED {
        return problem(
            Verdict::Fail,
            "voice",
            format!("output {output}, but this hallq was built without ALSA support"),
            "install a hallq built with `--features hallq-drivers/alsa` (docs/voice.md)",
        );
    }
    let (clips, missing) = match voice.load_clips(&config.windows, &config.services) {
        Err(e) => {
            let hint = "every clip must be 16-bit PCM in one rate and channel count (docs/voice.md, Recording)";
            return problem(Verdict::Fail, "voice", e.to_string(), hint);
        }
        Ok(VoiceClips::Off { reason }) => {
            // `optional = true` says the hall runs without voice when there are no clips: that
            // is a state, not a fault (the daemon logs one WARN line at start).
            let hint =
                "record the clips (docs/voice.md); for the demo hall run scripts/make-voice-clips";
            return problem(Verdict::Ok, "voice", reason, hint);
        }
        Ok(VoiceClips::Ready { clips, missing }) => (clips, missing),
    };
    let summary = format!(
        "{} clips ({}) in {}, output {output}",
        clips.len(),
        clips.format(),
        clips.dir().display()
    );
    let health = daemon.and_then(|s| s.devices.get(VOICE_DEVICE_ID));
    if health.map(|h| h.health.state) == Some(HealthState::Offline) {
        let cause = health.and_then(|h| h.health.cause.as_deref()).unwrap_or("");
        let detail = format!("{summary}; hallq reports the output offline: {cause}");
        let hint = "check the speaker's cable and `aplay -L`; `journalctl -u hallq DEVICE=voice`";
        return problem(Verdict::Fail, "voice", detail, hint);
    }
    let mut gaps: Vec<String> = missing
        .iter()
        .map(|m| format!("{} ({})", m.file, m.needed_for.join(", ")))
        .collect();
    gaps.extend(
        clips
            .ignored()
            .iter()
            .map(|f| format!("{f} ignored (not an ASCII clip name)")),
    );
    match gaps.is_empty() {
        true => ok("voice", summary),
        false => problem(
            Verdict::Warn,
            "voice",
            format!("{summary}; missing: {}", gaps.join(", ")),
            "record the missing clips (docs/voice.md); until then announcements leave them out",
        ),
    }
}

fn cause_hint(cause: &str) -> &'static str {
    match cause {
        "paper_out" => "load a new paper roll",
        "paper_near_end" => "have a paper roll ready",
        "cover_open" => "close the printer cover",
        "disconnected" | "offline" | "no_answer" => {
            "check power and cable; `journalctl -u hallq DEVICE=<id>`"
        }
        _ => "see `journalctl -u hallq DEVICE=<id>`",
    }
}

fn reachable(device: &Device) -> Finding {
    match &device.transport {
        Transport::Serial(SerialConfig { path, .. }) | Transport::Usblp(UsblpConfig { path }) => {
            let path = path.display();
            match std::fs::OpenOptions::new()
                .read(true)
                .write(true)
                .custom_flags_nonblocking()
                .open(path.to_string())
            {
                Ok(_) => ok("", format!("{path} opens")),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => problem(
                    Verdict::Fail,
                    "",
                    format!("{path} is missing"),
                    "check the cable and the udev rule (docs/install.md); `ls -l /dev/hallq-*`",
                ),
                Err(e) => problem(
                    Verdict::Fail,
                    "",
                    format!("{path}: {e}"),
                    "is hallq in the dialout group? (docs/install.md)",
                ),
            }
        }
        Transport::Tcp(tcp) => {
            let f = tcp_probe(
                "",
                &tcp.addr,
                "check the printer's power, cable and IP address",
            );
            Finding {
                check: String::new(),
                ..f
            }
        }
        Transport::Sim(dir) => {
            match std::fs::create_dir_all(dir).and_then(|_| tempfile_probe(dir)) {
                Ok(()) => ok("", format!("simulated in {}", dir.display())),
                Err(e) => problem(
                    Verdict::Fail,
                    "",
                    format!("{}: {e}", dir.display()),
                    "the sim folder must be writable",
                ),
            }
        }
        Transport::Mqtt => ok("", "over MQTT (see broker)"),
    }
}

fn tempfile_probe(dir: &Path) -> std::io::Result<()> {
    let probe = dir.join(".hallq-doctor");
    std::fs::write(&probe, b"")?;
    std::fs::remove_file(probe)
}

trait NonBlocking {
    fn custom_flags_nonblocking(&mut self) -> &mut Self;
}

impl NonBlocking for std::fs::OpenOptions {
    fn custom_flags_nonblocking(&mut self) -> &mut Self {
        use std::os::unix::fs::OpenOptionsExt;
        // Do not wait for a modem's carrier, and do not become its controlling terminal.
        self.custom_flags(libc::O_NONBLOCK | libc::O_NOCTTY)
    }
}

fn tcp_probe(check: &str, addr: &str, hint: &str) -> Finding {
    let addrs: Vec<_> = match addr.to_socket_addrs() {
        Ok(a) => a.collect(),
        Err(e) => return problem(Verdict::Fail, check, format!("{addr}: {e}"), hint),
    };
    let mut last = None;
    for a in addrs {
        match TcpStream::connect_timeout(&a, PROBE_TIMEOUT) {
            Ok(_) => return ok(check, format!("{addr} reachable")),
            Err(e) => last = Some(e),
        }
    }
    let why = last.map_or("no address".to_string(), |e| e.to_string());
    problem(Verdict::Fail, check, format!("{addr}: {why}"), hint)
}

/// `https://host:8443/api` -> `host:8443`; default ports 80/443.
fn url_authority(url: &str) -> Option<String> {
    let (scheme, rest) = url.split_once("://")?;
    let authority = rest.split(['/', '?', '#']).next()?.rsplit('@').next()?;
    if authority.is_empty() {
        return None;
    }
    let has_port = authority
        .rsplit_once(':')
        .is_some_and(|(_, p)| p.chars().all(|c| c.is_ascii_digit()) && !authority.ends_with(']'));
    if has_port {
        Some(authority.to_string())
    } else {
        Some(format!(
            "{authority}:{}",
            if scheme == "https" { 443 } else { 80 }
        ))
    }
}

fn clock(last_event: Option<jiff::Timestamp>, tz: &jiff::tz::TimeZone) -> Finding {
    let now = jiff::Timestamp::now();
    let year = jiff::tz::TimeZone::UTC.to_datetime(now).year();
    let hint = "set the clock and enable NTP: `timedatectl set-ntp true`";
    if !(2024..2100).contains(&year) {
        return problem(
            Verdict::Fail,
            "clock",
            format!("system time {now} is implausible"),
            hint,
        );
    }
    if let Some(last) = last_event {
        let behind = last.as_second() - now.as_second();
        if behind > 300 {
            return problem(
                Verdict::Fail,
                "clock",
                format!(
                    "system time {now} is {} min behind the store's last event {last}",
                    behind / 60
                ),
                hint,
            );
        }
    }
    let local = tz.to_datetime(now).strftime("%Y-%m-%d %H:%M:%S");
    ok("clock", format!("{local} hall time ({now})"))
}

/// The table for people.
pub fn render(findings: &[Finding]) -> String {
    let width = findings
        .iter()
        .map(|f| f.check.chars().count())
        .max()
        .unwrap_or(5)
        .max(5);
    let mut s = format!("{:<width$}  RESULT  DETAIL\n", "CHECK");
    for f in findings {
        s.push_str(&format!(
            "{:<width$}  {:<6}  {}\n",
            f.check,
            f.result.to_string(),
            f.detail
        ));
        if let Some(h) = &f.hint {
            s.push_str(&format!("{:<width$}          hint: {h}\n", ""));
        }
    }
    s
}

/// The worst verdict.
pub fn worst(findings: &[Finding]) -> Verdict {
    findings
        .iter()
        .map(|f| f.result)
        .max()
        .unwrap_or(Verdict::Ok)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn url_authority_defaults_ports() {
        assert_eq!(
            url_authority("https://platform.example/api").as_deref(),
            Some("platform.example:443")
        );
        assert_eq!(
            url_authority("http://127.0.0.1:8080/x").as_deref(),
            Some("127.0.0.1:8080")
        );
        assert_eq!(url_authority("nonsense"), None);
    }

    #[test]
    fn voice_is_checked_for_its_clips_and_what_the_hall_lacks() {
        use hallq_drivers::voice::wav::encode_wav;
        use hallq_drivers::voice::{Audio, Format};
        let dir = tempfile::tempdir().unwrap();
        let text = |output: &str| {
            format!(
                "[hall]\nid = \"t\"\nname = \"t\"\n\n[[services]]\ncode = \"A\"\nname = \"a\"\nminutes = 5\n\n\
                 [[windows]]\nnumber = 1\nserves = [[\"A\"]]\n\n[voice]\nclips_dir = \"clips\"\noptional = true\n\
                 output = {output}\n"
            )
        };
        let config = crate::config::parse(
            &text("{ type = \"sim\", dir = \"out\" }"),
            &dir.path().join("hall.toml"),
        )
        .unwrap();
        let check = || voice_check(config.voice.as_ref().unwrap(), &config, None);
        let f = check();
        assert_eq!(
            f.result,
            Verdict::Ok,
            "optional: off is a state, not a fault"
        );
        assert!(f
            .hint
            .as_deref()
            .unwrap()
            .contains("scripts/make-voice-clips"));
        assert!(
            f.detail.starts_with("voice is off: clip folder"),
            "{}",
            f.detail
        );

        let clips = dir.path().join("clips");
        std::fs::create_dir(&clips).unwrap();
        let write = |stem: &str, rate: u32| {
            let format = Format {
                channels: 1,
                sample_rate: rate,
            };
            let audio = Audio {
                format,
                samples: vec![5; 10],
            };
            std::fs::write(clips.join(format!("{stem}.wav")), encode_wav(&audio)).unwrap();
        };
        for stem in ["chime", "qing", "hao", "dao", "chuangkou", "banli", "a"] {
            write(stem, 16000);
        }
        for d in 0..9 {
            write(&d.to_string(), 16000);
        }
        let f = check();
        assert_eq!(f.result, Verdict::Warn);
        assert!(
            f.detail.ends_with("missing: 9.wav (ticket numbers)"),
            "{}",
            f.detail
        );
        write("9", 16000);
        let f = check();
        assert_eq!(f.result, Verdict::Ok, "{f:?}");
        assert!(f
            .detail
            .starts_with("17 clips (16-bit PCM, 16000 Hz, mono) in "));
        write("9", 8000);
        let f = check();
        assert_eq!(f.result, Verdict::Fail);
        assert!(
            f.detail.contains("9.wav is 16-bit PCM, 8000 Hz, mono"),
            "{}",
            f.detail
        );

        let alsa = crate::config::parse(
            &text("{ type = \"alsa\", device = \"default\" }"),
            &dir.path().join("hall.toml"),
        )
        .unwrap();
        let f = voice_check(alsa.voice.as_ref().unwrap(), &alsa, None);
        if !hallq_drivers::voice::ALSA_SUPPORTED {
            assert_eq!(f.result, Verdict::Fail);
            assert!(
                f.detail.contains("built without ALSA support"),
                "{}",
                f.detail
            );
        } else {
            assert_eq!(f.result, Verdict::Fail, "the clip in another format");
        }
    }

    #[test]
    fn the_worst_verdict_decides() {
        let f = vec![ok("a", "x"), problem(Verdict::Warn, "b", "y", "h")];
        assert_eq!(worst(&f), Verdict::Warn);
        assert!(render(&f).contains("hint: h"));
    }
}
