//! The four warning colours, ordered by urgency (blue < yellow < orange < red).

use serde::{Deserialize, Serialize};

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Color {
    Blue,
    Yellow,
    Orange,
    Red,
}

impl Color {
    pub const ALL: [Color; 4] = [Color::Blue, Color::Yellow, Color::Orange, Color::Red];

    pub fn as_str(self) -> &'static str {
        match self {
            Color::Blue => "blue",
            Color::Yellow => "yellow",
            Color::Orange => "orange",
            Color::Red => "red",
        }
    }

    pub fn parse(text: &str) -> Option<Color> {
        Color::ALL
            .into_iter()
            .find(|c| c.as_str().eq_ignore_ascii_case(text.trim()))
    }
}
