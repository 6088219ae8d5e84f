//! Name resolution without blocking an M.
//!
//! `getaddrinfo` blocks, for as long as DNS takes. Addresses that are already numeric are parsed
//! in place; anything else is resolved on the current runtime's blocking pool (as tokio does),
//! while the task parks on the job's handle.

use std::io;
use std::net::{IpAddr, SocketAddr, SocketAddrV4, SocketAddrV6};

use gort_executor::task::spawn_blocking;

/// Something that names one or more socket addresses: what `bind`, `connect`, `send_to` and
/// [`lookup_host`] accept. Implemented for the same types as `std::net::ToSocketAddrs`.
pub trait ToSocketAddrs {
    /// The addresses, or the host name and port still to be resolved.
    #[doc(hidden)]
    fn to_resolution(&self) -> io::Result<Resolution>;
}

/// What [`ToSocketAddrs`] produces: addresses known now, or a name to look up.
#[doc(hidden)]
#[derive(Debug)]
pub enum Resolution {
    /// Numeric addresses: no lookup needed.
    Ready(Vec<SocketAddr>),
    /// `host:port` (or `(host, port)`) that needs the resolver.
    Lookup(String, u16),
}

/// Resolves `host` to its socket addresses (tokio's `net::lookup_host`).
pub async fn lookup_host<T: ToSocketAddrs>(
    host: T,
) -> io::Result<impl Iterator<Item = SocketAddr>> {
    Ok(resolve(&host).await?.into_iter())
}

/// The addresses `target` names, resolving off-thread if it is not numeric.
pub(crate) async fn resolve(target: &(impl ToSocketAddrs + ?Sized)) -> io::Result<Vec<SocketAddr>> {
    match target.to_resolution()? {
        Resolution::Ready(addrs) => Ok(addrs),
        Resolution::Lookup(host, port) => {
            let lookup = spawn_blocking(move || {
                std::net::ToSocketAddrs::to_socket_addrs(&(host.as_str(), port))
                    .map(Iterator::collect)
            });
            // A lookup cancelled by the runtime's shutdown, or one that panicked, is an IO
            // error of this call (`JoinError` converts).
            lookup.await?
        }
    }
}

/// Runs `op` on each address `target` names until one succeeds; the last error otherwise.
pub(crate) async fn first_success<R, F>(
    target: &(impl ToSocketAddrs + ?Sized),
    mut op: impl FnMut(SocketAddr) -> F,
) -> io::Result<R>
where
    F: std::future::Future<Output = io::Result<R>>,
{
    let mut last_error = None;
    for addr in resolve(target).await? {
        match op(addr).await {
            Ok(value) => return Ok(value),
            Err(err) => last_error = Some(err),
        }
    }
    Err(last_error.unwrap_or_else(|| {
        io::Error::new(
            io::ErrorKind::InvalidInput,
            "could not resolve to any address",
        )
    }))
}

impl ToSocketAddrs for SocketAddr {
    fn to_resolution(&self) -> io::Result<Resolution> {
        Ok(Resolution::Ready(vec![*self]))
    }
}

impl ToSocketAddrs for SocketAddrV4 {
    fn to_resolution(&self) -> io::Result<Resolution> {
        Ok(Resolution::Ready(vec![SocketAddr::V4(*self)]))
    }
}

impl ToSocketAddrs for SocketAddrV6 {
    fn to_resolution(&self) -> io::Result<Resolution> {
        Ok(Resolution::Ready(vec![SocketAddr::V6(*self)]))
    }
}

impl ToSocketAddrs for (IpAddr, u16) {
    fn to_resolution(&self) -> io::Result<Resolution> {
        Ok(Resolution::Ready(vec![SocketAddr::from(*self)]))
    }
}

impl ToSocketAddrs for [SocketAddr] {
    fn to_resolution(&self) -> io::Result<Resolution> {
        Ok(Resolution::Ready(self.to_vec()))
    }
}

impl ToSocketAddrs for (&str, u16) {
    fn to_resolution(&self) -> io::Result<Resolution> {
        let (host, port) = *self;
        Ok(match host.parse::<IpAddr>() {
            Ok(ip) => Resolution::Ready(vec![SocketAddr::new(ip, port)]),
            Err(_) => Resolution::Lookup(host.to_owned(), port),
        })
    }
}

impl ToSocketAddrs for (String, u16) {
    fn to_resolution(&self) -> io::Result<Resolution> {
        (self.0.as_str(), self.1).to_resolution()
    }
}

impl ToSocketAddrs for str {
    fn to_resolution(&self) -> io::Result<Resolution> {
        if let Ok(addr) = self.parse::<SocketAddr>() {
            return Ok(Resolution::Ready(vec![addr]));
        }
        let invalid = || io::Error::new(io::ErrorKind::InvalidInput, "invalid socket address");
        let (host, port) = self.rsplit_once(':').ok_or_else(invalid)?;
        let port = port.parse::<u16>().map_err(|_| invalid())?;
        Ok(Resolution::Lookup(host.to_owned(), port))
    }
}

impl ToSocketAddrs for String {
    fn to_resolution(&self) -> io::Result<Resolution> {
        self.as_str().to_resolution()
    }
}

impl<T: ToSocketAddrs + ?Sized> ToSocketAddrs for &T {
    fn to_resolution(&self) -> io::Result<Resolution> {
        (**self).to_resolution()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numeric_addresses_need_no_lookup() {
        let cases: &[(&dyn ToSocketAddrs, &str)] = &[
            (&"127.0.0.1:80", "127.0.0.1:80"),
            (&("::1", 443u16), "[::1]:443"),
            (&String::from("10.0.0.1:7"), "10.0.0.1:7"),
        ];
        for (target, expected) in cases {
            match target.to_resolution().unwrap() {
                Resolution::Ready(addrs) => assert_eq!(addrs[0].to_string(), *expected),
                other => panic!("{expected}: unexpected {other:?}"),
            }
        }
    }

    #[test]
    fn names_are_looked_up_and_garbage_is_refused() {
        assert!(matches!(
            "localhost:80".to_resolution().unwrap(),
            Resolution::Lookup(host, 80) if host == "localhost"
        ));
        for bad in ["localhost", "localhost:http", "1.2.3.4:99999"] {
            let err = bad.to_resolution().unwrap_err();
            assert_eq!(err.kind(), io::ErrorKind::InvalidInput, "{bad}");
        }
    }
}
