//! `daemon.json`, the Docker Engine configuration.

use serde_json::{Map, Value};

/// A parsed daemon.json with the line of each top-level key.
#[derive(Debug, Clone, Default)]
pub struct Daemon {
    pub config: Map<String, Value>,
    lines: Vec<(String, u32)>,
}

#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct DaemonError(pub String);

impl Daemon {
    pub fn get(&self, key: &str) -> Option<&Value> {
        self.config.get(key)
    }
    /// Line of a top-level key (1 when absent).
    pub fn line_of(&self, key: &str) -> u32 {
        self.lines
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, l)| *l)
            .unwrap_or(1)
    }
    pub fn bool(&self, key: &str) -> Option<bool> {
        self.get(key).and_then(Value::as_bool)
    }
    pub fn str(&self, key: &str) -> Option<&str> {
        self.get(key).and_then(Value::as_str)
    }
    fn bool_at(&self, key: &str) -> Option<moat_model::container::At<bool>> {
        let line = self.line_of(key);
        self.bool(key).map(|value| moat_model::container::At {
            value,
            pos: Some(moat_model::container::Pos {
                line,
                column: 1,
                key_line: line,
            }),
        })
    }
    /// The settings the live audit judges too.
    pub fn spec(&self) -> moat_model::DaemonSpec {
        moat_model::DaemonSpec {
            iptables: self.bool_at("iptables"),
            no_new_privileges: self.bool_at("no-new-privileges"),
            userland_proxy: self.bool_at("userland-proxy"),
        }
    }
}

pub fn parse(text: &str) -> Result<Daemon, DaemonError> {
    let v: Value =
        serde_json::from_str(text).map_err(|e| DaemonError(format!("invalid JSON: {e}")))?;
    let Value::Object(config) = v else {
        return Err(DaemonError("daemon.json must be a JSON object".into()));
    };
    // Top-level key lines: a `"key":` at nesting depth 1.
    let mut lines = Vec::new();
    let mut depth = 0i32;
    let mut line = 1u32;
    let b = text.as_bytes();
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'\n' => line += 1,
            b'{' | b'[' => depth += 1,
            b'}' | b']' => depth -= 1,
            b'"' => {
                let start = i + 1;
                i += 1;
                while i < b.len() && b[i] != b'"' {
                    if b[i] == b'\\' {
                        i += 1;
                    }
                    i += 1;
                }
                let s = &text[start..i.min(text.len())];
                let rest = text[(i + 1).min(text.len())..].trim_start();
                if depth == 1 && rest.starts_with(':') {
                    lines.push((s.to_string(), line));
                }
            }
            _ => {}
        }
        i += 1;
    }
    Ok(Daemon { config, lines })
}
