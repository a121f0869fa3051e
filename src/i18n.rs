//! Language selection for staff-facing text: Japanese first, English on request.

use clap::ValueEnum;

/// The language of text meant for staff.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, ValueEnum)]
pub enum Lang {
    /// 日本語 (default)
    #[default]
    Ja,
    /// English
    En,
}

impl Lang {
    /// Pick the Japanese or the English text.
    pub fn pick<'a>(self, ja: &'a str, en: &'a str) -> &'a str {
        match self {
            Lang::Ja => ja,
            Lang::En => en,
        }
    }
}

/// An enumeration with stable wire names and labels in both languages.
macro_rules! labeled {
    ($(#[$doc:meta])* $ty:ident { $($(#[$vdoc:meta])* $variant:ident => $name:literal, $ja:literal, $en:literal;)+ }) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub enum $ty {
            $($(#[$vdoc])* $variant,)+
        }

        impl $ty {
            /// Every value, in the order staff see them.
            pub const ALL: &[$ty] = &[$($ty::$variant,)+];

            /// The stable name (stored, and in `--json`).
            pub fn as_str(self) -> &'static str {
                match self { $($ty::$variant => $name,)+ }
            }

            /// The value with this stable name.
            pub fn parse(name: &str) -> Option<Self> {
                Self::ALL.iter().copied().find(|v| v.as_str() == name)
            }

            /// The name staff see.
            pub fn label(self, lang: $crate::i18n::Lang) -> &'static str {
                match self { $($ty::$variant => lang.pick($ja, $en),)+ }
            }
        }

        // Stored and exchanged by the stable name, never by the label.
        impl ::serde::Serialize for $ty {
            fn serialize<S: ::serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }

        impl<'de> ::serde::Deserialize<'de> for $ty {
            fn deserialize<D: ::serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let name = <String as ::serde::Deserialize>::deserialize(d)?;
                Self::parse(&name).ok_or_else(|| {
                    ::serde::de::Error::custom(format!(
                        "unknown {} {name:?}",
                        stringify!($ty)
                    ))
                })
            }
        }
    };
}

pub(crate) use labeled;
