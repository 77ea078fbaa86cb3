//! Inputs found by `scripts/fuzz` (see docs/fuzzing.md), kept as regression tests.
//! Each test is named after the bug it pins.

#![allow(clippy::unwrap_used)]

use moat_catalog::{CatalogError, Cataloger, Ctx, Found, ruby};
use moat_fs::{FileResolver, MemResolver};

fn run(cat: &dyn Cataloger, path: &str, data: &[u8]) -> (Found, Result<(), CatalogError>) {
    let r = MemResolver::new().file(path, data.to_vec());
    let meta = r.lstat(path).unwrap();
    let ctx = Ctx::new(&r, None);
    let mut found = Found::default();
    let res = cat.parse(&ctx, &meta, &mut found);
    (found, res)
}

/// catalog_lang crash-77b5c4e8: the license loop looked the quoted value up again
/// with `find`, so an empty value (`""`) matched at offset 0 and the loop stepped one
/// byte into a multi-byte character: "start byte index 1 is not a char boundary".
#[test]
fn gemspec_empty_license_before_multibyte_char_does_not_panic() {
    let spec = "s.name = \"x\"\ns.version = \"1.0\"\ns.license =\u{e9}\"\"\n";
    assert!(ruby::parse_gemspec(spec).is_some());
    // The fuzzer's own input, through the cataloger.
    let mut input = b"\x00\x03\x0f".to_vec();
    input.extend([0xff; 20]);
    input.extend(
        b"    spec.license = \xff\xff\"\"\nspec.name = \"async\"\nspec.version = \"2.0\"\n",
    );
    let (found, res) = run(
        &ruby::Gemspecs,
        "/usr/lib/ruby/gems/3.1.0/specifications/x-1.0.gemspec",
        &input,
    );
    assert!(res.is_ok(), "{res:?}");
    assert_eq!(found.packages.len(), 1);
}

/// Same loop: after an empty value the next "value" was the text between two
/// quotes (`", "`), not the next license.
#[test]
fn gemspec_license_list_with_empty_entry_reads_each_quoted_value() {
    let spec =
        "s.name = \"x\"\ns.version = \"1.0\"\ns.licenses = [\"\", \"MIT\", \"Apache-2.0\"]\n";
    let (_, _, licenses) = ruby::parse_gemspec(spec).unwrap();
    assert_eq!(licenses, ["", "MIT", "Apache-2.0"]);
}
