//! Evidence bundles: a gzip-compressed tar of regular files whose last member,
//! `manifest.json`, lists every other member with its size and SHA-256 and chains the
//! hashes (`link = sha256(previous link ‖ path ‖ NUL ‖ sha256 ‖ NUL ‖ size)`, from
//! `sha256("moat-evidence-v1")`). [`verify`] reads a bundle once, in bounded memory, never
//! writing a byte of it to disk, and reports every changed, added or removed member, a
//! broken chain, a damaged archive (gzip's CRC covers every byte of the tar, headers and
//! padding included) and any byte after the archive.

use crate::RespondError;
use flate2::Compression;
use flate2::write::GzEncoder;
use moat_model::response::{BundleCheck, BundleManifest, ManifestEntry};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::fs::File;
use std::io::{self, BufReader, Read};
use std::path::{Component, Path, PathBuf};

/// The name of the manifest member.
pub const MANIFEST: &str = "manifest.json";
/// What the chain starts from.
pub const CHAIN_SEED: &[u8] = b"moat-evidence-v1";

/// The first link of the chain.
pub fn chain_seed() -> String {
    hex::encode(Sha256::digest(CHAIN_SEED))
}

/// The next link after `prev` (hex) for a member.
pub fn chain_link(prev: &str, path: &str, sha256: &str, size: u64) -> String {
    let mut h = Sha256::new();
    h.update(prev.as_bytes());
    h.update(path.as_bytes());
    h.update([0]);
    h.update(sha256.as_bytes());
    h.update([0]);
    h.update(size.to_string().as_bytes());
    hex::encode(h.finalize())
}

/// The gzip header of every bundle (no mtime, no name, default level, OS unknown).
pub const GZIP_HEADER: [u8; 10] = [0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff];

fn read_full(r: &mut impl Read, buf: &mut [u8]) -> io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match r.read(&mut buf[n..])? {
            0 => break,
            k => n += k,
        }
    }
    Ok(n)
}

/// Whether a member name is a plain relative path (no `..`, no root, no `.`, not empty,
/// no NUL or backslash), at most `max` bytes.
pub fn safe_member(name: &str, max: usize) -> bool {
    !name.is_empty()
        && name.len() <= max
        && !name.contains('\0')
        && !name.contains('\\')
        && !name.ends_with('/')
        && Path::new(name)
            .components()
            .all(|c| matches!(c, Component::Normal(_)))
}

/// Writes a bundle: members are added one by one (hashed and chained), the manifest
/// last; the file appears at its final path only when complete.
pub struct BundleWriter {
    path: PathBuf,
    tmp: PathBuf,
    tar: Option<tar::Builder<GzEncoder<File>>>,
    entries: Vec<ManifestEntry>,
    head: String,
    mtime: u64,
    bytes: u64,
}

/// What a finished bundle is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Written {
    pub path: PathBuf,
    pub sha256: String,
    pub chain_head: String,
    pub files: u64,
    pub bytes: u64,
}

impl BundleWriter {
    /// Starts `path` (written as `path.partial` until [`BundleWriter::finish`]).
    pub fn create(path: &Path, mtime: u64) -> Result<BundleWriter, RespondError> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| RespondError::io(dir, e))?;
        }
        let mut tmp = path.as_os_str().to_owned();
        tmp.push(".partial");
        let tmp = PathBuf::from(tmp);
        use std::os::unix::fs::OpenOptionsExt;
        let f = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&tmp)
            .map_err(|e| RespondError::io(&tmp, e))?;
        Ok(BundleWriter {
            path: path.to_path_buf(),
            tmp,
            tar: Some(tar::Builder::new(GzEncoder::new(f, Compression::default()))),
            entries: Vec::new(),
            head: chain_seed(),
            mtime,
            bytes: 0,
        })
    }

    fn builder(&mut self) -> Result<&mut tar::Builder<GzEncoder<File>>, RespondError> {
        self.tar
            .as_mut()
            .ok_or_else(|| RespondError::Invalid("the evidence bundle is already finished".into()))
    }

    fn header(&self, size: u64) -> tar::Header {
        let mut h = tar::Header::new_gnu();
        h.set_entry_type(tar::EntryType::Regular);
        h.set_mode(0o644);
        h.set_uid(0);
        h.set_gid(0);
        h.set_mtime(self.mtime);
        h.set_size(size);
        h
    }

    fn check_name(&self, name: &str) -> Result<(), RespondError> {
        if !safe_member(name, 4096) || name == MANIFEST {
            return Err(RespondError::Invalid(format!(
                "{name:?} cannot be a member of an evidence bundle"
            )));
        }
        if self.entries.iter().any(|e| e.path == name) {
            return Err(RespondError::Invalid(format!(
                "{name:?} is already in the evidence bundle"
            )));
        }
        Ok(())
    }

    fn push(&mut self, name: &str, kind: &str, size: u64, sha256: String) {
        self.head = chain_link(&self.head, name, &sha256, size);
        self.bytes += size;
        self.entries.push(ManifestEntry {
            path: name.to_string(),
            size,
            sha256,
            chain: self.head.clone(),
            kind: kind.to_string(),
        });
    }

    /// Adds a member from memory.
    pub fn add_bytes(&mut self, name: &str, kind: &str, data: &[u8]) -> Result<(), RespondError> {
        self.check_name(name)?;
        let mut h = self.header(data.len() as u64);
        let tmp = self.tmp.clone();
        self.builder()?
            .append_data(&mut h, name, data)
            .map_err(|e| RespondError::io(&tmp, e))?;
        self.push(
            name,
            kind,
            data.len() as u64,
            hex::encode(Sha256::digest(data)),
        );
        Ok(())
    }

    /// Adds a member from a file (hashed first, then copied).
    pub fn add_file(&mut self, name: &str, kind: &str, file: &Path) -> Result<(), RespondError> {
        self.check_name(name)?;
        let mut f = File::open(file).map_err(|e| RespondError::io(file, e))?;
        let mut hasher = Sha256::new();
        let size = io::copy(&mut f, &mut hasher).map_err(|e| RespondError::io(file, e))?;
        let sha = hex::encode(hasher.finalize());
        let f = File::open(file).map_err(|e| RespondError::io(file, e))?;
        let mut h = self.header(size);
        let tmp = self.tmp.clone();
        self.builder()?
            .append_data(&mut h, name, f.take(size))
            .map_err(|e| RespondError::io(&tmp, e))?;
        self.push(name, kind, size, sha);
        Ok(())
    }

    /// The members so far.
    pub fn entries(&self) -> &[ManifestEntry] {
        &self.entries
    }

    /// Writes the manifest (its `files`, `chain_seed` and `chain_head` filled in here),
    /// ends the archive, fsyncs it and moves it to its final path.
    pub fn finish(mut self, mut manifest: BundleManifest) -> Result<Written, RespondError> {
        manifest.files = std::mem::take(&mut self.entries);
        manifest.chain_seed = chain_seed();
        manifest.chain_head = self.head.clone();
        let body = serde_json::to_vec_pretty(&manifest)
            .map_err(|e| RespondError::Invalid(e.to_string()))?;
        let mut h = self.header(body.len() as u64);
        let tmp = self.tmp.clone();
        self.builder()?
            .append_data(&mut h, MANIFEST, body.as_slice())
            .map_err(|e| RespondError::io(&tmp, e))?;
        let gz = self
            .tar
            .take()
            .ok_or_else(|| RespondError::Invalid("the evidence bundle is already finished".into()))?
            .into_inner()
            .map_err(|e| RespondError::io(&self.tmp, e))?;
        let f = gz.finish().map_err(|e| RespondError::io(&self.tmp, e))?;
        f.sync_all().map_err(|e| RespondError::io(&self.tmp, e))?;
        drop(f);
        std::fs::rename(&self.tmp, &self.path).map_err(|e| RespondError::io(&self.path, e))?;
        let mut hasher = Sha256::new();
        let mut f = File::open(&self.path).map_err(|e| RespondError::io(&self.path, e))?;
        io::copy(&mut f, &mut hasher).map_err(|e| RespondError::io(&self.path, e))?;
        let sha256 = hex::encode(hasher.finalize());
        // `sha256sum -c` reads the sidecar too.
        let side = sidecar(&self.path);
        let name = self
            .path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        std::fs::write(&side, format!("{sha256}  {name}\n"))
            .and_then(|()| File::open(&side)?.sync_all())
            .map_err(|e| RespondError::io(&side, e))?;
        Ok(Written {
            path: self.path.clone(),
            sha256,
            chain_head: self.head.clone(),
            files: manifest.files.len() as u64,
            bytes: self.bytes,
        })
    }
}

impl Drop for BundleWriter {
    fn drop(&mut self) {
        // An unfinished bundle leaves no partial file behind (finish renamed it away).
        let _ = std::fs::remove_file(&self.tmp);
    }
}

/// The bounds of reading a (possibly hostile) bundle.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VerifyLimits {
    pub max_members: usize,
    pub max_path_bytes: usize,
    pub max_manifest_bytes: u64,
    /// Uncompressed bytes of the whole archive.
    pub max_total_bytes: u64,
}

impl Default for VerifyLimits {
    fn default() -> Self {
        VerifyLimits {
            max_members: 200_000,
            max_path_bytes: 4096,
            max_manifest_bytes: 64 << 20,
            max_total_bytes: 64 << 30,
        }
    }
}

/// A reader that refuses to give more than `left` bytes.
struct Capped<R> {
    inner: R,
    left: u64,
    limit: u64,
}

impl<R: Read> Read for Capped<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.left == 0 {
            // One byte more means the stream is larger than allowed.
            let mut probe = [0u8; 1];
            return match self.inner.read(&mut probe)? {
                0 => Ok(0),
                _ => Err(io::Error::other(format!(
                    "more than {} bytes uncompressed",
                    self.limit
                ))),
            };
        }
        let n = buf
            .len()
            .min(usize::try_from(self.left).unwrap_or(usize::MAX));
        let got = self.inner.read(&mut buf[..n])?;
        self.left -= got as u64;
        Ok(got)
    }
}

/// Verifies a bundle. `Err` only when the file cannot be opened; every problem with its
/// content is in the answer (`ok: false`).
pub fn verify(path: &Path, limits: VerifyLimits) -> Result<BundleCheck, RespondError> {
    let mut f = File::open(path).map_err(|e| RespondError::io(path, e))?;
    let mut check = BundleCheck {
        bundle: path.display().to_string(),
        ..BundleCheck::default()
    };
    // The gzip header moat writes, byte for byte: its mtime, flags, XFL and OS bytes are
    // read by no decoder, so a change there is caught here.
    let mut head = [0u8; 10];
    let n = read_full(&mut f, &mut head).map_err(|e| RespondError::io(path, e))?;
    if n == head.len() && head[..3] == GZIP_HEADER[..3] && head != GZIP_HEADER {
        check
            .problems
            .push("the gzip header is not the one moat writes (changed bytes)".into());
    }
    use std::io::Seek;
    f.seek(io::SeekFrom::Start(0))
        .map_err(|e| RespondError::io(path, e))?;
    let gz = flate2::bufread::GzDecoder::new(BufReader::new(f));
    let capped = Capped {
        inner: gz,
        left: limits.max_total_bytes,
        limit: limits.max_total_bytes,
    };
    let mut archive = tar::Archive::new(capped);
    let mut seen: BTreeMap<String, (u64, String)> = BTreeMap::new();
    let mut manifest_bytes: Option<Vec<u8>> = None;
    let mut damaged = false;
    match read_members(
        &mut archive,
        &limits,
        &mut seen,
        &mut manifest_bytes,
        &mut check.problems,
    ) {
        Ok(()) => {}
        Err(e) => {
            damaged = true;
            check
                .problems
                .push(format!("the archive is damaged or cut: {e}"));
        }
    }
    if !damaged {
        // The rest of the tar stream (end blocks, padding), then gzip's CRC and length,
        // then nothing.
        let mut capped = archive.into_inner();
        match io::copy(&mut capped, &mut io::sink()) {
            Err(e) => check
                .problems
                .push(format!("the archive is damaged after its last member: {e}")),
            Ok(_) => {
                let mut rest = capped.inner.into_inner();
                let mut extra = [0u8; 1];
                match rest.read(&mut extra) {
                    Ok(0) => {}
                    Ok(_) => check
                        .problems
                        .push("bytes follow the end of the compressed archive".into()),
                    Err(e) => check
                        .problems
                        .push(format!("reading past the archive: {e}")),
                }
            }
        }
    }
    let Some(mbytes) = manifest_bytes else {
        check.problems.push(format!("no {MANIFEST} in the bundle"));
        return Ok(finish(check));
    };
    let manifest: BundleManifest = match serde_json::from_slice(&mbytes) {
        Ok(m) => m,
        Err(e) => {
            check
                .problems
                .push(format!("{MANIFEST} is not a manifest: {e}"));
            return Ok(finish(check));
        }
    };
    if manifest.chain_seed != chain_seed() {
        check
            .problems
            .push("the manifest's chain seed is not moat's".into());
    }
    let mut head = chain_seed();
    let mut listed = BTreeMap::new();
    for e in &manifest.files {
        head = chain_link(&head, &e.path, &e.sha256, e.size);
        if head != e.chain {
            check.problems.push(format!(
                "{}: the hash chain breaks here (link {} recorded, {} computed)",
                esc(&e.path),
                short(&e.chain),
                short(&head)
            ));
        }
        if listed.insert(e.path.clone(), e).is_some() {
            check
                .problems
                .push(format!("{}: listed twice in the manifest", esc(&e.path)));
        }
        match seen.get(&e.path) {
            None => check.problems.push(format!(
                "{}: removed (listed in the manifest, not in the bundle)",
                esc(&e.path)
            )),
            Some((size, sha)) => {
                if *size != e.size || *sha != e.sha256 {
                    check.problems.push(format!(
                        "{}: changed (sha256 {} and {} bytes recorded, {} and {} bytes found)",
                        esc(&e.path),
                        short(&e.sha256),
                        e.size,
                        short(sha),
                        size
                    ));
                } else {
                    check.verified += 1;
                    check.bytes += size;
                }
            }
        }
    }
    if head != manifest.chain_head {
        check.problems.push(format!(
            "the chain head {} recorded does not match {} computed",
            short(&manifest.chain_head),
            short(&head)
        ));
    }
    for p in seen.keys() {
        if !listed.contains_key(p) {
            check.problems.push(format!(
                "{}: added (in the bundle, not in the manifest)",
                esc(p)
            ));
        }
    }
    check.manifest = Some(manifest);
    Ok(finish(check))
}

/// The file beside a bundle holding its SHA-256 (`BUNDLE.sha256`, as `sha256sum` writes).
pub fn sidecar(bundle: &Path) -> PathBuf {
    let mut s = bundle.as_os_str().to_owned();
    s.push(".sha256");
    PathBuf::from(s)
}

/// [`verify`], and the whole file's SHA-256 against the ones recorded when it was
/// written: `recorded_sha256` (the action log's [`moat_model::response::EvidenceRef`])
/// and the `BUNDLE.sha256` file beside it. Those cover what decoding cannot: deflate
/// has bits no decoder reads (block padding, code lengths of unused symbols), so a flip
/// there leaves every member intact and only the file's hash changes.
pub fn verify_against(
    path: &Path,
    limits: VerifyLimits,
    recorded_sha256: Option<&str>,
) -> Result<BundleCheck, RespondError> {
    let mut c = verify(path, limits)?;
    let mut f = File::open(path).map_err(|e| RespondError::io(path, e))?;
    let mut h = Sha256::new();
    io::copy(&mut f, &mut h).map_err(|e| RespondError::io(path, e))?;
    c.file_sha256 = hex::encode(h.finalize());
    let side = sidecar(path);
    if let Ok(f) = File::open(&side) {
        let mut text = String::new();
        match f.take(4096).read_to_string(&mut text) {
            Ok(_) => {
                let want = text
                    .split_whitespace()
                    .next()
                    .unwrap_or_default()
                    .to_string();
                if !want.eq_ignore_ascii_case(&c.file_sha256) {
                    c.problems.push(format!(
                        "the file's sha256 {} is not the {} in {}",
                        short(&c.file_sha256),
                        short(&want),
                        esc(&side.display().to_string())
                    ));
                }
                c.sidecar_sha256 = Some(want);
            }
            Err(e) => c
                .problems
                .push(format!("{}: {e}", esc(&side.display().to_string()))),
        }
    }
    if let Some(want) = recorded_sha256 {
        c.recorded_sha256 = Some(want.to_string());
        if !want.eq_ignore_ascii_case(&c.file_sha256) {
            c.problems.push(format!(
                "the file's sha256 {} is not the {} recorded when it was written",
                short(&c.file_sha256),
                short(want)
            ));
        }
    }
    Ok(finish(c))
}

fn finish(mut c: BundleCheck) -> BundleCheck {
    c.ok = c.problems.is_empty();
    c
}

fn short(h: &str) -> String {
    h.chars().take(16).collect()
}

fn esc(s: &str) -> String {
    moat_model::escape_control(s).into_owned()
}

fn read_members<R: Read>(
    archive: &mut tar::Archive<R>,
    limits: &VerifyLimits,
    seen: &mut BTreeMap<String, (u64, String)>,
    manifest: &mut Option<Vec<u8>>,
    problems: &mut Vec<String>,
) -> io::Result<()> {
    let mut count = 0usize;
    for entry in archive.entries()? {
        let mut entry = entry?;
        count += 1;
        if count > limits.max_members {
            return Err(io::Error::other(format!(
                "more than {} members",
                limits.max_members
            )));
        }
        let raw = entry.path_bytes().into_owned();
        let name = String::from_utf8_lossy(&raw).into_owned();
        if raw.len() > limits.max_path_bytes {
            problems.push(format!(
                "a member name of {} bytes (at most {})",
                raw.len(),
                limits.max_path_bytes
            ));
            continue;
        }
        if std::str::from_utf8(&raw).is_err() || !safe_member(&name, limits.max_path_bytes) {
            problems.push(format!(
                "{}: not a plain relative path (added by someone else: bundles never hold one)",
                esc(&name)
            ));
            continue;
        }
        let kind = entry.header().entry_type();
        if kind != tar::EntryType::Regular {
            problems.push(format!(
                "{}: a {:?} member (bundles hold regular files only)",
                esc(&name),
                kind
            ));
            continue;
        }
        if seen.contains_key(&name) || (name == MANIFEST && manifest.is_some()) {
            problems.push(format!("{}: appears twice in the bundle", esc(&name)));
            continue;
        }
        if name == MANIFEST {
            let mut buf = Vec::new();
            (&mut entry)
                .take(limits.max_manifest_bytes + 1)
                .read_to_end(&mut buf)?;
            if buf.len() as u64 > limits.max_manifest_bytes {
                problems.push(format!(
                    "{MANIFEST} is larger than {} bytes",
                    limits.max_manifest_bytes
                ));
                continue;
            }
            *manifest = Some(buf);
            continue;
        }
        let mut h = Sha256::new();
        let size = io::copy(&mut entry, &mut h)?;
        seen.insert(name, (size, hex::encode(h.finalize())));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn member_names() {
        assert!(safe_member("files/etc/passwd", 4096));
        for bad in [
            "",
            "/etc/passwd",
            "../x",
            "a/../../x",
            "./a",
            "a\\b",
            "dir/",
        ] {
            assert!(!safe_member(bad, 4096), "{bad}");
        }
        assert!(!safe_member("abc", 2));
    }
}
