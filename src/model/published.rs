//! A record published to many readers at once (the API's event streams): serialised to JSON
//! once, by the first reader that needs it, instead of once per reader. With 200 subscribers,
//! serialising every warning 200 times was most of what the streams cost.

use std::ops::Deref;
use std::sync::OnceLock;

use serde::Serialize;

#[derive(Debug)]
pub struct Published<T> {
    record: T,
    /// `None` when the record cannot be serialised.
    json: OnceLock<Option<Box<str>>>,
}

impl<T> Published<T> {
    pub fn new(record: T) -> Self {
        Published {
            record,
            json: OnceLock::new(),
        }
    }
}

impl<T: Serialize> Published<T> {
    /// The record as JSON, serialised on the first call.
    pub fn json(&self) -> Option<&str> {
        self.json
            .get_or_init(|| {
                serde_json::to_string(&self.record)
                    .ok()
                    .map(String::into_boxed_str)
            })
            .as_deref()
    }
}

impl<T> Deref for Published<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.record
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serialises_once_and_as_serde_does() {
        let published = Published::new(serde_json::json!({"id": "w-1", "value": 62.5}));
        let first = published.json().unwrap();
        assert_eq!(first, r#"{"id":"w-1","value":62.5}"#);
        assert!(std::ptr::eq(first, published.json().unwrap()));
        assert_eq!(published["id"], "w-1");
    }
}
