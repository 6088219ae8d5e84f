//! `unix::SocketAddr`: the address of a Unix-domain socket, std's wrapped (as tokio does, so
//! that the type is gort's own and can grow methods), with the conversions the sockets need.

use std::fmt;
use std::io;
#[cfg(target_os = "android")]
use std::os::android::net::SocketAddrExt;
#[cfg(target_os = "linux")]
use std::os::linux::net::SocketAddrExt;
use std::path::Path;
use std::sync::OnceLock;

use socket2::SockAddr;

/// The address of a Unix-domain socket (tokio's `net::unix::SocketAddr`): a path, an abstract
/// name (Linux), or unnamed (an unbound socket, or one end of a `pair`). Converts to and from
/// std's with `From`.
#[derive(Clone)]
pub struct SocketAddr(pub(crate) std::os::unix::net::SocketAddr);

impl SocketAddr {
    /// Whether the address is unnamed (the socket was never bound).
    pub fn is_unnamed(&self) -> bool {
        self.0.is_unnamed()
    }

    /// The path, if this is a path address.
    pub fn as_pathname(&self) -> Option<&Path> {
        self.0.as_pathname()
    }

    /// The name, if this is an address in Linux's abstract namespace (no file in the file
    /// system; the name is bytes, without the leading NUL).
    #[cfg(any(target_os = "linux", target_os = "android"))]
    pub fn as_abstract_name(&self) -> Option<&[u8]> {
        self.0.as_abstract_name()
    }

    /// The socket2 form, for `connect` and `bind`. An unnamed address names nothing to
    /// connect or bind to: `InvalidInput`.
    pub(crate) fn to_sock_addr(&self) -> io::Result<SockAddr> {
        if let Some(path) = self.as_pathname() {
            return SockAddr::unix(path);
        }
        #[cfg(any(target_os = "linux", target_os = "android"))]
        if let Some(name) = self.as_abstract_name() {
            return abstract_sock_addr(name);
        }
        Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "an unnamed Unix socket address cannot be connected or bound to",
        ))
    }

    /// The address a datagram came from, as socket2 reports it.
    pub(crate) fn from_sock_addr(addr: &SockAddr) -> io::Result<SocketAddr> {
        if let Some(path) = addr.as_pathname() {
            return std::os::unix::net::SocketAddr::from_pathname(path).map(SocketAddr);
        }
        #[cfg(any(target_os = "linux", target_os = "android"))]
        if let Some(name) = addr.as_abstract_namespace() {
            return std::os::unix::net::SocketAddr::from_abstract_name(name).map(SocketAddr);
        }
        unnamed().map(SocketAddr)
    }
}

/// The socket2 address of abstract name `name` (socket2 reads a leading NUL as "abstract").
#[cfg(any(target_os = "linux", target_os = "android"))]
fn abstract_sock_addr(name: &[u8]) -> io::Result<SockAddr> {
    use std::os::unix::ffi::OsStrExt;
    let mut bytes = Vec::with_capacity(name.len() + 1);
    bytes.push(0);
    bytes.extend_from_slice(name);
    SockAddr::unix(std::ffi::OsStr::from_bytes(&bytes))
}

/// An unnamed address. std can make one only by asking an unbound socket for its own
/// address, so that is done once and the result cloned.
fn unnamed() -> io::Result<std::os::unix::net::SocketAddr> {
    static UNNAMED: OnceLock<std::os::unix::net::SocketAddr> = OnceLock::new();
    if let Some(addr) = UNNAMED.get() {
        return Ok(addr.clone());
    }
    let addr = std::os::unix::net::UnixDatagram::unbound()?.local_addr()?;
    Ok(UNNAMED.get_or_init(|| addr).clone())
}

impl fmt::Debug for SocketAddr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl From<std::os::unix::net::SocketAddr> for SocketAddr {
    fn from(addr: std::os::unix::net::SocketAddr) -> SocketAddr {
        SocketAddr(addr)
    }
}

impl From<SocketAddr> for std::os::unix::net::SocketAddr {
    fn from(addr: SocketAddr) -> std::os::unix::net::SocketAddr {
        addr.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_round_trip_through_socket2() {
        let path = SocketAddr::from(
            std::os::unix::net::SocketAddr::from_pathname("/tmp/gort-addr").unwrap(),
        );
        let back = SocketAddr::from_sock_addr(&path.to_sock_addr().unwrap()).unwrap();
        assert_eq!(back.as_pathname(), Some(Path::new("/tmp/gort-addr")));

        #[cfg(any(target_os = "linux", target_os = "android"))]
        {
            let name = SocketAddr::from(
                std::os::unix::net::SocketAddr::from_abstract_name(b"gort-abstract").unwrap(),
            );
            let back = SocketAddr::from_sock_addr(&name.to_sock_addr().unwrap()).unwrap();
            assert_eq!(back.as_abstract_name(), Some(&b"gort-abstract"[..]));
        }

        let unnamed = SocketAddr(unnamed().unwrap());
        assert!(unnamed.is_unnamed());
        let err = unnamed.to_sock_addr().unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::InvalidInput);
    }
}
