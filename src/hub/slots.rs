//! Counted slots per key: at most `cap` held at once for any one key (a
//! source address's handshakes, an agency's connections or sockets). A slot
//! is given back when its guard drops, however the holder ends.

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::{Arc, Mutex};

/// Slots held per key, each key capped at the same number.
pub(crate) struct Slots<K: Hash + Eq + Clone> {
    cap: usize,
    held: Mutex<HashMap<K, usize>>,
}

/// One slot of `key`, held until dropped.
pub(crate) struct Slot<K: Hash + Eq + Clone> {
    slots: Arc<Slots<K>>,
    key: K,
}

impl<K: Hash + Eq + Clone> Slots<K> {
    /// At most `cap` per key; 0 means no cap.
    pub(crate) fn new(cap: usize) -> Arc<Self> {
        Arc::new(Self {
            cap,
            held: Mutex::new(HashMap::new()),
        })
    }

    /// A slot for `key`, or `None` when `key` already holds `cap`.
    pub(crate) fn try_take(self: &Arc<Self>, key: &K) -> Option<Slot<K>> {
        let mut held = self.held.lock().unwrap_or_else(|e| e.into_inner());
        let count = held.entry(key.clone()).or_insert(0);
        if self.cap != 0 && *count >= self.cap {
            return None;
        }
        *count += 1;
        Some(Slot {
            slots: self.clone(),
            key: key.clone(),
        })
    }

    /// How many slots `key` holds now.
    #[cfg(test)]
    fn held(&self, key: &K) -> usize {
        let held = self.held.lock().unwrap_or_else(|e| e.into_inner());
        held.get(key).copied().unwrap_or(0)
    }
}

impl<K: Hash + Eq + Clone> Drop for Slot<K> {
    fn drop(&mut self) {
        let mut held = self.slots.held.lock().unwrap_or_else(|e| e.into_inner());
        // Forget a key that holds nothing: the map stays as small as what is
        // held now, whatever addresses have come and gone.
        if let Some(count) = held.get_mut(&self.key) {
            *count -= 1;
            if *count == 0 {
                held.remove(&self.key);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_holds_at_most_its_cap_and_gets_slots_back_when_they_drop() {
        let slots = Slots::new(2);
        let a = slots.try_take(&"a").unwrap();
        let _a2 = slots.try_take(&"a").unwrap();
        assert!(slots.try_take(&"a").is_none());
        // Another key is not affected.
        let _b = slots.try_take(&"b").unwrap();
        drop(a);
        assert_eq!(slots.held(&"a"), 1);
        assert!(slots.try_take(&"a").is_some());
    }

    #[test]
    fn a_key_that_holds_nothing_is_forgotten() {
        let slots = Slots::new(1);
        drop(slots.try_take(&"a").unwrap());
        assert!(slots.held.lock().unwrap().is_empty());
    }

    #[test]
    fn a_cap_of_zero_means_no_cap() {
        let slots = Slots::new(0);
        let held: Vec<_> = (0..100).map(|_| slots.try_take(&"a").unwrap()).collect();
        assert_eq!(slots.held(&"a"), held.len());
    }
}
