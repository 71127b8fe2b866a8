//! The web load test, a test binary of its own so that no other test of the suite runs beside
//! it: 200 hall TV pages at once (event streams, as the pages open them; not 200 browsers) keep
//! receiving every call of a very busy hall (4 calls a second), while issuing over the control
//! socket stays as fast as with no page open: the median issue round trip with the streams open
//! is at most 1.2 times the median without, both measured in this test, in alternating blocks
//! so that the machine's other work weighs on both alike. Issues are timed at a steady pace
//! that is not a multiple of the calls', so they meet the fan-out of a call at every phase, as
//! in a hall.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use hallq_tests::util::{Daemon, HallSpec};
use serde_json::Value;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpStream, UnixStream};

const PAGES: usize = 200;
/// Pairs of blocks: one without pages, then one with.
const BLOCKS: usize = 12;
/// Issues timed per block.
const ISSUES: usize = 15;
/// A pause between issues (not a multiple of the call period, so issues fall at every phase).
const ISSUE_EVERY: Duration = Duration::from_millis(37);
/// A call every this long: 4 a second, a very busy hall.
const CALL_EVERY: Duration = Duration::from_millis(250);

/// One request line over a kept-open control socket connection; its answer.
struct Socket {
    reader: BufReader<UnixStream>,
}

impl Socket {
    async fn open(d: &Daemon) -> Socket {
        let stream = UnixStream::connect(d.socket()).await.unwrap();
        Socket {
            reader: BufReader::new(stream),
        }
    }

    async fn ask(&mut self, line: &str) -> Value {
        self.reader
            .get_mut()
            .write_all(format!("{line}\n").as_bytes())
            .await
            .unwrap();
        let mut answer = String::new();
        self.reader.read_line(&mut answer).await.unwrap();
        let answer: Value = serde_json::from_str(&answer).unwrap();
        assert_eq!(answer["ok"], true, "{line}: {answer}");
        answer
    }
}

/// A TV page's stream: the newest call serial it has received, and how many calls.
#[derive(Default)]
struct Seen {
    serial: AtomicU64,
    calls: AtomicU64,
}

async fn tv_page(addr: String, seen: Arc<Seen>, open: tokio::sync::mpsc::Sender<()>) {
    let mut stream = TcpStream::connect(&addr).await.unwrap();
    let request =
        format!("GET /api/events HTTP/1.1\r\nHost: {addr}\r\nAccept: text/event-stream\r\n\r\n");
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut reader = BufReader::new(stream);
    let mut line = String::new();
    reader.read_line(&mut line).await.unwrap();
    assert!(line.contains(" 200 "), "stream refused: {line}");
    let (mut call_next, mut first) = (false, true);
    loop {
        line.clear();
        if reader.read_line(&mut line).await.unwrap_or(0) == 0 {
            return;
        }
        if line.starts_with("event: hall") && std::mem::take(&mut first) {
            let _ = open.send(()).await;
        }
        if line.starts_with("event: call") {
            call_next = true;
        } else if let Some(data) = line.strip_prefix("data: ").filter(|_| call_next) {
            call_next = false;
            seen.serial.store(serial_of(data), Ordering::SeqCst);
            seen.calls.fetch_add(1, Ordering::SeqCst);
        }
    }
}

/// The `serial` of a call's JSON, read without parsing the rest (200 pages share two cores
/// with the daemon: the test's own readers must stay light).
fn serial_of(data: &str) -> u64 {
    let digits = data
        .split("\"serial\":")
        .nth(1)
        .expect("a call has a serial");
    let digits: String = digits.chars().take_while(char::is_ascii_digit).collect();
    digits.parse().unwrap()
}

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

/// A busy hall's calling: a call (and the finish of the ticket before) every [`CALL_EVERY`] at
/// window 4, until `stop`; the serial of the last call made.
async fn calling(mut socket: Socket, stop: Arc<std::sync::atomic::AtomicBool>) -> (Socket, u64) {
    let mut last = 0;
    let mut tick = tokio::time::interval(CALL_EVERY);
    while !stop.load(Ordering::SeqCst) {
        tick.tick().await;
        socket.ask(r#"{"cmd":"call","window":4}"#).await;
        last += 1;
        socket.ask(r#"{"cmd":"finish","window":4}"#).await;
    }
    (socket, last)
}

/// `(utime, stime)` in clock ticks of a thread of `pid` named `name`, for the report.
fn cpu_of(pid: u32, name: &str) -> Option<(u64, u64)> {
    for task in std::fs::read_dir(format!("/proc/{pid}/task")).ok()? {
        let task = task.ok()?.path();
        if std::fs::read_to_string(task.join("comm")).ok()?.trim() != name {
            continue;
        }
        let stat = std::fs::read_to_string(task.join("stat")).ok()?;
        let f: Vec<&str> = stat.rsplit(')').next()?.split_whitespace().collect();
        return Some((f[11].parse().ok()?, f[12].parse().ok()?));
    }
    None
}

#[test]
fn two_hundred_tv_pages_keep_receiving_calls_and_issuing_stays_as_fast() {
    let limits =
        "rate_per_second = 1000\nburst = 1000\nmax_streams = 300\nstreams_per_address = 300";
    let spec = HallSpec {
        extra: format!("[http]\nlisten = \"127.0.0.1:0\"\n{limits}\n"),
        ..HallSpec::default()
    };
    let d = Daemon::start_new(&spec);
    d.ok(&["login", "4", "clerk-04"]);
    let addr = d.http_base().trim_start_matches("http://").to_string();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    // The TVs are other machines in a hall; here they share the box with the daemon, so their
    // readers run at the lowest priority, as a stand-in for "elsewhere".
    let tvs = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .on_thread_start(|| {
            let param = libc::sched_param { sched_priority: 0 };
            // SAFETY: plain integers and a pointer to a local; 0 names the calling thread.
            unsafe { libc::sched_setscheduler(0, libc::SCHED_IDLE, &param) };
        })
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let mut socket = Socket::open(&d).await;
        let mut caller = Some(Socket::open(&d).await);
        let issue = r#"{"cmd":"issue","service":"A"}"#;
        // Warm up: the store's pages, the hall thread, the connections; tickets to call.
        for _ in 0..10 {
            socket.ask(issue).await;
        }
        // Per pair of neighbouring blocks: (median without pages, median with them).
        let mut pairs: Vec<(Duration, Duration)> = Vec::new();
        let mut block_samples = Vec::new();
        let mut serial = 0u64;
        let mut calls_seen = 0u64;
        for block in 0..BLOCKS * 2 {
            let with_pages = block % 2 == 1;
            let mut pages = Vec::new();
            let mut seen = Vec::new();
            if with_pages {
                let (open_tx, mut open_rx) = tokio::sync::mpsc::channel(PAGES);
                for _ in 0..PAGES {
                    let s = Arc::new(Seen::default());
                    seen.push(s.clone());
                    pages.push(tvs.spawn(tv_page(addr.clone(), s, open_tx.clone())));
                }
                for _ in 0..PAGES {
                    tokio::time::timeout(Duration::from_secs(30), open_rx.recv())
                        .await
                        .expect("every page gets the hall");
                }
            }
            let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
            let calls = tokio::spawn(calling(caller.take().unwrap(), stop.clone()));
            for _ in 0..ISSUES {
                let start = Instant::now();
                socket.ask(issue).await;
                let took = start.elapsed();
                block_samples.push(took);
                tokio::time::sleep(ISSUE_EVERY).await;
            }
            stop.store(true, Ordering::SeqCst);
            let (socket_back, made) = calls.await.unwrap();
            caller = Some(socket_back);
            serial += made;
            if with_pages {
                let deadline = Instant::now() + Duration::from_secs(10);
                while seen
                    .iter()
                    .any(|s| s.serial.load(Ordering::SeqCst) < serial)
                {
                    assert!(Instant::now() < deadline, "a TV page missed call {serial}");
                    tokio::time::sleep(Duration::from_millis(5)).await;
                }
                for s in &seen {
                    assert_eq!(s.calls.load(Ordering::SeqCst), made, "every call, once");
                }
                calls_seen += made;
            }
            for page in pages {
                page.abort();
            }
            let block_median = median(std::mem::take(&mut block_samples));
            match with_pages {
                false => pairs.push((block_median, Duration::ZERO)),
                true => pairs.last_mut().unwrap().1 = block_median,
            }
        }
        let web = cpu_of(d.pid().unwrap(), "web").unwrap_or_default();
        // Each pair ran back to back, so the machine's other work weighed on both alike; the
        // median over the pairs leaves out a pair that it did not.
        let mut ratios: Vec<f64> = pairs
            .iter()
            .map(|(idle, loaded)| loaded.as_secs_f64() / idle.as_secs_f64())
            .collect();
        ratios.sort_by(f64::total_cmp);
        let ratio = ratios[ratios.len() / 2];
        println!(
            "{PAGES} TV streams each received {calls_seen} calls (one every {CALL_EVERY:?}); \
             issue over the socket, median per block of {ISSUES} (without, with the streams): \
             {pairs:?}; ratios {ratios:.2?}, median {ratio:.2}; web thread CPU {} user + {} \
             system ticks",
            web.0, web.1
        );
        assert!(
            ratio <= 1.2,
            "issuing slowed down by {ratio:.2}x with {PAGES} TV pages open"
        );
    });
}
