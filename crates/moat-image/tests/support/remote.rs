//! Harness for the remote-source tests: a real `docker-registry` (Debian's build of
//! distribution), a tiny bearer-token server, a private `dockerd`, and small OCI
//! layouts built with umoci. Every server listens on 127.0.0.1 only, every child
//! process is killed by PID when its guard drops.
#![allow(dead_code, clippy::unwrap_used)]

use base64::Engine;
use sha2::{Digest, Sha256};
use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

pub fn opts(cache: &Path) -> moat_image::OpenOptions {
    moat_image::OpenOptions::new(cache)
}

/// The error is one line, names `input` first and contains every needle.
pub fn assert_one_line(e: &moat_image::ImageError, input: &str, needles: &[&str]) {
    let s = e.to_string();
    eprintln!("error message: {s}");
    assert!(!s.contains('\n'), "not one line: {s}");
    assert!(
        s.starts_with(&format!("{input}: ")),
        "does not name {input}: {s}"
    );
    for n in needles {
        assert!(s.contains(n), "{s:?} lacks {n:?}");
    }
}

/// A port nothing listens on right now.
pub fn free_port() -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap().port()
}

/// Run a command, panicking with its stderr when it fails.
pub fn run(cmd: &mut Command) -> String {
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"));
    assert!(
        out.status.success(),
        "{cmd:?} failed: {}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn wait_for_port(port: u16, child: &mut Child, what: &str) {
    let start = Instant::now();
    while start.elapsed() < Duration::from_secs(20) {
        if TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return;
        }
        if let Ok(Some(st)) = child.try_wait() {
            panic!("{what} exited early: {st}");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    panic!("{what} did not listen on 127.0.0.1:{port} within 20 s");
}

/// A child process killed (SIGKILL, by PID) and reaped on drop.
pub struct Guard(pub Child);

impl Drop for Guard {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// `docker-registry serve` on 127.0.0.1 with filesystem storage in a temp dir.
pub struct Registry {
    pub port: u16,
    pub dir: tempfile::TempDir,
    _child: Guard,
}

impl Registry {
    /// `auth_yaml`: an `auth:` section (indented by two spaces per level) or "".
    pub fn start(auth_yaml: &str) -> Registry {
        let dir = tempfile::tempdir().unwrap();
        let port = free_port();
        let cfg = format!(
            "version: 0.1\nlog:\n  level: error\n  accesslog:\n    disabled: true\nstorage:\n  filesystem:\n    rootdirectory: {}\n  delete:\n    enabled: true\nhttp:\n  addr: 127.0.0.1:{port}\n{auth_yaml}",
            dir.path().join("store").display()
        );
        let cfg_path = dir.path().join("registry.yml");
        std::fs::write(&cfg_path, cfg).unwrap();
        let log = std::fs::File::create(dir.path().join("registry.log")).unwrap();
        let mut child = Command::new("docker-registry")
            .arg("serve")
            .arg(&cfg_path)
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .expect("docker-registry (apt package docker-registry) must be installed");
        wait_for_port(port, &mut child, "docker-registry");
        Registry {
            port,
            dir,
            _child: Guard(child),
        }
    }

    pub fn host(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// Where the registry keeps blob `digest` (`sha256:HEX`).
    pub fn blob_data(&self, digest: &str) -> PathBuf {
        let hex = digest.trim_start_matches("sha256:");
        self.dir
            .path()
            .join("store/docker/registry/v2/blobs/sha256")
            .join(&hex[..2])
            .join(hex)
            .join("data")
    }

    /// `skopeo copy` SRC to `docker://HOST/DEST` over plain HTTP.
    pub fn push(&self, src: &str, dest: &str, extra: &[&str]) {
        let mut cmd = Command::new("skopeo");
        cmd.args(["copy", "--quiet", "--dest-tls-verify=false"])
            .args(extra)
            .arg(src)
            .arg(format!("docker://{}/{dest}", self.host()));
        run(&mut cmd);
    }
}

/// A small OCI layout `dir/oci` holding image `base` (see [`add_image`]).
pub fn small_layout(dir: &Path, arch: &str, files: &[(&str, &str)]) -> PathBuf {
    let layout = dir.join("oci");
    run(Command::new("umoci")
        .args(["init", "--layout"])
        .arg(&layout));
    add_image(&layout, "base", arch, files);
    layout
}

/// Add image `tag` to `layout`: one layer (a tar of a directory, as the real test
/// images are made) with `files` (path, content) and a symlink,
/// config for linux/`arch`.
pub fn add_image(layout: &Path, tag: &str, arch: &str, files: &[(&str, &str)]) {
    let root = layout.with_file_name(format!("root-{tag}"));
    for (p, c) in files {
        let f = root.join(p);
        std::fs::create_dir_all(f.parent().unwrap()).unwrap();
        std::fs::write(f, c).unwrap();
    }
    std::fs::create_dir_all(root.join("bin")).unwrap();
    std::os::unix::fs::symlink("/etc/hostname", root.join("bin/link")).unwrap();
    let img = format!("{}:{tag}", layout.display());
    run(Command::new("umoci").args(["new", "--image", &img]));
    let tar = layout.with_file_name(format!("layer-{tag}.tar"));
    run(Command::new("tar")
        .arg("-C")
        .arg(&root)
        .arg("-cf")
        .arg(&tar)
        .arg("."));
    run(Command::new("umoci")
        .args(["raw", "add-layer", "--image", &img])
        .arg(&tar));
    run(Command::new("umoci").args([
        "config",
        "--image",
        &img,
        "--os",
        "linux",
        "--architecture",
        arch,
    ]));
}

/// Add an image index `tag` to `layout` listing the images `tags` with their platforms
/// (`(tag, arch)`); returns the index digest.
pub fn add_index(layout: &Path, tag: &str, images: &[(&str, &str)]) -> String {
    let index_path = layout.join("index.json");
    let mut index = read_json(&index_path);
    let mut entries = Vec::new();
    for (t, arch) in images {
        let (entry, _) = manifest_named(layout, t);
        entries.push(serde_json::json!({
            "mediaType": entry["mediaType"], "digest": entry["digest"], "size": entry["size"],
            "platform": {"os": "linux", "architecture": arch},
        }));
    }
    let blob = serde_json::to_vec(&serde_json::json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.index.v1+json",
        "manifests": entries,
    }))
    .unwrap();
    let hex = hex::encode(Sha256::digest(&blob));
    std::fs::write(layout.join("blobs/sha256").join(&hex), &blob).unwrap();
    index["manifests"]
        .as_array_mut()
        .unwrap()
        .push(serde_json::json!({
            "mediaType": "application/vnd.oci.image.index.v1+json",
            "digest": format!("sha256:{hex}"), "size": blob.len(),
            "annotations": {"org.opencontainers.image.ref.name": tag},
        }));
    std::fs::write(&index_path, serde_json::to_vec(&index).unwrap()).unwrap();
    format!("sha256:{hex}")
}

/// Every blob under `layout/blobs/sha256` hashes to its name; returns how many.
pub fn verify_layout_blobs(layout: &Path) -> usize {
    let mut n = 0;
    for e in std::fs::read_dir(layout.join("blobs/sha256")).unwrap() {
        let e = e.unwrap();
        let name = e.file_name().to_string_lossy().into_owned();
        assert!(!name.starts_with(".partial-"), "leftover temp file {name}");
        let data = std::fs::read(e.path()).unwrap();
        assert_eq!(hex::encode(Sha256::digest(&data)), name, "blob {name}");
        n += 1;
    }
    n
}

pub fn read_json(p: &Path) -> serde_json::Value {
    serde_json::from_slice(&std::fs::read(p).unwrap()).unwrap()
}

/// The blob `digest` of an OCI layout, parsed as JSON.
pub fn layout_blob_json(layout: &Path, digest: &str) -> serde_json::Value {
    read_json(
        &layout
            .join("blobs/sha256")
            .join(digest.trim_start_matches("sha256:")),
    )
}

/// The entry index.json names `name` (a ref.name, else a digest) and its manifest.
pub fn manifest_named(layout: &Path, name: &str) -> (serde_json::Value, serde_json::Value) {
    let index = read_json(&layout.join("index.json"));
    let entry = index["manifests"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["annotations"]["org.opencontainers.image.ref.name"] == name)
        .or_else(|| {
            index["manifests"]
                .as_array()
                .unwrap()
                .iter()
                .find(|m| m["digest"] == name)
        })
        .unwrap_or_else(|| panic!("{name} not in index.json: {index}"))
        .clone();
    let manifest = layout_blob_json(layout, entry["digest"].as_str().unwrap());
    (entry, manifest)
}

// ---------------------------------------------------------------------------------
// Bearer tokens

fn b64url(data: &[u8]) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(data)
}

/// An RSA key and self-signed certificate made with `openssl` for signing tokens.
pub struct TokenKey {
    pub dir: tempfile::TempDir,
    pub key: PathBuf,
    pub cert: PathBuf,
    cert_der_b64: String,
}

impl TokenKey {
    pub fn generate() -> TokenKey {
        let dir = tempfile::tempdir().unwrap();
        let key = dir.path().join("key.pem");
        let cert = dir.path().join("cert.pem");
        run(Command::new("openssl")
            .args([
                "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
            ])
            .args(["-subj", "/CN=moat-test-token-issuer", "-keyout"])
            .arg(&key)
            .arg("-out")
            .arg(&cert));
        let der = Command::new("openssl")
            .args(["x509", "-outform", "DER", "-in"])
            .arg(&cert)
            .output()
            .unwrap();
        assert!(der.status.success());
        let cert_der_b64 = base64::engine::general_purpose::STANDARD.encode(&der.stdout);
        TokenKey {
            dir,
            key,
            cert,
            cert_der_b64,
        }
    }

    /// An RS256 JWT as distribution's token auth wants it (`x5c` with our cert).
    pub fn sign(&self, claims: &serde_json::Value) -> String {
        let header = serde_json::json!({"typ": "JWT", "alg": "RS256", "x5c": [self.cert_der_b64]});
        let signing_input = format!(
            "{}.{}",
            b64url(header.to_string().as_bytes()),
            b64url(claims.to_string().as_bytes())
        );
        let mut child = Command::new("openssl")
            .args(["dgst", "-sha256", "-sign"])
            .arg(&self.key)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        child
            .stdin
            .take()
            .unwrap()
            .write_all(signing_input.as_bytes())
            .unwrap();
        let out = child.wait_with_output().unwrap();
        assert!(out.status.success());
        format!("{signing_input}.{}", b64url(&out.stdout))
    }
}

/// What the token server answers.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum TokenMode {
    /// Valid tokens; Basic credentials required if `creds` is set.
    Normal,
    /// `200` with a body that is not JSON.
    Malformed,
    /// Like Docker Hub for a private repository: anonymous requests get a token that
    /// grants nothing; credentials (if `creds` is set) get a real one.
    AnonymousGetsNothing,
}

/// A token endpoint at `http://127.0.0.1:PORT/token`; stops on drop.
pub struct TokenServer {
    stub: Stub,
}

pub const ISSUER: &str = "moat-test-issuer";
pub const SERVICE: &str = "moat-test-registry";

impl TokenServer {
    pub fn start(key: Arc<TokenKey>, creds: Option<(&str, &str)>, mode: TokenMode) -> TokenServer {
        let want_auth = creds.map(|(u, p)| {
            format!(
                "Basic {}",
                base64::engine::general_purpose::STANDARD.encode(format!("{u}:{p}"))
            )
        });
        let stub = Stub::start(move |req| token_response(req, &key, want_auth.as_deref(), mode));
        TokenServer { stub }
    }

    pub fn realm(&self) -> String {
        format!("http://{}/token", self.stub.host())
    }

    /// The registry's `auth:` section trusting this server's tokens.
    pub fn registry_auth_yaml(&self, key: &TokenKey) -> String {
        format!(
            "auth:\n  token:\n    realm: {}\n    service: {SERVICE}\n    issuer: {ISSUER}\n    rootcertbundle: {}\n",
            self.realm(),
            key.cert.display()
        )
    }
}

fn pct_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%'
            && i + 2 < b.len()
            && let Some(v) = std::str::from_utf8(&b[i + 1..i + 3])
                .ok()
                .and_then(|h| u8::from_str_radix(h, 16).ok())
        {
            out.push(v);
            i += 3;
            continue;
        }
        out.push(if b[i] == b'+' { b' ' } else { b[i] });
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// A token for every requested scope (as JWT claims), or a refusal, per `mode`.
fn token_response(req: &Req, key: &TokenKey, want_auth: Option<&str>, mode: TokenMode) -> Resp {
    let auth = req.header("authorization");
    let query = req.path.split_once('?').map(|(_, q)| q).unwrap_or("");
    let mut access = Vec::new();
    for (k, v) in query.split('&').filter_map(|p| p.split_once('=')) {
        if k != "scope" {
            continue;
        }
        // repository:NAME:ACTIONS, several separated by spaces
        for one in pct_decode(v).split(' ') {
            if let [typ, name, actions] = one.splitn(3, ':').collect::<Vec<_>>().as_slice() {
                access.push(serde_json::json!({
                    "type": typ, "name": name,
                    "actions": actions.split(',').collect::<Vec<_>>(),
                }));
            }
        }
    }
    let json = vec![("Content-Type".to_string(), "application/json".to_string())];
    let anonymous_gets_nothing = mode == TokenMode::AnonymousGetsNothing && auth.is_none();
    if anonymous_gets_nothing {
        access.clear();
    } else if want_auth.is_some() && auth != want_auth {
        return (401, json, br#"{"details":"bad credentials"}"#.to_vec());
    }
    if mode == TokenMode::Malformed {
        return (200, json, br#"{"token": "#.to_vec());
    }
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let claims = serde_json::json!({
        "iss": ISSUER, "sub": "user", "aud": SERVICE,
        "exp": now + 600, "nbf": now - 60, "iat": now - 60,
        "jti": format!("moat-{now}-{}", access.len()),
        "access": access,
    });
    let body = serde_json::json!({"token": key.sign(&claims), "expires_in": 600});
    (200, json, body.to_string().into_bytes())
}

// ---------------------------------------------------------------------------------
// Stand-in HTTP servers, for what the real registry cannot be made to do: serve
// malformed manifests (it validates them) or redirect blobs to storage (only its
// cloud storage drivers do).

/// One request as a stub sees it.
pub struct Req {
    pub method: String,
    pub path: String,
    /// Header names lowercased.
    pub headers: Vec<(String, String)>,
}

impl Req {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

/// `(status, headers, body)`.
pub type Resp = (u16, Vec<(String, String)>, Vec<u8>);

/// An HTTP/1.1 server on 127.0.0.1 answering each request with `handler` (one
/// request per connection); stops on drop.
pub struct Stub {
    pub port: u16,
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Stub {
    pub fn start(handler: impl Fn(&Req) -> Resp + Send + 'static) -> Stub {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let port = listener.local_addr().unwrap().port();
        let stop = Arc::new(AtomicBool::new(false));
        let stop2 = stop.clone();
        let thread = std::thread::spawn(move || {
            while !stop2.load(Ordering::Relaxed) {
                match listener.accept() {
                    Ok((s, _)) => {
                        let _ = s.set_nonblocking(false);
                        let _ = serve_one(s, &handler);
                    }
                    Err(_) => std::thread::sleep(Duration::from_millis(10)),
                }
            }
        });
        Stub {
            port,
            stop,
            thread: Some(thread),
        }
    }

    pub fn host(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }
}

fn serve_one(stream: TcpStream, handler: &dyn Fn(&Req) -> Resp) -> std::io::Result<()> {
    stream.set_read_timeout(Some(Duration::from_secs(5)))?;
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut line = String::new();
    reader.read_line(&mut line)?;
    let mut parts = line.split_whitespace();
    let method = parts.next().unwrap_or("").to_string();
    let path = parts.next().unwrap_or("/").to_string();
    let mut headers = Vec::new();
    loop {
        let mut h = String::new();
        if reader.read_line(&mut h)? == 0 || h == "\r\n" {
            break;
        }
        if let Some((k, v)) = h.split_once(':') {
            headers.push((k.trim().to_ascii_lowercase(), v.trim().to_string()));
        }
    }
    let (status, extra, body) = handler(&Req {
        method,
        path,
        headers,
    });
    let mut w = stream;
    write!(w, "HTTP/1.1 {status} X\r\n")?;
    for (k, v) in extra {
        write!(w, "{k}: {v}\r\n")?;
    }
    write!(
        w,
        "Content-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    )?;
    w.write_all(&body)?;
    w.flush()
}

impl Drop for Stub {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// Answers every request with `200`, `content_type` and `body`.
pub fn fake_registry(content_type: &'static str, body: &'static [u8]) -> Stub {
    Stub::start(move |_| {
        (
            200,
            vec![("Content-Type".into(), content_type.into())],
            body.to_vec(),
        )
    })
}

// ---------------------------------------------------------------------------------
// A private Docker engine

/// `dockerd` on a private socket with its own data and exec roots; SIGTERM by PID
/// on drop (so it stops its containerd), SIGKILL if it lingers.
pub struct Dockerd {
    pub dir: tempfile::TempDir,
    pub socket: PathBuf,
    child: Option<Child>,
}

impl Dockerd {
    pub fn start() -> Dockerd {
        // Short paths: unix socket paths are limited to 108 bytes.
        let dir = tempfile::Builder::new()
            .prefix("moat-dk")
            .tempdir()
            .unwrap();
        let d = dir.path();
        let socket = d.join("sock");
        let log = std::fs::File::create(d.join("dockerd.log")).unwrap();
        let mut child = Command::new("dockerd")
            .arg("--data-root")
            .arg(d.join("data"))
            .arg("--exec-root")
            .arg(d.join("exec"))
            .arg("--pidfile")
            .arg(d.join("pid"))
            .arg("-H")
            .arg(format!("unix://{}", socket.display()))
            .args(["--iptables=false", "--bridge=none"])
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .expect("dockerd (apt package docker.io) must be installed");
        let start = Instant::now();
        loop {
            if socket.exists()
                && Command::new("docker")
                    .arg("-H")
                    .arg(format!("unix://{}", socket.display()))
                    .arg("version")
                    .stdout(Stdio::null())
                    .stderr(Stdio::null())
                    .status()
                    .is_ok_and(|s| s.success())
            {
                break;
            }
            if let Ok(Some(st)) = child.try_wait() {
                let log = std::fs::read_to_string(d.join("dockerd.log")).unwrap_or_default();
                panic!("dockerd exited early ({st}):\n{log}");
            }
            assert!(
                start.elapsed() < Duration::from_secs(40),
                "dockerd did not come up within 40 s"
            );
            std::thread::sleep(Duration::from_millis(200));
        }
        Dockerd {
            dir,
            socket,
            child: Some(child),
        }
    }

    pub fn host(&self) -> String {
        format!("unix://{}", self.socket.display())
    }

    pub fn docker(&self) -> Command {
        let mut c = Command::new("docker");
        c.arg("-H").arg(self.host());
        c
    }
}

impl Drop for Dockerd {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = Command::new("kill")
                .arg("-TERM")
                .arg(child.id().to_string())
                .status();
            let start = Instant::now();
            while start.elapsed() < Duration::from_secs(15) {
                if let Ok(Some(_)) = child.try_wait() {
                    return;
                }
                std::thread::sleep(Duration::from_millis(100));
            }
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// Where scripts/build-test-images puts the test images (`$MOAT_TEST_IMAGES` overrides).
pub fn test_images_dir() -> PathBuf {
    std::env::var_os("MOAT_TEST_IMAGES")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/../../target/test-images"
            ))
        })
}

/// Both resolvers hold the same entries (kind, mode, owner, size, link target) and
/// the same file contents; returns the number of regular files.
pub fn assert_same_files(
    a: &dyn moat_fs::FileResolver,
    b: &dyn moat_fs::FileResolver,
    what: &str,
) -> usize {
    use std::collections::BTreeMap;
    let list = |r: &dyn moat_fs::FileResolver| -> BTreeMap<String, moat_fs::FileMeta> {
        r.entries().map(|m| (m.path.clone(), m)).collect()
    };
    let (la, lb) = (list(a), list(b));
    let only_a: Vec<&String> = la
        .keys()
        .filter(|k| !lb.contains_key(*k))
        .take(10)
        .collect();
    let only_b: Vec<&String> = lb
        .keys()
        .filter(|k| !la.contains_key(*k))
        .take(10)
        .collect();
    assert!(
        only_a.is_empty() && only_b.is_empty(),
        "{what}: only in the first {only_a:?}, only in the second {only_b:?}"
    );
    let mut files = 0;
    for (p, m) in &la {
        let n = &lb[p];
        assert_eq!(
            (m.kind, m.mode, m.uid, m.gid, m.size, &m.link_target),
            (n.kind, n.mode, n.uid, n.gid, n.size, &n.link_target),
            "{what}: {p}"
        );
        if m.is_file() {
            let x = a.read_limited(p, 1 << 30).unwrap();
            let y = b.read_limited(p, 1 << 30).unwrap();
            assert!(x == y, "{what}: content of {p} differs");
            files += 1;
        }
    }
    files
}
