//! Issue 12, catalogs and the advisory database: one generated hostile case per class,
//! each run through the real binary (`common::hostile`): exit code, peak RSS, wall time,
//! no raw control characters, nothing written outside the cache.
//!
//! A bad file inside an otherwise good root filesystem: exit 0, the good package still
//! listed, and the bad file named in the report's unknowns. A bad advisory archive or a
//! dripping mirror: exit 2 and one error line naming it.
//!
//! SQLite and zip inputs are written with python3 (the harness needs it anyway).
#![allow(clippy::unwrap_used)]

mod common;
use common::hostile::Case;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::Command;

/// Run a python3 script with `args`.
fn py(script: &str, args: &[&Path]) {
    let out = Command::new("python3")
        .arg("-c")
        .arg(script)
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Print what a run cost (`cargo test -- --nocapture` shows the numbers).
fn measured(name: &str, o: &common::hostile::Outcome) {
    eprintln!(
        "{name}: exit {:?}, peak RSS {} KiB, wall {:.2?}",
        o.code, o.max_rss_kib, o.wall
    );
}

fn write(path: &Path, data: impl AsRef<[u8]>) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, data).unwrap();
}

/// A root filesystem with one good dpkg package (`base-files 12.4`).
fn good_rootfs(c: &Case) -> PathBuf {
    let root = c.work().join("rootfs");
    write(
        &root.join("etc/os-release"),
        "ID=debian\nVERSION_ID=\"12\"\n",
    );
    write(
        &root.join("var/lib/dpkg/status"),
        "Package: base-files\nStatus: install ok installed\nArchitecture: amd64\nVersion: 12.4\n\n",
    );
    root
}

fn sbom(c: &Case, root: &Path) -> common::hostile::Outcome {
    c.run(&["sbom", &format!("rootfs:{}", root.display())])
}

/// The good package is listed and `path` is named among the unknowns with `why`.
fn assert_skipped_with_warning(o: &common::hostile::Outcome, path: &str, why: &str) {
    o.assert_well_behaved(0);
    let out = o.stdout();
    assert!(out.contains("base-files"), "good package missing:\n{out}");
    let unknowns = out.split("unknowns (").nth(1).unwrap_or("");
    assert!(
        unknowns
            .lines()
            .any(|l| l.contains(path) && l.contains(why)),
        "no unknown naming {path} with {why:?}:\n{out}"
    );
}

#[test]
fn dpkg_repeated_stanzas_read_the_list_file_once() {
    let c = Case::new();
    let root = good_rootfs(&c);
    // 20,000 copies of one stanza, and a 4 MiB `.list` file: read once per stanza,
    // that is 80 GB.
    let mut status = std::fs::read_to_string(root.join("var/lib/dpkg/status")).unwrap();
    for _ in 0..20_000 {
        status.push_str(
            "Package: big\nStatus: install ok installed\nArchitecture: amd64\nVersion: 1.0\n\n",
        );
    }
    write(&root.join("var/lib/dpkg/status"), status);
    let mut list = String::new();
    let mut i = 0;
    while list.len() < 4 << 20 {
        list.push_str(&format!("/usr/share/big/file-{i:08}\n"));
        i += 1;
    }
    write(&root.join("var/lib/dpkg/info/big.list"), list);
    let o = sbom(&c, &root);
    measured("dpkg_repeated_stanzas_read_the_list_file_once", &o);
    o.assert_well_behaved(0);
    let out = o.stdout();
    let rows = out
        .lines()
        .filter(|l| l.split_whitespace().next() == Some("big"))
        .count();
    assert_eq!(rows, 1, "one package for 20,000 identical stanzas:\n{out}");
    assert!(out.contains("base-files"), "{out}");
}

#[test]
fn apk_enormous_line_is_skipped_with_a_warning() {
    let c = Case::new();
    let root = good_rootfs(&c);
    // A 1 MB `F:` directory line followed by 100,000 `R:` lines: every file path
    // would repeat the directory (100 GB).
    let mut db = String::from("P:musl\nV:1.2.4-r2\nA:x86_64\n\nP:evil\nV:1\nF:");
    db.push_str(&"d".repeat(1_000_000));
    db.push('\n');
    for _ in 0..100_000 {
        db.push_str("R:x\n");
    }
    write(&root.join("lib/apk/db/installed"), db);
    let o = sbom(&c, &root);
    measured("apk_enormous_line_is_skipped_with_a_warning", &o);
    assert_skipped_with_warning(&o, "/lib/apk/db/installed", "max_line_bytes");
    assert!(o.stdout().contains("musl"), "{}", o.stdout());
}

#[test]
fn rpmdb_sqlite_whose_packages_is_a_recursive_view_is_skipped() {
    let c = Case::new();
    let root = good_rootfs(&c);
    let db = root.join("var/lib/rpm/rpmdb.sqlite");
    std::fs::create_dir_all(db.parent().unwrap()).unwrap();
    py(
        "import sqlite3, sys\n\
         c = sqlite3.connect(sys.argv[1])\n\
         c.execute('CREATE VIEW Packages AS WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r) SELECT n AS hnum, zeroblob(4096) AS blob FROM r')\n\
         c.commit()\n",
        &[&db],
    );
    let o = sbom(&c, &root);
    measured(
        "rpmdb_sqlite_whose_packages_is_a_recursive_view_is_skipped",
        &o,
    );
    assert_skipped_with_warning(&o, "/var/lib/rpm/rpmdb.sqlite", "no Packages table");
}

#[test]
fn rpm_header_claiming_millions_of_entries_is_skipped() {
    let c = Case::new();
    let root = good_rootfs(&c);
    let db = root.join("var/lib/rpm/rpmdb.sqlite");
    std::fs::create_dir_all(db.parent().unwrap()).unwrap();
    // 2,000 index entries, each a BASENAMES string array claiming 16 million strings
    // in a 16-byte data store.
    py(
        "import sqlite3, struct, sys\n\
         il, dl = 2000, 16\n\
         blob = struct.pack('>II', il, dl)\n\
         blob += b''.join(struct.pack('>iIII', 1117, 8, 0, 0xFFFFFF) for _ in range(il))\n\
         blob += b'\\0' * dl\n\
         c = sqlite3.connect(sys.argv[1])\n\
         c.execute('CREATE TABLE Packages (hnum INTEGER PRIMARY KEY, blob BLOB NOT NULL)')\n\
         c.execute('INSERT INTO Packages (blob) VALUES (?)', (blob,))\n\
         c.commit()\n",
        &[&db],
    );
    let o = sbom(&c, &root);
    measured("rpm_header_claiming_millions_of_entries_is_skipped", &o);
    assert_skipped_with_warning(&o, "/var/lib/rpm/rpmdb.sqlite", "claims 16777215 values");
}

#[test]
fn one_big_file_hard_linked_thousands_of_times_is_read_once() {
    let c = Case::new();
    let root = good_rootfs(&c);
    let bin = root.join("usr/bin/tool");
    // An 8 MiB file that looks like an ELF binary (read whole by the binary
    // cataloger), hard-linked 4,000 times: 32 GB if each link is read.
    let mut data = b"\x7fELF\x02\x01\x01".to_vec();
    data.resize(8 << 20, 0x5a);
    write(&bin, &data);
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&bin, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    for i in 0..4_000 {
        std::fs::hard_link(&bin, root.join(format!("usr/bin/tool-{i}"))).unwrap();
    }
    let o = sbom(&c, &root);
    measured(
        "one_big_file_hard_linked_thousands_of_times_is_read_once",
        &o,
    );
    o.assert_well_behaved(0);
    let out = o.stdout();
    assert!(out.contains("base-files"), "{out}");
    // Copies beyond the listed ones are said to exist, not silently dropped.
    assert!(
        out.contains("copies (hard links) of the content of"),
        "{out}"
    );
}

/// A zip whose central directory lists `n` entries named by `name(i)`, every one
/// pointing at the same local header and deflate stream of `inflated` bytes (`fill`
/// then `tail`).
fn overlapping_zip(path: &Path, n: usize, names: &str, inflated: usize, fill: &str, tail: &str) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    let script = format!(
        "import struct, sys, zlib\n\
         n, inflated = {n}, {inflated}\n\
         data = {fill:?}.encode() * (inflated - len({tail:?})) + {tail:?}.encode()\n\
         co = zlib.compressobj(9, zlib.DEFLATED, -15)\n\
         comp = co.compress(data) + co.flush()\n\
         crc = zlib.crc32(data)\n\
         first = ({names}).format(0).encode()\n\
         out = struct.pack('<IHHHHHIIIHH', 0x04034b50, 20, 0, 8, 0, 0, crc, len(comp), len(data), len(first), 0) + first + comp\n\
         cd = b''\n\
         for i in range(n):\n\
         \x20   name = ({names}).format(i).encode()\n\
         \x20   cd += struct.pack('<IHHHHHHIIIHHHHHII', 0x02014b50, 20, 20, 0, 8, 0, 0, crc, len(comp), len(data), len(name), 0, 0, 0, 0, 0, 0) + name\n\
         end = struct.pack('<IHHHHIIH', 0x06054b50, 0, 0, n, n, len(cd), len(out), 0)\n\
         open(sys.argv[1], 'wb').write(out + cd + end)\n"
    );
    py(&script, &[path]);
}

#[test]
fn jar_with_overlapping_entries_is_skipped_with_a_warning() {
    let c = Case::new();
    let root = good_rootfs(&c);
    let jar = root.join("app/app.jar");
    // 5,000 nested jars sharing one deflate stream of 60 MiB: 300 GB inflated.
    overlapping_zip(&jar, 5_000, "'lib/x{}.jar'", 60 << 20, "\\0", "");
    let o = sbom(&c, &root);
    measured("jar_with_overlapping_entries_is_skipped_with_a_warning", &o);
    assert_skipped_with_warning(&o, "/app/app.jar", "overlap");
}

#[test]
fn db_import_of_an_overlapping_advisory_zip_is_rejected() {
    let c = Case::new();
    let zip = c.work().join("feed/all.zip");
    // 2,000 records sharing one deflate stream: 32 MiB of blanks and a valid OSV
    // record, inflated and parsed 2,000 times (64 GB).
    overlapping_zip(
        &zip,
        2_000,
        "'GO-2024-{}.json'",
        32 << 20,
        " ",
        r#"{"id":"GO-2024-1","modified":"2024-01-01T00:00:00Z"}"#,
    );
    let o = c.run(&["db", "import", zip.to_str().unwrap()]);
    measured("db_import_of_an_overlapping_advisory_zip_is_rejected", &o);
    o.assert_rejected("all.zip");
    assert!(o.stderr().contains("overlap"), "{}", o.stderr());
}

#[test]
fn db_update_from_a_mirror_that_drips_is_abandoned() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    // The mirror: a 10 MB body announced, then one byte every 300 ms.
    let server = std::thread::spawn(move || {
        let Ok((mut s, _)) = listener.accept() else {
            return 0;
        };
        let mut req = [0u8; 4096];
        let _ = s.read(&mut req);
        let _ = s.write_all(
            b"HTTP/1.1 200 OK\r\nContent-Type: application/zip\r\nContent-Length: 10000000\r\n\r\nP",
        );
        let mut sent = 1;
        for _ in 0..200 {
            std::thread::sleep(std::time::Duration::from_millis(300));
            if s.write_all(b"K").and_then(|()| s.flush()).is_err() {
                break;
            }
            sent += 1;
        }
        sent
    });
    let c = Case::new();
    let url = format!("http://127.0.0.1:{port}/Go/all.zip");
    let o = c.run(&["db", "update", "--source", &url, "--timeout", "2"]);
    measured("db_update_from_a_mirror_that_drips_is_abandoned", &o);
    o.assert_rejected(&url);
    assert!(o.stderr().contains("bytes/s"), "{}", o.stderr());
    let sent = server.join().unwrap();
    assert!(
        sent < 100,
        "the mirror was dropped early ({sent} bytes sent)"
    );
}
