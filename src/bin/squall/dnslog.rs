//! Which resolver answered, for `squall -v`: a [`Resolver`] wrapper that reports each batch of
//! addresses as it arrives (`* Host example.com:443 resolved by stub resolver, nameserver
//! 10.0.0.1:53: 93.184.216.34`), and the resolver choice for `--dns-servers`.
//!
//! It lives apart from `run.rs` because it only decorates the library's resolver: the client
//! does the resolving, this file only watches it.

use std::net::SocketAddr;
use std::rc::Rc;
use std::task::{Context, Poll};

use squall::net::dns::{AddressStream, ResolveFuture, ResolveStream, Resolver, ResolverChoice};

/// Where a line of -v text goes (stderr, past the progress bar).
pub type Say = Rc<dyn Fn(&str)>;

/// The resolver for these options: the stub resolver asking `dns_servers` if given, else the
/// library's default choice; wrapped to report its answers when `say` is set (-v).
pub fn resolver(dns_servers: Option<&[SocketAddr]>, say: Option<Say>) -> Rc<dyn Resolver> {
    let inner = match dns_servers {
        Some(s) => ResolverChoice::StubServers(s.to_vec()).resolver(),
        None => ResolverChoice::Auto.resolver(),
    };
    match say {
        Some(say) => Rc::new(Verbose { inner, say }),
        None => inner,
    }
}

struct Verbose {
    inner: Rc<dyn Resolver>,
    say: Say,
}

impl Resolver for Verbose {
    fn resolve(&self, host: &str, port: u16) -> ResolveFuture {
        self.inner.resolve(host, port)
    }

    fn resolve_stream(&self, host: &str, port: u16) -> ResolveStream {
        Box::new(Reporting {
            inner: self.inner.resolve_stream(host, port),
            host: format!("{host}:{port}"),
            say: self.say.clone(),
        })
    }

    fn name(&self) -> String {
        self.inner.name()
    }
}

struct Reporting {
    inner: ResolveStream,
    host: String,
    say: Say,
}

impl AddressStream for Reporting {
    fn poll_next(
        &mut self,
        cx: &mut Context<'_>,
    ) -> Poll<Option<std::io::Result<Vec<SocketAddr>>>> {
        let next = self.inner.poll_next(cx);
        if let Poll::Ready(Some(Ok(addrs))) = &next {
            let ips: Vec<String> = addrs.iter().map(|a| a.ip().to_string()).collect();
            (self.say)(&format!(
                "* Host {} resolved by {}: {}\n",
                self.host,
                self.inner.describe(),
                ips.join(", ")
            ));
        }
        next
    }

    fn describe(&self) -> String {
        self.inner.describe()
    }
}
