//! Targeted enforcement (DOMAIN.md (e)): from the enterprises' risk records and facts, a
//! ranked, quota-respecting list of inspection tasks per county, with the reasons for each.

pub mod config;
pub mod facts;
pub mod output;
pub mod plan;
pub mod priority;
pub mod request;
pub mod select;
pub mod task;

pub use facts::EnterpriseFacts;
