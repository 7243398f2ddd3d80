//! ptanalyze's analyses, behind the thin `ptanalyze` binary: flows and per-owner rollups.
//! Reading, filtering and parallelism live in the binary's engine; packet views, metadata and
//! text rendering come from the `formats` crate.

pub mod flows;
pub mod stats;
