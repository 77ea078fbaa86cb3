//! Helpers shared by the fuzz targets.
#![forbid(unsafe_code)]

use moat_catalog::{Cataloger, Ctx, Found};
use moat_fs::{FileResolver, MemResolver};

/// Put `data` at `path` in an in-memory tree and run `cat` on it the way
/// `moat_catalog::catalog` does (one selected file, no distro), then read every
/// reported package's fields so lazily built values are touched too.
pub fn run_cataloger(cat: &dyn Cataloger, path: &str, data: &[u8]) {
    let r = MemResolver::new().file(path, data.to_vec());
    let Some(meta) = r.lstat(path) else {
        return;
    };
    let ctx = Ctx::new(&r, None);
    let mut found = Found::default();
    let _ = cat.parse(&ctx, &meta, &mut found);
    for p in &found.packages {
        let _ = format!("{p:?}");
    }
}

/// Split the first byte off as a selector among `n` choices.
pub fn pick(data: &[u8], n: usize) -> Option<(usize, &[u8])> {
    let (&b, rest) = data.split_first()?;
    Some((b as usize % n, rest))
}

/// Import `data` as one downloaded file of `kind` into a database [`moat_db::Writer`]
/// kept for the whole fuzzing process (a fresh SQLite file per input would dominate
/// the run time). The writer is never committed.
pub fn db_import(data: &[u8], kind: moat_db::InputKind, name: &str) {
    use std::cell::RefCell;
    thread_local! {
        static W: RefCell<Option<(tempfile::TempDir, moat_db::Writer)>> = const { RefCell::new(None) };
    }
    W.with(|w| {
        let mut w = w.borrow_mut();
        if w.is_none() {
            let Ok(dir) = tempfile::tempdir() else { return };
            let Ok(writer) = moat_db::Writer::fresh(&dir.path().join("moat.db")) else {
                return;
            };
            *w = Some((dir, writer));
        }
        let Some((dir, writer)) = w.as_mut() else {
            return;
        };
        let file = dir.path().join(name);
        if let Some(p) = file.parent() {
            let _ = std::fs::create_dir_all(p);
        }
        if std::fs::write(&file, data).is_err() {
            return;
        }
        let loc = format!("https://example.invalid/{name}");
        let _ = writer.import_download(&loc, &file, kind, None, None);
    });
}
