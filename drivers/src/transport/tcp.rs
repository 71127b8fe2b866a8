//! TCP transport: a network printer's raw port (9100 unless the address names another).
//!
//! Owns: adding the default port to an address and connecting with Nagle off (tickets are
//! small and status answers are awaited).
//!
//! Does not own: connect timeouts and retries (the printer task wraps every attempt).

use std::io;
use std::net::{IpAddr, SocketAddr};

use tokio::net::TcpStream;

/// The raw printing port of network printers ("JetDirect").
pub const DEFAULT_PORT: u16 = 9100;

/// A network printer, from `transport = { type = "tcp", addr = "192.0.2.10:9100" }`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TcpConfig {
    /// `host`, `host:port`, `ip`, `ip:port`, `[v6]` or `[v6]:port`.
    pub addr: String,
}

impl TcpConfig {
    pub fn new(addr: impl Into<String>) -> Self {
        TcpConfig { addr: addr.into() }
    }

    /// The address with the port made explicit (9100 when none is given).
    pub fn target(&self) -> String {
        let addr = self.addr.trim();
        if addr.parse::<SocketAddr>().is_ok() {
            return addr.to_string();
        }
        if let Ok(ip) = addr
            .trim_start_matches('[')
            .trim_end_matches(']')
            .parse::<IpAddr>()
        {
            return SocketAddr::new(ip, DEFAULT_PORT).to_string();
        }
        if addr.contains(':') {
            addr.to_string()
        } else {
            format!("{addr}:{DEFAULT_PORT}")
        }
    }
}

/// Connects to the printer.
pub async fn open(config: &TcpConfig) -> io::Result<TcpStream> {
    let target = config.target();
    let stream = TcpStream::connect(&target)
        .await
        .map_err(|e| io::Error::new(e.kind(), format!("{target}: {e}")))?;
    stream.set_nodelay(true)?;
    Ok(stream)
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::TcpListener;

    #[test]
    fn default_port() {
        for (addr, target) in [
            ("192.0.2.10", "192.0.2.10:9100"),
            ("192.0.2.10:4000", "192.0.2.10:4000"),
            ("printer-1.hall", "printer-1.hall:9100"),
            ("printer-1.hall:9101", "printer-1.hall:9101"),
            ("::1", "[::1]:9100"),
            ("[::1]", "[::1]:9100"),
            ("[::1]:9200", "[::1]:9200"),
        ] {
            assert_eq!(TcpConfig::new(addr).target(), target, "{addr}");
        }
    }

    #[tokio::test]
    async fn moves_bytes_both_ways() {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap().to_string();
        let peer = tokio::spawn(async move {
            let (mut socket, _) = listener.accept().await.unwrap();
            let mut got = [0u8; 3];
            socket.read_exact(&mut got).await.unwrap();
            socket.write_all(&[0x12]).await.unwrap();
            got
        });
        let mut link = open(&TcpConfig::new(addr)).await.unwrap();
        link.write_all(&[0x10, 0x04, 0x01]).await.unwrap();
        let mut answer = [0u8; 1];
        link.read_exact(&mut answer).await.unwrap();
        assert_eq!(answer, [0x12]);
        assert_eq!(peer.await.unwrap(), [0x10, 0x04, 0x01]);
    }
}
