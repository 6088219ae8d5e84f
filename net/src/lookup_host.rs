//! Name resolution without blocking an M, and `ToSocketAddrs`, the sealed trait of everything
//! `bind`, `connect`, `send_to` and [`lookup_host`] accept.
//!
//! `getaddrinfo` blocks, for as long as DNS takes. Addresses that are already numeric are parsed
//! in place; anything else is resolved on the current runtime's blocking pool (as tokio does),
//! while the task parks on the job's handle.
//!
//! The trait is sealed as tokio's is: its one method names a type of this crate's, and users
//! only ever pass the implementing types (addresses, `"host:port"` strings, `(host, port)`
//! pairs, slices of addresses), never implement it.

use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, SocketAddrV4, SocketAddrV6};

use gort_executor::task::spawn_blocking;

/// Something that names one or more socket addresses: what `bind`, `connect`, `send_to` and
/// [`lookup_host`] accept (tokio's `net::ToSocketAddrs`). Implemented for the same types as
/// tokio's: socket addresses, `(IpAddr, u16)` and its v4/v6 forms, `&[SocketAddr]`, `str` and
/// `String` (`"host:port"`), `(&str, u16)`, `(String, u16)`, and references to any of them.
/// Sealed: it cannot be implemented outside gort.
pub trait ToSocketAddrs: sealed::ToSocketAddrsPriv {}

pub(crate) mod sealed {
    use std::net::SocketAddr;

    /// What [`ToSocketAddrs`](super::ToSocketAddrs) produces: addresses known now, or a name to
    /// look up.
    #[derive(Debug)]
    pub enum Resolution {
        /// Numeric addresses: no lookup needed.
        Ready(Vec<SocketAddr>),
        /// `host:port` (or `(host, port)`) that needs the resolver.
        Lookup(String, u16),
    }

    /// The method behind [`ToSocketAddrs`](super::ToSocketAddrs), in a module users cannot
    /// name (so nobody else can implement the trait).
    pub trait ToSocketAddrsPriv {
        /// The addresses, or the host name and port still to be resolved.
        fn to_resolution(&self) -> std::io::Result<Resolution>;
    }
}

use sealed::{Resolution, ToSocketAddrsPriv};

/// Resolves `host` to its socket addresses (tokio's `net::lookup_host`): `"example.com:80"`,
/// `("example.com", 80)`, or anything else [`ToSocketAddrs`] takes.
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

/// The first address `target` names (`send_to`: a datagram goes to one place).
pub(crate) async fn resolve_first(
    target: &(impl ToSocketAddrs + ?Sized),
) -> io::Result<SocketAddr> {
    resolve(target)
        .await?
        .into_iter()
        .next()
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "no addresses to send data to"))
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

/// `impl ToSocketAddrs` and its sealed method for `$ty`, whose resolution `$resolve` computes.
macro_rules! to_socket_addrs {
    ($ty:ty, |$this:ident| $resolve:expr) => {
        impl ToSocketAddrs for $ty {}

        impl ToSocketAddrsPriv for $ty {
            fn to_resolution(&self) -> io::Result<Resolution> {
                let $this = self;
                $resolve
            }
        }
    };
}

to_socket_addrs!(SocketAddr, |addr| Ok(Resolution::Ready(vec![*addr])));
to_socket_addrs!(SocketAddrV4, |addr| Ok(Resolution::Ready(vec![
    SocketAddr::V4(*addr)
])));
to_socket_addrs!(SocketAddrV6, |addr| Ok(Resolution::Ready(vec![
    SocketAddr::V6(*addr)
])));
to_socket_addrs!((IpAddr, u16), |pair| Ok(Resolution::Ready(vec![
    SocketAddr::from(*pair)
])));
to_socket_addrs!((Ipv4Addr, u16), |pair| Ok(Resolution::Ready(vec![
    SocketAddr::from(*pair)
])));
to_socket_addrs!((Ipv6Addr, u16), |pair| Ok(Resolution::Ready(vec![
    SocketAddr::from(*pair)
])));
to_socket_addrs!([SocketAddr], |addrs| Ok(Resolution::Ready(addrs.to_vec())));
to_socket_addrs!((&str, u16), |pair| {
    let (host, port) = *pair;
    Ok(match host.parse::<IpAddr>() {
        Ok(ip) => Resolution::Ready(vec![SocketAddr::new(ip, port)]),
        Err(_) => Resolution::Lookup(host.to_owned(), port),
    })
});
to_socket_addrs!((String, u16), |pair| (pair.0.as_str(), pair.1)
    .to_resolution());
to_socket_addrs!(str, |text| {
    if let Ok(addr) = text.parse::<SocketAddr>() {
        return Ok(Resolution::Ready(vec![addr]));
    }
    let invalid = || io::Error::new(io::ErrorKind::InvalidInput, "invalid socket address");
    let (host, port) = text.rsplit_once(':').ok_or_else(invalid)?;
    let port = port.parse::<u16>().map_err(|_| invalid())?;
    Ok(Resolution::Lookup(host.to_owned(), port))
});
to_socket_addrs!(String, |text| text.as_str().to_resolution());

impl<T: ToSocketAddrs + ?Sized> ToSocketAddrs for &T {}

impl<T: ToSocketAddrs + ?Sized> ToSocketAddrsPriv for &T {
    fn to_resolution(&self) -> io::Result<Resolution> {
        (**self).to_resolution()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numeric_addresses_need_no_lookup() {
        let v4 = "10.0.0.2".parse::<Ipv4Addr>().unwrap();
        let list = ["127.0.0.1:1".parse::<SocketAddr>().unwrap()];
        let slice: &[SocketAddr] = &list;
        let cases: &[(&dyn ToSocketAddrsPriv, &str)] = &[
            (&"127.0.0.1:80", "127.0.0.1:80"),
            (&("::1", 443u16), "[::1]:443"),
            (&String::from("10.0.0.1:7"), "10.0.0.1:7"),
            (&(v4, 9u16), "10.0.0.2:9"),
            (&slice, "127.0.0.1:1"),
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
