//! `moat inspect SOURCE`: an image's config, layers, history and size, without a
//! daemon. Opening verifies every blob and warms the layer cache for a later scan.
//!
//! Exit codes: 0 shown, 2 the image cannot be opened (one line naming the input).

use crate::Global;
use moat_model::ImageMetadata;
use std::fmt::Write as _;
use std::io::Write;
use std::process::ExitCode;

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Table,
    Json,
}

#[derive(clap::Args, Debug)]
pub struct Args {
    /// The image: docker-archive:PATH, oci-dir:PATH[:TAG|@DIGEST], oci-archive:PATH,
    /// registry:REF, docker:REF, dir:PATH, rootfs:PATH, or a bare path or reference.
    #[arg(value_name = "SOURCE")]
    pub source: String,
    #[arg(long, value_enum, default_value = "table")]
    pub format: Format,
    /// Platform to pick from a multi-platform image (os/arch[/variant]).
    #[arg(long, value_name = "PLATFORM")]
    pub platform: Option<String>,
    /// Refuse images whose layers unpack to more than this (bytes, or with a K/M/G/T suffix).
    #[arg(long, value_name = "SIZE", value_parser = parse_size, default_value = "8G")]
    pub max_unpacked_size: u64,
    /// Registry hosts that may be reached over plain HTTP (comma-separated).
    #[arg(long, value_delimiter = ',', value_name = "HOSTS")]
    pub insecure_registry: Vec<String>,
}

/// `123`, `10K`, `512M`, `8G`, `1T` (powers of 1024).
pub fn parse_size(s: &str) -> Result<u64, String> {
    let t = s.trim();
    let (num, mult) = match t.char_indices().last() {
        Some((i, c)) if c.is_ascii_alphabetic() => {
            let m: u64 = match c.to_ascii_uppercase() {
                'K' => 1 << 10,
                'M' => 1 << 20,
                'G' => 1 << 30,
                'T' => 1 << 40,
                'B' => 1,
                _ => return Err(format!("unknown size suffix in {s:?}")),
            };
            (&t[..i], m)
        }
        _ => (t, 1),
    };
    let n: u64 = num
        .trim()
        .parse()
        .map_err(|_| format!("not a size: {s:?}"))?;
    n.checked_mul(mult)
        .ok_or_else(|| format!("size too large: {s:?}"))
}

pub fn run(global: &Global, args: Args) -> anyhow::Result<ExitCode> {
    let mut opts = moat_image::OpenOptions::new(global.cache_dir());
    opts.platform = args.platform.clone();
    opts.max_unpacked_size = args.max_unpacked_size;
    opts.insecure_registries = args.insecure_registry.clone();
    let image = moat_image::open(&args.source, &opts)?;
    let m = image.metadata();
    let out = match args.format {
        Format::Json => {
            let mut s = serde_json::to_string_pretty(m)?;
            s.push('\n');
            s
        }
        Format::Table => render_table(m),
    };
    let mut stdout = std::io::stdout().lock();
    stdout.write_all(out.as_bytes())?;
    stdout.flush()?;
    Ok(ExitCode::SUCCESS)
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

pub fn render_table(m: &ImageMetadata) -> String {
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
    fn sizes() {
        assert_eq!(parse_size("8G").unwrap(), 8 << 30);
        assert_eq!(parse_size("100").unwrap(), 100);
        assert_eq!(parse_size("1k").unwrap(), 1024);
        assert!(parse_size("x").is_err());
        assert!(parse_size("99999999999T").is_err());
        assert_eq!(human(1536), "1.5 KiB");
        assert_eq!(clean("a\nb"), "a\\nb");
    }
}
