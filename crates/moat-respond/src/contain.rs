//! Containment: isolate and release, pause, unpause, stop, kill.

use crate::api::{self, Api};
use crate::state::{self, Inspected, StateDir, short_id, undetachable};
use crate::{RespondError, Responder, describe, now_rfc3339};
use moat_model::response::{
    ActionKind, ActionRecord, Endpoint, IsolationMode, IsolationRecord, Outcome, RESPONSE_SCHEMA,
};
use serde_json::{Value, json};

/// Label on a quarantine network: the container it holds.
pub const LABEL_CONTAINER: &str = "moat.respond.container";
/// Label on a quarantine network: the isolation record (JSON), should the state
/// directory be lost.
pub const LABEL_RECORD: &str = "moat.respond.record";

/// The quarantine network of a container: one per container, so it has no other member.
pub fn quarantine_name(id: &str) -> String {
    format!("moat-quarantine-{}", short_id(id))
}

fn network(api: &dyn Api, name: &str) -> Result<Option<Value>, RespondError> {
    let path = format!("/networks/{}", api::seg(name));
    let r = api.call("GET", &path, None)?;
    if r.status == 404 {
        return Ok(None);
    }
    if !r.ok() {
        return Err(RespondError::Api {
            what: format!("GET {path}"),
            status: r.status,
            message: moat_engine::raw::engine_message(&r.body),
        });
    }
    serde_json::from_slice(&r.body)
        .map(Some)
        .map_err(|e| RespondError::Reply {
            what: format!("GET {path}"),
            reason: e.to_string(),
        })
}

fn disconnect(api: &dyn Api, net: &str, id: &str) -> Result<(), RespondError> {
    api::expect_ok(
        api,
        "POST",
        &format!("/networks/{}/disconnect", api::seg(net)),
        Some(&json!({"Container": id, "Force": true})),
    )
    .map(drop)
}

fn connect(
    api: &dyn Api,
    net: &str,
    id: &str,
    ep: Option<&Endpoint>,
    ip: Option<&str>,
) -> Result<(), RespondError> {
    let mut cfg = serde_json::Map::new();
    if let Some(ep) = ep {
        if !ep.aliases.is_empty() {
            cfg.insert("Aliases".into(), json!(ep.aliases));
        }
        if !ep.links.is_empty() {
            cfg.insert("Links".into(), json!(ep.links));
        }
    }
    if let Some(ip) = ip {
        let mut ipam = serde_json::Map::new();
        ipam.insert("IPv4Address".into(), json!(ip));
        if let Some(ep) = ep.filter(|e| !e.ipam_ipv6.is_empty()) {
            ipam.insert("IPv6Address".into(), json!(ep.ipam_ipv6));
        }
        cfg.insert("IPAMConfig".into(), Value::Object(ipam));
    }
    api::expect_ok(
        api,
        "POST",
        &format!("/networks/{}/connect", api::seg(net)),
        Some(&json!({"Container": id, "EndpointConfig": cfg})),
    )
    .map(drop)
}

impl Responder<'_> {
    fn states(&self) -> StateDir {
        StateDir::new(&self.opts.evidence_dir)
    }

    fn record(&self, rec: &ActionRecord, c: &Inspected, mode: IsolationMode) -> IsolationRecord {
        IsolationRecord {
            schema: RESPONSE_SCHEMA,
            container: c.container.clone(),
            mode,
            quarantine_network: match mode {
                IsolationMode::Network => quarantine_name(&c.container.id),
                IsolationMode::Paused => String::new(),
            },
            original: c.state.clone(),
            action_id: rec.id.clone(),
            at: now_rfc3339(),
            reason: self.opts.reason.clone(),
        }
    }

    /// The isolation record of a container: the state directory's, else the label on its
    /// quarantine network.
    fn isolation_of(&self, id: &str) -> Result<Option<IsolationRecord>, RespondError> {
        if let Some(r) = self.states().load(id)? {
            return Ok(Some(r));
        }
        let Some(net) = network(self.api, &quarantine_name(id))? else {
            return Ok(None);
        };
        Ok(net
            .pointer("/Labels")
            .and_then(|l| l.get(LABEL_RECORD))
            .and_then(Value::as_str)
            .and_then(|s| serde_json::from_str::<IsolationRecord>(s).ok())
            .filter(|r| r.container.id == id))
    }

    pub(crate) fn isolate(
        &self,
        rec: &mut ActionRecord,
        c: &Inspected,
    ) -> Result<(), RespondError> {
        let id = c.container.id.clone();
        let existing = self.isolation_of(&id)?;
        let states = self.states();
        let state_path = states.path_of(&id);
        if let Some(why) = undetachable(&c.state.network_mode) {
            if c.state.status == "paused" && existing.is_some() {
                rec.outcome = Outcome::NoOp;
                rec.notes.push(format!(
                    "already isolated: paused since {} ({why})",
                    existing.as_ref().map(|r| r.at.as_str()).unwrap_or("?")
                ));
                return Ok(());
            }
            rec.notes.push(format!(
                "paused instead of isolated: {why}; `moat respond release` unpauses it"
            ));
            if !matches!(c.state.status.as_str(), "running" | "paused" | "restarting") {
                rec.outcome = Outcome::NoOp;
                rec.notes.push(format!(
                    "it is not running (status {}): nothing to pause",
                    c.state.status
                ));
                return Ok(());
            }
            let mut ir = self.record(rec, c, IsolationMode::Paused);
            if let Some(old) = existing {
                ir.original = old.original;
            }
            self.act(
                rec,
                format!("record the isolation in {}", state_path.display()),
                || states.save(&ir).map(drop),
            )?;
            if c.state.status != "paused" {
                self.act(rec, "pause the container".into(), || {
                    api::expect_ok(
                        self.api,
                        "POST",
                        &format!("/containers/{}/pause", api::seg(&id)),
                        None,
                    )
                    .map(drop)
                })?;
            }
            return self.settle(rec, &id);
        }
        let q = quarantine_name(&id);
        if c.state.network_mode == "none" {
            rec.outcome = Outcome::NoOp;
            rec.notes
                .push("network mode none: the container has no network to be isolated from".into());
            return Ok(());
        }
        let others: Vec<(String, Endpoint)> = c
            .state
            .networks
            .iter()
            .filter(|(n, _)| **n != q)
            .map(|(n, e)| (n.clone(), e.clone()))
            .collect();
        if let Some(old) = &existing
            && others.is_empty()
            && c.state.networks.contains_key(&q)
        {
            rec.outcome = Outcome::NoOp;
            rec.notes.push(format!(
                "already isolated on {q} since {} (action {}); nothing changed",
                old.at, old.action_id
            ));
            return Ok(());
        }
        let mut ir = self.record(rec, c, IsolationMode::Network);
        if let Some(old) = existing {
            rec.notes.push(format!(
                "an isolation record from {} exists but the container is on other networks again: isolating again, the recorded original networks are kept",
                old.at
            ));
            ir.original = old.original;
        }
        ir.original.networks.remove(&q);
        self.act(
            rec,
            format!("record the isolation in {}", state_path.display()),
            || states.save(&ir).map(drop),
        )?;
        // The quarantine network: internal (no route off the host's bridge), no
        // inter-container traffic, and no member but this container.
        match network(self.api, &q)? {
            None => {
                let label =
                    serde_json::to_string(&ir).map_err(|e| RespondError::Invalid(e.to_string()))?;
                self.act(
                    rec,
                    format!("create the internal quarantine network {q}"),
                    || {
                        let mut labels = serde_json::Map::new();
                        labels.insert(LABEL_CONTAINER.into(), json!(id));
                        labels.insert(LABEL_RECORD.into(), json!(label));
                        api::expect_ok(
                            self.api,
                            "POST",
                            "/networks/create",
                            Some(&json!({
                                "Name": q,
                                "Driver": "bridge",
                                "Internal": true,
                                "CheckDuplicate": true,
                                "Labels": labels,
                                "Options": {"com.docker.network.bridge.enable_icc": "false"},
                            })),
                        )
                        .map(drop)
                    },
                )?;
            }
            Some(net) => {
                if net.get("Internal").and_then(Value::as_bool) != Some(true) {
                    return Err(RespondError::Invalid(format!(
                        "network {q} exists and is not internal: it cannot serve as a quarantine (remove it and isolate again)"
                    )));
                }
                let members: Vec<String> = net
                    .get("Containers")
                    .and_then(Value::as_object)
                    .map(|m| m.keys().filter(|k| **k != id).cloned().collect())
                    .unwrap_or_default();
                for m in members {
                    self.act(
                        rec,
                        format!("disconnect container {} from the quarantine network {q} (it must have no other member)", short_id(&m)),
                        || disconnect(self.api, &q, &m),
                    )?;
                }
            }
        }
        for (name, ep) in &others {
            let mut what = format!("disconnect from network {name}");
            if !ep.aliases.is_empty() {
                what.push_str(&format!(" (aliases {})", ep.aliases.join(", ")));
            }
            if !ep.ipv4.is_empty() {
                what.push_str(&format!(" (address {})", ep.ipv4));
            }
            let target = if ep.network_id.is_empty() {
                name.clone()
            } else {
                ep.network_id.clone()
            };
            self.act(rec, what, || disconnect(self.api, &target, &id))?;
        }
        if !c.state.networks.contains_key(&q) {
            self.act(
                rec,
                format!("connect to the quarantine network {q}"),
                || connect(self.api, &q, &id, None, None),
            )?;
        }
        if !c.state.ports.is_empty() {
            rec.notes.push(format!(
                "{} published port(s) no longer reach it (release restores them with its networks)",
                c.state.ports.len()
            ));
        }
        if matches!(c.state.status.as_str(), "running" | "paused") {
            rec.notes
                .push("kept running for forensics (snapshot it next)".into());
        }
        if self.opts.dry_run {
            return Ok(());
        }
        let after = state::inspect(self.api, &id)?;
        let nets: Vec<&String> = after.state.networks.keys().collect();
        rec.after = Some(after.state.clone());
        if nets != vec![&q] {
            return Err(RespondError::Invalid(format!(
                "after isolation the container should be on {q} only, it is on: {}",
                nets.iter()
                    .map(|s| s.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            )));
        }
        Ok(())
    }

    pub(crate) fn release(
        &self,
        rec: &mut ActionRecord,
        c: &Inspected,
    ) -> Result<(), RespondError> {
        let id = c.container.id.clone();
        let states = self.states();
        let Some(ir) = self.isolation_of(&id)? else {
            rec.outcome = Outcome::NoOp;
            rec.notes.push(format!(
                "not isolated by moat: no record in {} and no network {}",
                states.path_of(&id).display(),
                quarantine_name(&id)
            ));
            return Ok(());
        };
        rec.notes.push(format!(
            "isolated since {} (action {})",
            ir.at, ir.action_id
        ));
        match ir.mode {
            IsolationMode::Paused => {
                if c.state.status == "paused" {
                    self.act(rec, "unpause the container".into(), || {
                        api::expect_ok(
                            self.api,
                            "POST",
                            &format!("/containers/{}/unpause", api::seg(&id)),
                            None,
                        )
                        .map(drop)
                    })?;
                } else {
                    rec.notes.push(format!(
                        "it is not paused any more (status {}): nothing to unpause",
                        c.state.status
                    ));
                }
            }
            IsolationMode::Network => {
                let q = ir.quarantine_network.clone();
                for (name, ep) in &ir.original.networks {
                    if c.state.networks.contains_key(name) {
                        rec.notes
                            .push(format!("already on network {name}: left as it is"));
                        continue;
                    }
                    self.reconnect(rec, &id, name, ep)?;
                }
                if c.state.networks.contains_key(&q) {
                    self.act(
                        rec,
                        format!("disconnect from the quarantine network {q}"),
                        || disconnect(self.api, &q, &id),
                    )?;
                }
                if network(self.api, &q)?.is_some() {
                    self.act(rec, format!("remove the quarantine network {q}"), || {
                        api::expect_ok(
                            self.api,
                            "DELETE",
                            &format!("/networks/{}", api::seg(&q)),
                            None,
                        )
                        .map(drop)
                    })?;
                }
            }
        }
        self.act(
            rec,
            format!(
                "remove the isolation record {}",
                states.path_of(&id).display()
            ),
            || states.remove(&id),
        )?;
        if self.opts.dry_run {
            return Ok(());
        }
        let after = state::inspect(self.api, &id)?;
        rec.after = Some(after.state.clone());
        if ir.mode == IsolationMode::Network {
            let want: Vec<&String> = ir.original.networks.keys().collect();
            let got: Vec<&String> = after.state.networks.keys().collect();
            if want != got {
                return Err(RespondError::Invalid(format!(
                    "after release the container should be on {}, it is on {}",
                    join(&want),
                    join(&got)
                )));
            }
            for (name, ep) in &ir.original.networks {
                let now = &after.state.networks[name];
                let missing: Vec<&String> = ep
                    .aliases
                    .iter()
                    .filter(|a| !now.aliases.contains(a))
                    .collect();
                if !missing.is_empty() {
                    rec.notes.push(format!(
                        "network {name}: aliases {} not restored",
                        join(&missing)
                    ));
                }
                if !ep.ipv4.is_empty() && ep.ipv4 != now.ipv4 {
                    rec.notes.push(format!(
                        "network {name}: address {} is now {}",
                        ep.ipv4, now.ipv4
                    ));
                }
            }
        }
        Ok(())
    }

    /// Connects back to one recorded network: same aliases and links, the same address
    /// when the engine allows it (a network without a user-configured subnet refuses a
    /// fixed address: then the engine picks one, and a note says so).
    fn reconnect(
        &self,
        rec: &mut ActionRecord,
        id: &str,
        name: &str,
        ep: &Endpoint,
    ) -> Result<(), RespondError> {
        let default_bridge = name == "bridge";
        let target = if ep.network_id.is_empty() || network(self.api, &ep.network_id)?.is_none() {
            if !ep.network_id.is_empty() {
                rec.notes.push(format!(
                    "network {name} was recreated since isolation (id {} is gone): reconnecting by name",
                    short_id(&ep.network_id)
                ));
            }
            name.to_string()
        } else {
            ep.network_id.clone()
        };
        let ip = if default_bridge {
            None
        } else if !ep.ipam_ipv4.is_empty() {
            Some(ep.ipam_ipv4.clone())
        } else if !ep.ipv4.is_empty() {
            Some(ep.ipv4.clone())
        } else {
            None
        };
        let ep_cfg = (!default_bridge).then_some(ep);
        let mut what = format!("connect to network {name}");
        if let Some(e) = ep_cfg.filter(|e| !e.aliases.is_empty()) {
            what.push_str(&format!(" with aliases {}", e.aliases.join(", ")));
        }
        if let Some(ip) = &ip {
            what.push_str(&format!(" at {ip}"));
        }
        if self.opts.dry_run {
            return self.act(rec, what, || Ok(()));
        }
        match connect(self.api, &target, id, ep_cfg, ip.as_deref()) {
            Ok(()) => self.act(rec, what, || Ok(())),
            Err(e) if ip.is_some() && e.status().is_some() => {
                rec.notes.push(format!(
                    "network {name}: the address {} could not be asked for again ({e}); the engine picks one",
                    ip.as_deref().unwrap_or_default()
                ));
                let what = format!("{what} (retried without the address)");
                self.act(rec, what, || connect(self.api, &target, id, ep_cfg, None))
            }
            Err(e) => self.act(rec, what, || Err(e)),
        }
    }

    pub(crate) fn lifecycle(
        &self,
        rec: &mut ActionRecord,
        c: &Inspected,
    ) -> Result<(), RespondError> {
        let id = c.container.id.clone();
        let status = c.state.status.as_str();
        let live = matches!(status, "running" | "paused" | "restarting");
        let (noop, path, what) = match rec.action {
            ActionKind::Pause => (
                (status == "paused")
                    .then(|| "already paused".to_string())
                    .or_else(|| {
                        (!live).then(|| format!("not running (status {status}): nothing to pause"))
                    }),
                format!("/containers/{}/pause", api::seg(&id)),
                "pause the container (its processes are frozen, its memory kept)",
            ),
            ActionKind::Unpause => (
                (status != "paused").then(|| format!("not paused (status {status})")),
                format!("/containers/{}/unpause", api::seg(&id)),
                "unpause the container",
            ),
            ActionKind::Stop => (
                (!live).then(|| format!("already stopped (status {status})")),
                format!("/containers/{}/stop?t=10", api::seg(&id)),
                "stop the container (SIGTERM, SIGKILL after 10 s)",
            ),
            _ => (
                (!live).then(|| format!("not running (status {status}): nothing to kill")),
                format!("/containers/{}/kill?signal=KILL", api::seg(&id)),
                "kill the container (SIGKILL)",
            ),
        };
        if let Some(n) = noop {
            rec.outcome = Outcome::NoOp;
            rec.notes.push(n);
            return Ok(());
        }
        if let Some(ir) = self.states().load(&id)? {
            match (rec.action, ir.mode) {
                (ActionKind::Unpause, IsolationMode::Paused) => rec.notes.push(
                    "it was paused to isolate it: unpausing lets it reach its networks again (`moat respond release` does the same and clears the record)".into(),
                ),
                _ => rec.notes.push(format!(
                    "it is isolated since {} (the record stays: `moat respond release` restores its networks)",
                    ir.at
                )),
            }
        }
        if rec.action == ActionKind::Stop && status == "paused" {
            // A paused container cannot take SIGTERM: unpause first (it is stopped
            // right after).
            self.act(
                rec,
                "unpause the container so that it can be stopped".into(),
                || {
                    api::expect_ok(
                        self.api,
                        "POST",
                        &format!("/containers/{}/unpause", api::seg(&id)),
                        None,
                    )
                    .map(drop)
                },
            )?;
        }
        self.act(rec, what.to_string(), || {
            api::expect_ok(self.api, "POST", &path, None).map(drop)
        })?;
        self.settle(rec, &id)
    }

    /// Reads the state after the action into the record.
    fn settle(&self, rec: &mut ActionRecord, id: &str) -> Result<(), RespondError> {
        if self.opts.dry_run {
            return Ok(());
        }
        let after = state::inspect(self.api, id)?;
        rec.notes.push(format!("now: {}", describe(&after.state)));
        rec.after = Some(after.state);
        Ok(())
    }
}

fn join(v: &[&String]) -> String {
    if v.is_empty() {
        "no network".into()
    } else {
        v.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(", ")
    }
}
