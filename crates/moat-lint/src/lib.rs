//! Configuration linter: Dockerfile, compose, daemon.json and image-config rules.
