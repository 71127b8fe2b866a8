//! The topic tree (`docs/devices/mqtt.md`). Every topic is a Homie 5 topic under
//! `homie/5/<id>/`: hallq's own device is the hall's id, every MQTT device its config id
//! (both limited to `a-z`, `0-9` and `-` by the config check, as Homie asks).

/// The root of every topic.
pub const ROOT: &str = "homie/5";

/// `homie/5/<id>/$state`: a device's (or hallq's) Homie state, retained.
pub fn state(id: &str) -> String {
    format!("{ROOT}/{id}/$state")
}

/// `homie/5/<id>/$description`: hallq's description document, retained.
pub fn description(id: &str) -> String {
    format!("{ROOT}/{id}/$description")
}

/// `homie/5/<id>/<node>/<property>`: a property's value.
pub fn property(id: &str, node: &str, property: &str) -> String {
    format!("{ROOT}/{id}/{node}/{property}")
}

/// Where a key device publishes its key events (not retained).
pub fn key_event(device: &str) -> String {
    property(device, "keys", "event")
}

/// Where hallq acknowledges a key device's events (retained).
pub fn key_ack(device: &str) -> String {
    format!("{}/set", property(device, "keys", "ack"))
}

/// A board's (or a call pad's pixel screen's) frame: a whole-frame update, retained.
pub fn frame(device: &str) -> String {
    format!("{}/set", property(device, "display", "frame"))
}

/// A key device's text screen: `{"lines": [...]}`, retained.
pub fn screen_text(device: &str) -> String {
    format!("{}/set", property(device, "screen", "text"))
}

/// A key device's indicator LEDs: the bit mask as a decimal integer, retained.
pub fn screen_leds(device: &str) -> String {
    format!("{}/set", property(device, "screen", "leds"))
}

/// What an incoming topic is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Incoming<'a> {
    State { device: &'a str },
    KeyEvent { device: &'a str },
}

/// Reads a topic hallq subscribes to; `None` for any other.
pub fn incoming(topic: &str) -> Option<Incoming<'_>> {
    let rest = topic.strip_prefix(ROOT)?.strip_prefix('/')?;
    let (device, tail) = rest.split_once('/')?;
    match tail {
        "$state" => Some(Incoming::State { device }),
        "keys/event" => Some(Incoming::KeyEvent { device }),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn topics_are_homie_5_and_read_back() {
        assert_eq!(state("pad-3"), "homie/5/pad-3/$state");
        assert_eq!(key_event("pad-3"), "homie/5/pad-3/keys/event");
        assert_eq!(key_ack("pad-3"), "homie/5/pad-3/keys/ack/set");
        assert_eq!(frame("bar-3"), "homie/5/bar-3/display/frame/set");
        assert_eq!(
            incoming("homie/5/pad-3/keys/event"),
            Some(Incoming::KeyEvent { device: "pad-3" })
        );
        assert_eq!(
            incoming("homie/5/pad-3/$state"),
            Some(Incoming::State { device: "pad-3" })
        );
        assert_eq!(incoming("homie/5/pad-3/keys/ack/set"), None);
        assert_eq!(incoming("homie/4/pad-3/$state"), None);
        assert_eq!(incoming("homie/5/pad-3"), None);
    }
}
