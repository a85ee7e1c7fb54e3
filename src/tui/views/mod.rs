//! The app's views, one module each.

pub mod capture;
pub mod form;
pub mod home;
pub mod participants;
pub mod report;
pub mod search;
pub mod themes;
pub mod trash;
pub mod visit;
