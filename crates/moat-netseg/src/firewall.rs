//! The DOCKER-USER chain, evaluated: each rule `iptables-save` prints is parsed into
//! its matches and target, and each container-to-container edge is run through the
//! chain in order as a new flow (source and destination address, in and out bridge,
//! protocol, destination port). A DROP or REJECT that matches blocks the edge; RETURN
//! and ACCEPT end the chain without blocking. A rule with a match or target not
//! understood is reported "not evaluated" and skipped (the model keeps the edge: it
//! over-states reachability rather than guess), and so is a rule whose match cannot be
//! decided for an edge (an address not known).
//!
//! Understood: `-s`/`-d` (address or CIDR, `!`), `-i`/`-o` (name, `+` wildcard, `!`),
//! `-p tcp|udp|sctp|all` (`!`), `--dport N[:M]`, `-m multiport --dports a,b:c`,
//! `-m conntrack --ctstate` / `-m state --state` (NEW matters: a rule matching only
//! ESTABLISHED/RELATED never sees a new flow), `-m comment`, `-m tcp|udp`, and the
//! targets DROP, REJECT (`--reject-with`), RETURN, ACCEPT, LOG (goes on).

use moat_model::network::{FirewallRule, PortProto, Proto};
use std::net::IpAddr;

/// What a rule does when it matches.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    Drop,
    Reject,
    Return,
    Accept,
    /// Non-terminating (LOG): evaluation goes on.
    Continue,
}

/// An address match: `addr/prefix`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cidr {
    pub addr: IpAddr,
    pub prefix: u8,
}

impl Cidr {
    pub fn parse(s: &str) -> Option<Cidr> {
        let (a, p) = match s.split_once('/') {
            Some((a, p)) => (a, Some(p)),
            None => (s, None),
        };
        let addr: IpAddr = a.parse().ok()?;
        let max = if addr.is_ipv4() { 32 } else { 128 };
        let prefix = match p {
            None => max,
            Some(p) => match p.parse::<u8>() {
                Ok(n) if n <= max => n,
                // A dotted mask (iptables-save prints prefixes, but be lenient).
                _ => {
                    let m: std::net::Ipv4Addr = p.parse().ok()?;
                    let bits = u32::from(m);
                    if bits.leading_ones() + bits.trailing_zeros() != 32 {
                        return None;
                    }
                    bits.leading_ones() as u8
                }
            },
        };
        Some(Cidr { addr, prefix })
    }

    pub fn contains(&self, ip: IpAddr) -> bool {
        match (self.addr, ip) {
            (IpAddr::V4(a), IpAddr::V4(b)) => {
                let m = u32::MAX
                    .checked_shl(32 - u32::from(self.prefix))
                    .unwrap_or(0);
                u32::from(a) & m == u32::from(b) & m
            }
            (IpAddr::V6(a), IpAddr::V6(b)) => {
                let m = u128::MAX
                    .checked_shl(128 - u32::from(self.prefix))
                    .unwrap_or(0);
                u128::from(a) & m == u128::from(b) & m
            }
            _ => false,
        }
    }
}

/// One understood rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rule {
    pub text: String,
    pub src: Option<(bool, Cidr)>,
    pub dst: Option<(bool, Cidr)>,
    pub iface_in: Option<(bool, String)>,
    pub iface_out: Option<(bool, String)>,
    /// `None`: any protocol.
    pub proto: Option<(bool, Proto)>,
    /// Inclusive ranges; empty: any port.
    pub dports: Vec<(u16, u16)>,
    pub dports_negated: bool,
    /// `false`: the rule never matches a new flow (its states exclude NEW).
    pub new_flows: bool,
    /// The rule matches packets of established connections (replies): no state match,
    /// or states including ESTABLISHED.
    pub established: bool,
    pub target: Target,
}

/// A flow to judge: what the FORWARD chain sees of a new connection.
#[derive(Debug, Clone)]
pub struct Flow<'a> {
    pub src: Option<IpAddr>,
    pub dst: Option<IpAddr>,
    pub iface_in: Option<&'a str>,
    pub iface_out: Option<&'a str>,
    /// `None`: any port (the edge covers every port).
    pub port: Option<PortProto>,
}

/// The verdict of the chain on a flow.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Dropped or rejected by this rule.
    Blocked(String),
    /// Not blocked.
    Passes,
}

/// Splits a rule line into words, keeping double-quoted strings whole.
fn words(line: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut quoted = false;
    let mut escaped = false;
    let mut any = false;
    for c in line.chars() {
        if escaped {
            cur.push(c);
            escaped = false;
            continue;
        }
        match c {
            '\\' if quoted => escaped = true,
            '"' => {
                quoted = !quoted;
                any = true;
            }
            c if c.is_whitespace() && !quoted => {
                if any || !cur.is_empty() {
                    out.push(std::mem::take(&mut cur));
                    any = false;
                }
            }
            c => cur.push(c),
        }
    }
    if any || !cur.is_empty() {
        out.push(cur);
    }
    out
}

fn port_range(s: &str) -> Option<(u16, u16)> {
    let (a, b) = s.split_once(':').unwrap_or((s, s));
    let a: u16 = if a.is_empty() { 0 } else { a.parse().ok()? };
    let b: u16 = if b.is_empty() {
        u16::MAX
    } else {
        b.parse().ok()?
    };
    (a <= b).then_some((a, b))
}

/// A DOCKER-USER rule this evaluator does not understand (listed, never guessed).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct RuleNotUnderstood(pub String);

impl From<String> for RuleNotUnderstood {
    fn from(s: String) -> RuleNotUnderstood {
        RuleNotUnderstood(s)
    }
}

/// Parses one `-A CHAIN …` line; `Err` names what is not understood.
pub fn parse_rule(line: &str) -> Result<Rule, RuleNotUnderstood> {
    let w = words(line);
    let mut r = Rule {
        text: line.trim().to_string(),
        src: None,
        dst: None,
        iface_in: None,
        iface_out: None,
        proto: None,
        dports: Vec::new(),
        dports_negated: false,
        new_flows: true,
        established: true,
        target: Target::Continue,
    };
    let mut target = None;
    let mut i = 0;
    let mut neg = false;
    // Skip `-A CHAIN`.
    if w.first().map(String::as_str) == Some("-A") {
        i = 2;
    }
    let arg = |i: usize| -> Result<&str, String> {
        w.get(i + 1)
            .map(String::as_str)
            .ok_or_else(|| format!("{} without a value", w.get(i).map_or("", |s| s)))
    };
    while i < w.len() {
        let o = w[i].as_str();
        if o == "!" {
            neg = true;
            i += 1;
            continue;
        }
        match o {
            "-s" | "--source" | "-d" | "--destination" => {
                let v = arg(i)?;
                let c = Cidr::parse(v).ok_or_else(|| format!("address {v:?}"))?;
                if o.starts_with("-s") || o == "--source" {
                    r.src = Some((neg, c));
                } else {
                    r.dst = Some((neg, c));
                }
                i += 2;
            }
            "-i" | "--in-interface" => {
                r.iface_in = Some((neg, arg(i)?.to_string()));
                i += 2;
            }
            "-o" | "--out-interface" => {
                r.iface_out = Some((neg, arg(i)?.to_string()));
                i += 2;
            }
            "-p" | "--protocol" => {
                let v = arg(i)?;
                r.proto = match v.to_ascii_lowercase().as_str() {
                    "all" | "0" => None,
                    "tcp" | "6" => Some((neg, Proto::Tcp)),
                    "udp" | "17" => Some((neg, Proto::Udp)),
                    "sctp" | "132" => Some((neg, Proto::Sctp)),
                    _ => return Err(format!("protocol {v}").into()),
                };
                i += 2;
            }
            "-m" | "--match" => {
                let v = arg(i)?;
                if !matches!(
                    v,
                    "tcp" | "udp" | "sctp" | "multiport" | "conntrack" | "state" | "comment"
                ) {
                    return Err(format!("match -m {v}").into());
                }
                i += 2;
            }
            "--comment" => i += 2,
            "--dport" | "--destination-port" | "--dports" | "--destination-ports" => {
                let v = arg(i)?;
                for p in v.split(',') {
                    r.dports
                        .push(port_range(p).ok_or_else(|| format!("port {p:?}"))?);
                }
                r.dports_negated = neg;
                i += 2;
            }
            "--ctstate" | "--state" => {
                let v = arg(i)?;
                let has = |st: &str| v.split(',').any(|s| s.eq_ignore_ascii_case(st));
                r.new_flows = has("NEW") != neg;
                r.established = has("ESTABLISHED") != neg;
                i += 2;
            }
            "-j" | "--jump" => {
                let v = arg(i)?;
                target = Some(match v {
                    "DROP" => Target::Drop,
                    "REJECT" => Target::Reject,
                    "RETURN" => Target::Return,
                    "ACCEPT" => Target::Accept,
                    "LOG" | "NFLOG" => Target::Continue,
                    _ => return Err(format!("target -j {v}").into()),
                });
                i += 2;
            }
            "--reject-with" | "--log-prefix" | "--log-level" | "--nflog-group"
            | "--nflog-prefix" => i += 2,
            "--log-uid" | "--log-tcp-options" | "--log-ip-options" => i += 1,
            _ => return Err(format!("option {o}").into()),
        }
        neg = false;
    }
    r.target = target.ok_or_else(|| "no -j target".to_string())?;
    Ok(r)
}

/// An interface pattern (`br-+`) against a name.
fn iface_matches(pat: &str, name: &str) -> bool {
    match pat.strip_suffix('+') {
        Some(prefix) => name.starts_with(prefix),
        None => pat == name,
    }
}

/// Whether `rule` matches `flow`: `Some(true/false)`, or `None` when it cannot tell.
pub fn matches(rule: &Rule, flow: &Flow<'_>) -> Option<bool> {
    if !rule.new_flows {
        return Some(false);
    }
    let mut unknown = false;
    let mut check = |cond: Option<bool>, neg: bool| -> bool {
        match cond {
            Some(v) => v != neg,
            None => {
                unknown = true;
                true
            }
        }
    };
    if let Some((neg, c)) = &rule.src
        && !check(flow.src.map(|a| c.contains(a)), *neg)
    {
        return Some(false);
    }
    if let Some((neg, c)) = &rule.dst
        && !check(flow.dst.map(|a| c.contains(a)), *neg)
    {
        return Some(false);
    }
    if let Some((neg, p)) = &rule.iface_in
        && !check(flow.iface_in.map(|n| iface_matches(p, n)), *neg)
    {
        return Some(false);
    }
    if let Some((neg, p)) = &rule.iface_out
        && !check(flow.iface_out.map(|n| iface_matches(p, n)), *neg)
    {
        return Some(false);
    }
    if let Some((neg, p)) = &rule.proto
        && !check(flow.port.map(|x| x.proto == *p), *neg)
    {
        return Some(false);
    }
    if !rule.dports.is_empty() {
        // A port match implies tcp/udp/sctp; the edge's own port decides.
        let inside = flow
            .port
            .map(|p| rule.dports.iter().any(|(a, b)| (*a..=*b).contains(&p.port)));
        if !check(inside, rule.dports_negated) {
            return Some(false);
        }
    }
    if unknown { None } else { Some(true) }
}

/// The chain's rules parsed; those not understood keep their reason.
#[derive(Debug, Clone, Default)]
pub struct Chain {
    pub rules: Vec<Result<Rule, (String, String)>>,
}

impl Chain {
    /// From the `-A DOCKER-USER …` lines.
    pub fn parse(lines: &[String]) -> Chain {
        Chain {
            rules: lines
                .iter()
                .map(|l| parse_rule(l).map_err(|e| (l.trim().to_string(), e.0)))
                .collect(),
        }
    }

    /// From the report's listing (each rule's text).
    pub fn from_report(rules: &[FirewallRule]) -> Chain {
        let lines: Vec<String> = rules.iter().map(|r| r.text.clone()).collect();
        Chain::parse(&lines)
    }

    /// The listing for the report.
    pub fn listing(&self) -> Vec<FirewallRule> {
        self.rules
            .iter()
            .map(|r| match r {
                Ok(r) => FirewallRule {
                    text: r.text.clone(),
                    evaluated: true,
                    note: String::new(),
                },
                Err((text, why)) => FirewallRule {
                    text: text.clone(),
                    evaluated: false,
                    note: format!("not evaluated: {why} not understood"),
                },
            })
            .collect()
    }

    /// Whether the chain accepts every reply (an `ACCEPT` of ESTABLISHED packets with no
    /// other condition, before any rule that could drop them): replies then skip
    /// Docker's isolation chains, which come after DOCKER-USER in FORWARD.
    pub fn accepts_replies(&self) -> bool {
        for r in self.rules.iter() {
            let Ok(r) = r else {
                return false; // not understood: cannot tell
            };
            let unconditional = r.src.is_none()
                && r.dst.is_none()
                && r.iface_in.is_none()
                && r.iface_out.is_none()
                && r.proto.is_none()
                && r.dports.is_empty();
            match r.target {
                Target::Accept if unconditional && r.established => return true,
                Target::Return if unconditional && r.established => return false,
                Target::Drop | Target::Reject if r.established => return false,
                _ => {}
            }
        }
        false
    }

    /// Runs a new flow through the chain.
    pub fn verdict(&self, flow: &Flow<'_>) -> Verdict {
        for r in self.rules.iter().flatten() {
            // `None` (cannot tell) and `Some(false)`: skipped (the edge stays).
            if matches(r, flow) == Some(true) {
                match r.target {
                    Target::Drop | Target::Reject => return Verdict::Blocked(r.text.clone()),
                    Target::Return | Target::Accept => return Verdict::Passes,
                    Target::Continue => {}
                }
            }
        }
        Verdict::Passes
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // Real `iptables-save` output (see the fixture's README for the commands).
    const SAVE: &str = include_str!("../tests/fixtures/iptables-save/docker-user.txt");

    fn chain() -> Chain {
        let fw = crate::host::parse_iptables_save(SAVE);
        Chain::parse(&fw.docker_user)
    }

    fn ip(s: &str) -> Option<IpAddr> {
        s.parse().ok()
    }

    fn tcp(port: u16) -> Option<PortProto> {
        Some(PortProto {
            port,
            proto: Proto::Tcp,
        })
    }

    #[test]
    fn parses_the_chain_of_iptables_save() {
        let c = chain();
        let l = c.listing();
        assert_eq!(l.len(), 8);
        for (i, r) in l.iter().enumerate() {
            assert_eq!(r.evaluated, i != 4, "{r:?}");
        }
        assert!(l[4].note.contains("-m addrtype"), "{}", l[4].note);
        let Ok(r) = &c.rules[1] else { panic!() };
        assert_eq!(r.dports, [(5432, 5432)]);
        assert_eq!(r.target, Target::Drop);
        let Ok(r) = &c.rules[0] else { panic!() };
        assert!(!r.new_flows, "ESTABLISHED,RELATED only: no new flow");
        assert!(c.accepts_replies(), "the first rule accepts every reply");
        let Ok(r) = &c.rules[2] else { panic!() };
        assert_eq!(r.dports, [(53, 53), (5000, 5010)]);
        assert_eq!(r.target, Target::Reject);
        let Ok(r) = &c.rules[5] else { panic!() };
        assert_eq!(r.src.map(|s| s.0), Some(true), "! -s");
    }

    #[test]
    fn judges_flows_in_chain_order() {
        let c = chain();
        let f = |src: &str, dst: &str, i: &'static str, o: &'static str, port| Flow {
            src: ip(src),
            dst: ip(dst),
            iface_in: Some(i),
            iface_out: Some(o),
            port,
        };
        // The DROP between the two subnets, on 5432/tcp only.
        let v = c.verdict(&f("10.202.0.5", "10.202.2.3", "br-a", "br-c", tcp(5432)));
        assert!(
            matches!(&v, Verdict::Blocked(r) if r.contains("--dport 5432")),
            "{v:?}"
        );
        assert_eq!(
            c.verdict(&f("10.202.0.5", "10.202.2.3", "br-a", "br-c", tcp(80))),
            Verdict::Passes
        );
        // Any port on the edge: the port-specific rule cannot block all of it.
        assert_eq!(
            c.verdict(&f("10.202.0.5", "10.202.2.3", "br-a", "br-c", None)),
            Verdict::Passes
        );
        // The UDP multiport REJECT inside one bridge.
        let udp = |port| {
            Some(PortProto {
                port,
                proto: Proto::Udp,
            })
        };
        for (port, blocked) in [(53, true), (5005, true), (5011, false)] {
            let v = c.verdict(&f(
                "10.202.1.2",
                "10.202.1.3",
                "br-0a1b2c3d4e5f",
                "br-0a1b2c3d4e5f",
                udp(port),
            ));
            assert_eq!(matches!(v, Verdict::Blocked(_)), blocked, "{port}");
        }
        // ! -s: a source outside 10.202/16 into any br- bridge is dropped.
        let v = c.verdict(&f("10.7.0.2", "10.202.1.3", "eth0", "br-x", tcp(80)));
        assert!(
            matches!(&v, Verdict::Blocked(r) if r.starts_with("-A DOCKER-USER ! -s")),
            "{v:?}"
        );
        assert_eq!(
            c.verdict(&f("10.202.3.2", "10.202.1.3", "br-y", "br-x", tcp(80))),
            Verdict::Passes
        );
        // An unknown source address: rules on -s cannot decide, so they are skipped.
        let unknown = Flow {
            src: None,
            dst: ip("10.202.2.3"),
            iface_in: Some("br-a"),
            iface_out: Some("br-c"),
            port: tcp(5432),
        };
        assert_eq!(c.verdict(&unknown), Verdict::Passes);
    }

    #[test]
    fn cidrs_and_words() {
        let c = Cidr::parse("10.1.0.0/16").unwrap();
        assert!(c.contains(ip("10.1.255.1").unwrap()));
        assert!(!c.contains(ip("10.2.0.1").unwrap()));
        assert!(!c.contains(ip("fd00::1").unwrap()));
        let c6 = Cidr::parse("fd00:1::/64").unwrap();
        assert!(c6.contains(ip("fd00:1::9").unwrap()));
        assert_eq!(Cidr::parse("10.0.0.0/255.255.0.0").unwrap().prefix, 16);
        assert!(Cidr::parse("10.0.0.0/33").is_none());
        assert_eq!(
            words(r#"-A X -m comment --comment "a \"b\" c" -j DROP"#),
            [
                "-A",
                "X",
                "-m",
                "comment",
                "--comment",
                "a \"b\" c",
                "-j",
                "DROP"
            ]
        );
        assert!(parse_rule("-A DOCKER-USER -j MYCHAIN").is_err());
        assert!(
            parse_rule("-A DOCKER-USER -s 10.0.0.0/8").is_err(),
            "no target"
        );
    }
}
