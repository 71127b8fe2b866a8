//! `hallq`: parse arguments, set up logging and signals, then either run the daemon or send one
//! command to it. Everything else lives in the library.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::Parser;
use tokio_util::sync::CancellationToken;

use hallq::cli::{self, exit, Cli, Sub};
use hallq::config::{self, Config};
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
    ExitCode::from(match &cli.command {
        Sub::Run { new_store } => run_daemon(&cli, *new_store),
        Sub::CheckConfig => check_config(&cli),
        Sub::Doctor => doctor(&cli),
        Sub::Simulate(args) => hallq::simulate::command(&config_path(&cli), args, cli.json),
        Sub::Report(args) => report(&cli, args),
        _ => client(&cli),
    } as u8)
}

fn config_path(cli: &Cli) -> PathBuf {
    cli.config
        .clone()
        .unwrap_or_else(|| PathBuf::from(DEFAULT_CONFIG))
}

fn load_config(path: &Path) -> Result<Config, i32> {
    config::load(path).map_err(|errors| {
        eprintln!("{errors}");
        exit::USAGE
    })
}

fn doctor(cli: &Cli) -> i32 {
    let path = config_path(cli);
    let findings = hallq::doctor::examine(&path, config::load(&path).map_err(|e| e.to_string()));
    if cli.json {
        let ok = hallq::doctor::worst(&findings) != hallq::doctor::Verdict::Fail;
        println!("{}", serde_json::json!({"ok": ok, "checks": findings}));
    } else {
        print!("{}", hallq::doctor::render(&findings));
    }
    match hallq::doctor::worst(&findings) {
        hallq::doctor::Verdict::Fail => exit::REFUSED,
        _ => exit::OK,
    }
}

/// `hallq report`: read from the store named by the config, not through the socket.
fn report(cli: &Cli, args: &hallq::report::cli::ReportArgs) -> i32 {
    if cli.socket.is_some() {
        let message = "report reads the store: give --config, not --socket";
        cli::print_error("usage", message, cli.json);
        return exit::USAGE;
    }
    let config = match load_config(&config_path(cli)) {
        Ok(c) => c,
        Err(code) => return code,
    };
    init_logging(config.logging.filter.as_deref());
    hallq::cli::report::run(&config, args, cli.json, jiff::Timestamp::now())
}

fn check_config(cli: &Cli) -> i32 {
    let path = config_path(cli);
    match load_config(&path) {
        Ok(c) => {
            if let Some(code) = check_voice_clips(&c) {
                return code;
            }
            println!(
                "{}: ok: hall {} ({}), {} services, {} windows, {} devices",
                path.display(),
                c.hall.id,
                c.hall.name,
                c.services.len(),
                c.windows.len(),
                c.devices.len()
            );
            exit::OK
        }
        Err(code) => code,
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

/// Journald when systemd connected our stderr to the journal, else human-readable stderr.
/// `RUST_LOG` wins over the config's `[logging] filter`.
fn init_logging(filter: Option<&str>) {
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
        .with_writer(std::io::stderr);
    registry.with(stderr).init();
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
    init_logging(config.logging.filter.as_deref());
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
    let request = match &cli.command {
        Sub::Clerk { what } => match what.request(cli::clerk::read_pin) {
            Ok(request) => request,
            Err(message) => {
                cli::print_error("usage", &message, cli.json);
                return exit::USAGE;
            }
        },
        other => other
            .request()
            .expect("run, check-config and doctor are handled before"),
    };
    let socket = match &cli.socket {
        Some(s) => s.clone(),
        None => match load_config(&config_path(cli)) {
            Ok(c) => c.socket_path(),
            Err(code) => return code,
        },
    };
    match cli::request(&socket, &request) {
        Ok(response) if response.ok => {
            cli::print_response(&request, &response, cli.json);
            exit::OK
        }
        Ok(response) => {
            let error = response
                .error
                .unwrap_or_else(|| hallq::control::protocol::ErrorBody {
                    code: "unknown".into(),
                    message: "the daemon refused without saying why".into(),
                });
            cli::print_error(&error.code, &error.message, cli.json);
            exit::REFUSED
        }
        Err(e) => {
            cli::print_error("unavailable", &e.to_string(), cli.json);
            exit::REFUSED
        }
    }
}
