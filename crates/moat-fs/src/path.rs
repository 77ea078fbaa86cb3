//! Path arithmetic inside an image root. Paths are strings, not `std::path::Path`:
//! they are the container's paths, never the host's.

use crate::{FileKind, FileMeta, FsError, FsErrorKind, MAX_SYMLINK_HOPS};

/// Normalize to an absolute path: `.` and empty components dropped, `..` applied and
/// clamped at the root (as the kernel does for `/..`).
pub fn normalize(path: &str) -> String {
    let mut out: Vec<&str> = Vec::new();
    for c in path.split('/') {
        match c {
            "" | "." => {}
            ".." => {
                out.pop();
            }
            c => out.push(c),
        }
    }
    let mut s = String::with_capacity(path.len() + 1);
    for c in &out {
        s.push('/');
        s.push_str(c);
    }
    if s.is_empty() {
        s.push('/');
    }
    s
}

/// The parent directory of a normalized path (`/` for `/` and top-level entries).
pub fn parent(path: &str) -> &str {
    match path.rfind('/') {
        Some(0) | None => "/",
        Some(i) => &path[..i],
    }
}

/// Join `rel` onto the directory `base`; an absolute `rel` restarts at the root.
pub fn join(base: &str, rel: &str) -> String {
    if rel.starts_with('/') {
        normalize(rel)
    } else {
        normalize(&format!("{base}/{rel}"))
    }
}

/// Resolve every symlink in `path` using `lstat`, component by component, clamped at
/// the root. `Ok(None)` when a component does not exist.
pub(crate) fn resolve_with(
    path: &str,
    lstat: &dyn Fn(&str) -> Option<FileMeta>,
) -> Result<Option<String>, FsError> {
    let mut hops = 0usize;
    // Components still to walk, in reverse order (a stack).
    // Not normalized first: `..` after a symlink climbs from the link's target, as
    // in the kernel.
    let mut todo: Vec<String> = path
        .split('/')
        .filter(|c| !c.is_empty() && *c != ".")
        .rev()
        .map(str::to_string)
        .collect();
    let mut cur = String::from("/");
    while let Some(c) = todo.pop() {
        if c == ".." {
            cur = parent(&cur).to_string();
            continue;
        }
        if c == "." || c.is_empty() {
            continue;
        }
        let next = if cur == "/" {
            format!("/{c}")
        } else {
            format!("{cur}/{c}")
        };
        let Some(meta) = lstat(&next) else {
            return Ok(None);
        };
        if meta.kind == FileKind::Symlink {
            hops += 1;
            if hops > MAX_SYMLINK_HOPS {
                return Err(FsError::new(
                    FsErrorKind::SymlinkLoop,
                    path,
                    "too many levels of symbolic links",
                ));
            }
            let target = meta.link_target.unwrap_or_default();
            if target.starts_with('/') {
                cur = String::from("/");
            }
            // `.` and empty components change nothing: not even pushed, so a
            // `./././…` target costs one scan, never an allocation per component.
            for t in target
                .split('/')
                .filter(|t| !t.is_empty() && *t != ".")
                .rev()
            {
                todo.push(t.to_string());
            }
        } else {
            if !todo.is_empty() && meta.kind != FileKind::Dir {
                // A file used as a directory.
                return Ok(None);
            }
            cur = next;
        }
    }
    Ok(Some(cur))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalize_clamps_at_root() {
        assert_eq!(normalize("../../etc//passwd"), "/etc/passwd");
        assert_eq!(normalize("/a/./b/../c/"), "/a/c");
        assert_eq!(normalize(""), "/");
        assert_eq!(normalize("/.."), "/");
    }

    #[test]
    fn dot_chains_in_link_targets_resolve() {
        use crate::MemResolver;
        let m = MemResolver::new()
            .file("/real/f", "x")
            .symlink("/d", &("./".repeat(5000) + "real"));
        let r: &dyn crate::FileResolver = &m;
        assert_eq!(r.resolve("/d/f").unwrap().as_deref(), Some("/real/f"));
        assert_eq!(r.resolve("/./d/./f").unwrap().as_deref(), Some("/real/f"));
    }

    #[test]
    fn parent_and_join() {
        assert_eq!(parent("/a/b"), "/a");
        assert_eq!(parent("/a"), "/");
        assert_eq!(join("/usr/bin", "../lib/x"), "/usr/lib/x");
        assert_eq!(join("/usr/bin", "/etc/../../x"), "/x");
    }
}
