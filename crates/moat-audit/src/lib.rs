//! Live engine audit: CIS Docker Benchmark checks and isolation proof.
