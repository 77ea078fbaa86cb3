//! Issue 12, output class: input-controlled strings (package names and versions, paths,
//! error messages quoting input) never reach the terminal raw: an ESC sequence or a
//! newline from the input is shown escaped in tables and on stderr, and JSON stays valid.
#![allow(clippy::unwrap_used)]

mod common;
use common::hostile::Case;

/// A rootfs whose dpkg database names a package with an ESC sequence, a carriage return
/// and a newline that would forge a line of the table.
fn hostile_rootfs(c: &Case) -> std::path::PathBuf {
    let root = c.work().join("rootfs");
    std::fs::create_dir_all(root.join("etc")).unwrap();
    std::fs::create_dir_all(root.join("var/lib/dpkg")).unwrap();
    std::fs::write(root.join("etc/os-release"), "ID=debian\nVERSION_ID=\"12\"\n").unwrap();
    std::fs::write(
        root.join("var/lib/dpkg/status"),
        "Package: evil\x1b[31mred\rback\nStatus: install ok installed\nVersion: 1.0\x1b[2J\nArchitecture: amd64\n\n\
         Package: fine\nStatus: install ok installed\nVersion: 2.0\nArchitecture: amd64\n\n",
    )
    .unwrap();
    root
}

#[test]
fn package_names_with_control_characters_are_escaped_in_tables() {
    let c = Case::new();
    let root = hostile_rootfs(&c);
    let src = format!("rootfs:{}", root.display());
    let o = c.run(&["sbom", &src, "--format", "table"]);
    o.assert_well_behaved(0);
    let out = o.stdout();
    assert!(out.contains("fine"), "{out}");
    assert!(
        out.contains("evil\\x1b[31mred\\rback") && out.contains("1.0\\x1b[2J"),
        "the hostile package is listed, escaped: {out}"
    );
    // JSON keeps the bytes (escaped the JSON way) and stays valid.
    let o = c.run(&["sbom", &src, "--format", "json"]);
    o.assert_well_behaved(0);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["packages"].as_array().unwrap().len(), 2);
}

#[test]
fn error_messages_quoting_input_are_escaped() {
    let c = Case::new();
    let name = c.work().join("x\x1b[31m\nmoat: forged line.tar");
    let o = c.run(&["inspect", &format!("docker-archive:{}", name.display())]);
    o.assert_well_behaved(2);
    let err = o.stderr();
    assert_eq!(err.lines().count(), 1, "a newline from the input forged a line: {err:?}");
    assert!(err.contains("\\x1b[31m"), "{err:?}");
}
