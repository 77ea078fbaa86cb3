//! Issue 12, images: one generated hostile case per class that concerns reading
//! images, each run as a child process through `common::hostile` (exit code, peak
//! RSS, wall time, no raw control characters, nothing written outside the cache).
//! Budgets that are too large to reach with a small input at the default are lowered
//! through `MOAT_IMAGE_LIMITS` (the same budget, the same code path).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;
use common::hostile::{Case, Outcome};
use moat_image::testkit::{
    Comp, E, Img, concat_layers, layer, layer_long_name, layer_long_symlink, layer_many_files,
};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Write `img` as an OCI layout under the case's work dir; returns the source string.
fn oci(c: &Case, name: &str, img: &Img) -> String {
    let dir = c.work().join(name);
    img.write_oci(&dir, "latest");
    format!("oci-dir:{}", dir.display())
}

/// Rejected: exit 2, one line naming the budget and the source.
fn rejected_naming(o: &Outcome, budget: &str, source_part: &str) {
    o.assert_rejected(budget);
    assert!(o.stderr().contains(source_part), "{:?}", o.stderr());
}

#[test]
fn a_path_of_tens_of_thousands_of_components_is_refused_by_the_path_budget() {
    let c = Case::new();
    let deep = "a/".repeat(30_000) + "f";
    let img = Img::new(vec![(layer_long_name(&deep, b"x"), Comp::Gzip)]);
    let src = oci(&c, "deep", &img);
    let o = c.run(&["inspect", &src]);
    rejected_naming(&o, "max-path-bytes", "deep");
}

#[test]
fn a_path_deeper_than_the_depth_budget_is_refused() {
    let c = Case::new();
    // 600 components in 1,800 bytes: under the byte budget, over the depth budget.
    let deep = "ab/".repeat(600) + "f";
    let img = Img::new(vec![(layer_long_name(&deep, b"x"), Comp::Gzip)]);
    let src = oci(&c, "deep", &img);
    let o = c.run(&["inspect", &src]);
    rejected_naming(&o, "max-path-depth", "deep");
}

#[test]
fn a_symlink_with_a_huge_target_is_refused_without_reading_it_whole() {
    let c = Case::new();
    let target = "x/".repeat(4 << 20); // 8 MiB
    let img = Img::new(vec![(layer_long_symlink("link", &target), Comp::Gzip)]);
    let src = oci(&c, "longlink", &img);
    let o = c.run(&["inspect", &src]);
    rejected_naming(&o, "max-link-target-bytes", "longlink");
}

#[test]
fn many_entries_below_a_dot_dot_dot_symlink_are_placed_in_linear_time() {
    let c = Case::new();
    // `d -> ./././…/real` (4,000 bytes) and 40,000 files under `d/`: each entry's
    // parent is that symlink; resolving it once per entry would walk 80 M components.
    let target = "./".repeat(2000) + "real";
    let parts = vec![
        layer(&[E::Dir("real")]),
        layer_long_symlink("d", &target),
        layer_many_files("d", 40_000),
    ];
    let img = Img::new(vec![(concat_layers(&parts), Comp::Gzip)]);
    let src = oci(&c, "dots", &img);
    let o = c.run(&["sbom", &src]);
    o.assert_well_behaved(0);
    assert!(!o.stdout().is_empty(), "an SBOM is written");
}

#[test]
fn a_layer_over_the_entries_budget_is_refused() {
    let c = Case::new();
    let img = Img::new(vec![(layer_many_files("usr/share/x", 5_001), Comp::Gzip)]);
    let src = oci(&c, "many", &img);
    let o = c.run_env(
        &["inspect", &src],
        &[("MOAT_IMAGE_LIMITS", "max-entries-per-layer=5000")],
    );
    rejected_naming(&o, "max-entries-per-layer", "many");
    // One entry fewer passes.
    let c2 = Case::new();
    let img = Img::new(vec![(layer_many_files("usr/share/x", 4_999), Comp::Gzip)]);
    let src = oci(&c2, "many", &img);
    let o = c2.run_env(
        &["inspect", &src],
        &[("MOAT_IMAGE_LIMITS", "max-entries-per-layer=5000")],
    );
    o.assert_well_behaved(0);
}

#[test]
fn a_layer_listed_thousands_of_times_is_read_once_and_counted_each_time() {
    let c = Case::new();
    // 20,000 entries, listed 200 times: 4,000,000 entries for the image (over the
    // default of 3,000,000), but one layer to read.
    let l = layer_many_files("usr/lib/x", 20_000);
    let img = Img::new(vec![(l, Comp::Gzip); 200]);
    let src = oci(&c, "repeated", &img);
    let o = c.run(&["inspect", &src]);
    rejected_naming(&o, "max-entries-per-image", "repeated");
    // The cache holds that layer once.
    let stored = std::fs::read_dir(c.cache().join("layers/sha256"))
        .unwrap()
        .count();
    assert_eq!(stored, 1);
}

#[test]
fn a_config_blob_of_20_gib_in_a_layout_is_refused_before_it_is_read() {
    let c = Case::new();
    let img = Img::new(vec![(layer(&[E::File("etc/a", b"x")]), Comp::Gzip)]);
    let src = oci(&c, "bigcfg", &img);
    // Make the config blob a sparse 20 GiB file (its digest no longer matters: the
    // size is checked first).
    let dir = c.work().join("bigcfg");
    let index: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join("index.json")).unwrap()).unwrap();
    let man = index["manifests"][0]["digest"].as_str().unwrap();
    let blob = |d: &str| {
        dir.join("blobs/sha256")
            .join(d.trim_start_matches("sha256:"))
    };
    let m: serde_json::Value = serde_json::from_slice(&std::fs::read(blob(man)).unwrap()).unwrap();
    let cfg = m["config"]["digest"].as_str().unwrap();
    std::fs::OpenOptions::new()
        .write(true)
        .open(blob(cfg))
        .unwrap()
        .set_len(20 << 30)
        .unwrap();
    let o = c.run(&["inspect", &src]);
    rejected_naming(&o, "max-json-bytes", "bigcfg");
}

/// A minimal registry on 127.0.0.1: `handler(path, headers)` gives each reply as
/// (status line, extra headers, body, milliseconds between two body bytes or 0 for
/// all at once).
type Reply = (String, Vec<(String, String)>, Vec<u8>, u64);

fn serve(handler: impl Fn(&str, &[String]) -> Reply + Send + Sync + 'static) -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    let handler = Arc::new(handler);
    std::thread::spawn(move || {
        for s in l.incoming() {
            let Ok(s) = s else { continue };
            let h = handler.clone();
            std::thread::spawn(move || answer(s, &*h));
        }
    });
    port
}

fn answer(s: TcpStream, h: &dyn Fn(&str, &[String]) -> Reply) {
    let mut r = BufReader::new(s.try_clone().unwrap());
    let mut line = String::new();
    if r.read_line(&mut line).is_err() {
        return;
    }
    let path = line.split_whitespace().nth(1).unwrap_or("/").to_string();
    let mut headers = Vec::new();
    loop {
        let mut l = String::new();
        if r.read_line(&mut l).is_err() || l.trim().is_empty() {
            break;
        }
        headers.push(l.trim().to_string());
    }
    let (status, extra, body, rate) = h(&path, &headers);
    let mut w = s;
    let mut head = format!(
        "HTTP/1.1 {status}\r\nContent-Length: {}\r\nConnection: close\r\n",
        body.len()
    );
    for (k, v) in extra {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    head.push_str("\r\n");
    if w.write_all(head.as_bytes()).is_err() {
        return;
    }
    if rate == 0 {
        let _ = w.write_all(&body);
        return;
    }
    for b in body {
        if w.write_all(&[b]).is_err() {
            return;
        }
        std::thread::sleep(Duration::from_millis(rate));
    }
}

fn json(v: serde_json::Value) -> Vec<u8> {
    serde_json::to_vec(&v).unwrap()
}

fn ok(body: Vec<u8>, media_type: &str) -> Reply {
    (
        "200 OK".into(),
        vec![("Content-Type".into(), media_type.into())],
        body,
        0,
    )
}

const MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";

#[test]
fn a_registry_config_blob_claiming_20_gib_is_refused_before_anything_is_written() {
    let c = Case::new();
    let fetched = Arc::new(Mutex::new(Vec::<String>::new()));
    let seen = fetched.clone();
    let port = serve(move |path, _| {
        seen.lock().unwrap().push(path.to_string());
        let d = |ch: char| format!("sha256:{}", ch.to_string().repeat(64));
        match path {
            "/v2/" => ok(b"{}".to_vec(), "application/json"),
            p if p.starts_with("/v2/big/manifests/") => ok(
                json(serde_json::json!({
                    "schemaVersion": 2, "mediaType": MANIFEST,
                    "config": {"mediaType": "application/vnd.oci.image.config.v1+json",
                               "digest": d('c'), "size": 20u64 << 30},
                    "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip",
                                "digest": d('a'), "size": 10}]
                })),
                MANIFEST,
            ),
            _ => ("404 Not Found".into(), vec![], b"{}".to_vec(), 0),
        }
    });
    let host = format!("127.0.0.1:{port}");
    let o = c.run(&[
        "inspect",
        "--insecure-registry",
        &host,
        &format!("registry:{host}/big:1"),
    ]);
    rejected_naming(&o, "max-json-bytes", "big");
    assert!(
        !fetched
            .lock()
            .unwrap()
            .iter()
            .any(|p| p.contains("/blobs/")),
        "no blob was requested: {:?}",
        fetched.lock().unwrap()
    );
    let written: Vec<String> = common::hostile::tree(&c.cache())
        .into_iter()
        .filter(|p| p.contains("blobs/sha256/"))
        .collect();
    assert!(written.is_empty(), "{written:?}");
}

#[test]
fn a_registry_that_drips_one_byte_at_a_time_is_given_up_at_the_total_deadline() {
    let c = Case::new();
    let port = serve(|path, _| match path {
        "/v2/" => ok(b"{}".to_vec(), "application/json"),
        // A manifest of 4 KiB sent at 4 bytes a second: over 15 minutes.
        _ => (
            "200 OK".into(),
            vec![("Content-Type".into(), MANIFEST.into())],
            vec![b' '; 4096],
            250,
        ),
    });
    let host = format!("127.0.0.1:{port}");
    let o = c.run_env(
        &[
            "inspect",
            "--insecure-registry",
            &host,
            &format!("registry:{host}/drip:1"),
        ],
        &[("MOAT_IMAGE_LIMITS", "idle-timeout=30,total-timeout=3")],
    );
    rejected_naming(&o, "total-timeout", "drip");
}

#[test]
fn basic_credentials_never_go_over_http_to_a_token_realm_on_another_port() {
    let c = Case::new();
    let got_auth = Arc::new(Mutex::new(Vec::<String>::new()));
    let seen = got_auth.clone();
    let realm_port = serve(move |_, headers| {
        for h in headers {
            if h.to_ascii_lowercase().starts_with("authorization:") {
                seen.lock().unwrap().push(h.clone());
            }
        }
        ok(
            json(serde_json::json!({"token": "t0k"})),
            "application/json",
        )
    });
    let port = serve(move |path, headers| {
        let bearer = headers.iter().any(|h| h.contains("Bearer t0k"));
        match path {
            _ if !bearer => (
                "401 Unauthorized".into(),
                vec![(
                    "WWW-Authenticate".into(),
                    format!(r#"Bearer realm="http://127.0.0.1:{realm_port}/token",service="reg""#),
                )],
                b"{}".to_vec(),
                0,
            ),
            _ => ("404 Not Found".into(), vec![], b"{}".to_vec(), 0),
        }
    });
    let host = format!("127.0.0.1:{port}");
    // Credentials for this registry, in a docker config inside the work dir.
    let cfg = c.work().join("docker");
    std::fs::create_dir_all(&cfg).unwrap();
    std::fs::write(
        cfg.join("config.json"),
        format!(r#"{{"auths":{{"{host}":{{"auth":"dXNlcjpzZWNyZXQ="}}}}}}"#),
    )
    .unwrap();
    let o = c.run_env(
        &[
            "inspect",
            "--insecure-registry",
            &host,
            &format!("registry:{host}/private:1"),
        ],
        &[("DOCKER_CONFIG", cfg.to_str().unwrap())],
    );
    // The token is fetched anonymously; the registry then has no such manifest.
    o.assert_rejected("private");
    assert!(
        got_auth.lock().unwrap().is_empty(),
        "credentials were sent to the other origin: {:?}",
        got_auth.lock().unwrap()
    );
}

#[test]
fn an_engine_whose_inspect_reply_never_ends_is_cut_at_the_json_budget() {
    let c = Case::new();
    // An engine on a unix socket answering `/images/x/json` with an endless body.
    let sock = c.dir.path().join("e.sock");
    let l = std::os::unix::net::UnixListener::bind(&sock).unwrap();
    std::thread::spawn(move || {
        for s in l.incoming() {
            let Ok(mut s) = s else { continue };
            std::thread::spawn(move || {
                let mut buf = [0u8; 4096];
                let _ = s.read(&mut buf);
                let _ = s.write_all(b"HTTP/1.0 200 OK\r\nContent-Type: application/json\r\n\r\n[");
                let chunk = [b'1'; 65536];
                while s.write_all(&chunk).is_ok() {}
            });
        }
    });
    let o = c.run_env(
        &["inspect", "docker:x:1"],
        &[("DOCKER_HOST", &format!("unix://{}", sock.display()))],
    );
    rejected_naming(&o, "max-json-bytes", "docker:x:1");
}

#[test]
fn an_archive_whose_own_tar_has_a_huge_long_name_is_refused_without_reading_it() {
    let c = Case::new();
    // The outer tar of a docker-archive: one GNU long name of 16 MiB, gzip-compressed.
    let tar = layer_long_name(&"n".repeat(16 << 20), b"");
    let path = c.work().join("outer.tar.gz");
    std::fs::write(&path, moat_image::testkit::compress(&tar, Comp::Gzip)).unwrap();
    let o = c.run(&["inspect", &format!("docker-archive:{}", path.display())]);
    rejected_naming(&o, "max-path-bytes", "outer.tar.gz");
}

#[test]
fn a_registry_silent_for_longer_than_the_idle_timeout_is_given_up() {
    let c = Case::new();
    // Headers at once, then the body at one byte every 3 seconds.
    let slow = serve(|_, _| {
        (
            "200 OK".into(),
            vec![("Content-Type".into(), MANIFEST.into())],
            vec![b' '; 64],
            3000,
        )
    });
    let host = format!("127.0.0.1:{slow}");
    let o = c.run_env(
        &[
            "inspect",
            "--insecure-registry",
            &host,
            &format!("registry:{host}/idle:1"),
        ],
        &[("MOAT_IMAGE_LIMITS", "idle-timeout=1,total-timeout=60")],
    );
    rejected_naming(&o, "idle-timeout", "idle");
}

#[test]
fn an_engine_export_that_drips_is_given_up_at_the_total_deadline() {
    let c = Case::new();
    let sock = c.dir.path().join("e.sock");
    let l = std::os::unix::net::UnixListener::bind(&sock).unwrap();
    std::thread::spawn(move || {
        for s in l.incoming() {
            let Ok(mut s) = s else { continue };
            std::thread::spawn(move || {
                let mut buf = [0u8; 4096];
                let n = s.read(&mut buf).unwrap_or(0);
                let req = String::from_utf8_lossy(&buf[..n]).into_owned();
                if req.contains("/json ") {
                    let _ = s.write_all(b"HTTP/1.0 200 OK\r\n\r\n{\"Id\":\"sha256:x\"}");
                    return;
                }
                let _ = s.write_all(b"HTTP/1.0 200 OK\r\nContent-Type: application/x-tar\r\n\r\n");
                // One byte every half second, forever.
                while s.write_all(b"x").is_ok() {
                    std::thread::sleep(Duration::from_millis(500));
                }
            });
        }
    });
    let o = c.run_env(
        &["inspect", "docker:x:1"],
        &[
            ("DOCKER_HOST", &format!("unix://{}", sock.display())),
            ("MOAT_IMAGE_LIMITS", "idle-timeout=30,total-timeout=3"),
        ],
    );
    rejected_naming(&o, "total-timeout", "docker:x:1");
    // The partial export was not kept.
    let left: Vec<String> = common::hostile::tree(&c.cache())
        .into_iter()
        .filter(|p| p.contains("export-"))
        .collect();
    assert!(left.is_empty(), "{left:?}");
}
