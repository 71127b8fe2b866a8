//! The conformance list of `docs/devices/modbus-profile.md`, step by step, as raw Modbus RTU
//! frames over a pty against the reference device (`SimBus`): every request and the exact
//! answer the document says a device must give. Steps D1–D20 are a 64x16 mono display, K1–K14
//! a call pad with text and LEDs.

use std::time::Duration;

use hallq_display::BoardSpec;
use hallq_drivers::modbus::keys::EventBlock;
use hallq_drivers::modbus::pad::{text_write, TextSize};
use hallq_drivers::modbus::rtu::{self, Answer, Reply, Request, Scan};
use hallq_drivers::modbus::sim::SIM_FIRMWARE;
use hallq_drivers::modbus::{DeviceKind, FifoOnPowerCycle, InputSpec, KeyEvent, SimBus};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio_modbus::ExceptionCode;
use tokio_serial::SerialStream;

const DISPLAY: u8 = 1;
const PAD: u8 = 3;

/// The host side of the pty, sending one frame and reading one answer.
struct Wire {
    port: SerialStream,
}

impl Wire {
    async fn raw(&mut self, frame: &[u8]) -> Option<Vec<u8>> {
        self.port.write_all(frame).await.unwrap();
        let mut buf = Vec::new();
        let mut chunk = [0u8; 300];
        loop {
            match rtu::scan(&buf, rtu::answer_len, false) {
                Scan::Frame(n) => return Some(buf[..n].to_vec()),
                Scan::Garbage { error, .. } => panic!("garbage answer: {error}"),
                Scan::NeedMore => {}
            }
            // "No answer" is 300 ms of silence: the device answers within 50 ms.
            match tokio::time::timeout(Duration::from_millis(300), self.port.read(&mut chunk)).await
            {
                Ok(Ok(n)) if n > 0 => buf.extend_from_slice(&chunk[..n]),
                _ => return None,
            }
        }
    }

    async fn ask(&mut self, unit: u8, request: Request) -> Reply {
        let answer = self
            .raw(&rtu::encode_request(unit, &request))
            .await
            .unwrap_or_else(|| panic!("no answer to {request:?}"));
        rtu::check_answer(unit, &request, rtu::decode_answer(&answer).unwrap()).unwrap()
    }

    async fn read_input(&mut self, unit: u8, addr: u16, count: u16) -> Reply {
        self.ask(unit, Request::ReadInput { addr, count }).await
    }

    async fn read_holding(&mut self, unit: u8, addr: u16, count: u16) -> Reply {
        self.ask(unit, Request::ReadHolding { addr, count }).await
    }

    async fn write(&mut self, unit: u8, addr: u16, words: Vec<u16>) -> Reply {
        self.ask(unit, Request::WriteMultiple { addr, words }).await
    }

    /// A header with as much data as `data` (at most 120 words) at 0x0FFD.
    async fn header(&mut self, unit: u8, seq: u16, len: u32, data: &[u16]) -> Reply {
        let mut words = vec![seq, (len >> 16) as u16, len as u16];
        words.extend_from_slice(data);
        self.write(unit, 0x0FFD, words).await
    }

    async fn registers(&mut self, unit: u8, addr: u16, count: u16) -> Vec<u16> {
        match self.read_input(unit, addr, count).await {
            Ok(Answer::Registers { words, .. }) => words,
            other => panic!("read {addr:#06x}: {other:?}"),
        }
    }

    async fn block(&mut self) -> EventBlock {
        EventBlock::decode(&self.registers(PAD, 0x0100, 26).await).unwrap()
    }
}

fn regs(words: &[u16]) -> Reply {
    Ok(Answer::Registers {
        function: rtu::READ_INPUT,
        words: words.to_vec(),
    })
}

fn holding(words: &[u16]) -> Reply {
    Ok(Answer::Registers {
        function: rtu::READ_HOLDING,
        words: words.to_vec(),
    })
}

fn ex(code: ExceptionCode) -> Reply {
    Err(code)
}

const EX01: ExceptionCode = ExceptionCode::IllegalFunction;
const EX02: ExceptionCode = ExceptionCode::IllegalDataAddress;
const EX03: ExceptionCode = ExceptionCode::IllegalDataValue;

fn ok(addr: u16, count: usize) -> Reply {
    Ok(Answer::WroteMultiple {
        addr,
        count: count as u16,
    })
}

/// The 20-byte example update of docs/display.md: 64x16 mono, one pixel lit at x=9 on row 5.
const ROWS: [u16; 10] = [
    0x0201, 0x0040, 0x0010, 0x0001, 0x0005, 0x0001, 0x0040, 0, 0, 0,
];

fn start() -> (SimBus, Wire) {
    let sim = SimBus::with_seed(11);
    sim.add_board(
        DISPLAY,
        DeviceKind::WindowDisplay,
        BoardSpec::from_config("64x16", 1).unwrap(),
    );
    sim.add_input(
        PAD,
        DeviceKind::CallPad,
        InputSpec {
            text: TextSize {
                lines: 2,
                columns: 16,
            },
            leds: 5,
            fifo_depth: 16,
            ..InputSpec::default()
        },
    );
    let (far, near) = SerialStream::pair().unwrap();
    tokio::spawn(sim.clone().serve(far));
    (sim, Wire { port: near })
}

#[tokio::test]
async fn a_display_from_power_up_to_a_shown_frame_and_every_refusal() {
    let (sim, mut w) = start();
    let d = DISPLAY;
    // D1–D6: identity, status, reserved, unmapped, quantities, functions.
    assert_eq!(
        w.read_input(d, 0, 8).await,
        regs(&[1, 1, 64, 16, 1, SIM_FIRMWARE, 0, 134])
    );
    assert_eq!(w.read_input(d, 0x10, 2).await, regs(&[0, 0]));
    assert_eq!(w.read_input(d, 0x08, 8).await, regs(&[0; 8]));
    assert_eq!(w.read_input(d, 0x12, 14).await, regs(&[0; 14]));
    assert_eq!(w.read_input(d, 0x1F, 2).await, ex(EX02));
    assert_eq!(w.read_input(d, 0x0100, 26).await, ex(EX02));
    assert_eq!(w.read_input(d, 0, 0).await, ex(EX03));
    assert_eq!(w.read_input(d, 0, 126).await, ex(EX03));
    let coils = Request::Other {
        function: 0x01,
        data: vec![0, 0, 0, 1],
    };
    assert_eq!(w.ask(d, coils).await, ex(EX01));
    // D7–D9: refused headers, partial header and commit.
    assert_eq!(w.header(d, 0, 134, &[]).await, ex(EX03));
    assert_eq!(w.read_input(d, 0x11, 1).await, regs(&[1]));
    assert_eq!(w.read_holding(d, 0x0FFD, 3).await, holding(&[0, 0, 0]));
    assert_eq!(w.header(d, 1, 135, &[]).await, ex(EX03));
    assert_eq!(w.write(d, 0x0FFE, vec![0, 1]).await, ex(EX02));
    assert_eq!(w.write(d, 0x0FF0, vec![1]).await, ex(EX02));
    let single = Request::WriteSingle {
        addr: 0x0FFD,
        value: 1,
    };
    assert_eq!(w.ask(d, single).await, ex(EX02));
    // D10–D11: changed rows at power-up (base 0) are refused; nothing stays open.
    assert_eq!(w.header(d, 1, 20, &ROWS).await, ok(0x0FFD, 13));
    assert_eq!(w.write(d, 0x0FF0, vec![1, 0]).await, ex(EX03));
    assert_eq!(w.read_input(d, 0x10, 2).await, regs(&[0, 5]));
    assert_eq!(w.write(d, 0x0FF0, vec![1, 0]).await, ex(EX03));
    assert_eq!(w.read_input(d, 0x11, 1).await, regs(&[2]));
    // D12–D13: a whole frame, then the same commit again.
    let mut full = vec![0x0101, 0x0040, 0x0010];
    full.resize(67, 0);
    assert_eq!(w.header(d, 1, 134, &full).await, ok(0x0FFD, 70));
    assert_eq!(w.write(d, 0x0FF0, vec![1, 0]).await, ok(0x0FF0, 2));
    assert_eq!(w.read_input(d, 0x10, 2).await, regs(&[1, 0]));
    assert_eq!(w.read_holding(d, 0x0FF0, 2).await, holding(&[1, 0]));
    assert_eq!(w.read_holding(d, 0x0FFD, 3).await, holding(&[0, 0, 0]));
    assert_eq!(w.write(d, 0x0FF0, vec![1, 0]).await, ok(0x0FF0, 2));
    assert_eq!(w.read_input(d, 0x10, 2).await, regs(&[1, 0]));
    let blank = sim.frame(d).unwrap();
    assert!(blank.to_ascii().chars().all(|c| c != '#'));
    // D14: changed rows over seq 1.
    assert_eq!(w.header(d, 2, 20, &ROWS).await, ok(0x0FFD, 13));
    assert_eq!(w.write(d, 0x0FF0, vec![2, 1]).await, ok(0x0FF0, 2));
    assert_eq!(w.read_input(d, 0x10, 2).await, regs(&[2, 0]));
    let lit = sim.frame(d).unwrap();
    assert_eq!(lit.to_ascii().matches('#').count(), 1);
    // D15: a lost chunk.
    assert_eq!(w.header(d, 3, 134, &full[..40]).await, ok(0x0FFD, 43));
    assert_eq!(w.write(d, 0x0FF0, vec![3, 2]).await, ex(EX03));
    assert_eq!(w.read_input(d, 0x10, 2).await, regs(&[2, 6]));
    // D16–D17: another seq, a base that is not shown.
    assert_eq!(w.header(d, 4, 20, &ROWS).await, ok(0x0FFD, 13));
    assert_eq!(w.write(d, 0x0FF0, vec![5, 2]).await, ex(EX03));
    assert_eq!(w.read_input(d, 0x11, 1).await, regs(&[2]));
    assert_eq!(w.header(d, 6, 20, &ROWS).await, ok(0x0FFD, 13));
    assert_eq!(w.write(d, 0x0FF0, vec![6, 3]).await, ex(EX03));
    assert_eq!(w.read_input(d, 0x10, 2).await, regs(&[2, 5]));
    assert_eq!(sim.frame(d).unwrap(), lit);
    // D18: past the window.
    assert_eq!(w.write(d, 0x1000 + 67, vec![1]).await, ex(EX02));
    // D19: bad CRC, another unit, broadcast: no answer; the device still answers after.
    let mut bad = rtu::encode_request(d, &Request::ReadInput { addr: 0, count: 8 });
    bad[7] ^= 0xFF;
    assert_eq!(w.raw(&bad).await, None);
    let other = rtu::encode_request(d + 1, &Request::ReadInput { addr: 0, count: 8 });
    assert_eq!(w.raw(&other).await, None);
    let broadcast = rtu::encode_request(0, &Request::ReadInput { addr: 0, count: 8 });
    assert_eq!(w.raw(&broadcast).await, None);
    assert_eq!(w.read_input(d, 0x10, 2).await, regs(&[2, 5]));
    // D20: power cycle.
    sim.power_cycle(d, FifoOnPowerCycle::Lose);
    assert_eq!(w.read_input(d, 0x10, 2).await, regs(&[0, 0]));
}

fn events(seqs: std::ops::RangeInclusive<u16>) -> Vec<u16> {
    seqs.collect()
}

#[tokio::test]
async fn a_call_pad_from_power_up_through_presses_acks_text_leds_and_a_power_cycle() {
    let (sim, mut w) = start();
    let p = PAD;
    // K1–K2.
    assert_eq!(
        w.read_input(p, 0, 16).await,
        regs(&[1, 3, 0, 0, 0, SIM_FIRMWARE, 0, 0, 2, 16, 5, 16, 0, 0, 0, 0])
    );
    let e = w.block().await.epoch;
    assert_ne!(e, 0);
    assert_eq!(w.registers(p, 0x0100, 26).await, EventBlock::encode(e, &[]));
    // K3.
    sim.press(p, 1, 0).unwrap();
    sim.press(p, 2, 0).unwrap();
    let mut want = vec![e, 2, 1, 1, 0, 2, 2, 0];
    want.resize(26, 0);
    assert_eq!(w.registers(p, 0x0100, 26).await, want);
    // K4–K7: acks.
    assert_eq!(
        w.write(p, 0, vec![e.wrapping_add(1).max(1), 2]).await,
        ok(0, 2)
    );
    assert_eq!(w.block().await.events.len(), 2);
    let single = Request::WriteSingle { addr: 0, value: e };
    assert_eq!(w.ask(p, single).await, ex(EX02));
    assert_eq!(w.write(p, 0, vec![e]).await, ex(EX02));
    assert_eq!(w.write(p, 0, vec![e, 1]).await, ok(0, 2));
    assert_eq!(
        w.block().await.events,
        [KeyEvent {
            seq: 2,
            key: 2,
            value: 0
        }]
    );
    assert_eq!(w.read_holding(p, 0, 2).await, holding(&[e, 1]));
    assert_eq!(w.write(p, 0, vec![e, 1]).await, ok(0, 2));
    assert_eq!(w.block().await.events.len(), 1);
    assert_eq!(w.write(p, 0, vec![e, 2]).await, ok(0, 2));
    assert!(w.block().await.events.is_empty());
    // K8: more than 8 waiting.
    for _ in 0..10 {
        sim.press(p, 1, 0).unwrap();
    }
    let b = w.block().await;
    assert_eq!(
        b.events.iter().map(|e| e.seq).collect::<Vec<_>>(),
        events(3..=10)
    );
    w.write(p, 0, vec![e, 10]).await.unwrap();
    let b = w.block().await;
    assert_eq!(
        b.events.iter().map(|e| e.seq).collect::<Vec<_>>(),
        events(11..=12)
    );
    // K9: a full FIFO refuses the press without taking a seq.
    for _ in 0..14 {
        sim.press(p, 1, 0).unwrap();
    }
    assert_eq!(sim.press(p, 1, 0), None);
    w.write(p, 0, vec![e, 26]).await.unwrap();
    assert_eq!(sim.press(p, 1, 0).unwrap().1.seq, 27);
    // K10–K12: text and LEDs.
    let size = TextSize {
        lines: 2,
        columns: 16,
    };
    let text = text_write(&["A012 已呼叫".into(), "等候 7人".into()], size).unwrap();
    assert_eq!(w.write(p, 0x0100, text.words.clone()).await, ok(0x0100, 16));
    assert_eq!(w.read_holding(p, 0x0100, 16).await, holding(&text.words));
    assert_eq!(sim.text(p), ["A012 已呼叫", "等候 7人"]);
    assert_eq!(w.write(p, 0x0100, text.words[..5].to_vec()).await, ex(EX02));
    assert_eq!(w.write(p, 0x0108, text.words[..8].to_vec()).await, ex(EX02));
    assert_eq!(
        w.write(p, 0x0100, [&text.words[..], &text.words[..8]].concat())
            .await,
        ex(EX02)
    );
    let leds = Request::WriteSingle {
        addr: 0x0120,
        value: 0b11,
    };
    assert_eq!(
        w.ask(p, leds).await,
        Ok(Answer::WroteSingle {
            addr: 0x0120,
            value: 0b11
        })
    );
    assert_eq!(sim.device(p).unwrap().leds, 0b11);
    // K13: no pixel screen.
    assert_eq!(w.header(p, 1, 4, &[]).await, ex(EX02));
    // K14: a power cycle with the FIFO kept, then one that loses it.
    w.write(p, 0, vec![e, 27]).await.unwrap();
    for _ in 0..3 {
        sim.press(p, 4, 0).unwrap();
    }
    sim.power_cycle(p, FifoOnPowerCycle::Keep);
    let b = w.block().await;
    assert_eq!((b.epoch, b.events.len()), (e, 3));
    w.write(p, 0, vec![e, b.events[2].seq]).await.unwrap();
    let b = w.block().await;
    assert_ne!(b.epoch, e);
    assert!(b.events.is_empty());
    assert_eq!(sim.press(p, 1, 0).unwrap().1.seq, 1);
    assert_eq!(sim.text(p), ["", ""]);
    let e2 = b.epoch;
    sim.power_cycle(p, FifoOnPowerCycle::Lose);
    let b = w.block().await;
    assert!(b.epoch != e2 && b.events.is_empty());
}
