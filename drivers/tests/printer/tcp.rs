//! The printer task over TCP on 127.0.0.1 (port 0), real time: a printer that resets the
//! connection and accepts again.

use std::time::Duration;

use hallq_drivers::transport::{self, TcpConfig, TransportConfig};
use hallq_drivers::{encode_ticket, spawn_printer, HealthState, Profile};
use tokio::net::TcpListener;
use tokio::time::timeout;

use crate::fake::FakePrinter;
use crate::task::{config, ticket, wait_health};

const GUARD: Duration = Duration::from_secs(20);

#[tokio::test]
async fn prints_over_tcp_and_reconnects_after_a_reset() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let transport =
        TransportConfig::Tcp(TcpConfig::new(listener.local_addr().unwrap().to_string()));
    let connect = move || {
        let transport = transport.clone();
        async move { transport::open(&transport).await }
    };
    let mut cfg = config();
    cfg.backoff_min = Duration::from_millis(20);
    let (printer, _join) = spawn_printer(cfg, connect);
    let (fake, mut tickets) = FakePrinter::new();
    let mut health = printer.health();

    let (socket, _) = timeout(GUARD, listener.accept()).await.unwrap().unwrap();
    let first = fake.attach(socket);
    timeout(GUARD, wait_health(&mut health, HealthState::Online, None))
        .await
        .unwrap();
    printer.print(ticket("D001")).await.unwrap();
    let got = timeout(GUARD, tickets.recv()).await.unwrap().unwrap();
    assert_eq!(got, encode_ticket(&ticket("D001"), &Profile::MM80));

    first.abort(); // the printer closes the connection
    timeout(
        GUARD,
        wait_health(&mut health, HealthState::Offline, Some("disconnected")),
    )
    .await
    .unwrap();

    let (socket, _) = timeout(GUARD, listener.accept()).await.unwrap().unwrap();
    fake.attach(socket);
    timeout(GUARD, wait_health(&mut health, HealthState::Online, None))
        .await
        .unwrap();
    printer.print(ticket("D002")).await.unwrap();
    let got = timeout(GUARD, tickets.recv()).await.unwrap().unwrap();
    assert_eq!(got, encode_ticket(&ticket("D002"), &Profile::MM80));
    assert!(tickets.try_recv().is_err());
}
