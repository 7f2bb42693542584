//! Who may talk to the explorer: a local server is reachable by every program on the machine and,
//! through the browser, by every web page it opens. So every request must carry the access token
//! (the first URL, then an `HttpOnly; SameSite=Strict` cookie, or the `X-Trialsim-Token` header);
//! its `Host` must be this server's (against DNS rebinding, where a foreign name resolves to
//! 127.0.0.1); and anything that changes or computes (every POST) must come from this server's
//! own page (`Origin`), which a cross-site form or script cannot fake.

use rand::RngExt;

/// The header a script may send the token in, instead of the cookie.
pub const TOKEN_HEADER: &str = "x-trialsim-token";

/// A fresh access token: 128 random bits from the operating system's generator, in hex.
pub(crate) fn new_token() -> String {
    let mut rng = rand::rng();
    (0..4).map(|_| format!("{:08x}", rng.random::<u32>())).collect()
}

/// The checks, for one server.
#[derive(Debug, Clone)]
pub struct Access {
    token: String,
    port: u16,
    /// `Host` values accepted: `127.0.0.1:PORT`, `localhost:PORT`, `[::1]:PORT`, and the
    /// `--host` name with the port.
    hosts: Vec<String>,
}

impl Access {
    pub fn new(token: String, port: u16, host: Option<&str>) -> Access {
        let mut hosts: Vec<String> =
            ["127.0.0.1", "localhost", "[::1]"].iter().map(|h| format!("{h}:{port}")).collect();
        if let Some(h) = host {
            let h = if h.contains(':') && !h.starts_with('[') { format!("[{h}]") } else { h.to_string() };
            let h = format!("{}:{port}", h.to_ascii_lowercase());
            if !hosts.contains(&h) {
                hosts.push(h);
            }
        }
        Access { token, port, hosts }
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    pub fn token(&self) -> &str {
        &self.token
    }

    /// The cookie's name carries the port: cookies ignore ports, and two explorers on one machine
    /// must not overwrite each other's.
    pub(crate) fn cookie_name(&self) -> String {
        format!("trialsim_{}", self.port)
    }

    /// The `Set-Cookie` value given once the token arrived in the URL.
    pub(crate) fn set_cookie(&self) -> String {
        format!("{}={}; HttpOnly; SameSite=Strict; Path=/", self.cookie_name(), self.token)
    }

    /// Whether `Host` names this server.
    pub(crate) fn host_ok(&self, host: Option<&str>) -> bool {
        host.is_some_and(|h| self.hosts.iter().any(|ok| ok.eq_ignore_ascii_case(h)))
    }

    /// Whether `Origin` is this server's own page (any accepted host, over http).
    pub(crate) fn origin_ok(&self, origin: Option<&str>) -> bool {
        origin.and_then(|o| o.strip_prefix("http://")).is_some_and(|h| self.host_ok(Some(h)))
    }

    /// Whether `candidate` is the token (in time independent of where they differ).
    pub(crate) fn token_matches(&self, candidate: &str) -> bool {
        let (a, b) = (self.token.as_bytes(), candidate.as_bytes());
        a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
    }

    /// Whether the request carries the token: in the `X-Trialsim-Token` header, or in this
    /// server's cookie among those of the `Cookie` headers.
    pub(crate) fn token_ok<'a>(&self, header: Option<&str>, cookies: impl Iterator<Item = &'a str>) -> bool {
        if header.is_some_and(|t| self.token_matches(t)) {
            return true;
        }
        let name = self.cookie_name();
        cookies
            .flat_map(|c| c.split(';'))
            .filter_map(|kv| kv.trim().split_once('='))
            .any(|(k, v)| k == name && self.token_matches(v))
    }

    /// The token in a query string (`token=…`), if one is there.
    pub(crate) fn token_in_query(query: Option<&str>) -> Option<&str> {
        query?.split('&').find_map(|kv| kv.strip_prefix("token="))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn access() -> Access {
        Access::new("0123456789abcdef0123456789abcdef".into(), 8123, None)
    }

    #[test]
    fn tokens_are_fresh_and_long() {
        let (a, b) = (new_token(), new_token());
        assert_eq!(a.len(), 32);
        assert!(a.chars().all(|c| c.is_ascii_hexdigit()));
        assert_ne!(a, b);
    }

    #[test]
    fn only_this_servers_host_names_are_accepted() {
        let a = access();
        for ok in ["127.0.0.1:8123", "localhost:8123", "LOCALHOST:8123", "[::1]:8123"] {
            assert!(a.host_ok(Some(ok)), "{ok}");
        }
        for bad in [
            "evil.example:8123",
            "127.0.0.1:8124",
            "localhost",
            "127.0.0.1",
            "127.0.0.1:8123.evil.example",
            "",
        ] {
            assert!(!a.host_ok(Some(bad)), "{bad}");
        }
        assert!(!a.host_ok(None));
        let lan = Access::new("t".into(), 8123, Some("Planner.local"));
        assert!(lan.host_ok(Some("planner.local:8123")) && lan.host_ok(Some("localhost:8123")));
    }

    #[test]
    fn origins_must_be_this_servers_page() {
        let a = access();
        assert!(a.origin_ok(Some("http://127.0.0.1:8123")) && a.origin_ok(Some("http://localhost:8123")));
        for bad in [
            Some("http://evil.example"),
            Some("https://127.0.0.1:8123"),
            Some("null"),
            Some("http://127.0.0.1:8123.evil.example"),
            None,
        ] {
            assert!(!a.origin_ok(bad), "{bad:?}");
        }
    }

    #[test]
    fn the_token_comes_by_header_or_by_this_servers_cookie() {
        let a = access();
        let t = a.token().to_string();
        assert!(a.token_ok(Some(&t), std::iter::empty()));
        assert!(a.token_ok(None, [format!("x=1; trialsim_8123={t}").as_str()].into_iter()));
        assert!(
            !a.token_ok(None, [format!("trialsim_8124={t}").as_str()].into_iter()),
            "another server's cookie"
        );
        assert!(!a.token_ok(Some("0123"), ["trialsim_8123=wrong"].into_iter()));
        assert!(!a.token_ok(None, std::iter::empty()));
        assert_eq!(Access::token_in_query(Some("a=1&token=abc")), Some("abc"));
        assert_eq!(Access::token_in_query(None), None);
        assert!(a.set_cookie().contains("HttpOnly; SameSite=Strict"));
    }
}
