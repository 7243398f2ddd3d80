//! ptanalyze's analyses, behind the thin `ptanalyze` binary: flows and per-owner rollups,
//! remote names learnt from the capture (`names`), the HTML report (`report`),
//! NetworkPolicy verification against the flows (`policy`), and
//! the whole run (command line, reading, filtering, output), which `ptcap -r` shares.
//! Packet views, metadata and text rendering come from the `formats` crate.

// The modules below name this crate `analyze::` (they were the binary's once).
extern crate self as analyze;

pub mod cli;
mod engine;
mod filter;
pub mod flows;
pub mod gen;
mod input;
pub mod names;
mod output;
pub mod policy;
pub mod report;
pub mod run;
pub mod stats;
pub mod table;
