//! The system's resolver configuration: `/etc/hosts`, `/etc/resolv.conf` and the `hosts:`
//! line of `/etc/nsswitch.conf`, parsed by pure functions and re-read when a file changes.
//!
//! A stub resolver has to behave like the C library's, or names that work in `curl` stop
//! working in squall. So these parsers follow glibc's reading of the files (resolv.conf(5),
//! hosts(5), nsswitch.conf(5)): unknown keywords and malformed lines are skipped, not errors,
//! because the C library skips them too; `search` and `domain` replace each other (the last
//! one wins); at most three name servers count; option values are clamped to glibc's limits.
//!
//! The parsers take text and return values, so the tests need no files. [`Watched`] adds the
//! I/O: it keeps a parsed file and re-reads it when its modification time changes (checked at
//! most once per [`RECHECK_EVERY`]), as glibc re-reads resolv.conf.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime};

/// The most name servers used (glibc's `MAXNS`).
pub const MAX_NAMESERVERS: usize = 3;
/// The most search domains used (glibc's `MAXDNSRCH`).
pub const MAX_SEARCH: usize = 6;
/// Default `ndots`.
pub const DEFAULT_NDOTS: u8 = 1;
/// Default per-try `timeout`.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(5);
/// Default `attempts` (rounds over the server list).
pub const DEFAULT_ATTEMPTS: u8 = 2;
/// How often a watched file's modification time is looked at, at most.
pub const RECHECK_EVERY: Duration = Duration::from_secs(1);

/// What `/etc/resolv.conf` says.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ResolvConf {
    /// `nameserver` lines, port 53, at most [`MAX_NAMESERVERS`]. Empty when none is given
    /// (glibc then asks 127.0.0.1; see [`ResolvConf::servers_or_default`]).
    pub nameservers: Vec<SocketAddr>,
    /// The search list (`search`, or `domain` as a one-entry list), no final dots.
    pub search: Vec<String>,
    /// `options ndots:N` (0..=15): a name with at least this many dots is tried as is first.
    pub ndots: u8,
    /// `options timeout:N` (1..=30 s): how long one try waits for a reply.
    pub timeout: Duration,
    /// `options attempts:N` (1..=5): rounds over the server list.
    pub attempts: u8,
    /// `options rotate`: spread queries over the servers (round robin) instead of always
    /// starting with the first.
    pub rotate: bool,
}

impl Default for ResolvConf {
    fn default() -> ResolvConf {
        ResolvConf {
            nameservers: Vec::new(),
            search: Vec::new(),
            ndots: DEFAULT_NDOTS,
            timeout: DEFAULT_TIMEOUT,
            attempts: DEFAULT_ATTEMPTS,
            rotate: false,
        }
    }
}

impl ResolvConf {
    /// The name servers, or glibc's fallback `127.0.0.1:53` when there are none.
    pub fn servers_or_default(&self) -> Vec<SocketAddr> {
        if self.nameservers.is_empty() {
            vec![SocketAddr::from(([127, 0, 0, 1], 53))]
        } else {
            self.nameservers.clone()
        }
    }
}

/// Parse resolv.conf text (see the module docs for the rules).
pub fn parse_resolv_conf(text: &str) -> ResolvConf {
    let mut conf = ResolvConf::default();
    for line in text.lines() {
        let line = line.split(['#', ';']).next().unwrap_or("");
        let mut words = line.split_whitespace();
        match words.next() {
            Some("nameserver") => {
                // An IPv6 address may carry a zone (`fe80::1%eth0`): not supported, skipped.
                if let Some(ip) = words.next().and_then(|w| w.parse::<IpAddr>().ok())
                    && conf.nameservers.len() < MAX_NAMESERVERS
                {
                    conf.nameservers.push(SocketAddr::new(ip, 53));
                }
            }
            Some("domain") => {
                if let Some(d) = words.next() {
                    conf.search = domain_list(std::iter::once(d));
                }
            }
            Some("search") => conf.search = domain_list(words),
            Some("options") => {
                for opt in words {
                    apply_option(&mut conf, opt);
                }
            }
            _ => {}
        }
    }
    conf
}

fn domain_list<'a>(words: impl Iterator<Item = &'a str>) -> Vec<String> {
    words
        .map(|w| w.trim_end_matches('.').to_ascii_lowercase())
        .filter(|w| !w.is_empty())
        .take(MAX_SEARCH)
        .collect()
}

fn apply_option(conf: &mut ResolvConf, opt: &str) {
    let (key, value) = match opt.split_once(':') {
        Some((k, v)) => (k, v.parse::<u32>().ok()),
        None => (opt, None),
    };
    match (key, value) {
        ("ndots", Some(n)) => conf.ndots = n.min(15) as u8,
        ("timeout", Some(n)) => conf.timeout = Duration::from_secs(n.clamp(1, 30) as u64),
        ("attempts", Some(n)) => conf.attempts = n.clamp(1, 5) as u8,
        ("rotate", None) => conf.rotate = true,
        _ => {} // edns0, trust-ad, single-request...: nothing for this resolver to do
    }
}

/// The static table of `/etc/hosts`: names (lower case, no final dot) to addresses, in file
/// order.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Hosts {
    map: HashMap<String, Vec<IpAddr>>,
}

impl Hosts {
    /// The addresses for `name` (any case, final dot allowed), if the file lists it.
    pub fn get(&self, name: &str) -> Option<&[IpAddr]> {
        let key = name.strip_suffix('.').unwrap_or(name).to_ascii_lowercase();
        self.map.get(&key).map(|v| v.as_slice())
    }

    /// How many names are listed.
    pub fn len(&self) -> usize {
        self.map.len()
    }

    /// Whether no name is listed.
    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }
}

/// Parse hosts text: `address name [aliases...]` per line, `#` comments. Lines whose first
/// word is not an IP address are skipped.
pub fn parse_hosts(text: &str) -> Hosts {
    let mut map: HashMap<String, Vec<IpAddr>> = HashMap::new();
    for line in text.lines() {
        let line = line.split('#').next().unwrap_or("");
        let mut words = line.split_whitespace();
        let Some(ip) = words.next().and_then(|w| w.parse::<IpAddr>().ok()) else {
            continue;
        };
        for name in words {
            let key = name.trim_end_matches('.').to_ascii_lowercase();
            let ips = map.entry(key).or_default();
            if !ips.contains(&ip) {
                ips.push(ip);
            }
        }
    }
    Hosts { map }
}

/// The sources of the `hosts:` line of nsswitch.conf, in order, without the `[...]` action
/// items (`files`, `dns`...). `None` when there is no `hosts:` line.
pub fn nsswitch_hosts(text: &str) -> Option<Vec<String>> {
    let mut found = None;
    for line in text.lines() {
        let line = line.split('#').next().unwrap_or("").trim();
        if let Some(rest) = line.strip_prefix("hosts:") {
            let mut sources = Vec::new();
            let mut in_action = false;
            for w in rest.split_whitespace() {
                if w.starts_with('[') {
                    in_action = true;
                }
                if !in_action {
                    sources.push(w.to_ascii_lowercase());
                }
                if w.ends_with(']') {
                    in_action = false;
                }
            }
            found = Some(sources); // the last hosts: line wins, as in glibc
        }
    }
    found
}

/// Whether the stub resolver does what the C library would for this nsswitch `hosts:` line:
/// only for `files dns` (the files, then DNS), or for no nsswitch.conf at all (glibc's
/// built-in default also reads the files and asks DNS). Anything else (`mdns4_minimal`,
/// `resolve`, `myhostname`, `ldap`...) needs the C library.
pub fn stub_can_replace(nsswitch: Option<&[String]>) -> bool {
    match nsswitch {
        None => true,
        Some(sources) => sources == ["files", "dns"],
    }
}

/// A file parsed into a `T`, re-read when its modification time changes (see the module
/// docs). A missing or unreadable file parses as empty text.
#[derive(Debug)]
pub struct Watched<T> {
    path: PathBuf,
    parse: fn(&str) -> T,
    mtime: Option<SystemTime>,
    checked: Option<Instant>,
    value: T,
}

impl<T> Watched<T> {
    /// Read and parse `path` now.
    pub fn new(path: impl Into<PathBuf>, parse: fn(&str) -> T) -> Watched<T> {
        let path = path.into();
        let (mtime, text) = read(&path);
        Watched {
            value: parse(&text),
            path,
            parse,
            mtime,
            checked: Some(Instant::now()),
        }
    }

    /// The current value, re-read first if the file changed (looked at once per
    /// [`RECHECK_EVERY`] at most).
    pub fn get(&mut self) -> &T {
        let now = Instant::now();
        if self
            .checked
            .is_none_or(|c| now.duration_since(c) >= RECHECK_EVERY)
        {
            self.checked = Some(now);
            let mtime = std::fs::metadata(&self.path)
                .and_then(|m| m.modified())
                .ok();
            if mtime != self.mtime {
                let (mtime, text) = read(&self.path);
                self.mtime = mtime;
                self.value = (self.parse)(&text);
            }
        }
        &self.value
    }

    /// Forget when the file was last looked at, so the next [`get`](Watched::get) checks it.
    pub fn recheck(&mut self) {
        self.checked = None;
    }

    /// The file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

fn read(path: &Path) -> (Option<SystemTime>, String) {
    let mtime = std::fs::metadata(path).and_then(|m| m.modified()).ok();
    let text = std::fs::read(path)
        .map(|b| String::from_utf8_lossy(&b).into_owned())
        .unwrap_or_default();
    (mtime, text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolv_conf_full() {
        let conf = parse_resolv_conf(
            "# generated\n\
             nameserver 10.0.0.1\n\
             nameserver   2001:db8::1  # v6\n\
             nameserver fe80::1%eth0\n\
             nameserver not-an-ip\n\
             nameserver 10.0.0.2\n\
             nameserver 10.0.0.3\n\
             domain first.example\n\
             search Corp.Example. lab.example ; comment\n\
             options ndots:2 timeout:3 attempts:4 rotate edns0 ndots:x\n",
        );
        assert_eq!(
            conf.nameservers,
            vec![
                "10.0.0.1:53".parse().unwrap(),
                "[2001:db8::1]:53".parse().unwrap(),
                "10.0.0.2:53".parse().unwrap(),
            ]
        );
        assert_eq!(conf.search, vec!["corp.example", "lab.example"]);
        assert_eq!(conf.ndots, 2);
        assert_eq!(conf.timeout, Duration::from_secs(3));
        assert_eq!(conf.attempts, 4);
        assert!(conf.rotate);
    }

    #[test]
    fn resolv_conf_defaults_and_clamps() {
        let conf = parse_resolv_conf("");
        assert_eq!(conf, ResolvConf::default());
        assert_eq!(
            conf.servers_or_default(),
            vec!["127.0.0.1:53".parse().unwrap()]
        );
        let conf = parse_resolv_conf(
            "search a b c d e f g h\noptions ndots:99 timeout:0 attempts:100\ndomain last.example",
        );
        assert_eq!(conf.search, vec!["last.example"]);
        assert_eq!(conf.ndots, 15);
        assert_eq!(conf.timeout, Duration::from_secs(1));
        assert_eq!(conf.attempts, 5);
        let conf = parse_resolv_conf("search a b c d e f g h");
        assert_eq!(conf.search.len(), MAX_SEARCH);
    }

    #[test]
    fn hosts_file() {
        let hosts = parse_hosts(
            "127.0.0.1 localhost\n\
             ::1 localhost ip6-localhost\n\
             # 10.9.9.9 commented.example\n\
             10.1.2.3  Build.Example build   # the build box\n\
             bogus line here\n\
             10.1.2.4 build.example.\n",
        );
        assert_eq!(hosts.len(), 4);
        assert_eq!(
            hosts.get("LOCALHOST"),
            Some(&["127.0.0.1".parse().unwrap(), "::1".parse().unwrap()][..])
        );
        assert_eq!(
            hosts.get("build.example."),
            Some(&["10.1.2.3".parse().unwrap(), "10.1.2.4".parse().unwrap()][..])
        );
        assert_eq!(hosts.get("build"), Some(&["10.1.2.3".parse().unwrap()][..]));
        assert_eq!(hosts.get("commented.example"), None);
        assert!(parse_hosts("").is_empty());
    }

    #[test]
    fn nsswitch_line() {
        let s = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(
            nsswitch_hosts("passwd: files\nhosts:  files dns # x\n"),
            Some(s(&["files", "dns"]))
        );
        let systemd = nsswitch_hosts(
            "hosts: files mymachines resolve [!UNAVAIL=return] files myhostname dns",
        );
        assert_eq!(
            systemd,
            Some(s(&[
                "files",
                "mymachines",
                "resolve",
                "files",
                "myhostname",
                "dns"
            ]))
        );
        assert_eq!(
            nsswitch_hosts("hosts: dns [ NOTFOUND=return ] files"),
            Some(s(&["dns", "files"]))
        );
        assert_eq!(nsswitch_hosts("passwd: files"), None);

        assert!(stub_can_replace(None));
        assert!(stub_can_replace(Some(&s(&["files", "dns"]))));
        assert!(!stub_can_replace(systemd.as_deref()));
        assert!(!stub_can_replace(Some(&s(&["dns", "files"]))));
        assert!(!stub_can_replace(Some(&s(&[
            "files",
            "mdns4_minimal",
            "dns"
        ]))));
    }

    #[test]
    fn watched_file_rereads_on_mtime_change() {
        let dir = std::env::temp_dir().join(format!("squall-conf-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("resolv.conf");
        std::fs::write(&path, "nameserver 10.0.0.1\n").unwrap();
        let mut w = Watched::new(&path, parse_resolv_conf);
        assert_eq!(w.get().nameservers, vec!["10.0.0.1:53".parse().unwrap()]);
        std::fs::write(&path, "nameserver 10.0.0.2\n").unwrap();
        // Make sure the mtime differs even on a filesystem with coarse timestamps.
        let later = SystemTime::now() + Duration::from_secs(5);
        std::fs::File::options()
            .write(true)
            .open(&path)
            .unwrap()
            .set_modified(later)
            .unwrap();
        w.recheck(); // rather than wait RECHECK_EVERY

        assert_eq!(w.get().nameservers, vec!["10.0.0.2:53".parse().unwrap()]);
        std::fs::remove_file(&path).unwrap();
        w.recheck();
        assert_eq!(w.get(), &ResolvConf::default());
        assert_eq!(w.path(), path);
        let _ = std::fs::remove_dir(&dir);
    }
}
