//! The issuing service: the whole kiosk sequence, for every source of an issue request (the
//! control socket, kiosk keys, the web kiosk, MQTT kiosks).
//!
//! ```text
//! request -> disk guard -> kiosk's printer -> status gate -> commit (hall) -> print -> (void)
//! ```
//!
//! A printer that cannot print refuses the ticket before a number is committed, so no number
//! is used; a print that fails after the commit voids the ticket (its number is never reused)
//! and the kiosk is told why. A hall without printers issues without printing. A key press that
//! is refused at the gate is used up all the same (it must not issue later when read again).

use std::sync::Arc;

use super::devices::printers::{KioskPrinter, Printers};
use super::disk::DiskGuard;
use super::error::HallError;
use super::hall::{Envelope, HallHandle};
use crate::command::Command;
use crate::engine::outcome::Issued;
use crate::engine::{Outcome, Refusal};

/// Issues tickets and prints them at their kiosk. Cheap to clone.
#[derive(Debug, Clone)]
pub struct IssuingService {
    hall: HallHandle,
    printers: Arc<Printers>,
    disk: DiskGuard,
}

impl IssuingService {
    pub fn new(hall: HallHandle, printers: Arc<Printers>, disk: DiskGuard) -> IssuingService {
        IssuingService {
            hall,
            printers,
            disk,
        }
    }

    /// Issue the ticket `envelope` asks for (a [`Command::Issue`]) and print it at its kiosk
    /// (default: the first kiosk with a printer).
    pub async fn issue(&self, mut envelope: Envelope) -> Result<Issued, HallError> {
        if let Err(full) = self.disk.check() {
            return Err(self.refuse(&envelope, full).await);
        }
        let Command::Issue { kiosk, .. } = &mut envelope.command else {
            unreachable!("the issuing service is given issue commands only");
        };
        let printer = match self.printers.for_kiosk(kiosk.as_deref()) {
            Ok(printer) => printer,
            Err(known) => {
                let kiosk = kiosk.clone().unwrap_or_default();
                return Err(self
                    .refuse(&envelope, Refusal::UnknownKiosk { kiosk, known })
                    .await);
            }
        };
        let Some(printer) = printer else {
            return self.commit(envelope).await;
        };
        *kiosk = Some(printer.kiosk.clone());
        if let Err(not_ready) = printer.ready().await {
            tracing::warn!(
                device = %printer.device,
                kiosk = %printer.kiosk,
                cause = not_ready.cause,
                "ticket refused: printer cannot print"
            );
            let e = HallError::PrinterUnavailable {
                kiosk: printer.kiosk.clone(),
                cause: not_ready.cause.to_string(),
                reason: not_ready.reason,
            };
            return Err(self.refuse(&envelope, e).await);
        }
        let mut issued = self.commit(envelope).await?;
        match printer.print(&issued).await {
            Ok(()) => {
                issued.printed_at = Some(printer.kiosk.clone());
                issued.printer = Some(printer.device.clone());
                Ok(issued)
            }
            Err(error) => Err(self.void(printer, &issued, &error).await),
        }
    }

    async fn commit(&self, envelope: Envelope) -> Result<Issued, HallError> {
        match self.hall.execute(envelope).await? {
            Outcome::Issued(issued) => Ok(issued),
            other => unreachable!("an issue command commits an issued ticket, not {other:?}"),
        }
    }

    /// A refusal before the hall was asked: a key press that caused it is used up.
    async fn refuse(&self, envelope: &Envelope, e: impl Into<HallError>) -> HallError {
        if let Some(mark) = envelope.mark.clone() {
            if let Err(store) = self.hall.consume(mark).await {
                return store;
            }
        }
        e.into()
    }

    /// Void the committed ticket whose print failed; the error for the kiosk.
    async fn void(
        &self,
        printer: &KioskPrinter,
        issued: &Issued,
        error: &hallq_drivers::PrintError,
    ) -> HallError {
        let cause = format!("print failed at {}: {}", printer.kiosk, error.cause());
        tracing::error!(
            device = %printer.device,
            kiosk = %printer.kiosk,
            ticket = %issued.number,
            cause = error.cause(),
            "print failed after issue ({error}); voiding the ticket"
        );
        let void = Command::Void {
            ticket: issued.id.clone(),
            cause,
        };
        let voided = match self.hall.execute_own(void).await {
            Ok(_) => true,
            Err(e) => {
                tracing::error!(ticket = %issued.number, "could not void the unprinted ticket: {e}");
                false
            }
        };
        HallError::PrintFailed {
            kiosk: printer.kiosk.clone(),
            number: issued.number.clone(),
            cause: error.cause().to_string(),
            reason: error.to_string(),
            voided,
        }
    }
}
