//! The daemon's effective configuration: its command line and daemon.json.

use crate::sys::ProcessInfo;
use serde::{Deserialize, Serialize};

/// dockerd's command line and configuration file, as found on the host.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct DaemonConfig {
    /// The dockerd process serving the audited socket, if found.
    pub process: Option<ProcessInfo>,
    /// The daemon.json path in force (`--config-file` or /etc/docker/daemon.json).
    pub config_file: Option<String>,
    /// Its parsed content, when it exists and parses.
    pub config: Option<serde_json::Value>,
    /// Why it could not be read or parsed (absent is not an error).
    pub config_error: Option<String>,
}

/// One setting and where it came from (`dockerd --icc=false`, `daemon.json "icc": false`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Setting {
    pub value: String,
    pub source: String,
}

fn flag_name_matches(arg_name: &str, names: &[&str]) -> bool {
    names.contains(&arg_name)
}

impl DaemonConfig {
    fn args(&self) -> &[String] {
        self.process
            .as_ref()
            .map(|p| p.args.get(1..).unwrap_or(&[]))
            .unwrap_or(&[])
    }

    /// Values given on the command line for any of `names` (`--host`, `-H`), in order.
    /// Accepts `--flag=value`, `--flag value`; a flag with neither is `true`.
    pub fn cmdline(&self, names: &[&str]) -> Vec<Setting> {
        let args = self.args();
        let mut out = Vec::new();
        let mut i = 0;
        while i < args.len() {
            let a = &args[i];
            if a.starts_with('-') {
                let (name, inline) = match a.split_once('=') {
                    Some((n, v)) => (n, Some(v.to_string())),
                    None => (a.as_str(), None),
                };
                let (value, consumed) = match inline {
                    Some(v) => (v, 1),
                    None => match args.get(i + 1) {
                        Some(next) if !next.starts_with('-') => (next.clone(), 2),
                        _ => ("true".to_string(), 1),
                    },
                };
                if flag_name_matches(name, names) {
                    out.push(Setting {
                        source: format!("dockerd {name}={value}"),
                        value,
                    });
                }
                i += consumed;
            } else {
                i += 1;
            }
        }
        out
    }

    /// A daemon.json key as settings (arrays give one setting per element).
    pub fn json(&self, key: &str) -> Vec<Setting> {
        let Some(v) = self.config.as_ref().and_then(|c| c.get(key)) else {
            return Vec::new();
        };
        let file = self.config_file.as_deref().unwrap_or("daemon.json");
        let one = |v: &serde_json::Value| Setting {
            value: match v {
                serde_json::Value::String(s) => s.clone(),
                other => other.to_string(),
            },
            source: format!("{file} \"{key}\": {v}"),
        };
        match v {
            serde_json::Value::Array(items) => items.iter().map(one).collect(),
            other => vec![one(other)],
        }
    }

    /// The command line wins over daemon.json (dockerd refuses both, but be lenient).
    pub fn setting(&self, flags: &[&str], key: &str) -> Vec<Setting> {
        let c = self.cmdline(flags);
        if c.is_empty() { self.json(key) } else { c }
    }

    /// A boolean setting, if set anywhere.
    pub fn bool_setting(&self, flags: &[&str], key: &str) -> Option<(bool, String)> {
        let s = self.setting(flags, key).pop()?;
        Some((s.value == "true" || s.value == "1", s.source))
    }

    /// Whether the command line or daemon.json could be read at all.
    pub fn known(&self) -> bool {
        self.process.is_some() || self.config.is_some()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg(args: &[&str], json: Option<&str>) -> DaemonConfig {
        DaemonConfig {
            process: Some(ProcessInfo {
                pid: 1,
                args: args.iter().map(|s| s.to_string()).collect(),
                exe: None,
            }),
            config_file: Some("/etc/docker/daemon.json".into()),
            config: json.map(|j| serde_json::from_str(j).unwrap()),
            config_error: None,
        }
    }

    #[test]
    fn parses_flag_forms() {
        let c = cfg(
            &[
                "dockerd",
                "-H",
                "unix:///x.sock",
                "--host=tcp://0.0.0.0:2375",
                "--icc=false",
                "--live-restore",
                "--insecure-registry",
                "10.0.0.0/8",
            ],
            None,
        );
        let hosts: Vec<_> = c
            .cmdline(&["-H", "--host"])
            .into_iter()
            .map(|s| s.value)
            .collect();
        assert_eq!(hosts, vec!["unix:///x.sock", "tcp://0.0.0.0:2375"]);
        assert!(!c.bool_setting(&["--icc"], "icc").unwrap().0);
        assert!(
            c.bool_setting(&["--live-restore"], "live-restore")
                .unwrap()
                .0
        );
        assert_eq!(
            c.setting(&["--insecure-registry"], "insecure-registries")[0].value,
            "10.0.0.0/8"
        );
    }

    #[test]
    fn falls_back_to_daemon_json() {
        let c = cfg(
            &["dockerd"],
            Some(r#"{"icc": false, "hosts": ["unix:///a", "tcp://1.2.3.4:2375"]}"#),
        );
        let (v, src) = c.bool_setting(&["--icc"], "icc").unwrap();
        assert!(!v);
        assert!(src.contains("daemon.json"), "{src}");
        assert_eq!(c.setting(&["-H", "--host"], "hosts").len(), 2);
    }
}
