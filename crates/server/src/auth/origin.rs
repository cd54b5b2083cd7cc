//! Which web pages may talk to the gateway. A browser sends `Origin` with
//! every WebSocket handshake and every cross-site POST: a page on another
//! site must not open `/ws/ingest` or act with the user's cookie
//! (cross-site WebSocket hijacking, CSRF). Clients that are not browsers
//! send no `Origin` and must hold a credential instead.
//!
//! An open gateway (loopback, no sign-in) also checks `Host`: through DNS
//! rebinding a hostile page's own name can resolve to 127.0.0.1, and then
//! its requests are "same origin".

/// `scheme://host[:port]` of an `Origin` header, lowercased; `None` for
/// `null` and anything that is not an origin.
fn authority_of(origin: &str) -> Option<String> {
    let (scheme, rest) = origin.split_once("://")?;
    if !matches!(scheme, "http" | "https") || rest.is_empty() || rest.contains(['/', '?', '#', '@'])
    {
        return None;
    }
    Some(rest.to_ascii_lowercase())
}

/// May a request with this `Origin` (from a page served at `host`) go on?
pub fn origin_allowed(origin: Option<&str>, host: Option<&str>, allowed: &[String]) -> bool {
    let Some(origin) = origin else {
        return true;
    };
    if allowed
        .iter()
        .any(|a| a.trim_end_matches('/').eq_ignore_ascii_case(origin))
    {
        return true;
    }
    match (authority_of(origin), host) {
        (Some(authority), Some(host)) => authority == host.to_ascii_lowercase(),
        _ => false,
    }
}

/// Is `Host` a name of this machine's loopback interface?
pub fn host_is_loopback(host: Option<&str>) -> bool {
    let Some(host) = host else {
        return false;
    };
    let name = if let Some(rest) = host.strip_prefix('[') {
        rest.split_once(']').map_or("", |(name, _)| name)
    } else {
        host.rsplit_once(':').map_or(host, |(name, _)| name)
    };
    name.eq_ignore_ascii_case("localhost")
        || name
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_gateways_own_pages_and_listed_origins_pass() {
        let host = Some("twin.plant.local:8080");
        assert!(origin_allowed(None, host, &[]), "not a browser");
        assert!(origin_allowed(
            Some("http://twin.plant.local:8080"),
            host,
            &[]
        ));
        assert!(origin_allowed(
            Some("https://TWIN.plant.local:8080"),
            host,
            &[]
        ));
        let listed = vec!["https://hmi.plant.local/".to_owned()];
        assert!(origin_allowed(
            Some("https://hmi.plant.local"),
            host,
            &listed
        ));
    }

    #[test]
    fn other_pages_are_refused() {
        let host = Some("twin.plant.local:8080");
        for origin in [
            "http://evil.example",
            "http://twin.plant.local:8081",
            "http://twin.plant.local",
            "null",
            "file://",
            "http://twin.plant.local:8080@evil.example",
            "http://twin.plant.local:8080/path",
            "",
        ] {
            assert!(!origin_allowed(Some(origin), host, &[]), "{origin}");
        }
        assert!(!origin_allowed(
            Some("http://twin.plant.local:8080"),
            None,
            &[]
        ));
    }

    #[test]
    fn loopback_names_only() {
        for host in [
            "localhost:8080",
            "127.0.0.1:8080",
            "127.3.2.1",
            "[::1]:8080",
            "LOCALHOST",
        ] {
            assert!(host_is_loopback(Some(host)), "{host}");
        }
        for host in [
            "evil.example:8080",
            "localhost.evil.example",
            "10.0.0.5:8080",
            "[::2]:80",
            "",
        ] {
            assert!(!host_is_loopback(Some(host)), "{host}");
        }
        assert!(!host_is_loopback(None));
    }
}
