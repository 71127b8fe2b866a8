//! `hallq`: parse arguments, set up logging and signals, then either run the daemon or send one
//! command to it. Everything else lives in the library.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::Parser;
use tokio_util::sync::CancellationToken;

use hallq::catalogue::{Lang, Words};
use hallq::cli::{self, exit, Cli, Sub};
use hallq::command::{Query, Request};
use hallq::config::{self, Config};
use hallq::control::protocol::ErrorBody;
use hallq::runtime::{self, RunOptions};

/// Where the config lives when neither --config nor --socket is given.
const DEFAULT_CONFIG: &str = "/etc/hallq/hallq.toml";

fn main() -> ExitCode {
    let wants_json = std::env::args().any(|a| a == "--json");
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let code = e.exit_code();
            if code == 0 {
                let _ = e.print(); // --help, --version
                return ExitCode::SUCCESS;
            }
            // clap repeats a rejected value; people type phone and ID numbers into wrong fields.
            let message = hallq::privacy::scrub(&e.render().to_string());
            if wants_json {
                let first = message
                    .lines()
                    .next()
                    .unwrap_or("usage error")
                    .trim_start_matches("error: ");
                println!(
                    "{}",
                    serde_json::json!({"error": {"code": "usage", "message": first}})
                );
            }
            eprint!("{message}");
            return ExitCode::from(code as u8);
        }
    };
    if !matches!(cli.command, Sub::Run { .. }) {
        quiet_on_closed_pipe();
    }
    ExitCode::from(match &cli.command {
        Sub::Run { new_store } => run_daemon(&cli, *new_store),
        Sub::CheckConfig => check_config(&cli),
        Sub::Doctor => doctor(&cli),
        Sub::Simulate(args) => hallq::simulate::command(&config_path(&cli), args, cli.json),
        Sub::Report(args) => report(&cli, args),
        _ => client(&cli),
    } as u8)
}

/// `hallq status | head -1`: when the reader goes away, end quietly like other Unix tools
/// (killed by SIGPIPE) instead of panicking in `println!`. Not for the daemon, whose writes to
/// sockets report EPIPE as an error instead.
fn quiet_on_closed_pipe() {
    // SAFETY: restoring the default disposition of SIGPIPE before any thread is started.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
}

fn config_path(cli: &Cli) -> PathBuf {
    cli.config
        .clone()
        .unwrap_or_else(|| PathBuf::from(DEFAULT_CONFIG))
}

/// The language of the CLI's own words: `--lang`, else the config's, else Chinese.
fn lang(cli: &Cli, config: Option<&Config>) -> Lang {
    cli.lang
        .or(config.map(|c| c.hall.language))
        .unwrap_or_default()
}

fn load_config(path: &Path) -> Result<Config, i32> {
    config::load(path).map_err(|errors| {
        eprintln!("{errors}");
        exit::USAGE
    })
}

fn doctor(cli: &Cli) -> i32 {
    let path = config_path(cli);
    let loaded = config::load(&path);
    let lang = lang(cli, loaded.as_ref().ok());
    let findings = hallq::doctor::examine(&path, loaded.map_err(|e| e.to_string()));
    let worst = hallq::doctor::worst(&findings);
    if cli.json {
        let checks: Vec<_> = findings.iter().map(|f| f.worded(lang)).collect();
        let ok = worst != hallq::doctor::Verdict::Fail;
        println!("{}", serde_json::json!({"ok": ok, "checks": checks}));
    } else {
        print!("{}", hallq::doctor::render(&findings, lang));
    }
    match worst {
        hallq::doctor::Verdict::Fail => exit::REFUSED,
        _ => exit::OK,
    }
}

/// `hallq report`: read from the store named by the config, not through the socket.
fn report(cli: &Cli, args: &hallq::report::cli::ReportArgs) -> i32 {
    if cli.socket.is_some() {
        let message = hallq::catalogue::cli::report_needs_config(lang(cli, None));
        cli::print_failure("usage", &message, cli.json);
        return exit::USAGE;
    }
    let config = match load_config(&config_path(cli)) {
        Ok(c) => c,
        Err(code) => return code,
    };
    init_logging(
        config.logging.filter.as_deref(),
        config.hall.timezone.clone(),
    );
    hallq::cli::report::run(&config, args, cli.json, jiff::Timestamp::now())
}

fn check_config(cli: &Cli) -> i32 {
    let path = config_path(cli);
    match config::load(&path) {
        Ok(c) => {
            if let Some(code) = check_voice_clips(&c) {
                return code;
            }
            if cli.json {
                let ok = serde_json::json!({
                    "ok": true, "file": path, "hall": c.hall.id, "name": c.hall.name,
                    "services": c.services.len(), "windows": c.windows.len(),
                    "devices": c.devices.len(),
                });
                println!("{ok}");
            } else {
                let line = hallq::catalogue::cli::config_ok(
                    &path,
                    &c.hall.id,
                    &c.hall.name,
                    c.services.len(),
                    c.windows.len(),
                    c.devices.len(),
                    lang(cli, Some(&c)),
                );
                println!("{line}");
            }
            exit::OK
        }
        Err(errors) => {
            if cli.json {
                let list: Vec<_> = errors
                    .0
                    .iter()
                    .map(|e| {
                        serde_json::json!({
                            "file": e.file, "line": e.line, "col": e.col,
                            "message": e.message, "text": e.to_string(),
                        })
                    })
                    .collect();
                println!("{}", serde_json::json!({"ok": false, "errors": list}));
            }
            eprintln!("{errors}");
            exit::USAGE
        }
    }
}

/// The `[voice]` clip check: a clip set that cannot be used is an error (exit 2); voice turned
/// off (optional) and missing clips are warnings on stderr.
fn check_voice_clips(c: &Config) -> Option<i32> {
    let voice = c.voice.as_ref()?;
    match voice.load_clips(&c.windows, &c.services) {
        Err(e) => {
            eprintln!("{e}");
            Some(exit::USAGE)
        }
        Ok(config::VoiceClips::Off { reason }) => {
            eprintln!("warning: {reason}");
            None
        }
        Ok(config::VoiceClips::Ready { missing, .. }) => {
            for line in config::voice_missing_lines(&missing) {
                eprintln!("warning: {line}");
            }
            None
        }
    }
}

/// Journald when systemd connected our stderr to the journal, else human-readable stderr with
/// timestamps in the hall's local time and its UTC offset. `RUST_LOG` wins over the config's
/// `[logging] filter`.
fn init_logging(filter: Option<&str>, timezone: jiff::tz::TimeZone) {
    use std::io::IsTerminal;
    use tracing_subscriber::layer::SubscriberExt;
    use tracing_subscriber::util::SubscriberInitExt;

    let filter = std::env::var("RUST_LOG")
        .ok()
        .or_else(|| filter.map(str::to_string))
        .unwrap_or_else(|| "info".to_string());
    let filter = tracing_subscriber::EnvFilter::try_new(&filter).unwrap_or_else(|e| {
        eprintln!("hallq: log filter {filter:?} is invalid ({e}); using \"info\"");
        tracing_subscriber::EnvFilter::new("info")
    });
    let registry = tracing_subscriber::registry().with(filter);
    if std::env::var_os("JOURNAL_STREAM").is_some() {
        match tracing_journald::layer() {
            Ok(journald) => {
                registry
                    .with(
                        journald
                            .with_syslog_identifier("hallq".into())
                            .with_field_prefix(None),
                    )
                    .init();
                return;
            }
            Err(e) => eprintln!("hallq: journald unavailable ({e}); logging to stderr"),
        }
    }
    let stderr = tracing_subscriber::fmt::layer()
        .with_ansi(std::io::stderr().is_terminal())
        .with_timer(HallTime(timezone))
        .with_writer(std::io::stderr);
    registry.with(stderr).init();
}

/// Log timestamps in the hall's zone with the offset: `2026-11-26T09:41:07.123+08:00`.
struct HallTime(jiff::tz::TimeZone);

impl tracing_subscriber::fmt::time::FormatTime for HallTime {
    fn format_time(&self, w: &mut tracing_subscriber::fmt::format::Writer<'_>) -> std::fmt::Result {
        let now = jiff::Timestamp::now();
        let local = self.0.to_datetime(now);
        let offset = self.0.to_offset(now).seconds();
        let sign = if offset < 0 { '-' } else { '+' };
        let (h, m) = (offset.abs() / 3600, offset.abs() % 3600 / 60);
        let time = local.strftime("%Y-%m-%dT%H:%M:%S%.3f");
        write!(w, "{time}{sign}{h:02}:{m:02}")
    }
}

fn run_daemon(cli: &Cli, new_store: bool) -> i32 {
    // Everything the daemon creates (the store, its WAL, state.json before its chmod) is for
    // the service user only, whatever umask it was started with.
    // SAFETY: umask(2) cannot fail and touches no memory.
    unsafe { libc::umask(0o077) };
    let path = config_path(cli);
    let config = match load_config(&path) {
        Ok(c) => c,
        Err(code) => return code,
    };
    init_logging(
        config.logging.filter.as_deref(),
        config.hall.timezone.clone(),
    );
    abort_on_panic();
    // At most 64 blocking threads (file writes of simulated devices): within the unit's
    // TasksMax=, so a burst never makes the runtime fail to start a thread.
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .max_blocking_threads(64)
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("hallq: cannot start the async runtime: {e}");
            return exit::REFUSED;
        }
    };
    let shutdown = CancellationToken::new();
    let options = RunOptions {
        new_store,
        ..RunOptions::default()
    };
    rt.block_on(async {
        let (stop, reload) = (shutdown.clone(), options.reload.clone());
        tokio::spawn(async move { handle_signals(stop, reload).await });
        match runtime::run(config, options, shutdown).await {
            Ok(()) => exit::OK,
            Err(e) => {
                tracing::error!("cannot run: {e}");
                exit::REFUSED
            }
        }
    })
}

/// A panic anywhere in the daemon (the hall thread, a device task) is a bug that leaves it in
/// an unknown state: log it and abort, so the process exits non-zero and systemd restarts it,
/// instead of a daemon that answers "shutting down" forever. Release builds also set
/// `panic = "abort"`; this hook covers debug builds and logs the panic to the journal first.
fn abort_on_panic() {
    std::panic::set_hook(Box::new(|info| {
        let thread = std::thread::current();
        let thread = thread.name().unwrap_or("unnamed");
        let location = info
            .location()
            .map_or_else(String::new, |l| format!("{}:{}", l.file(), l.line()));
        let message = info
            .payload()
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| info.payload().downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "(no message)".to_string());
        // Personal data has no business in a panic message, but mask digit runs in case.
        let message = hallq::privacy::mask_digit_runs(&message);
        tracing::error!(
            thread,
            location,
            cause = "panic",
            "panic: {message}; aborting so that systemd restarts hallq"
        );
        eprintln!("hallq: thread '{thread}' panicked at {location}: {message}; aborting");
        std::process::abort();
    }));
}

/// SIGTERM/SIGINT stop the daemon; SIGHUP asks it to reload its config.
async fn handle_signals(stop: CancellationToken, reload: std::sync::Arc<tokio::sync::Notify>) {
    use tokio::signal::unix::{signal, SignalKind};
    let mut term = signal(SignalKind::terminate()).expect("SIGTERM handler installs");
    let mut int = signal(SignalKind::interrupt()).expect("SIGINT handler installs");
    let mut hup = signal(SignalKind::hangup()).expect("SIGHUP handler installs");
    loop {
        tokio::select! {
            _ = term.recv() => { tracing::info!("SIGTERM received"); break; }
            _ = int.recv() => { tracing::info!("SIGINT received"); break; }
            _ = hup.recv() => { tracing::info!("SIGHUP received: reloading the config"); reload.notify_one(); }
        }
    }
    stop.cancel();
}

fn client(cli: &Cli) -> i32 {
    let mut request = match &cli.command {
        Sub::Clerk { what } => match what.request(cli::clerk::read_pin) {
            Ok(request) => request,
            Err(message) => {
                cli::print_failure("usage", &message, cli.json);
                return exit::USAGE;
            }
        },
        other => other
            .request()
            .expect("run, check-config and doctor are handled before"),
    };
    // The daemon runs elsewhere (another working folder): it needs an absolute path.
    if let Request::Query(Query::Backup { path }) = &mut request {
        if let Ok(absolute) = std::path::absolute(&*path) {
            *path = absolute;
        }
    }
    let (socket, local_lang) = match &cli.socket {
        Some(s) => (s.clone(), lang(cli, None)),
        None => {
            let path = config_path(cli);
            let loaded = config::load(&path);
            let local_lang = lang(cli, loaded.as_ref().ok());
            match cli::socket::for_config(&path, loaded.as_ref()) {
                Ok((socket, source)) => {
                    if let cli::socket::Source::StateFile { state, errors } = &source {
                        let note = hallq::catalogue::cli::socket_from_state(
                            &path, *errors, &socket, state, local_lang,
                        );
                        eprintln!("hallq: {note}");
                    }
                    (socket, local_lang)
                }
                Err(errors) => {
                    eprintln!("{errors}");
                    return exit::USAGE;
                }
            }
        }
    };
    match cli::request_in(&socket, &request, cli.lang) {
        Ok(response) if response.ok => {
            let lang = response.lang.unwrap_or(local_lang);
            cli::print_response(&request, &response, cli.json, lang);
            exit::OK
        }
        Ok(response) => {
            let lang = response.lang.unwrap_or(local_lang);
            let error = response.error.unwrap_or_else(|| ErrorBody {
                code: "unknown".into(),
                refusal: None,
                message: hallq::catalogue::cli::refused_without_reason(lang),
            });
            cli::print_error(&error, cli.json);
            exit::REFUSED
        }
        Err(e) => {
            let error = ErrorBody {
                code: "unavailable".into(),
                refusal: None,
                message: e.words(local_lang),
            };
            cli::print_error(&error, cli.json);
            exit::REFUSED
        }
    }
}
