use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

macro_rules! text_enum {
    ($(#[$meta:meta])* $name:ident, $what:literal { $($variant:ident = $text:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        pub enum $name {
            $(#[serde(rename = $text)] $variant),+
        }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl FromStr for $name {
            type Err = String;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                let wanted = s.trim().to_lowercase().replace(['_', ' '], "-");
                $name::ALL
                    .iter()
                    .copied()
                    .find(|k| k.as_str() == wanted)
                    .ok_or_else(|| {
                        let names: Vec<&str> = $name::ALL.iter().map(|k| k.as_str()).collect();
                        format!("unknown {} {s:?}: expected one of {}", $what, names.join(", "))
                    })
            }
        }
    };
}

text_enum!(
    /// Ethnography keeps what was seen, what was said and what the researcher thinks apart.
    NoteKind, "note kind" {
        Observation = "observation",
        Quote = "quote",
        Interpretation = "interpretation",
    }
);

text_enum!(
    /// The kind of field activity a session records.
    SessionKind, "session kind" {
        Interview = "interview",
        Observation = "observation",
        MysteryShop = "mystery-shop",
        FocusGroup = "focus-group",
        Diary = "diary",
    }
);

text_enum!(
    /// Where a note's evidence comes from: the customer told us (`direct`: interview, survey),
    /// said it elsewhere (`indirect`: reviews, social media, complaints), or we deduced it
    /// from what they did (`inferred`).
    Feedback, "feedback type" {
        Direct = "direct",
        Indirect = "indirect",
        Inferred = "inferred",
    }
);

text_enum!(
    /// How sure the researcher is of an insight, shown beside its evidence count.
    InsightConfidence, "confidence" {
        Low = "low",
        Medium = "medium",
        High = "high",
    }
);

impl NoteKind {
    /// The next kind in the cycle the app's one-key switch walks through.
    pub fn next(self) -> NoteKind {
        match self {
            NoteKind::Observation => NoteKind::Quote,
            NoteKind::Quote => NoteKind::Interpretation,
            NoteKind::Interpretation => NoteKind::Observation,
        }
    }
}
