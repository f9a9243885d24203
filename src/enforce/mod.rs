//! Targeted enforcement (DOMAIN.md (e)): from the enterprises' risk records and facts, a
//! ranked, quota-respecting list of inspection tasks per county, with the reasons for each.

pub mod facts;

pub use facts::EnterpriseFacts;
