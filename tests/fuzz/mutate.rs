//! Byte-level mutations of a valid input: what a fuzzer does to bytes that
//! already get past the first check, so the deeper checks are exercised.

use proptest::prelude::*;
use proptest::sample::Index;

/// One change to a byte string.
#[derive(Clone, Debug)]
pub enum Mutation {
    /// Flip one bit of one byte.
    Flip(Index, u8),
    /// Put a byte before the byte at the index (or at the end).
    Insert(Index, u8),
    /// Take one byte out.
    Delete(Index),
    /// Overwrite one byte.
    Replace(Index, u8),
    /// Keep only a prefix.
    Truncate(Index),
    /// Copy a run of bytes to another place (duplicated fields, repeated
    /// base64 blocks).
    Splice { from: Index, len: u8, to: Index },
}

impl Mutation {
    /// Apply to `bytes`; an empty input only grows.
    pub fn apply(&self, bytes: &mut Vec<u8>) {
        let n = bytes.len();
        if n == 0 {
            if let Mutation::Insert(_, b) = self {
                bytes.push(*b);
            }
            return;
        }
        match self {
            Mutation::Flip(at, bit) => bytes[at.index(n)] ^= 1 << (bit % 8),
            Mutation::Insert(at, b) => bytes.insert(at.index(n + 1), *b),
            Mutation::Delete(at) => {
                bytes.remove(at.index(n));
            }
            Mutation::Replace(at, b) => bytes[at.index(n)] = *b,
            Mutation::Truncate(at) => bytes.truncate(at.index(n)),
            Mutation::Splice { from, len, to } => {
                let start = from.index(n);
                let end = (start + usize::from(*len)).min(n);
                let run = bytes[start..end].to_vec();
                let to = to.index(n + 1);
                bytes.splice(to..to, run);
            }
        }
    }
}

/// Bytes that JSON and base64 give meaning to, so that mutations reach
/// past the first syntax error more often than random bytes would.
fn meaningful_byte() -> impl Strategy<Value = u8> {
    prop_oneof![
        any::<u8>(),
        prop::sample::select(b"{}[]\":,\\ \n0123456789-+.eE=/AQgw".to_vec()),
    ]
}

pub fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        (any::<Index>(), any::<u8>()).prop_map(|(i, b)| Mutation::Flip(i, b)),
        (any::<Index>(), meaningful_byte()).prop_map(|(i, b)| Mutation::Insert(i, b)),
        any::<Index>().prop_map(Mutation::Delete),
        (any::<Index>(), meaningful_byte()).prop_map(|(i, b)| Mutation::Replace(i, b)),
        any::<Index>().prop_map(Mutation::Truncate),
        (any::<Index>(), any::<u8>(), any::<Index>())
            .prop_map(|(from, len, to)| Mutation::Splice { from, len, to }),
    ]
}

/// One to four mutations, applied in order.
pub fn mutations() -> impl Strategy<Value = Vec<Mutation>> {
    prop::collection::vec(mutation(), 1..=4)
}

/// `bytes` with `mutations` applied.
pub fn mutated(bytes: &[u8], mutations: &[Mutation]) -> Vec<u8> {
    let mut out = bytes.to_vec();
    for m in mutations {
        m.apply(&mut out);
    }
    out
}

/// A JSON value changed in one place: a leaf replaced, a member removed or
/// added, an array element dropped or repeated. Structure-aware: most
/// results are still JSON of nearly the right shape, so the parser's typed
/// checks (ids, dates, enums, ranges) are what refuses them.
#[derive(Clone, Debug)]
pub enum JsonEdit {
    /// Replace the value at a path with another.
    Set(Index, serde_json::Value),
    /// Remove the value at a path from its object or array.
    Remove(Index),
    /// Add a member to the object at a path.
    Add(Index, String, serde_json::Value),
    /// Repeat the element at a path in its array.
    Repeat(Index),
}

/// JSON values likely to sit at the edge of a field's type.
pub fn edge_value() -> impl Strategy<Value = serde_json::Value> {
    use serde_json::{Value, json};
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|n| json!(n)),
        any::<u64>().prop_map(|n| json!(n)),
        prop::sample::select(vec![
            json!(0),
            json!(-1),
            json!(255),
            json!(256),
            json!(65535),
            json!(65536),
            json!(u32::MAX),
            json!(i32::MIN),
            json!(i64::MAX),
            json!(1.5),
            json!(-0.0),
            json!(1e308),
        ]),
        prop::sample::select(vec![
            "",
            " ",
            "0000-01-01",
            "9999-12-31",
            "-9999-01-01",
            "-0001-02-03",
            "+10000-01-01",
            "2026-02-29",
            "2026-02-30",
            "2026-13-01",
            "2026-12-03T14:00:00.000Z",
            "9999-12-31T23:59:59.999Z",
            "0000-01-01T00:00:00Z",
            "2026-12-03T14:00:00+09:00",
            "minato-center",
            "sakura-clinic",
            "Minato-Center",
            "case-000000000000",
            "00000000-0000-0000-0000-000000000000",
            "referral",
            "consent",
            "abuse_notification",
            "high",
            "basic",
            "令和8年4月1日",
            "\u{0}",
            "\u{202e}",
        ])
        .prop_map(|s| json!(s)),
        ".{0,40}".prop_map(Value::String),
    ];
    leaf.prop_recursive(2, 8, 3, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..3).prop_map(Value::Array),
            prop::collection::btree_map("[a-z_]{1,12}", inner, 0..3)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

pub fn json_edit() -> impl Strategy<Value = JsonEdit> {
    prop_oneof![
        3 => (any::<Index>(), edge_value()).prop_map(|(i, v)| JsonEdit::Set(i, v)),
        1 => any::<Index>().prop_map(JsonEdit::Remove),
        1 => (any::<Index>(), "[a-z_]{1,16}", edge_value())
            .prop_map(|(i, k, v)| JsonEdit::Add(i, k, v)),
        1 => any::<Index>().prop_map(JsonEdit::Repeat),
    ]
}

pub fn json_edits() -> impl Strategy<Value = Vec<JsonEdit>> {
    prop::collection::vec(json_edit(), 1..=3)
}

/// `value` with `edits` applied.
pub fn edited(value: &serde_json::Value, edits: &[JsonEdit]) -> serde_json::Value {
    let mut out = value.clone();
    for e in edits {
        apply_edit(&mut out, e);
    }
    out
}

fn apply_edit(root: &mut serde_json::Value, edit: &JsonEdit) {
    use serde_json::Value;
    let paths = paths(root);
    let pick = |i: &Index| paths[i.index(paths.len())].clone();
    match edit {
        JsonEdit::Set(i, v) => {
            if let Some(slot) = root.pointer_mut(&pick(i)) {
                *slot = v.clone();
            }
        }
        JsonEdit::Remove(i) | JsonEdit::Repeat(i) => {
            let path = pick(i);
            let Some((parent, last)) = path.rsplit_once('/') else {
                return;
            };
            match root.pointer_mut(parent) {
                Some(Value::Object(m)) if matches!(edit, JsonEdit::Remove(_)) => {
                    m.remove(&last.replace("~1", "/").replace("~0", "~"));
                }
                Some(Value::Array(a)) => {
                    if let Ok(k) = last.parse::<usize>() {
                        if matches!(edit, JsonEdit::Remove(_)) {
                            a.remove(k);
                        } else {
                            let item = a[k].clone();
                            a.insert(k, item);
                        }
                    }
                }
                _ => {}
            }
        }
        JsonEdit::Add(i, key, v) => {
            if let Some(Value::Object(m)) = root.pointer_mut(&pick(i)) {
                m.insert(key.clone(), v.clone());
            }
        }
    }
}

/// Every JSON pointer in `value`, the root (`""`) first.
fn paths(value: &serde_json::Value) -> Vec<String> {
    let mut out = Vec::new();
    walk(value, String::new(), &mut out);
    out
}

fn walk(value: &serde_json::Value, at: String, out: &mut Vec<String>) {
    use serde_json::Value;
    out.push(at.clone());
    match value {
        Value::Object(m) => {
            for (k, v) in m {
                let k = k.replace('~', "~0").replace('/', "~1");
                walk(v, format!("{at}/{k}"), out);
            }
        }
        Value::Array(a) => {
            for (i, v) in a.iter().enumerate() {
                walk(v, format!("{at}/{i}"), out);
            }
        }
        _ => {}
    }
}
