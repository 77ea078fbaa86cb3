//! DC008 — a database or admin port is published on all interfaces.
//!
//! **What it does:** reports `ports` that publish a database (MySQL 3306, PostgreSQL
//! 5432, Redis 6379, MongoDB 27017, Elasticsearch 9200/9300, Memcached 11211, MSSQL
//! 1433, Oracle 1521, Cassandra 9042, CouchDB 5984, etcd 2379) or admin port (SSH 22,
//! Docker 2375/2376, RabbitMQ management 15672, kubelet 10250) without binding a
//! loopback address.
//!
//! **Why is this bad?** `ports` binds `0.0.0.0` by default and Docker's iptables rules
//! bypass host firewalls such as ufw: the database is reachable from the network.
//!
//! **Example:** `ports: ["5432:5432"]`
//!
//! **Use instead:** no `ports` at all (services on the same network reach each other),
//! or `127.0.0.1:5432:5432`.
//!
//! **References:** CIS Docker 5.13.
use super::prelude::*;
use crate::compose::{Compose, Node};

pub struct This;
pub static META: RuleMeta = RuleMeta {
    code: "DC008",
    title: "Database or admin port published on all interfaces",
    severity: Severity::High,
    target: RuleTarget::Compose,
    references: &["CIS-5.13", "CWE-668"],
    aliases: &[],
};

fn what(port: u32) -> Option<&'static str> {
    Some(match port {
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
        2379 => "etcd",
        15672 => "RabbitMQ management",
        _ => return super::df024_sensitive_port::sensitive_port(port),
    })
}

/// (host ip, container port) of a `ports` entry.
fn parse_port(n: &Node) -> Option<(String, u32)> {
    if let Some(s) = n.as_str() {
        let s = s.split('/').next()?;
        // ip:host:container, host:container, container; IPv6 in brackets.
        let (ip, rest) = if let Some(r) = s.strip_prefix('[') {
            let (ip, r) = r.split_once(']')?;
            (ip.to_string(), r.trim_start_matches(':').to_string())
        } else {
            let parts: Vec<&str> = s.split(':').collect();
            if parts.len() == 3 {
                (parts[0].to_string(), format!("{}:{}", parts[1], parts[2]))
            } else {
                (String::new(), s.to_string())
            }
        };
        let container = rest.rsplit(':').next()?;
        let c = container.split('-').next()?.parse().ok()?;
        return Some((ip, c));
    }
    let target = n.get("target")?.as_str()?.parse().ok()?;
    let ip = n.get("host_ip").and_then(Node::as_str).unwrap_or_default();
    Some((ip, target))
}

impl Rule for This {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }
    fn compose(&self, c: &Compose, out: &mut Sink<'_>) {
        for s in &c.services {
            let Some(ports) = s.get("ports") else { continue };
            for n in ports.seq() {
                let Some((ip, port)) = parse_port(n) else { continue };
                let local = ip.starts_with("127.") || ip == "::1" || ip == "localhost";
                if local {
                    continue;
                }
                if let Some(w) = what(port) {
                    out.report(n.line, n.column, format!("service {} publishes {w} port {port} on all interfaces", s.name));
                }
            }
        }
    }
}
