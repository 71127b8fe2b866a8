//! A fake ticket printer for tests: answers `DLE EOT` from a shared status, records each
//! ticket (bytes up to and including the cut) on a channel, and can answer garbage, stay
//! silent, or run out of paper at the next cut.

use std::io;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use hallq_drivers::escpos::decode::{Decoded, Item, StreamDecoder};
use hallq_drivers::escpos::status::answer;
use hallq_drivers::{PaperLevel, PrinterStatus};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

/// State shared by every connection of one fake printer.
#[derive(Clone)]
pub struct FakePrinter {
    pub status: Arc<Mutex<PrinterStatus>>,
    pub garbage: Arc<AtomicBool>,
    pub silent: Arc<AtomicBool>,
    pub paper_out_after_cut: Arc<AtomicBool>,
    pub status_queries: Arc<AtomicUsize>,
    tickets: mpsc::UnboundedSender<Vec<u8>>,
}

impl FakePrinter {
    pub fn new() -> (FakePrinter, mpsc::UnboundedReceiver<Vec<u8>>) {
        let (tickets, received) = mpsc::unbounded_channel();
        let fake = FakePrinter {
            status: Arc::new(Mutex::new(PrinterStatus::READY)),
            garbage: Arc::default(),
            silent: Arc::default(),
            paper_out_after_cut: Arc::default(),
            status_queries: Arc::default(),
            tickets,
        };
        (fake, received)
    }

    pub fn set(&self, status: PrinterStatus) {
        *self.status.lock().unwrap() = status;
    }

    pub fn set_paper(&self, paper: PaperLevel) {
        self.status.lock().unwrap().paper = paper;
    }

    pub fn queries(&self) -> usize {
        self.status_queries.load(Ordering::SeqCst)
    }

    /// Plays the printer on `stream` until it closes or the task is aborted.
    pub fn attach<S>(&self, stream: S) -> JoinHandle<io::Result<()>>
    where
        S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
    {
        let fake = self.clone();
        tokio::spawn(async move { fake.serve(stream).await })
    }

    async fn serve<S: AsyncRead + AsyncWrite + Unpin>(self, mut stream: S) -> io::Result<()> {
        let mut decoder = StreamDecoder::new();
        let mut ticket = Vec::new();
        let mut buf = [0u8; 1024];
        loop {
            let n = stream.read(&mut buf).await?;
            if n == 0 {
                return Ok(());
            }
            decoder.feed(&buf[..n]);
            while let Some(next) = decoder.next_item() {
                match next.expect("the driver sends only well-formed ESC/POS") {
                    Decoded {
                        item: Item::StatusRequest(request),
                        ..
                    } => {
                        self.status_queries.fetch_add(1, Ordering::SeqCst);
                        if self.silent.load(Ordering::SeqCst) {
                            continue;
                        }
                        let byte = if self.garbage.load(Ordering::SeqCst) {
                            0xFF
                        } else {
                            let status = *self.status.lock().unwrap();
                            answer(request, &status).unwrap()
                        };
                        stream.write_all(&[byte]).await?;
                    }
                    Decoded { item, raw } => {
                        ticket.extend_from_slice(&raw);
                        if item == Item::Cut {
                            let _ = self.tickets.send(std::mem::take(&mut ticket));
                            if self.paper_out_after_cut.load(Ordering::SeqCst) {
                                self.set_paper(PaperLevel::Out);
                            }
                        }
                    }
                }
            }
        }
    }
}
