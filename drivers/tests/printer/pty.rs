//! The printer task over a pty pair (`tokio_serial::SerialStream::pair`), real time: the
//! same code path as a serial printer, including an unplug (the far end closes).

use std::io;
use std::sync::Arc;
use std::time::Duration;

use hallq_drivers::{encode_ticket, spawn_printer, HealthState, PrintError, Profile};
use tokio::sync::mpsc;
use tokio::time::{timeout, Instant};
use tokio_serial::SerialStream;

use crate::fake::FakePrinter;
use crate::task::{config, ticket, wait_health};

/// Guard against a hang; the test waits for signals, never for time to pass.
const GUARD: Duration = Duration::from_secs(20);

#[tokio::test]
async fn prints_over_a_pty_and_comes_back_after_unplug() {
    let (links, rx) = mpsc::unbounded_channel::<SerialStream>();
    let rx = Arc::new(std::sync::Mutex::new(rx));
    let connect = move || {
        let link = rx.lock().unwrap().try_recv();
        async move { link.map_err(|_| io::Error::new(io::ErrorKind::NotFound, "no pty")) }
    };
    let mut cfg = config();
    cfg.profile = Profile::MM58;
    cfg.backoff_min = Duration::from_millis(20);
    cfg.backoff_max = Duration::from_millis(500);
    cfg.baud = Some(115_200);
    let (printer, _join) = spawn_printer(cfg, connect);
    let (fake, mut tickets) = FakePrinter::new();
    let mut health = printer.health();

    let (host_end, printer_end) = SerialStream::pair().unwrap();
    links.send(host_end).unwrap();
    let first = fake.attach(printer_end);
    timeout(GUARD, wait_health(&mut health, HealthState::Online, None))
        .await
        .unwrap();
    printer.print(ticket("C007")).await.unwrap();
    let got = timeout(GUARD, tickets.recv()).await.unwrap().unwrap();
    assert_eq!(got, encode_ticket(&ticket("C007"), &Profile::MM58));

    first.abort(); // the printer end of the pty closes
    timeout(
        GUARD,
        wait_health(&mut health, HealthState::Offline, Some("disconnected")),
    )
    .await
    .unwrap();
    assert!(matches!(
        printer.print(ticket("C008")).await,
        Err(PrintError::Link(_))
    ));

    let (host_end, printer_end) = SerialStream::pair().unwrap();
    let back = Instant::now();
    links.send(host_end).unwrap();
    fake.attach(printer_end);
    timeout(GUARD, wait_health(&mut health, HealthState::Online, None))
        .await
        .unwrap();
    assert!(
        back.elapsed() < Duration::from_secs(5),
        "resumed after {:?}",
        back.elapsed()
    );
    printer.print(ticket("C009")).await.unwrap();
    let got = timeout(GUARD, tickets.recv()).await.unwrap().unwrap();
    assert_eq!(got, encode_ticket(&ticket("C009"), &Profile::MM58));
    assert!(
        tickets.try_recv().is_err(),
        "C008 never printed, nothing twice"
    );
}
