//! The printer task over `tokio::io::duplex` with paused time: status cache, refusals,
//! disconnect and reconnect.

use std::io;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use hallq_drivers::{
    encode_ticket, spawn_printer, Health, HealthState, LinkError, PaperLevel, PrintError,
    PrinterConfig, PrinterHandle, PrinterStatus, Profile, Refusal, TicketClass, TicketPrint,
};
use tokio::io::DuplexStream;
use tokio::sync::{mpsc, watch};
use tokio::time::Instant;

use crate::fake::FakePrinter;

pub fn ticket(number: &str) -> TicketPrint {
    TicketPrint {
        hall_name: "乌审旗政务服务中心".into(),
        service_name: "综合受理".into(),
        number: number.into(),
        class: TicketClass::Normal,
        slot: None,
        ahead: 2,
        wait_minutes: Some(16),
        issued_at: "2026-11-26 09:41".into(),
        qr: Some(format!("https://q.example/t/{number}")),
        footer: vec!["请留意叫号".into()],
        green_badge: None,
        windows: None,
    }
}

/// A "socket" into which the test plugs printer links; while none is plugged, connecting
/// fails like an unplugged device.
pub struct Plug {
    links: mpsc::UnboundedSender<DuplexStream>,
    pub attempts: Arc<AtomicUsize>,
}

impl Plug {
    /// Plugs a new printer link and returns the printer's end, attached to `fake`.
    pub fn plug(&self, fake: &FakePrinter) -> tokio::task::JoinHandle<io::Result<()>> {
        let (near, far) = tokio::io::duplex(4096);
        self.links.send(near).unwrap();
        fake.attach(far)
    }

    /// Plugs a link whose far end the test drives itself.
    pub fn plug_link(&self, near: DuplexStream) {
        self.links.send(near).unwrap();
    }
}

pub fn start(config: PrinterConfig) -> (PrinterHandle, Plug, tokio::task::JoinHandle<()>) {
    let (links, rx) = mpsc::unbounded_channel::<DuplexStream>();
    let rx = Arc::new(std::sync::Mutex::new(rx));
    let attempts = Arc::new(AtomicUsize::new(0));
    let counter = attempts.clone();
    let connect = move || {
        counter.fetch_add(1, Ordering::SeqCst);
        let link = rx.lock().unwrap().try_recv();
        async move { link.map_err(|_| io::Error::new(io::ErrorKind::NotFound, "printer unplugged")) }
    };
    let (handle, join) = spawn_printer(config, connect);
    (handle, Plug { links, attempts }, join)
}

pub fn config() -> PrinterConfig {
    PrinterConfig::new("kiosk-1-printer", Profile::MM80)
}

pub async fn wait_health(
    health: &mut watch::Receiver<Health>,
    state: HealthState,
    cause: Option<&str>,
) {
    let seen = health
        .wait_for(|h| h.state == state && h.cause.as_deref() == cause)
        .await
        .expect("printer task alive");
    drop(seen);
}

#[tokio::test(start_paused = true)]
async fn prints_a_ticket_and_answers_status_from_the_cache() {
    let (printer, plug, _join) = start(config());
    let (fake, mut tickets) = FakePrinter::new();
    plug.plug(&fake);
    wait_health(&mut printer.health(), HealthState::Online, None).await;

    assert_eq!(printer.status().await.unwrap(), PrinterStatus::READY);
    let queries = fake.queries();
    assert_eq!(printer.status().await.unwrap(), PrinterStatus::READY);
    assert_eq!(
        fake.queries(),
        queries,
        "a fresh cached status answers without asking"
    );

    tokio::time::advance(Duration::from_secs(3)).await; // older than status_max_age (2 s)
    printer.status().await.unwrap();
    assert_eq!(
        fake.queries(),
        queries + 3,
        "a stale cache asks DLE EOT 1, 2, 4"
    );

    printer.print(ticket("A012")).await.unwrap();
    assert_eq!(
        tickets.recv().await.unwrap(),
        encode_ticket(&ticket("A012"), &Profile::MM80)
    );
    printer
        .print(vec![0x1B, 0x40, 0x1D, 0x56, 0x42, 0x00])
        .await
        .unwrap();
    assert_eq!(
        tickets.recv().await.unwrap(),
        [0x1B, 0x40, 0x1D, 0x56, 0x42, 0x00]
    );
}

#[tokio::test(start_paused = true)]
async fn paper_out_refuses_and_nothing_is_printed_until_paper_returns() {
    let (printer, plug, _join) = start(config());
    let (fake, mut tickets) = FakePrinter::new();
    fake.set_paper(PaperLevel::Out);
    plug.plug(&fake);
    let mut health = printer.health();
    wait_health(&mut health, HealthState::Offline, Some("paper_out")).await;

    assert_eq!(
        printer.status().await.unwrap().refusal(),
        Some(Refusal::PaperOut)
    );
    let err = printer.print(ticket("A013")).await.unwrap_err();
    assert!(
        matches!(err, PrintError::Refused(Refusal::PaperOut)),
        "{err:?}"
    );
    assert_eq!(
        format!("printer kiosk-1: {err}"),
        "printer kiosk-1: out of paper"
    );

    fake.set_paper(PaperLevel::Ok);
    wait_health(&mut health, HealthState::Online, None).await; // the periodic poll sees it
    printer.print(ticket("A013")).await.unwrap();
    assert_eq!(
        tickets.recv().await.unwrap(),
        encode_ticket(&ticket("A013"), &Profile::MM80)
    );
    assert!(
        tickets.try_recv().is_err(),
        "the refused print never reached the paper"
    );
}

#[tokio::test(start_paused = true)]
async fn paper_near_end_is_degraded_and_still_prints() {
    let (printer, plug, _join) = start(config());
    let (fake, mut tickets) = FakePrinter::new();
    fake.set_paper(PaperLevel::NearEnd);
    plug.plug(&fake);
    wait_health(
        &mut printer.health(),
        HealthState::Degraded,
        Some("paper_near_end"),
    )
    .await;
    assert_eq!(printer.status().await.unwrap().refusal(), None);
    printer.print(ticket("B001")).await.unwrap();
    assert!(tickets.recv().await.is_some());
}

#[tokio::test(start_paused = true)]
async fn paper_running_out_during_a_print_fails_that_print() {
    let (printer, plug, _join) = start(config());
    let (fake, mut tickets) = FakePrinter::new();
    plug.plug(&fake);
    wait_health(&mut printer.health(), HealthState::Online, None).await;
    fake.paper_out_after_cut.store(true, Ordering::SeqCst);
    let err = printer.print(ticket("A020")).await.unwrap_err();
    assert!(
        matches!(err, PrintError::Refused(Refusal::PaperOut)),
        "{err:?}"
    );
    assert!(
        tickets.recv().await.is_some(),
        "sent once; the daemon voids it"
    );
    assert_eq!(printer.current_health(), Health::offline("paper_out"));
}

#[tokio::test(start_paused = true)]
async fn unplug_and_replug_without_busy_loop_lost_or_double_tickets() {
    let (printer, plug, _join) = start(config());
    let (fake, mut tickets) = FakePrinter::new();
    let first = plug.plug(&fake);
    let mut health = printer.health();
    wait_health(&mut health, HealthState::Online, None).await;
    printer.print(ticket("A001")).await.unwrap();

    first.abort(); // unplug: the printer's end of the link goes away
    wait_health(&mut health, HealthState::Offline, Some("disconnected")).await;
    let err = printer.print(ticket("A002")).await.unwrap_err();
    assert!(
        matches!(err, PrintError::Link(LinkError::NotConnected)),
        "{err:?}"
    );
    assert!(printer.status().await.is_err());

    let attempts_before = plug.attempts.load(Ordering::SeqCst);
    tokio::time::sleep(Duration::from_secs(60)).await; // virtual time: the device stays away
    let attempts = plug.attempts.load(Ordering::SeqCst) - attempts_before;
    assert!(
        (10..=30).contains(&attempts),
        "{attempts} connect attempts in 60 s (backoff capped at 3 s)"
    );

    let plugged_at = Instant::now();
    plug.plug(&fake);
    wait_health(&mut health, HealthState::Online, None).await;
    assert!(
        plugged_at.elapsed() <= Duration::from_secs(3),
        "back {:?} after replug",
        plugged_at.elapsed()
    );
    printer.print(ticket("A003")).await.unwrap();

    let profile = Profile::MM80;
    assert_eq!(
        tickets.recv().await.unwrap(),
        encode_ticket(&ticket("A001"), &profile)
    );
    assert_eq!(
        tickets.recv().await.unwrap(),
        encode_ticket(&ticket("A003"), &profile)
    );
    assert!(
        tickets.try_recv().is_err(),
        "A002 was refused, never queued for later"
    );
}

#[tokio::test(start_paused = true)]
async fn garbage_answers_drop_the_link_and_it_comes_back() {
    let (printer, plug, _join) = start(config());
    let (fake, _tickets) = FakePrinter::new();
    fake.garbage.store(true, Ordering::SeqCst);
    plug.plug(&fake);
    let mut health = printer.health();
    wait_health(&mut health, HealthState::Offline, Some("garbage_answer")).await;

    fake.garbage.store(false, Ordering::SeqCst);
    plug.plug(&fake);
    wait_health(&mut health, HealthState::Online, None).await;
    assert_eq!(printer.status().await.unwrap(), PrinterStatus::READY);
}

#[tokio::test(start_paused = true)]
async fn a_silent_printer_is_no_answer() {
    let (printer, plug, _join) = start(config());
    let (fake, _tickets) = FakePrinter::new();
    plug.plug(&fake);
    let mut health = printer.health();
    wait_health(&mut health, HealthState::Online, None).await;
    fake.silent.store(true, Ordering::SeqCst);
    tokio::time::advance(Duration::from_secs(3)).await;
    let err = printer.status().await.unwrap_err();
    assert!(
        matches!(err, PrintError::Link(LinkError::Timeout(_))),
        "{err:?}"
    );
    assert_eq!(err.cause(), "no_answer");
    wait_health(&mut health, HealthState::Offline, Some("no_answer")).await;
}

#[tokio::test(start_paused = true)]
async fn the_task_ends_when_every_handle_is_gone() {
    let (printer, plug, join) = start(config());
    let (fake, _tickets) = FakePrinter::new();
    plug.plug(&fake);
    let other = printer.clone();
    drop(printer);
    wait_health(&mut other.health(), HealthState::Online, None).await;
    drop(other);
    join.await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn the_task_ends_while_disconnected_too() {
    let (printer, _plug, join) = start(config());
    drop(printer);
    join.await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn cover_open_is_refused_with_its_cause() {
    let (printer, plug, _join) = start(config());
    let (fake, _tickets) = FakePrinter::new();
    fake.set(PrinterStatus {
        cover_open: true,
        ..PrinterStatus::READY
    });
    plug.plug(&fake);
    wait_health(
        &mut printer.health(),
        HealthState::Offline,
        Some("cover_open"),
    )
    .await;
    let err = printer.print(ticket("A030")).await.unwrap_err();
    assert_eq!(err.cause(), "cover_open");
    assert_eq!(err.to_string(), "cover open");
}
