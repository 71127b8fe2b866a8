//! Clerk PINs: what a PIN may be, how it is hashed (Argon2id with a random salt, as a PHC
//! string), which stored hashes the daemon accepts, and how a PIN is checked against one.
//!
//! The CLI hashes a PIN before it leaves the clerk's terminal (`hallq clerk add`), so only the
//! hash crosses the control socket and reaches the store. The web pages check a typed PIN here.
//! Owns no I/O: reading a PIN from the terminal is the CLI's, storing hashes is the store's.

use std::fmt;

use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use argon2::{Algorithm, Argon2, Params};
use serde::{Deserialize, Serialize};

/// Fewest digits in a PIN.
pub const MIN_DIGITS: usize = 4;
/// Most digits in a PIN.
pub const MAX_DIGITS: usize = 12;

/// Largest Argon2 memory cost (KiB) a stored hash may ask for: verifying must not let a bad
/// hash take the daemon's memory.
const MAX_MEMORY_KIB: u32 = 256 * 1024;
/// Largest Argon2 time cost and parallelism a stored hash may ask for.
const MAX_TIME_COST: u32 = 16;
const MAX_LANES: u32 = 8;
/// Longest PHC string accepted.
const MAX_HASH_LEN: usize = 256;

/// A PIN's Argon2id PHC string (`$argon2id$v=19$m=19456,t=2,p=1$<salt>$<hash>`). Its `Debug`
/// and `Display` never show it, so a command in a log line shows no hash.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct PinHash(String);

impl PinHash {
    /// Take a stored or received PHC string as it is; [`PinHash::check`] says whether it is one
    /// the daemon accepts.
    pub fn new(phc: impl Into<String>) -> PinHash {
        PinHash(phc.into())
    }

    /// The PHC string, for the store.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// Whether this is an Argon2id hash with a salt and costs within bounds; the reason if not.
    pub fn check(&self) -> Result<(), String> {
        self.parsed().map(|_| ())
    }

    fn parsed(&self) -> Result<PasswordHash, String> {
        if self.0.len() > MAX_HASH_LEN {
            return Err(format!(
                "the PIN hash is longer than {MAX_HASH_LEN} characters"
            ));
        }
        let hash = PasswordHash::new(&self.0)
            .map_err(|e| format!("the PIN hash is not a PHC string: {e}"))?;
        if hash.algorithm.as_str() != Algorithm::Argon2id.as_str() {
            return Err(format!(
                "the PIN hash uses {}, not argon2id",
                hash.algorithm.as_str()
            ));
        }
        if hash.salt.is_none() || hash.hash.is_none() {
            return Err("the PIN hash has no salt or no output".into());
        }
        let params = Params::try_from(&hash)
            .map_err(|e| format!("the PIN hash has bad Argon2 parameters: {e}"))?;
        if params.m_cost() > MAX_MEMORY_KIB
            || params.t_cost() > MAX_TIME_COST
            || params.p_cost() > MAX_LANES
        {
            return Err(format!(
                "the PIN hash's costs are too high (at most m={MAX_MEMORY_KIB}, t={MAX_TIME_COST}, p={MAX_LANES})"
            ));
        }
        Ok(hash)
    }

    /// Whether `pin` is the PIN this hash was made from. CPU-heavy (tens of milliseconds):
    /// call it off the async workers.
    pub fn verify(&self, pin: &Pin) -> bool {
        match self.parsed() {
            Ok(hash) => Argon2::default()
                .verify_password(pin.0.as_bytes(), &hash)
                .is_ok(),
            Err(_) => false,
        }
    }
}

impl fmt::Debug for PinHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PinHash(..)")
    }
}

/// A PIN as typed: 4 to 12 digits. Its `Debug` never shows it.
#[derive(Clone, PartialEq, Eq)]
pub struct Pin(String);

impl Pin {
    /// A PIN of 4 to 12 ASCII digits (surrounding whitespace and a line end are dropped); the
    /// error never repeats what was typed.
    pub fn parse(typed: &str) -> Result<Pin, String> {
        let pin = typed.trim();
        if !(MIN_DIGITS..=MAX_DIGITS).contains(&pin.len())
            || !pin.bytes().all(|b| b.is_ascii_digit())
        {
            return Err(format!(
                "a PIN is {MIN_DIGITS} to {MAX_DIGITS} digits (0-9)"
            ));
        }
        Ok(Pin(pin.to_string()))
    }

    /// Hash with Argon2id (default costs: 19 MiB, 2 passes, 1 lane) and a fresh random salt.
    pub fn hash(&self) -> Result<PinHash, String> {
        Argon2::default()
            .hash_password(self.0.as_bytes())
            .map(|h| PinHash(h.to_string()))
            .map_err(|e| format!("could not hash the PIN: {e}"))
    }
}

impl fmt::Debug for Pin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Pin(..)")
    }
}

/// A staff number (工号): 1 to 32 ASCII letters, digits, `-` or `_`. It names the clerk in
/// events, logs and on the call pad, so it is never a person's name.
pub fn check_staff(staff: &str) -> Result<(), String> {
    if staff.is_empty()
        || staff.len() > 32
        || !staff
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    {
        return Err("a staff number is 1 to 32 letters, digits, '-' or '_'".into());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pin_hashes_with_a_fresh_salt_and_verifies() {
        let pin = Pin::parse("246810\n").unwrap();
        let (a, b) = (pin.hash().unwrap(), pin.hash().unwrap());
        assert_ne!(a, b, "each hash has its own salt");
        assert!(a.expose().starts_with("$argon2id$"), "{}", a.expose());
        a.check().unwrap();
        assert!(a.verify(&pin));
        assert!(!a.verify(&Pin::parse("246811").unwrap()));
        assert_eq!(format!("{a:?} {pin:?}"), "PinHash(..) Pin(..)");
    }

    #[test]
    fn pins_are_four_to_twelve_digits() {
        for bad in ["123", "1234567890123", "12a4", "", "１２３４"] {
            let e = Pin::parse(bad).unwrap_err();
            assert_eq!(e, "a PIN is 4 to 12 digits (0-9)", "{bad:?}");
        }
        assert!(Pin::parse(" 1234 ").is_ok());
    }

    #[test]
    fn only_bounded_argon2id_hashes_are_accepted() {
        let ok = Pin::parse("1234").unwrap().hash().unwrap();
        let other = ok.expose().replace("$argon2id$", "$argon2i$");
        assert!(PinHash::new(other).check().unwrap_err().contains("argon2i"));
        let greedy = ok.expose().replace("m=19456", "m=4000000");
        assert!(PinHash::new(greedy)
            .check()
            .unwrap_err()
            .contains("too high"));
        assert!(PinHash::new("plain").check().is_err());
        assert!(!PinHash::new("plain").verify(&Pin::parse("1234").unwrap()));
    }

    #[test]
    fn staff_numbers_are_plain_ids() {
        assert!(check_staff("0123").is_ok());
        assert!(check_staff("clerk-01_b").is_ok());
        for bad in ["", "张三", "a b", &"9".repeat(33)] {
            assert!(check_staff(bad).is_err(), "{bad}");
        }
    }
}
