//! Go build information (`.go.buildinfo`) of an engine binary: the Go version, the main
//! module and its version, the dependencies, and the build settings (`-ldflags` may carry
//! the product version, as Debian's dockerd does). Read by moat-catalog's parser, the one
//! Go build-info parser of moat.

pub use moat_catalog::CatalogError;
pub use moat_catalog::golang::GoBuildInfo;
use std::path::Path;

/// Largest binary read (dockerd is ~80 MB); only its headers and the build-info section
/// are read, through a read cache.
const MAX_BINARY: u64 = 512 << 20;

/// Reads the Go build info of the binary at `path`.
pub fn read_file(path: &Path) -> Result<GoBuildInfo, CatalogError> {
    moat_catalog::golang::read_buildinfo(path, MAX_BINARY)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rejects_garbage() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("garbage");
        std::fs::write(&p, b"\x7fELF garbage").unwrap();
        let e = read_file(&p).unwrap_err();
        assert!(e.to_string().contains(&p.display().to_string()), "{e}");
        // A real ELF that is not a Go binary (this test executable is Rust).
        let me = std::env::current_exe().unwrap();
        assert!(matches!(read_file(&me), Err(CatalogError::NotGo(_))));
    }

    #[test]
    fn reads_debian_dockerd_if_installed() {
        // Real binary from Debian's docker.io (scripts/deps/apt.txt); checked against `go version -m`.
        let p = Path::new("/usr/sbin/dockerd");
        if !p.exists() {
            eprintln!("skipped: /usr/sbin/dockerd not installed");
            return;
        }
        let info = read_file(p).unwrap();
        assert!(info.go_version.starts_with("go1."), "{info:?}");
        assert_eq!(
            info.path.as_deref(),
            Some("github.com/docker/docker/cmd/dockerd")
        );
        let v = info
            .ldflag_var("github.com/docker/docker/dockerversion.Version")
            .unwrap();
        assert!(v.starts_with("20.10."), "{v}");
    }
}
