//! Port specifications: compose `ports` (short `[IP:][HOST:]CONTAINER[/PROTO]` with
//! ranges, and the long form), `expose`, the engine's `80/tcp` keys, and the ports that
//! databases and admin interfaces listen on.

use moat_lint::compose::Node;
use moat_model::network::{PortProto, Proto, Published};

/// Ports one range may name (a range of 65535 ports is legal but says nothing useful).
pub const MAX_RANGE: u32 = 1024;

/// A port specification that could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{spec:?}: {why}")]
pub struct PortError {
    pub spec: String,
    pub why: &'static str,
}

fn bad(spec: &str, why: &'static str) -> PortError {
    PortError {
        spec: spec.to_string(),
        why,
    }
}

/// `tcp`, `udp`, `sctp` (default tcp).
pub fn proto(s: &str) -> Option<Proto> {
    match s.trim().to_ascii_lowercase().as_str() {
        "" | "tcp" => Some(Proto::Tcp),
        "udp" => Some(Proto::Udp),
        "sctp" => Some(Proto::Sctp),
        _ => None,
    }
}

/// `8000` or `8000-8010` → the inclusive range.
fn range(s: &str, spec: &str) -> Result<(u16, u16), PortError> {
    let (a, b) = match s.split_once('-') {
        Some((a, b)) => (a, b),
        None => (s, s),
    };
    let a: u16 = a
        .trim()
        .parse()
        .map_err(|_| bad(spec, "not a port number"))?;
    let b: u16 = b
        .trim()
        .parse()
        .map_err(|_| bad(spec, "not a port number"))?;
    if a == 0 || b < a {
        return Err(bad(spec, "not a port range"));
    }
    if u32::from(b - a) >= MAX_RANGE {
        return Err(bad(spec, "range wider than 1024 ports"));
    }
    Ok((a, b))
}

/// An `expose` entry or an engine `ExposedPorts` key: `3306`, `8000-8010`, `53/udp`.
pub fn expose(spec: &str) -> Result<Vec<PortProto>, PortError> {
    let (p, pr) = spec.split_once('/').unwrap_or((spec, "tcp"));
    let proto = proto(pr).ok_or_else(|| bad(spec, "unknown protocol"))?;
    let (a, b) = range(p, spec)?;
    Ok((a..=b).map(|port| PortProto { port, proto }).collect())
}

/// One compose `ports` entry, short or long syntax.
pub fn compose_port(n: &Node) -> Result<Vec<Published>, PortError> {
    if let Some(s) = n.as_str() {
        return short(&s);
    }
    let spec = "(long syntax)";
    let target = n
        .get("target")
        .and_then(Node::as_str)
        .ok_or_else(|| bad(spec, "no target"))?;
    let pr = n
        .get("protocol")
        .and_then(Node::as_str)
        .unwrap_or_else(|| "tcp".into());
    let proto = proto(&pr).ok_or_else(|| bad(spec, "unknown protocol"))?;
    let (ta, tb) = range(&target, spec)?;
    let host_ip = n.get("host_ip").and_then(Node::as_str).unwrap_or_default();
    let published = n.get("published").and_then(Node::as_str);
    let host = match published.as_deref() {
        Some(p) if !p.is_empty() => Some(range(p, spec)?),
        _ => None,
    };
    Ok(pairs(&host_ip, host, (ta, tb), proto))
}

/// Container ports paired with host ports (a single host port for a container range:
/// the engine picks one of them; unknown then).
fn pairs(
    host_ip: &str,
    host: Option<(u16, u16)>,
    (ta, tb): (u16, u16),
    proto: Proto,
) -> Vec<Published> {
    (ta..=tb)
        .map(|port| {
            let off = port - ta;
            let host_port = host.and_then(|(ha, hb)| {
                if hb - ha == tb - ta {
                    Some(ha + off)
                } else if ha == hb && ta == tb {
                    Some(ha)
                } else {
                    None
                }
            });
            Published {
                host_ip: host_ip.to_string(),
                host_port,
                container: PortProto { port, proto },
            }
        })
        .collect()
}

/// The short syntax: `80`, `8080:80`, `127.0.0.1:8080:80`, `127.0.0.1::80`,
/// `[::1]:8080:80/udp`, `8000-8010:8000-8010`.
pub fn short(spec: &str) -> Result<Vec<Published>, PortError> {
    let s = spec.trim();
    let (s, pr) = s.rsplit_once('/').unwrap_or((s, "tcp"));
    let proto = proto(pr).ok_or_else(|| bad(spec, "unknown protocol"))?;
    let (ip, rest) = if let Some(r) = s.strip_prefix('[') {
        let (ip, r) = r.split_once(']').ok_or_else(|| bad(spec, "unclosed ["))?;
        (
            ip.to_string(),
            r.strip_prefix(':')
                .ok_or_else(|| bad(spec, "no port after the address"))?,
        )
    } else {
        let parts: Vec<&str> = s.split(':').collect();
        match parts.len() {
            1 | 2 => (String::new(), s),
            3 => (
                parts[0].to_string(),
                s.split_once(':').map(|x| x.1).unwrap_or(""),
            ),
            _ => return Err(bad(spec, "too many colons")),
        }
    };
    let (host, container) = match rest.rsplit_once(':') {
        Some((h, c)) => (Some(h), c),
        None => (None, rest),
    };
    let host = match host {
        Some(h) if !h.is_empty() => Some(range(h, spec)?),
        _ => None,
    };
    Ok(pairs(&ip, host, range(container, spec)?, proto))
}

/// What usually listens on a port, for the ports whose reachability matters most
/// (databases, caches, search engines, admin interfaces, the Docker API).
pub fn sensitive(port: u16) -> Option<&'static str> {
    Some(match port {
        22 => "SSH",
        2375 | 2376 => "Docker API",
        3306 => "MySQL",
        5432 => "PostgreSQL",
        6379 => "Redis",
        27017 | 27018 => "MongoDB",
        9200 | 9300 => "Elasticsearch",
        11211 => "Memcached",
        1433 => "SQL Server",
        1521 => "Oracle",
        9042 => "Cassandra",
        5984 => "CouchDB",
        2379 | 2380 => "etcd",
        5672 => "AMQP",
        15672 => "RabbitMQ management",
        10250 => "kubelet",
        8500 => "Consul",
        9000 => "admin (Portainer/MinIO/PHP-FPM)",
        _ => return None,
    })
}

/// The port a well-known database or admin image listens on by default (its
/// documented default), for compose services that declare no port: `postgres:16` →
/// 5432. Matched on the image's repository name without registry and tag.
pub fn image_default_port(image: &str) -> Option<PortProto> {
    let repo = image.split('@').next().unwrap_or(image);
    let last = repo.rsplit('/').next().unwrap_or(repo);
    // A tag after the last '/' only (a registry port is before it).
    let name = last.split(':').next().unwrap_or(last);
    let port = match name {
        "postgres" | "postgis" | "timescaledb" => 5432,
        "mysql" | "mariadb" | "percona" => 3306,
        "redis" | "valkey" | "keydb" => 6379,
        "mongo" | "mongodb" => 27017,
        "elasticsearch" | "opensearch" => 9200,
        "memcached" => 11211,
        "cassandra" => 9042,
        "couchdb" => 5984,
        "etcd" => 2379,
        "rabbitmq" => 5672,
        "mssql-server" => 1433,
        _ => return None,
    };
    Some(PortProto {
        port,
        proto: Proto::Tcp,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one(s: &str) -> (String, Option<u16>, u16, Proto) {
        let v = short(s).unwrap();
        assert_eq!(v.len(), 1, "{s}");
        let p = &v[0];
        (
            p.host_ip.clone(),
            p.host_port,
            p.container.port,
            p.container.proto,
        )
    }

    #[test]
    fn short_syntax() {
        assert_eq!(one("80"), (String::new(), None, 80, Proto::Tcp));
        assert_eq!(one("8080:80"), (String::new(), Some(8080), 80, Proto::Tcp));
        assert_eq!(
            one("127.0.0.1:8080:80/udp"),
            ("127.0.0.1".into(), Some(8080), 80, Proto::Udp)
        );
        assert_eq!(
            one("127.0.0.1::80"),
            ("127.0.0.1".into(), None, 80, Proto::Tcp)
        );
        assert_eq!(
            one("[::1]:53:53/udp"),
            ("::1".into(), Some(53), 53, Proto::Udp)
        );
        let r = short("8000-8002:9000-9002").unwrap();
        assert_eq!(r.len(), 3);
        assert_eq!((r[2].host_port, r[2].container.port), (Some(8002), 9002));
        assert!(short("1:2:3:4").is_err());
        assert!(short("0-70000").is_err());
        assert!(short("1-60000").is_err(), "bounded ranges");
        assert!(short("80/icmp").is_err());
    }

    #[test]
    fn images_and_exposes() {
        assert_eq!(
            image_default_port("postgres:16-alpine").map(|p| p.port),
            Some(5432)
        );
        assert_eq!(
            image_default_port("registry:5000/library/redis:7").map(|p| p.port),
            Some(6379)
        );
        assert_eq!(image_default_port("nginx"), None);
        assert_eq!(expose("53/udp").unwrap()[0].proto, Proto::Udp);
        assert_eq!(expose("8000-8001").unwrap().len(), 2);
    }
}
