//! Devices on the hall LAN through an MQTT broker (DESIGN §5, `docs/devices/mqtt.md`):
//! Homie 5 call pads, evaluators, kiosk keys and boards, and hallq itself as a Homie device.
//!
//! ```text
//!            +------------------------- Outbox (topic -> latest retained payload) <---+
//!            |                                                                          |
//! broker <- link::flush (all after every connection, then what changed)     boards' animators,
//!        -> link::drive --Publish--> Router --$state--> device health       key screens,
//!                                           --keys/event--> keys::work --> Inputs, acks,
//!                                                                          homie::publish
//! ```
//!
//! Owns: the broker connection and its health (`link`), the topic tree (`topics`), payloads
//! (`wire`), hallq's own Homie device (`homie`), routing and garbage (`router`), each key
//! device's ordered, gap-free application and acknowledgement (`keys`). Does not own what a
//! key does (`runtime::inputs`), what a board or a pad shows (`runtime::devices::displays`,
//! `runtime::devices::keys::show` — they hand frames and text to the [`Outbox`]).

pub mod homie;
mod keys;
mod link;
mod outbox;
pub mod router;
pub mod topics;
pub mod wire;

use std::sync::Arc;

use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use crate::config::{Config, Transport};
use crate::runtime::inputs::Inputs;
use crate::runtime::snapshot::DeviceHealthTable;
use crate::runtime::watchdog::{self, Check};

pub use keys::{is_next, Next};
pub use outbox::Outbox;

/// Start the broker link, every MQTT key device's worker and hallq's Homie properties.
/// Boards and key screens already write to `outbox`. The link's task ends after `shutdown`
/// once it has said `disconnected` to the broker (await it so it can).
pub fn start(
    config: &Arc<Config>,
    outbox: &Outbox,
    inputs: &Inputs,
    health: &DeviceHealthTable,
    checks: &mut Vec<Check>,
    shutdown: &CancellationToken,
) -> Option<tokio::task::JoinHandle<()>> {
    let mqtt = config.mqtt.as_ref()?;
    let mut router = router::Router::new(health.clone());
    for device in config
        .devices
        .iter()
        .filter(|d| d.transport == Transport::Mqtt)
    {
        let garbage = Arc::new(router::Garbage::new(
            &device.id,
            device.kind,
            health.clone(),
        ));
        let keys = inputs.device(&device.id).map(|_| {
            let (tx, rx) = mpsc::channel(keys::QUEUE);
            tokio::spawn(keys::work(
                device.id.clone(),
                inputs.clone(),
                outbox.clone(),
                garbage.clone(),
                rx,
                shutdown.clone(),
            ));
            tx
        });
        router.add(&device.id, device.kind, keys, garbage);
    }
    let (probe, probes) = watchdog::probe();
    checks.push(Check::probe("mqtt link", probe));
    let link = link::Link {
        config: mqtt.clone(),
        hall_id: config.hall.id.clone(),
        outbox: outbox.clone(),
        health: health.clone(),
        subscriptions: router.subscriptions(),
        router,
    };
    let link = tokio::spawn(link.run(probes, shutdown.clone()));
    let (probe, probes) = watchdog::probe();
    checks.push(Check::probe("mqtt properties", probe));
    tokio::spawn(homie::publish(
        config.clone(),
        outbox.clone(),
        inputs.snapshots(),
        probes,
        shutdown.clone(),
    ));
    Some(link)
}
