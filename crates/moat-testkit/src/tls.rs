//! A private certificate authority for TLS tests, made with the openssl CLI (Debian's
//! `openssl`, installed by scripts/install-deps).

use std::path::{Path, PathBuf};
use std::process::Command;

/// Files of a private CA and a server certificate for 127.0.0.1 that it signed.
pub struct PrivateCa {
    /// The CA certificate (PEM): what a client trusts.
    pub ca: PathBuf,
    /// The server certificate (PEM).
    pub cert: PathBuf,
    /// The server's private key (PEM).
    pub key: PathBuf,
}

fn openssl(args: &[&str], dir: &Path) {
    let out = Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .output()
        .expect("openssl runs");
    assert!(
        out.status.success(),
        "openssl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Writes a P-256 CA (`ca.pem`, `ca.key`) named `ca_name` and a server certificate for
/// IP 127.0.0.1 (`cert.pem`, `key.pem`; two days) into `dir`.
pub fn private_ca(dir: &Path, ca_name: &str) -> PrivateCa {
    let ec = [
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:prime256v1",
        "-nodes",
    ];
    let subj = format!("/CN={ca_name}");
    let mut ca = vec!["req", "-x509"];
    ca.extend(ec);
    ca.extend([
        "-days", "2", "-subj", &subj, "-keyout", "ca.key", "-out", "ca.pem",
    ]);
    openssl(&ca, dir);
    let mut csr = vec!["req"];
    csr.extend(ec);
    csr.extend([
        "-subj",
        "/CN=127.0.0.1",
        "-keyout",
        "key.pem",
        "-out",
        "leaf.csr",
    ]);
    openssl(&csr, dir);
    std::fs::write(
        dir.join("leaf.ext"),
        "subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\nkeyUsage=digitalSignature\nextendedKeyUsage=serverAuth\n",
    )
    .expect("write leaf.ext");
    openssl(
        &[
            "x509",
            "-req",
            "-in",
            "leaf.csr",
            "-CA",
            "ca.pem",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-days",
            "2",
            "-extfile",
            "leaf.ext",
            "-out",
            "cert.pem",
        ],
        dir,
    );
    PrivateCa {
        ca: dir.join("ca.pem"),
        cert: dir.join("cert.pem"),
        key: dir.join("key.pem"),
    }
}
