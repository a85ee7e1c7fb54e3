//! fieldnotes: capture, tag, find and understand customer-experience field notes.
//!
//! SQLite ([`store`]) is the single source of truth; the tantivy index ([`index`]) is derived
//! from it and can be rebuilt at any time; [`archive::Archive`] is the one way to open both.

pub mod analysis;
pub mod archive;
pub mod config;
pub mod crypt;
pub mod demo;
pub mod error;
pub mod index;
pub mod io;
pub mod logging;
pub mod model;
pub mod mystery_shop;
pub mod query;
pub mod report;
pub mod store;
pub mod sync;
pub mod text;
pub mod time;
pub mod tui;

pub use archive::Archive;
pub use error::{Error, Result};
