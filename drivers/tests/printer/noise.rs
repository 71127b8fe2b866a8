//! A printer that chatters: unsolicited bytes (automatic status back, XON/XOFF, line noise)
//! between requests are counted and summarised in the journal, never one line per byte.

use std::io;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use hallq_drivers::escpos::decode::{Decoded, Item, StreamDecoder};
use hallq_drivers::escpos::status::answer;
use hallq_drivers::{HealthState, PrinterStatus};
use tokio::io::{AsyncReadExt, AsyncWriteExt, DuplexStream};
use tokio::sync::mpsc;

use crate::task::{config, start, ticket, wait_health};

/// The journal as the test sees it.
#[derive(Clone, Default)]
struct Journal(Arc<Mutex<Vec<u8>>>);

impl io::Write for Journal {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl Journal {
    fn lines_with(&self, needle: &str) -> Vec<String> {
        String::from_utf8_lossy(&self.0.lock().unwrap())
            .lines()
            .filter(|l| l.contains(needle))
            .map(str::to_string)
            .collect()
    }
}

/// A printer that answers status requests, swallows tickets, and on request sends `n` bytes
/// nobody asked for.
async fn chatty_printer(mut far: DuplexStream, mut bursts: mpsc::UnboundedReceiver<usize>) {
    let mut decoder = StreamDecoder::new();
    let mut buf = [0u8; 1024];
    loop {
        tokio::select! {
            n = far.read(&mut buf) => {
                let Ok(n @ 1..) = n else { return };
                decoder.feed(&buf[..n]);
                while let Some(Ok(Decoded { item, .. })) = decoder.next_item() {
                    if let Item::StatusRequest(request) = item {
                        let byte = answer(request, &PrinterStatus::READY).unwrap();
                        far.write_all(&[byte]).await.unwrap();
                    }
                }
            }
            Some(n) = bursts.recv() => {
                // XOFF/XON and automatic-status-back bytes, as a misconfigured printer sends.
                let junk: Vec<u8> = (0..n).map(|i| [0x13, 0x11, 0x14][i % 3]).collect();
                far.write_all(&junk).await.unwrap();
            }
        }
    }
}

/// Reproduces the journal flood: before, every unsolicited byte was its own WARN line
/// (`printer sent an unexpected byte; dropped`), so a chattering printer wrote thousands of
/// lines a minute. Now the first byte gives one line and the rest one summary per minute.
#[tokio::test(start_paused = true)]
async fn unsolicited_bytes_are_summarised_not_logged_one_by_one() {
    let journal = Journal::default();
    let writer = journal.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_writer(move || writer.clone())
        .with_ansi(false)
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    // No periodic polls: the chatter must not land between a status request and its answer
    // (a real printer's automatic status back would; that is a garbage answer, tested apart).
    let mut cfg = config();
    cfg.poll_interval = Duration::from_secs(3600);
    let (printer, plug, _join) = start(cfg);
    let (near, far) = tokio::io::duplex(1 << 16);
    let (bursts, rx) = mpsc::unbounded_channel();
    tokio::spawn(chatty_printer(far, rx));
    plug.plug_link(near);
    wait_health(&mut printer.health(), HealthState::Online, None).await;

    // 30 s of chatter: 100 bytes every 100 ms.
    for _ in 0..300 {
        bursts.send(100).unwrap();
        tokio::time::advance(Duration::from_millis(100)).await;
    }
    tokio::time::advance(Duration::from_secs(1)).await;
    printer
        .print(ticket("A001"))
        .await
        .expect("the link survives the chatter");
    let lines = journal.lines_with("unexpected byte");
    assert_eq!(
        lines.len(),
        1,
        "30 000 bytes in 30 s: one line, not one per byte: {lines:#?}"
    );
    assert!(lines[0].contains("count=1"), "{}", lines[0]);

    // A quiet minute later, the next request reports the rest in one line.
    tokio::time::advance(Duration::from_secs(70)).await;
    printer.status().await.unwrap();
    tokio::time::advance(Duration::from_secs(70)).await;
    printer.status().await.unwrap();
    let lines = journal.lines_with("unexpected byte");
    assert_eq!(lines.len(), 2, "{lines:#?}");
    assert!(
        lines[1].contains("count=29999") && lines[1].contains("total=30000"),
        "{}",
        lines[1]
    );
}
