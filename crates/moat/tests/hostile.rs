//! Hostile images: each bad input gives exit status 2 and one clear line naming the
//! input and the problem; links never leave the image; nothing is written outside the
//! cache directory. Every image here is hand-built (moat_image::testkit).
#![allow(clippy::unwrap_used)]

use moat_fs::FileKind;
use moat_image::testkit::{Comp, E, Img, compress, hexof, layer, sha, write_tar};
use std::path::Path;
use std::process::Command;

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

fn inspect(cache: &Path, args: &[&str]) -> Run {
    let out = Command::new(env!("CARGO_BIN_EXE_moat"))
        .arg("inspect")
        .args(args)
        .env("MOAT_CACHE_DIR", cache)
        .env_remove("MOAT_DB")
        .output()
        .unwrap();
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// Exit 2, exactly one line on stderr, naming `input` and containing `problem`.
fn assert_fails(r: &Run, input: &str, problem: &str) {
    assert_eq!(r.code, 2, "stdout: {} stderr: {}", r.stdout, r.stderr);
    let lines: Vec<&str> = r.stderr.lines().collect();
    assert_eq!(lines.len(), 1, "one line expected: {:?}", r.stderr);
    assert!(lines[0].starts_with("moat: error: "), "{}", lines[0]);
    assert!(
        lines[0].contains(input),
        "{:?} does not name {input}",
        lines[0]
    );
    assert!(
        lines[0].contains(problem),
        "{:?} does not say {problem:?}",
        lines[0]
    );
}

/// Every path under `dir`, relative, sorted.
fn tree(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = walk(dir)
        .into_iter()
        .map(|p| p.strip_prefix(dir).unwrap().display().to_string())
        .collect();
    v.sort();
    v
}

fn walk(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    if let Ok(rd) = std::fs::read_dir(dir) {
        for e in rd.flatten() {
            let p = e.path();
            out.push(p.clone());
            if e.file_type().unwrap().is_dir() {
                out.extend(walk(&p));
            }
        }
    }
    out
}

/// An OCI layout in `work/oci` with `layers`; returns the `oci-dir:` source.
fn oci(work: &Path, layers: Vec<(Vec<u8>, Comp)>) -> String {
    Img::new(layers).write_oci(&work.join("oci"), "t");
    format!("oci-dir:{}", work.join("oci").display())
}

/// Run `source` and check that nothing outside the cache changed in `work`.
fn inspect_isolated(work: &Path, args: &[&str]) -> Run {
    let before = tree(work);
    let cache = tempfile::tempdir().unwrap();
    let r = inspect(cache.path(), args);
    assert_eq!(before, tree(work), "files changed outside the cache");
    r
}

#[test]
fn dotdot_entry_names_are_refused() {
    let w = tempfile::tempdir().unwrap();
    let src = oci(
        w.path(),
        vec![(
            layer(&[E::File("etc/ok", b"ok"), E::File("../../evil", b"x")]),
            Comp::Gzip,
        )],
    );
    let r = inspect_isolated(w.path(), &[&src]);
    assert_fails(&r, &src, "climbs out of the image root");
    assert!(r.stderr.contains("../../evil"));
}

#[test]
fn absolute_entry_names_stay_in_the_image_root() {
    // ko (and other builders) write `/ko-app/app`: such names are taken relative to the
    // image root, as Docker and containerd do; nothing is written to the host.
    let w = tempfile::tempdir().unwrap();
    let src = oci(
        w.path(),
        vec![(
            layer(&[
                E::File("/etc/evil", b"x"),
                E::File("/ko-app/app", b"bin"),
                E::Hardlink("/ko-app/link", "/ko-app/app"),
            ]),
            Comp::None,
        )],
    );
    let r = inspect_isolated(w.path(), &[&src]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(!Path::new("/ko-app").exists());
    let cache = tempfile::tempdir().unwrap();
    let img = moat_image::open(&src, &moat_image::OpenOptions::new(cache.path())).unwrap();
    assert_eq!(img.resolver().read_limited("/etc/evil", 10).unwrap(), b"x");
    assert_eq!(
        img.resolver().read_limited("/ko-app/link", 10).unwrap(),
        b"bin"
    );
    // Climbing out from an absolute name is still refused.
    let w = tempfile::tempdir().unwrap();
    let src = oci(
        w.path(),
        vec![(layer(&[E::File("/../etc/evil", b"x")]), Comp::None)],
    );
    let r = inspect_isolated(w.path(), &[&src]);
    assert_fails(&r, &src, "climbs out of the image root");
}

#[test]
fn hardlinks_out_of_the_root_or_to_nowhere_are_refused() {
    let w = tempfile::tempdir().unwrap();
    let src = oci(
        w.path(),
        vec![(
            layer(&[E::Hardlink("etc/passwd", "../../../etc/passwd")]),
            Comp::None,
        )],
    );
    let r = inspect_isolated(w.path(), &[&src]);
    assert_fails(&r, &src, "points outside the image root");

    let w = tempfile::tempdir().unwrap();
    let src = oci(
        w.path(),
        vec![(layer(&[E::Hardlink("a", "nowhere")]), Comp::None)],
    );
    let r = inspect_isolated(w.path(), &[&src]);
    assert_fails(&r, &src, "/nowhere, which does not exist in the image");
}

#[test]
fn symlinks_resolve_inside_the_image_and_never_reach_the_host() {
    let w = tempfile::tempdir().unwrap();
    let src = oci(
        w.path(),
        vec![(
            layer(&[
                E::Dir("etc/"),
                E::File("etc/passwd", b"image passwd\n"),
                E::Symlink("up", "../../../../../../etc/passwd"),
                E::Symlink("abs", "/etc/passwd"),
                E::Symlink("shadow", "/etc/shadow"),
                E::Symlink("hostdir", "../../../../../../../tmp"),
                E::Symlink("loop", "loop"),
            ]),
            Comp::Gzip,
        )],
    );
    let r = inspect_isolated(w.path(), &[&src]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let cache = tempfile::tempdir().unwrap();
    let img = moat_image::open(&src, &moat_image::OpenOptions::new(cache.path())).unwrap();
    let res = img.resolver();
    assert_eq!(res.read_limited("/up", 100).unwrap(), b"image passwd\n");
    assert_eq!(res.read_limited("/abs", 100).unwrap(), b"image passwd\n");
    // The host's /etc/shadow and /tmp exist; the image's do not.
    assert!(res.open("/shadow").is_err());
    assert_eq!(res.resolve("/hostdir").unwrap(), None);
    assert!(res.open("/loop").is_err());
}

#[test]
fn decompression_bomb_is_stopped_by_the_size_limit() {
    let w = tempfile::tempdir().unwrap();
    let zeros = vec![0u8; 8 << 20];
    let src = oci(
        w.path(),
        vec![(layer(&[E::File("bomb", &zeros)]), Comp::Gzip)],
    );
    let blob_size: u64 = walk(&w.path().join("oci/blobs"))
        .iter()
        .map(|p| p.metadata().unwrap().len())
        .max()
        .unwrap();
    assert!(blob_size < 100_000, "the bomb is small when compressed");
    let r = inspect_isolated(w.path(), &["--max-unpacked-size", "1M", &src]);
    assert_fails(&r, &src, "max-unpacked-size budget");
    // Under a sufficient limit the same image opens.
    let r = inspect_isolated(w.path(), &["--max-unpacked-size", "16M", &src]);
    assert_eq!(r.code, 0, "{}", r.stderr);

    // A whole-archive gzip bomb (docker-archive.tar.gz) is stopped too.
    let da = w.path().join("bomb.tar");
    Img::new(vec![(layer(&[E::File("bomb", &zeros)]), Comp::None)]).write_docker_archive(&da);
    let gz = w.path().join("bomb.tar.gz");
    std::fs::write(&gz, compress(&std::fs::read(&da).unwrap(), Comp::Gzip)).unwrap();
    let s = format!("docker-archive:{}", gz.display());
    let r = inspect_isolated(w.path(), &["--max-unpacked-size", "1M", &s]);
    assert_fails(&r, &s, "decompression bomb");
}

#[test]
fn truncated_tars_are_refused() {
    // A layer cut in the middle of a file; its diff_id is that of the cut bytes, so
    // only the tar reader can notice.
    let w = tempfile::tempdir().unwrap();
    let full = layer(&[E::File("a", &[7u8; 4096]), E::File("b", b"b")]);
    let cut = full[..512 + 1000].to_vec();
    let src = oci(w.path(), vec![(cut, Comp::None)]);
    let r = inspect_isolated(w.path(), &[&src]);
    assert_fails(&r, &src, "not a valid uncompressed tar");

    // A truncated docker-archive.
    let w = tempfile::tempdir().unwrap();
    let da = w.path().join("img.tar");
    Img::new(vec![(full, Comp::None)]).write_docker_archive(&da);
    let bytes = std::fs::read(&da).unwrap();
    std::fs::write(&da, &bytes[..bytes.len() / 2]).unwrap();
    let s = format!("docker-archive:{}", da.display());
    let r = inspect_isolated(w.path(), &[&s]);
    assert_fails(&r, &s, "");
    assert!(
        r.stderr.contains("truncated") || r.stderr.contains("not a readable tar"),
        "{}",
        r.stderr
    );
}

#[test]
fn digest_mismatches_are_refused() {
    // A layer blob altered after the manifest was written (tar still valid).
    let w = tempfile::tempdir().unwrap();
    let l = layer(&[E::File("etc/motd", b"hello world\n")]);
    let blob_digest = sha(&l);
    let src = oci(w.path(), vec![(l, Comp::None)]);
    let p = w.path().join("oci/blobs/sha256").join(hexof(&blob_digest));
    let mut b = std::fs::read(&p).unwrap();
    let i = b.windows(5).position(|x| x == b"hello").unwrap();
    b[i] = b'j';
    std::fs::write(&p, &b).unwrap();
    let r = inspect_isolated(w.path(), &[&src]);
    assert_fails(&r, &src, "blob digest mismatch");
    assert!(r.stderr.contains(&blob_digest));

    // A config whose diff_id does not match the layer.
    let w = tempfile::tempdir().unwrap();
    let l = layer(&[E::File("etc/motd", b"hi\n")]);
    let mut img = Img::new(vec![(l, Comp::Gzip)]);
    img.layers.push((layer(&[E::File("x", b"x")]), Comp::Gzip));
    let md = img.write_oci(&w.path().join("oci"), "t");
    // Rewrite the manifest to list the first layer twice: the second diff_id mismatches.
    let mp = w.path().join("oci/blobs/sha256").join(hexof(&md));
    let mut m: serde_json::Value = serde_json::from_slice(&std::fs::read(&mp).unwrap()).unwrap();
    let first = m["layers"][0].clone();
    m["layers"][1] = first;
    let mb = serde_json::to_vec(&m).unwrap();
    let md2 = sha(&mb);
    std::fs::write(w.path().join("oci/blobs/sha256").join(hexof(&md2)), &mb).unwrap();
    let index = std::fs::read_to_string(w.path().join("oci/index.json")).unwrap();
    std::fs::write(w.path().join("oci/index.json"), index.replace(&md, &md2)).unwrap();
    let src = format!("oci-dir:{}", w.path().join("oci").display());
    let r = inspect_isolated(w.path(), &[&src]);
    assert_fails(&r, &src, "diff_id mismatch");

    // A manifest whose bytes do not match the digest the index gives.
    std::fs::write(
        w.path().join("oci/blobs/sha256").join(hexof(&md2)),
        serde_json::to_vec(&serde_json::json!({"x": 1})).unwrap(),
    )
    .unwrap();
    let r = inspect_isolated(w.path(), &[&src]);
    assert_fails(&r, &src, "digest mismatch");
}

#[test]
fn missing_blobs_are_refused() {
    let w = tempfile::tempdir().unwrap();
    let l = layer(&[E::File("a", b"a")]);
    let d = sha(&compress(&l, Comp::None));
    let src = oci(w.path(), vec![(l, Comp::None)]);
    std::fs::remove_file(w.path().join("oci/blobs/sha256").join(hexof(&d))).unwrap();
    let r = inspect_isolated(w.path(), &[&src]);
    assert_fails(&r, &src, "missing");
    assert!(r.stderr.contains(hexof(&d)));

    // A docker-archive whose manifest names a layer the archive lacks.
    let w = tempfile::tempdir().unwrap();
    let cfg = Img::new(vec![(layer(&[E::File("a", b"a")]), Comp::None)]).config_json();
    let cfg_name = format!("{}.json", hexof(&sha(&cfg)));
    let manifest =
        serde_json::json!([{"Config": cfg_name, "RepoTags": null, "Layers": ["gone/layer.tar"]}]);
    let da = w.path().join("img.tar");
    write_tar(
        &da,
        &[
            (cfg_name, cfg),
            (
                "manifest.json".into(),
                serde_json::to_vec(&manifest).unwrap(),
            ),
        ],
    );
    let s = format!("docker-archive:{}", da.display());
    let r = inspect_isolated(w.path(), &[&s]);
    assert_fails(&r, &s, "gone/layer.tar: missing");
}

#[test]
fn malformed_json_is_refused() {
    let w = tempfile::tempdir().unwrap();
    let src = oci(w.path(), vec![(layer(&[E::File("a", b"a")]), Comp::None)]);
    std::fs::write(w.path().join("oci/index.json"), "{\"manifests\": [").unwrap();
    let r = inspect_isolated(w.path(), &[&src]);
    assert_fails(&r, &src, "index.json: malformed OCI index JSON");

    let da = w.path().join("img.tar");
    write_tar(
        &da,
        &[("manifest.json".into(), b"[{\"Config\": 12}]".to_vec())],
    );
    let s = format!("docker-archive:{}", da.display());
    let r = inspect_isolated(w.path(), &[&s]);
    assert_fails(
        &r,
        &s,
        "manifest.json: malformed docker-archive manifest JSON",
    );

    // A config that is valid by digest but not an image config.
    let w = tempfile::tempdir().unwrap();
    let junk = b"not json at all".to_vec();
    let cfg_name = format!("{}.json", hexof(&sha(&junk)));
    let manifest = serde_json::json!([{"Config": cfg_name, "Layers": []}]);
    let da = w.path().join("img.tar");
    write_tar(
        &da,
        &[
            (cfg_name.clone(), junk),
            (
                "manifest.json".into(),
                serde_json::to_vec(&manifest).unwrap(),
            ),
        ],
    );
    let s = format!("docker-archive:{}", da.display());
    let r = inspect_isolated(w.path(), &[&s]);
    assert_fails(&r, &s, "malformed image config JSON");
}

#[test]
fn devices_and_fifos_are_listed_never_created_or_opened() {
    let w = tempfile::tempdir().unwrap();
    let src = oci(
        w.path(),
        vec![(
            layer(&[
                E::Dir("dev/"),
                E::Char("dev/null"),
                E::Char("dev/sda"),
                E::Fifo("dev/fifo"),
            ]),
            Comp::Zstd,
        )],
    );
    let r = inspect_isolated(w.path(), &[&src]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let cache = tempfile::tempdir().unwrap();
    let img = moat_image::open(&src, &moat_image::OpenOptions::new(cache.path())).unwrap();
    let kinds: Vec<(String, FileKind)> =
        img.resolver().entries().map(|m| (m.path, m.kind)).collect();
    assert_eq!(
        kinds,
        vec![
            ("/dev".to_string(), FileKind::Dir),
            ("/dev/fifo".to_string(), FileKind::Fifo),
            ("/dev/null".to_string(), FileKind::CharDevice),
            ("/dev/sda".to_string(), FileKind::CharDevice),
        ]
    );
    assert!(img.resolver().open("/dev/fifo").is_err());
    assert!(img.resolver().open("/dev/null").is_err());
    // The cache holds only regular files and directories.
    for p in walk(cache.path()) {
        let ft = std::fs::symlink_metadata(&p).unwrap().file_type();
        assert!(ft.is_file() || ft.is_dir(), "{} in the cache", p.display());
    }
}

#[test]
fn deep_directories_and_long_names_are_fine_within_the_budget() {
    let w = tempfile::tempdir().unwrap();
    // 500 nested components (under the default max-path-depth of 512) through GNU long
    // names: read as they are.
    let deep = "d/".repeat(500) + "f";
    let l = moat_image::testkit::layer_long_name(&deep, b"ok");
    let src = oci(w.path(), vec![(l, Comp::Gzip)]);
    let r = inspect_isolated(w.path(), &[&src]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let cache = tempfile::tempdir().unwrap();
    let img = moat_image::open(&src, &moat_image::OpenOptions::new(cache.path())).unwrap();
    assert_eq!(
        img.resolver()
            .read_limited(&format!("/{deep}"), 10)
            .unwrap(),
        b"ok"
    );
    assert_eq!(img.resolver().entries().count(), 501);
    // 2000 components: over the budget, one line naming it (issue 12), unless the
    // budget is raised on the command line.
    let deeper = "d/".repeat(2000) + "f";
    let w2 = tempfile::tempdir().unwrap();
    let l = moat_image::testkit::layer_long_name(&deeper, b"ok");
    let src2 = oci(w2.path(), vec![(l, Comp::Gzip)]);
    let r = inspect_isolated(w2.path(), &[&src2]);
    assert_fails(&r, &src2, "max-path-depth budget (512)");
    let r = inspect_isolated(
        w2.path(),
        &[
            &src2,
            "--max-path-depth",
            "3000",
            "--max-path-bytes",
            "8192",
        ],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
}
