//! The connection to the broker: connect with `[mqtt]`'s credentials and TLS, retry with capped
//! exponential backoff and full jitter, and after every connection subscribe again and
//! publish everything the [`Outbox`] holds, `$state` `ready` last. The link's health is the
//! device [`MQTT_HEALTH_ID`] in the [`DeviceHealthTable`] (so `status`, `doctor`, STATUS= and
//! the journal say why it is down: `bad_credentials`, `tls_untrusted`, ...).
//!
//! ```text
//! drive: EventLoop::poll --ConnAck--> connected(generation) ; --Publish--> Router::route
//!        error --> health cause, backoff sleep, poll again (rumqttc reconnects)
//! flush: on a new generation: $state init, subscribe, every topic, $state ready
//!        on Outbox::changed: the changed topics (QoS 1, retained)
//! ```

use std::time::Duration;

use hallq_drivers::Health;
use rumqttc::{
    AsyncClient, ConnectReturnCode, ConnectionError, Event, LastWill, MqttOptions, Packet, QoS,
    TlsConfiguration, Transport,
};
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

use super::outbox::Outbox;
use super::router::Router;
use super::topics;
use crate::config::{Mqtt, MQTT_HEALTH_ID};
use crate::runtime::snapshot::{DeviceClass, DeviceHealthTable};
use crate::runtime::watchdog::ProbeReceiver;
use crate::sync::backoff::{draw, Backoff};

/// The first retry waits at most this long; the ceiling doubles up to `backoff_cap_seconds`.
const BACKOFF_BASE: Duration = Duration::from_millis(250);
/// Largest packet hallq takes from the broker; a larger one ends the connection (the broker's
/// `max_packet_size` should be lower, `docs/devices/mqtt.md`).
const MAX_INCOMING: usize = 1 << 20;
/// Largest packet hallq sends (the biggest whole frame of a 2-colour board is far below).
const MAX_OUTGOING: usize = 1 << 20;
/// TCP and TLS connection timeout.
const CONNECT_TIMEOUT_SECS: u64 = 5;
/// A connection that lasted this long ends an episode of failures; one dropped sooner (a
/// broker that takes the connection and closes it, another client with our id) keeps the
/// backoff growing, so it never turns into a reconnect loop.
const STABLE: Duration = Duration::from_secs(10);

/// What the link needs.
pub struct Link {
    pub config: Mqtt,
    pub hall_id: String,
    pub outbox: Outbox,
    pub health: DeviceHealthTable,
    /// Topic filters to subscribe to after every connection.
    pub subscriptions: Vec<String>,
    pub router: Router,
}

/// Why the link is down, as a cause code and the error's words.
fn cause(e: &ConnectionError) -> &'static str {
    match e {
        ConnectionError::ConnectionRefused(code) => match code {
            ConnectReturnCode::BadUserNamePassword => "bad_credentials",
            ConnectReturnCode::NotAuthorized => "not_authorized",
            ConnectReturnCode::BadClientId => "client_id_refused",
            ConnectReturnCode::ServiceUnavailable => "broker_unavailable",
            _ => "refused",
        },
        ConnectionError::Tls(e) if untrusted(e) => "tls_untrusted",
        ConnectionError::Tls(_) => "tls_failed",
        ConnectionError::Io(e) => match e.kind() {
            std::io::ErrorKind::ConnectionRefused => "unreachable",
            std::io::ErrorKind::TimedOut => "timeout",
            std::io::ErrorKind::ConnectionReset
            | std::io::ErrorKind::ConnectionAborted
            | std::io::ErrorKind::BrokenPipe
            | std::io::ErrorKind::UnexpectedEof => "connection_lost",
            _ => "network",
        },
        ConnectionError::NetworkTimeout | ConnectionError::FlushTimeout => "timeout",
        // A message over MAX_INCOMING, most likely retained on a device's topic: the broker
        // gives it again at every subscription until someone clears it.
        ConnectionError::MqttState(rumqttc::StateError::Deserialization(
            rumqttc::Error::PayloadSizeLimitExceeded(_),
        )) => "oversized_message",
        ConnectionError::MqttState(_) => "connection_lost",
        _ => "protocol",
    }
}

/// Whether TLS failed because the broker's certificate is not one `ca_file` vouches for (or
/// does not name `host`): rustls's own error, which tokio-rustls hands over inside an I/O error.
fn untrusted(e: &rumqttc::TlsError) -> bool {
    use rumqttc::tokio_rustls::rustls;
    let rustls_error = match e {
        rumqttc::TlsError::TLS(e) => Some(e),
        rumqttc::TlsError::Io(io) => io.get_ref().and_then(|i| i.downcast_ref::<rustls::Error>()),
        _ => None,
    };
    matches!(rustls_error, Some(rustls::Error::InvalidCertificate(_)))
}

/// The client options from `[mqtt]`; an unreadable password, CA or client file is an error
/// naming it.
fn options(c: &Mqtt, hall_id: &str) -> Result<MqttOptions, (&'static str, String)> {
    let mut o = MqttOptions::new(&c.client_id, &c.host, c.port);
    o.set_keep_alive(Duration::from_secs(u64::from(c.keepalive_seconds)));
    o.set_clean_session(c.clean_session);
    o.set_max_packet_size(MAX_INCOMING, MAX_OUTGOING);
    o.set_last_will(LastWill::new(
        topics::state(hall_id),
        "lost",
        QoS::AtLeastOnce,
        true,
    ));
    if let Some(user) = &c.username {
        let password = match &c.password_file {
            Some(path) => read_secret(path).map_err(|e| ("password_file_unreadable", e))?,
            None => String::new(),
        };
        o.set_credentials(user, password);
    }
    if let Some(ca) = &c.ca_file {
        let ca = std::fs::read(ca)
            .map_err(|e| ("ca_file_unreadable", format!("{}: {e}", ca.display())))?;
        let client_auth = match &c.client_cert {
            Some((cert, key)) => {
                let read = |p: &std::path::Path| {
                    std::fs::read(p)
                        .map_err(|e| ("client_cert_unreadable", format!("{}: {e}", p.display())))
                };
                Some((read(cert)?, read(key)?))
            }
            None => None,
        };
        o.set_transport(Transport::tls_with_config(TlsConfiguration::Simple {
            ca,
            alpn: None,
            client_auth,
        }));
    }
    Ok(o)
}

/// The first line of a secret file, without its line end; the error names the file, never
/// the contents.
fn read_secret(path: &std::path::Path) -> Result<String, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    Ok(text.lines().next().unwrap_or("").to_string())
}

impl Link {
    /// Run until shutdown: `drive` the connection here, `flush` beside it.
    pub async fn run(self, mut probes: ProbeReceiver, shutdown: CancellationToken) {
        let Link {
            config,
            hall_id,
            outbox,
            health,
            subscriptions,
            mut router,
        } = self;
        let mut backoff = Backoff::new(BACKOFF_BASE, config.backoff_cap);
        health.set_initial(
            MQTT_HEALTH_ID,
            DeviceClass::Broker,
            Health::offline("connecting_to_broker"),
        );
        // Options come from files an operator may fix while hallq runs: read again until
        // they can be.
        let mut logged = None;
        let options = loop {
            match options(&config, &hall_id) {
                Ok(o) => break o,
                Err((cause, detail)) => {
                    if logged.as_ref() != Some(&detail) {
                        tracing::error!(
                            cause,
                            "mqtt: {detail} (trying again until it can be read)"
                        );
                        logged = Some(detail);
                    }
                    set_health(&health, Health::offline(cause));
                    let wait = backoff.fail(draw());
                    tokio::select! {
                        _ = shutdown.cancelled() => return,
                        _ = answer_probes_for(&mut probes, wait) => {}
                    }
                }
            }
        };
        backoff.reset();
        let (client, mut eventloop) = AsyncClient::new(options, 256);
        eventloop
            .network_options
            .set_connection_timeout(CONNECT_TIMEOUT_SECS);
        let (connected_tx, connected) = watch::channel(None::<u64>);
        let flusher = tokio::spawn(flush(
            client.clone(),
            hall_id.clone(),
            subscriptions,
            outbox.clone(),
            connected,
            shutdown.clone(),
        ));
        let mut generation = 0u64;
        let mut last_cause: Option<&'static str> = None;
        let mut connected_at: Option<tokio::time::Instant> = None;
        'drive: loop {
            // One poll at a time, kept across probes: dropping a poll halfway could lose a
            // publish rumqttc had taken but not yet written, or cut a connection attempt.
            let polled = {
                let poll = eventloop.poll();
                tokio::pin!(poll);
                loop {
                    tokio::select! {
                        _ = shutdown.cancelled() => break 'drive,
                        probe = probes.recv() => match probe {
                            Some(reply) => { let _ = reply.send(()); }
                            None => break 'drive,
                        },
                        polled = &mut poll => break polled,
                    }
                }
            };
            match polled {
                Ok(Event::Incoming(Packet::ConnAck(_))) => {
                    generation += 1;
                    connected_at = Some(tokio::time::Instant::now());
                    last_cause = None;
                    tracing::info!(broker = %format!("{}:{}", config.host, config.port), "mqtt: connected to the broker");
                    set_health(&health, Health::online());
                    router.link_up();
                    let _ = connected_tx.send(Some(generation));
                }
                Ok(Event::Incoming(Packet::Publish(p))) => {
                    router.route(&p.topic, &p.payload, p.retain)
                }
                Ok(_) => {}
                Err(e) => {
                    let _ = connected_tx.send(None);
                    let cause = cause(&e);
                    if last_cause != Some(cause) {
                        // The health table writes the journal line; the error's own words
                        // (which certificate, which address) are for whoever reads debug.
                        tracing::debug!(cause, "mqtt: {e}");
                        last_cause = Some(cause);
                    }
                    set_health(&health, Health::offline(cause));
                    router.link_down();
                    if connected_at.take().is_some_and(|t| t.elapsed() >= STABLE) {
                        backoff.reset();
                    }
                    let wait = backoff.fail(draw());
                    tokio::select! {
                        _ = shutdown.cancelled() => break 'drive,
                        _ = answer_probes_for(&mut probes, wait) => {}
                    }
                }
            }
        }
        // A clean stop: say so, then leave (the will is for unclean ones). The flusher stops
        // first, and the event loop is driven while the goodbye is queued, so a full request
        // channel cannot hold it up.
        flusher.abort();
        if connected_tx.borrow().is_some() {
            let goodbye = async {
                let state = topics::state(&hall_id);
                let _ = client
                    .publish(state, QoS::AtLeastOnce, true, "disconnected")
                    .await;
                let _ = client.disconnect().await;
                std::future::pending::<()>().await
            };
            let drive = async { while eventloop.poll().await.is_ok() {} };
            let _ = tokio::time::timeout(Duration::from_secs(1), async {
                tokio::select! {
                    _ = goodbye => {}
                    _ = drive => {}
                }
            })
            .await;
        }
    }
}

/// Sleep `wait`, answering liveness probes meanwhile (a link waiting to retry is alive).
async fn answer_probes_for(probes: &mut ProbeReceiver, wait: Duration) {
    let until = tokio::time::Instant::now() + wait;
    loop {
        tokio::select! {
            _ = tokio::time::sleep_until(until) => return,
            probe = probes.recv() => match probe {
                Some(reply) => { let _ = reply.send(()); }
                None => { tokio::time::sleep_until(until).await; return; }
            },
        }
    }
}

fn set_health(health: &DeviceHealthTable, h: Health) {
    health.set(MQTT_HEALTH_ID, DeviceClass::Broker, h);
}

/// Publishes: after every connection everything (hallq's `$state` `init` first, `ready`
/// last), between connections what changed.
async fn flush(
    client: AsyncClient,
    hall_id: String,
    subscriptions: Vec<String>,
    outbox: Outbox,
    mut connected: watch::Receiver<Option<u64>>,
    shutdown: CancellationToken,
) {
    let state = topics::state(&hall_id);
    let mut seen = None;
    loop {
        let now = *connected.borrow_and_update();
        if let Some(generation) = now {
            if seen != Some(generation) {
                seen = Some(generation);
                let init = client
                    .publish(state.clone(), QoS::AtLeastOnce, true, "init")
                    .await;
                let subscribed = client
                    .subscribe_many(
                        subscriptions
                            .iter()
                            .map(|t| rumqttc::SubscribeFilter::new(t.clone(), QoS::AtLeastOnce)),
                    )
                    .await;
                outbox.all_dirty();
                let published = publish_dirty(&client, &outbox).await;
                let ready = client
                    .publish(state.clone(), QoS::AtLeastOnce, true, "ready")
                    .await;
                if init.and(subscribed).and(published).and(ready).is_err() {
                    tracing::debug!("mqtt: the client stopped taking requests");
                }
            } else if publish_dirty(&client, &outbox).await.is_err() {
                tracing::debug!("mqtt: the client stopped taking requests");
            }
        }
        tokio::select! {
            _ = shutdown.cancelled() => return,
            r = connected.changed() => if r.is_err() { return },
            _ = outbox.changed(), if now.is_some() => {}
        }
    }
}

/// Publish every changed topic (QoS 1, retained).
async fn publish_dirty(client: &AsyncClient, outbox: &Outbox) -> Result<(), rumqttc::ClientError> {
    let dirty = outbox.take_dirty();
    let mut rest = dirty.iter().map(|(t, _)| t.clone());
    for (topic, payload) in &dirty {
        rest.next();
        if let Err(e) = client
            .publish(topic.clone(), QoS::AtLeastOnce, true, payload.to_vec())
            .await
        {
            outbox.again(std::iter::once(topic.clone()).chain(rest));
            return Err(e);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refusals_and_network_errors_have_clear_causes() {
        let refused = |c| cause(&ConnectionError::ConnectionRefused(c));
        assert_eq!(
            refused(ConnectReturnCode::BadUserNamePassword),
            "bad_credentials"
        );
        assert_eq!(refused(ConnectReturnCode::NotAuthorized), "not_authorized");
        let io = |k| cause(&ConnectionError::Io(std::io::Error::from(k)));
        assert_eq!(io(std::io::ErrorKind::ConnectionRefused), "unreachable");
        assert_eq!(io(std::io::ErrorKind::ConnectionReset), "connection_lost");
        assert_eq!(cause(&ConnectionError::NetworkTimeout), "timeout");
        let huge =
            rumqttc::StateError::Deserialization(rumqttc::Error::PayloadSizeLimitExceeded(2 << 20));
        assert_eq!(
            cause(&ConnectionError::MqttState(huge)),
            "oversized_message"
        );
    }

    #[test]
    fn a_secret_is_its_first_line_and_an_error_names_the_file_only() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("pw");
        std::fs::write(&path, "s3cret\n").unwrap();
        assert_eq!(read_secret(&path).unwrap(), "s3cret");
        let missing = read_secret(&dir.path().join("nope")).unwrap_err();
        assert!(missing.contains("nope") && !missing.contains("s3cret"));
    }
}
