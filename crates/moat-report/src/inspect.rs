//! `moat inspect`'s table: an image's config, layers and history, one screen.

use moat_model::ImageMetadata;
use std::fmt::Write as _;
use std::io::{self, Write};

/// The image metadata as a table.
pub fn table(m: &ImageMetadata, w: &mut dyn Write) -> io::Result<()> {
    w.write_all(render_table(m).as_bytes())
}

fn human(n: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut v = n as f64;
    let mut u = 0;
    while v >= 1024.0 && u + 1 < UNITS.len() {
        v /= 1024.0;
        u += 1;
    }
    if u == 0 {
        format!("{n} B")
    } else {
        format!("{v:.1} {}", UNITS[u])
    }
}

fn json_list(v: &[String]) -> String {
    serde_json::to_string(v).unwrap_or_default()
}

fn short(digest: &str) -> &str {
    let hex = digest.strip_prefix("sha256:").unwrap_or(digest);
    hex.get(..12).unwrap_or(hex)
}

/// One line of text: control characters from the image are shown escaped.
fn clean(s: &str) -> String {
    s.chars()
        .flat_map(|c| {
            if c.is_control() {
                c.escape_default().collect::<Vec<_>>()
            } else {
                vec![c]
            }
        })
        .collect()
}

fn render_table(m: &ImageMetadata) -> String {
    let mut s = String::new();
    let mut kv = |k: &str, v: &str| {
        if !v.is_empty() {
            let _ = writeln!(s, "{:<15}{}", format!("{k}:"), clean(v));
        }
    };
    kv("Source", &m.source);
    kv("Digest", &m.digest);
    kv("Config digest", &m.config_digest);
    kv("Repo tags", &m.repo_tags.join(", "));
    kv("Created", &m.created);
    let platform = [m.os.as_str(), m.architecture.as_str(), m.variant.as_str()]
        .iter()
        .filter(|p| !p.is_empty())
        .copied()
        .collect::<Vec<_>>()
        .join("/");
    kv("Platform", &platform);
    let c = &m.config;
    kv("User", if c.user.is_empty() { "(root)" } else { &c.user });
    if !c.entrypoint.is_empty() {
        kv("Entrypoint", &json_list(&c.entrypoint));
    }
    if !c.cmd.is_empty() {
        kv("Cmd", &json_list(&c.cmd));
    }
    kv("Working dir", &c.working_dir);
    kv("Exposed ports", &c.exposed_ports.join(", "));
    kv("Volumes", &c.volumes.join(", "));
    kv("Stop signal", &c.stop_signal);
    if let Some(h) = &c.healthcheck {
        let mut v = json_list(&h.test);
        if let Some(i) = h.interval_ns {
            let _ = write!(v, " interval={}s", i / 1_000_000_000);
        }
        if let Some(t) = h.timeout_ns {
            let _ = write!(v, " timeout={}s", t / 1_000_000_000);
        }
        if let Some(r) = h.retries {
            let _ = write!(v, " retries={r}");
        }
        kv("Healthcheck", &v);
    }
    let total = format!("{} ({} bytes)", human(m.total_size), m.total_size);
    kv("Total size", &total);
    if !c.env.is_empty() {
        let _ = writeln!(s, "\nEnv:");
        for e in &c.env {
            let _ = writeln!(s, "  {}", clean(e));
        }
    }
    if !c.labels.is_empty() {
        let _ = writeln!(s, "\nLabels:");
        for (k, v) in &c.labels {
            let _ = writeln!(s, "  {}={}", clean(k), clean(v));
        }
    }
    if !m.layers.is_empty() {
        let _ = writeln!(s, "\nLayers ({}):", m.layers.len());
        let _ = writeln!(
            s,
            "  {:<3} {:<12}  {:<12}  {:>10}  {:>10}  CREATED BY",
            "#", "DIFF ID", "DIGEST", "SIZE", "STORED"
        );
        for (i, l) in m.layers.iter().enumerate() {
            let _ = writeln!(
                s,
                "  {:<3} {:<12}  {:<12}  {:>10}  {:>10}  {}",
                i + 1,
                short(&l.diff_id),
                short(&l.digest),
                human(l.size),
                human(l.compressed_size),
                clean(&l.created_by)
            );
        }
    }
    if !m.history.is_empty() {
        let _ = writeln!(s, "\nHistory ({}):", m.history.len());
        for h in &m.history {
            let mark = if h.empty_layer { " " } else { "+" };
            let _ = writeln!(s, "  {mark} {}", clean(&h.created_by));
        }
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_and_escapes() {
        assert_eq!(human(1536), "1.5 KiB");
        assert_eq!(clean("a\nb"), "a\\nb");
        assert_eq!(clean("\u{1b}[31m"), "\\u{1b}[31m");
    }
}
