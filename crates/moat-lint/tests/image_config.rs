//! Image-config rules on a real directory tree (setuid bits set with chmod) and a
//! hand-written image config.

#![allow(clippy::unwrap_used)] // tests

use moat_model::{HistoryEntry, ImageConfigSummary, ImageMetadata};
use std::os::unix::fs::PermissionsExt;

#[test]
fn image_config_rules_fire_and_snapshot() {
    let dir = tempfile::tempdir().unwrap();
    let bin = dir.path().join("usr/bin");
    std::fs::create_dir_all(&bin).unwrap();
    for (name, mode) in [("passwd", 0o4755), ("wall", 0o2755), ("ls", 0o755)] {
        let p = bin.join(name);
        std::fs::write(&p, b"x").unwrap();
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(mode)).unwrap();
    }
    let resolver = moat_fs::DirResolver::new(dir.path()).unwrap();
    let meta = ImageMetadata {
        source: "docker-archive:app.tar".into(),
        config: ImageConfigSummary {
            user: String::new(),
            env: vec![
                "PATH=/usr/bin".into(),
                "DB_PASSWORD=hunter2".into(),
                "PASSWORD_FILE=/run/secrets/x".into(),
            ],
            exposed_ports: vec!["22/tcp".into(), "8080/tcp".into()],
            ..Default::default()
        },
        history: vec![HistoryEntry {
            created_by: "|1 GITHUB_TOKEN=ghp_abc /bin/sh -c make".into(),
            ..Default::default()
        }],
        ..Default::default()
    };
    let f = moat_lint::image_config::check(&meta, &resolver);
    let rules: Vec<&str> = f.iter().map(|f| f.rule.as_str()).collect();
    for code in ["IC001", "IC002", "IC003", "IC004", "IC005", "IC006"] {
        assert!(rules.contains(&code), "{code} missing in {rules:?}");
    }
    assert_eq!(f.iter().filter(|f| f.rule == "IC005").count(), 2);
    insta::assert_json_snapshot!("image_config", f);
}

#[test]
fn a_hardened_image_is_clean() {
    let dir = tempfile::tempdir().unwrap();
    let resolver = moat_fs::DirResolver::new(dir.path()).unwrap();
    let meta = ImageMetadata {
        source: "oci-dir:x".into(),
        config: ImageConfigSummary {
            user: "10001".into(),
            healthcheck: Some(moat_model::image::Healthcheck {
                test: vec!["CMD".into(), "true".into()],
                ..Default::default()
            }),
            ..Default::default()
        },
        ..Default::default()
    };
    assert!(moat_lint::image_config::check(&meta, &resolver).is_empty());
}
