//! Ticket size and wire time per paper profile, then the encoder's speed.
//!
//! `cargo bench -p hallq-drivers --bench ticket` prints, for a typical ticket on each paper,
//! the bytes sent, the minimum for the same content (GB18030 text + QR payload, no
//! commands, no line feeds) and the wire time at 9600 and 115200 baud (8N1 = 10 bits per
//! byte), then measures `encode_ticket` with criterion.

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion};
use hallq_drivers::escpos::status::STATUS_REQUESTS;
use hallq_drivers::escpos::text::gb18030;
use hallq_drivers::{encode_ticket, Profile, TicketClass, TicketPrint};

fn typical(class: TicketClass) -> TicketPrint {
    TicketPrint {
        hall_name: "乌审旗政务服务中心".into(),
        service_name: "综合受理".into(),
        number: "A012".into(),
        class,
        slot: None,
        ahead: 12,
        wait_minutes: Some(35),
        issued_at: "2026-11-26 09:41".into(),
        qr: Some(
            "https://zwfw.example.gov.cn/q?hall=wsq-zwfw&t=0b7c2a4e-9f1d-4c1e-8f00-5d2c7a9e1b33&n=A012"
                .into(),
        ),
        footer: vec!["请留意叫号，过号请重新取号".into(), "服务热线 12345".into()],
        // As measured in BENCHMARKS.md; the window line adds 24 bytes (see there).
        green_badge: None,
        windows: None,
    }
}

fn minimum(ticket: &TicketPrint) -> usize {
    let text: usize = ticket
        .content_lines()
        .iter()
        .map(|l| gb18030(l).len())
        .sum();
    text + ticket.qr_payload().map_or(0, |q| q.len())
}

fn wire_ms(bytes: usize, baud: u32) -> f64 {
    bytes as f64 * 10.0 * 1000.0 / f64::from(baud)
}

fn print_table() {
    println!("| ticket | paper | bytes | minimum | overhead | 9600 baud | 115200 baud | minimum at 9600 | minimum at 115200 |");
    println!("|---|---|---:|---:|---:|---:|---:|---:|---:|");
    let mut long = typical(TicketClass::Reservation);
    long.hall_name = "鄂尔多斯市乌审旗人民政府政务服务中心（乌审旗便民服务大厅）".into();
    long.footer = vec!["请妥善保管本票，过号请到服务台重新取号，办事指南请扫描二维码查看".into()];
    let tickets = [
        ("normal", typical(TicketClass::Normal)),
        ("green", typical(TicketClass::Green)),
        ("reservation, long text", long),
    ];
    for (name, ticket) in &tickets {
        for profile in [Profile::MM58, Profile::MM80] {
            let bytes = encode_ticket(ticket, &profile).len();
            let min = minimum(ticket);
            println!(
                "| {name} | {} | {bytes} | {min} | {:.0} % | {:.1} ms | {:.2} ms | {:.1} ms | {:.2} ms |",
                profile.paper,
                (bytes as f64 / min as f64 - 1.0) * 100.0,
                wire_ms(bytes, 9600),
                wire_ms(bytes, 115_200),
                wire_ms(min, 9600),
                wire_ms(min, 115_200),
            );
        }
    }
    let query = STATUS_REQUESTS.len() + 3;
    println!(
        "\nstatus query (DLE EOT 1, 2, 4 + 3 answers): {query} bytes = {:.1} ms at 9600, {:.2} ms at 115200\n",
        wire_ms(query, 9600),
        wire_ms(query, 115_200)
    );
}

fn bench(c: &mut Criterion) {
    print_table();
    let ticket = typical(TicketClass::Green);
    for profile in [Profile::MM58, Profile::MM80] {
        c.bench_function(&format!("encode_ticket {}", profile.paper), |b| {
            b.iter(|| encode_ticket(black_box(&ticket), black_box(&profile)))
        });
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
