//! A container's state as an action sees it (read from `GET /containers/{id}/json`), and
//! the isolation records kept in the state directory (`<evidence>/state/<id>.json`).

use crate::RespondError;
use crate::api::{self, Api};
use moat_model::response::{
    ContainerRef, ContainerState, Endpoint, IsolationRecord, PublishedPort,
};
use serde_json::Value;
use std::path::{Path, PathBuf};

/// Bytes of an isolation record file.
const MAX_STATE_BYTES: u64 = 1 << 20;

/// A container as inspected: its raw JSON and what actions need from it.
#[derive(Debug, Clone)]
pub struct Inspected {
    pub raw: Vec<u8>,
    pub json: Value,
    pub container: ContainerRef,
    pub state: ContainerState,
}

/// Inspects `id_or_name`.
pub fn inspect(api: &dyn Api, id_or_name: &str) -> Result<Inspected, RespondError> {
    let path = format!("/containers/{}/json", api::seg(id_or_name));
    let r = api::expect_ok(api, "GET", &path, None)?;
    let json: Value = serde_json::from_slice(&r.body).map_err(|e| RespondError::Reply {
        what: format!("GET {path}"),
        reason: format!("malformed JSON: {e}"),
    })?;
    let container = container_ref(&json);
    if container.id.is_empty() {
        return Err(RespondError::Reply {
            what: format!("GET {path}"),
            reason: "no container Id".into(),
        });
    }
    let state = state_of(&json);
    Ok(Inspected {
        raw: r.body,
        json,
        container,
        state,
    })
}

fn s(v: &Value, p: &str) -> String {
    v.pointer(p)
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string()
}

/// Id, name and image of an inspected container.
pub fn container_ref(v: &Value) -> ContainerRef {
    ContainerRef {
        id: s(v, "/Id"),
        name: s(v, "/Name").trim_start_matches('/').to_string(),
        image: s(v, "/Config/Image"),
        image_id: s(v, "/Image"),
    }
}

/// The short id the engine adds as an alias on user-defined networks.
pub fn short_id(id: &str) -> &str {
    id.get(..12).unwrap_or(id)
}

/// Status, network mode, networks (aliases without the engine's short-id alias), ports.
pub fn state_of(v: &Value) -> ContainerState {
    let id = s(v, "/Id");
    let short = short_id(&id).to_string();
    let mut networks = std::collections::BTreeMap::new();
    if let Some(nets) = v
        .pointer("/NetworkSettings/Networks")
        .and_then(Value::as_object)
    {
        for (name, n) in nets {
            let strs = |p: &str| -> Vec<String> {
                n.pointer(p)
                    .and_then(Value::as_array)
                    .map(|a| {
                        a.iter()
                            .filter_map(Value::as_str)
                            .map(str::to_string)
                            .collect()
                    })
                    .unwrap_or_default()
            };
            let mut aliases: Vec<String> = strs("/Aliases")
                .into_iter()
                .filter(|a| *a != short && *a != id)
                .collect();
            aliases.sort();
            aliases.dedup();
            networks.insert(
                name.clone(),
                Endpoint {
                    network_id: s(n, "/NetworkID"),
                    aliases,
                    ipv4: s(n, "/IPAddress"),
                    ipv6: s(n, "/GlobalIPv6Address"),
                    ipam_ipv4: s(n, "/IPAMConfig/IPv4Address"),
                    ipam_ipv6: s(n, "/IPAMConfig/IPv6Address"),
                    mac: s(n, "/MacAddress"),
                    links: strs("/Links"),
                },
            );
        }
    }
    let mut ports = Vec::new();
    if let Some(p) = v
        .pointer("/NetworkSettings/Ports")
        .and_then(Value::as_object)
    {
        for (cport, binds) in p {
            for b in binds.as_array().into_iter().flatten() {
                ports.push(PublishedPort {
                    container_port: cport.clone(),
                    host_ip: s(b, "/HostIp"),
                    host_port: s(b, "/HostPort"),
                });
            }
        }
    }
    ports.sort();
    ContainerState {
        status: s(v, "/State/Status"),
        network_mode: s(v, "/HostConfig/NetworkMode"),
        networks,
        ports,
        pid: v
            .pointer("/State/Pid")
            .and_then(Value::as_u64)
            .and_then(|p| u32::try_from(p).ok())
            .unwrap_or(0),
    }
}

/// Why a network mode cannot be detached (host, container:ID), if it cannot.
pub fn undetachable(mode: &str) -> Option<String> {
    if mode == "host" {
        return Some(
            "it shares the host's network namespace (network mode host), which cannot be detached"
                .into(),
        );
    }
    mode.strip_prefix("container:").map(|other| {
        format!(
            "it shares the network namespace of container {} (network mode container:), which cannot be detached",
            short_id(other)
        )
    })
}

/// The isolation records of one evidence directory.
#[derive(Debug, Clone)]
pub struct StateDir {
    dir: PathBuf,
}

impl StateDir {
    pub fn new(evidence_dir: &Path) -> StateDir {
        StateDir {
            dir: evidence_dir.join("state"),
        }
    }

    pub fn path_of(&self, container_id: &str) -> PathBuf {
        // Ids are hex; anything else is kept out of the path.
        let safe: String = container_id
            .chars()
            .filter(char::is_ascii_alphanumeric)
            .take(64)
            .collect();
        self.dir.join(format!("{safe}.json"))
    }

    /// The record of a container, if it is isolated.
    pub fn load(&self, container_id: &str) -> Result<Option<IsolationRecord>, RespondError> {
        let p = self.path_of(container_id);
        let f = match std::fs::File::open(&p) {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(RespondError::io(&p, e)),
        };
        let mut text = Vec::new();
        use std::io::Read;
        f.take(MAX_STATE_BYTES + 1)
            .read_to_end(&mut text)
            .map_err(|e| RespondError::io(&p, e))?;
        if text.len() as u64 > MAX_STATE_BYTES {
            return Err(RespondError::State {
                path: p,
                reason: format!("larger than {MAX_STATE_BYTES} bytes"),
            });
        }
        serde_json::from_slice(&text)
            .map(Some)
            .map_err(|e| RespondError::State {
                path: p,
                reason: e.to_string(),
            })
    }

    /// Writes a record durably (a temporary file, fsync, rename).
    pub fn save(&self, rec: &IsolationRecord) -> Result<PathBuf, RespondError> {
        use std::io::Write;
        std::fs::create_dir_all(&self.dir).map_err(|e| RespondError::io(&self.dir, e))?;
        let p = self.path_of(&rec.container.id);
        let tmp = p.with_extension("json.tmp");
        let body = serde_json::to_vec_pretty(rec).map_err(|e| RespondError::State {
            path: p.clone(),
            reason: e.to_string(),
        })?;
        let mut f = std::fs::File::create(&tmp).map_err(|e| RespondError::io(&tmp, e))?;
        f.write_all(&body)
            .and_then(|()| f.sync_all())
            .map_err(|e| RespondError::io(&tmp, e))?;
        std::fs::rename(&tmp, &p).map_err(|e| RespondError::io(&p, e))?;
        Ok(p)
    }

    pub fn remove(&self, container_id: &str) -> Result<(), RespondError> {
        let p = self.path_of(container_id);
        match std::fs::remove_file(&p) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(RespondError::io(&p, e)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_networks_and_ports_from_inspect() {
        let v: Value = serde_json::json!({
            "Id": "0123456789abcdef0123",
            "Name": "/web",
            "State": {"Status": "running", "Pid": 42},
            "HostConfig": {"NetworkMode": "front"},
            "NetworkSettings": {
                "Ports": {"80/tcp": [{"HostIp": "0.0.0.0", "HostPort": "8080"}], "81/tcp": null},
                "Networks": {"front": {"NetworkID": "n1", "Aliases": ["web", "0123456789ab"],
                    "IPAddress": "10.1.0.2", "IPAMConfig": null, "MacAddress": "02:42"}}
            }
        });
        let st = state_of(&v);
        assert_eq!(st.status, "running");
        assert_eq!(st.pid, 42);
        assert_eq!(st.networks["front"].aliases, vec!["web".to_string()]);
        assert_eq!(st.networks["front"].ipv4, "10.1.0.2");
        assert_eq!(st.ports.len(), 1);
        assert_eq!(container_ref(&v).name, "web");
        assert!(undetachable("host").is_some());
        assert!(undetachable("container:abc").is_some());
        assert!(undetachable("bridge").is_none());
    }
}
