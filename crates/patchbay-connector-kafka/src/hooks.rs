//! librdkafka's resolve and connect callbacks, routed to the client's
//! [`BrokerGuard`].
//!
//! rdkafka 0.39 (the newest on crates.io) has no `rewrite_broker_addr`; the
//! C library has the hooks themselves. Both are set on the native config
//! before the client exists, so no broker thread runs without them:
//!
//! * `resolve_cb` replaces `getaddrinfo` for every broker host (bootstrap
//!   and advertised): checked addresses or a bounded lookup, each address
//!   checked against the policy; a forbidden host gets no address at all.
//! * `connect_cb` replaces `connect(2)`: the address actually connected to
//!   is checked once more, so nothing forbidden is contacted whatever path
//!   produced the address.
//!
//! librdkafka passes the config's opaque, which rdkafka sets to the client's
//! context (`Arc::as_ptr`); the client destroys the native handle, joining
//! every thread that may call these, before it drops the context.

use std::ffi::{c_char, c_int, c_void, CStr};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use rdkafka::bindings as rd;

use crate::guard::{Denied, GuardedContext};

type ResolveCb = unsafe extern "C" fn(
    *const c_char,
    *const c_char,
    *const libc::addrinfo,
    *mut *mut libc::addrinfo,
    *mut c_void,
) -> c_int;

extern "C" {
    // In librdkafka since 2.2 (rdkafka-sys bundles 2.12) but not in the
    // generated bindings.
    fn rd_kafka_conf_set_resolve_cb(conf: *mut rd::rd_kafka_conf_t, cb: Option<ResolveCb>);
}

/// Installs both hooks on `conf`, for a client whose context is a `C`.
///
/// # Safety
/// `conf` must be a valid native config that becomes the config of a client
/// created by rdkafka with a context of type `C` (rdkafka sets the opaque).
pub(crate) unsafe fn install<C: GuardedContext>(conf: *mut rd::rd_kafka_conf_t) {
    rd_kafka_conf_set_resolve_cb(conf, Some(resolve::<C>));
    rd::rd_kafka_conf_set_connect_cb(conf, Some(connect::<C>));
}

/// One node of the `addrinfo` list handed to librdkafka: the entry and the
/// address it points at, in one allocation freed by the free call below.
#[repr(C)]
struct Node {
    info: libc::addrinfo,
    addr: libc::sockaddr_storage,
}

unsafe extern "C" fn resolve<C: GuardedContext>(
    node: *const c_char,
    service: *const c_char,
    hints: *const libc::addrinfo,
    res: *mut *mut libc::addrinfo,
    opaque: *mut c_void,
) -> c_int {
    if node.is_null() && service.is_null() && hints.is_null() {
        // librdkafka is done with a list this callback made.
        if !res.is_null() {
            free_list(*res);
        }
        return 0;
    }
    if node.is_null() || res.is_null() || opaque.is_null() {
        return libc::EAI_FAIL;
    }
    let context = &*(opaque as *const C);
    let host = CStr::from_ptr(node).to_string_lossy();
    let port = if service.is_null() {
        None
    } else {
        CStr::from_ptr(service)
            .to_str()
            .ok()
            .and_then(|s| s.parse::<u16>().ok())
    };
    let Some(port) = port else {
        return libc::EAI_SERVICE;
    };
    let family = if hints.is_null() {
        libc::AF_UNSPEC
    } else {
        (*hints).ai_family
    };
    // A panic must not unwind into C.
    let found = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        context.guard().resolve(&host, port)
    }));
    let addrs: Vec<SocketAddr> = match found {
        Ok(Ok(addrs)) => addrs
            .into_iter()
            .filter(|a| match family {
                libc::AF_INET => a.is_ipv4(),
                libc::AF_INET6 => a.is_ipv6(),
                _ => true,
            })
            .collect(),
        // librdkafka logs "Failed to resolve": the guard has the reason.
        Ok(Err(Denied::Forbidden)) | Err(_) => return libc::EAI_FAIL,
        Ok(Err(Denied::Lookup(_))) => return libc::EAI_AGAIN,
    };
    if addrs.is_empty() {
        return libc::EAI_NONAME;
    }
    *res = make_list(&addrs, hints);
    0
}

fn make_list(addrs: &[SocketAddr], hints: *const libc::addrinfo) -> *mut libc::addrinfo {
    let (socktype, protocol) = if hints.is_null() {
        (libc::SOCK_STREAM, libc::IPPROTO_TCP)
    } else {
        // SAFETY: librdkafka passes valid hints.
        unsafe { ((*hints).ai_socktype, (*hints).ai_protocol) }
    };
    let mut head: *mut libc::addrinfo = std::ptr::null_mut();
    for addr in addrs.iter().rev() {
        // SAFETY: all-zero is a valid addrinfo and sockaddr_storage.
        let mut node: Box<Node> = Box::new(unsafe { std::mem::zeroed() });
        let len = write_sockaddr(*addr, &mut node.addr);
        node.info.ai_family = if addr.is_ipv4() {
            libc::AF_INET
        } else {
            libc::AF_INET6
        };
        node.info.ai_socktype = socktype;
        node.info.ai_protocol = protocol;
        node.info.ai_addrlen = len;
        node.info.ai_next = head;
        let raw = Box::into_raw(node);
        // SAFETY: `raw` is live until free_list; the address sits in it.
        unsafe {
            (*raw).info.ai_addr = std::ptr::addr_of_mut!((*raw).addr).cast();
        }
        // `info` is the first field of a repr(C) struct: same address.
        head = raw.cast();
    }
    head
}

/// Frees a list from `make_list`.
unsafe fn free_list(mut head: *mut libc::addrinfo) {
    while !head.is_null() {
        let node = Box::from_raw(head.cast::<Node>());
        head = node.info.ai_next;
    }
}

fn write_sockaddr(addr: SocketAddr, out: &mut libc::sockaddr_storage) -> libc::socklen_t {
    match addr {
        SocketAddr::V4(v4) => {
            // SAFETY: sockaddr_storage is large and aligned enough for any sockaddr.
            let sin =
                unsafe { &mut *(out as *mut libc::sockaddr_storage).cast::<libc::sockaddr_in>() };
            sin.sin_family = libc::AF_INET as libc::sa_family_t;
            sin.sin_port = v4.port().to_be();
            sin.sin_addr = libc::in_addr {
                s_addr: u32::from(*v4.ip()).to_be(),
            };
            std::mem::size_of::<libc::sockaddr_in>() as libc::socklen_t
        }
        SocketAddr::V6(v6) => {
            // SAFETY: as above.
            let sin6 =
                unsafe { &mut *(out as *mut libc::sockaddr_storage).cast::<libc::sockaddr_in6>() };
            sin6.sin6_family = libc::AF_INET6 as libc::sa_family_t;
            sin6.sin6_port = v6.port().to_be();
            sin6.sin6_addr = libc::in6_addr {
                s6_addr: v6.ip().octets(),
            };
            sin6.sin6_flowinfo = v6.flowinfo();
            sin6.sin6_scope_id = v6.scope_id();
            std::mem::size_of::<libc::sockaddr_in6>() as libc::socklen_t
        }
    }
}

/// The address a `sockaddr` holds, if it is IPv4 or IPv6.
unsafe fn read_sockaddr(addr: *const libc::sockaddr, len: c_int) -> Option<SocketAddr> {
    if addr.is_null() {
        return None;
    }
    let len = usize::try_from(len).ok()?;
    match c_int::from((*addr).sa_family) {
        libc::AF_INET if len >= std::mem::size_of::<libc::sockaddr_in>() => {
            let sin = &*addr.cast::<libc::sockaddr_in>();
            let ip = Ipv4Addr::from(u32::from_be(sin.sin_addr.s_addr));
            Some(SocketAddr::new(IpAddr::V4(ip), u16::from_be(sin.sin_port)))
        }
        libc::AF_INET6 if len >= std::mem::size_of::<libc::sockaddr_in6>() => {
            let sin6 = &*addr.cast::<libc::sockaddr_in6>();
            let ip = Ipv6Addr::from(sin6.sin6_addr.s6_addr);
            Some(SocketAddr::new(
                IpAddr::V6(ip),
                u16::from_be(sin6.sin6_port),
            ))
        }
        _ => None,
    }
}

unsafe extern "C" fn connect<C: GuardedContext>(
    sockfd: c_int,
    addr: *const libc::sockaddr,
    addrlen: c_int,
    id: *const c_char,
    opaque: *mut c_void,
) -> c_int {
    let Some(target) = read_sockaddr(addr, addrlen) else {
        // Not an IP socket address: nothing the policy can judge.
        return libc::EAFNOSUPPORT;
    };
    if opaque.is_null() {
        return libc::EACCES;
    }
    let context = &*(opaque as *const C);
    let broker = if id.is_null() {
        target.to_string()
    } else {
        CStr::from_ptr(id).to_string_lossy().into_owned()
    };
    let admitted = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        context.guard().admit(target, &broker)
    }));
    if !matches!(admitted, Ok(true)) {
        return libc::EACCES;
    }
    // What librdkafka does without a callback: a non-blocking connect whose
    // outcome it polls for.
    if libc::connect(sockfd, addr, addrlen as libc::socklen_t) == -1 {
        let errno = std::io::Error::last_os_error()
            .raw_os_error()
            .unwrap_or(libc::EIO);
        if errno != libc::EINPROGRESS {
            return errno;
        }
    }
    0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_round_trip_through_sockaddr() {
        let addrs: Vec<SocketAddr> = vec![
            "127.0.0.1:9092".parse().unwrap(),
            "[::1]:19092".parse().unwrap(),
        ];
        let head = make_list(&addrs, std::ptr::null());
        let mut seen = Vec::new();
        let mut p = head;
        while !p.is_null() {
            // SAFETY: a list from make_list.
            unsafe {
                let info = &*p;
                seen.push(read_sockaddr(info.ai_addr, info.ai_addrlen as c_int).unwrap());
                p = info.ai_next;
            }
        }
        assert_eq!(seen, addrs);
        // SAFETY: freed once.
        unsafe { free_list(head) };
    }
}
