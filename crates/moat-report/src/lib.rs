//! Renderers of moat's reports: table, JSON, SARIF, CycloneDX, SPDX, HTML.
