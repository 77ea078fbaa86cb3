//! The HTML report, looked at in headless Chromium (Debian's `chromium`, installed by
//! scripts/install-deps): it renders, the screenshot is not blank, and the page's
//! DOM holds every finding. The screenshot is kept in target/screenshots/ for a look.

#![allow(clippy::unwrap_used)]

use std::path::{Path, PathBuf};
use std::process::Command;

const SHARED: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared");

fn chromium() -> PathBuf {
    let p = PathBuf::from("/usr/bin/chromium");
    assert!(p.exists(), "chromium missing: run scripts/install-deps");
    p
}

fn headless(args: &[&str], profile: &Path) -> std::process::Output {
    Command::new(chromium())
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--hide-scrollbars",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .args(args)
        .output()
        .unwrap()
}

#[test]
fn html_report_renders_in_chromium() {
    let images = std::env::var_os("MOAT_TEST_IMAGES")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/test-images"));
    let img = images.join("full/docker-archive.tar");
    assert!(img.exists(), "run scripts/build-test-images");
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("moat.db");
    let st = Command::new(env!("CARGO_BIN_EXE_moat"))
        .args(["db", "import", &format!("{SHARED}/vulndata"), "--db"])
        .arg(&db)
        .output()
        .unwrap();
    assert!(st.status.success());
    let html = dir.path().join("report.html");
    let json = dir.path().join("report.json");
    for (fmt, out) in [("html", &html), ("json", &json)] {
        let st = Command::new(env!("CARGO_BIN_EXE_moat"))
            .args([
                "scan",
                &format!("docker-archive:{}", img.display()),
                "--format",
                fmt,
                "--output",
            ])
            .arg(out)
            .arg("--db")
            .arg(&db)
            .arg("--cache-dir")
            .arg(dir.path().join("cache"))
            .output()
            .unwrap();
        assert!(
            st.status.success(),
            "{}",
            String::from_utf8_lossy(&st.stderr)
        );
    }
    let report: serde_json::Value = serde_json::from_slice(&std::fs::read(&json).unwrap()).unwrap();

    // The DOM after Chromium ran the page holds every finding.
    let url = format!("file://{}", html.display());
    let dom = headless(&["--dump-dom", &url], &dir.path().join("profile1"));
    assert!(dom.status.success());
    let dom = String::from_utf8_lossy(&dom.stdout);
    for v in report["vulnerabilities"].as_array().unwrap() {
        assert!(
            dom.contains(v["id"].as_str().unwrap()),
            "{} missing from the page",
            v["id"]
        );
    }

    // A screenshot with real content (many colours, not a blank page).
    let shots = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/screenshots");
    std::fs::create_dir_all(&shots).unwrap();
    let png_path = shots.join("scan-report.png");
    let _ = std::fs::remove_file(&png_path);
    let out = headless(
        &[
            &format!("--screenshot={}", png_path.display()),
            "--window-size=1280,1000",
            &url,
        ],
        &dir.path().join("profile2"),
    );
    assert!(
        png_path.exists(),
        "no screenshot: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let decoder = png::Decoder::new(std::io::BufReader::new(
        std::fs::File::open(&png_path).unwrap(),
    ));
    let mut reader = decoder.read_info().unwrap();
    let mut buf = vec![0; reader.output_buffer_size().unwrap()];
    let info = reader.next_frame(&mut buf).unwrap();
    assert_eq!((info.width, info.height), (1280, 1000));
    let px = info.color_type.samples();
    let mut colours = std::collections::BTreeSet::new();
    for p in buf[..info.buffer_size()].chunks(px).step_by(7) {
        colours.insert(p.to_vec());
    }
    assert!(
        colours.len() > 50,
        "the screenshot looks blank ({} colours)",
        colours.len()
    );
    // The header band is the report's dark blue (#0d2538).
    let row = 10 * info.width as usize * px;
    assert_eq!(&buf[row..row + 3], &[0x0d, 0x25, 0x38]);
}
