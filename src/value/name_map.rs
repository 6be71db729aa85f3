//! The map of an object's attributes, a map's entries and an object type's attribute
//! types.

use super::Name;
use std::fmt;

/// Entries keyed by name, held sorted by name with each name once: the order in which
/// Terraform writes objects and maps (cty sorts them), so a decoded value is built by
/// pushing, and lives in one allocation rather than a tree of nodes. Lookups are
/// binary searches; the maps are small (a resource has a few dozen attributes).
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct NameMap<V>(Vec<(Name, V)>);

impl<V> Default for NameMap<V> {
    fn default() -> Self {
        NameMap(Vec::new())
    }
}

/// Up to this many entries, a lookup scans before it searches: names of one map
/// mostly differ in length, so comparing lengths first reads the bytes of about one
/// name, where a binary search compares whole names several times. (A name that is
/// not there, rare in a lookup, is then searched for its place.)
const SCANNED: usize = 32;

/// Whether an entry's name is `name`. A schema's names are static strings that its
/// type and every value decoded with it share: the same address is the same name,
/// without reading it.
fn same_name(known: &str, name: &str) -> bool {
    known.len() == name.len() && (known.as_ptr() == name.as_ptr() || known.as_bytes() == name.as_bytes())
}

impl<V> NameMap<V> {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Where `name`'s entry is (Ok), or where it would go (Err).
    fn position(&self, name: &str) -> Result<usize, usize> {
        if self.0.len() <= SCANNED {
            if let Some(found) = self.0.iter().position(|(known, _)| same_name(known, name)) {
                return Ok(found);
            }
        }
        self.0.binary_search_by(|(known, _)| known.as_ref().cmp(name))
    }

    /// Where `name`'s entry is, looked for first at `slot`: a caller that knows
    /// where a map of its shape keeps the name (a schema's attribute in a value of
    /// the schema's type) skips the scan.
    fn position_at(&self, slot: usize, name: &str) -> Result<usize, usize> {
        match self.0.get(slot) {
            Some((known, _)) if same_name(known, name) => Ok(slot),
            _ => self.position(name),
        }
    }

    pub fn get(&self, name: &str) -> Option<&V> {
        self.get_key_value(name).map(|(_, v)| v)
    }

    /// `get`, looking at `slot` first (see `position_at`).
    pub fn get_at(&self, slot: usize, name: &str) -> Option<&V> {
        let found = self.position_at(slot, name).ok()?;
        Some(&self.0[found].1)
    }

    pub fn get_key_value(&self, name: &str) -> Option<(&Name, &V)> {
        let found = self.position(name).ok()?;
        let (known, value) = &self.0[found];
        Some((known, value))
    }

    pub fn contains_key(&self, name: &str) -> bool {
        self.position(name).is_ok()
    }

    /// Sets the entry of `name`, returning the value it replaced.
    pub fn insert(&mut self, name: Name, value: V) -> Option<V> {
        let found = self.position(&name);
        self.insert_found(found, name, value)
    }

    /// `insert`, looking at `slot` first (see `position_at`).
    pub fn insert_at(&mut self, slot: usize, name: Name, value: V) -> Option<V> {
        let found = self.position_at(slot, &name);
        self.insert_found(found, name, value)
    }

    fn insert_found(&mut self, found: Result<usize, usize>, name: Name, value: V) -> Option<V> {
        match found {
            Ok(found) => Some(std::mem::replace(&mut self.0[found].1, value)),
            Err(at) => {
                self.0.insert(at, (name, value));
                None
            }
        }
    }

    /// The entries in name order.
    pub fn entries(&self) -> &[(Name, V)] {
        &self.0
    }

    /// A map of the same names, each with the value `value_of` makes of its own.
    pub fn map_values<U>(&self, mut value_of: impl FnMut(&V) -> U) -> NameMap<U> {
        NameMap(self.0.iter().map(|(name, value)| (name.clone(), value_of(value))).collect())
    }

    /// The value of the entry at `index` of `entries` (which it must be below, as
    /// in indexing a slice).
    pub fn value_at_mut(&mut self, index: usize) -> &mut V {
        &mut self.0[index].1
    }

    pub fn iter(&self) -> Iter<'_, V> {
        self.0.iter().map(|(name, value)| (name, value))
    }

    pub fn keys(&self) -> impl DoubleEndedIterator<Item = &Name> + ExactSizeIterator {
        self.0.iter().map(|(name, _)| name)
    }

    pub fn values(&self) -> impl DoubleEndedIterator<Item = &V> + ExactSizeIterator {
        self.0.iter().map(|(_, value)| value)
    }
}

/// Entries in any order; a repeated name keeps its last value (as inserting them one
/// by one would). Entries already in order, as Terraform sends them, are kept as they
/// come.
impl<V> FromIterator<(Name, V)> for NameMap<V> {
    fn from_iter<I: IntoIterator<Item = (Name, V)>>(entries: I) -> Self {
        let mut entries: Vec<(Name, V)> = entries.into_iter().collect();
        if entries.windows(2).all(|pair| pair[0].0 < pair[1].0) {
            return NameMap(entries);
        }
        entries.sort_by(|a, b| a.0.cmp(&b.0)); // stable: a repeated name's entries stay in input order
        let mut unique: Vec<(Name, V)> = Vec::with_capacity(entries.len());
        for (name, value) in entries {
            match unique.last_mut() {
                Some(last) if last.0 == name => last.1 = value,
                _ => unique.push((name, value)),
            }
        }
        NameMap(unique)
    }
}

impl<V, const N: usize> From<[(Name, V); N]> for NameMap<V> {
    fn from(entries: [(Name, V); N]) -> Self {
        entries.into_iter().collect()
    }
}

pub type Iter<'a, V> = std::iter::Map<std::slice::Iter<'a, (Name, V)>, fn(&'a (Name, V)) -> (&'a Name, &'a V)>;

impl<'a, V> IntoIterator for &'a NameMap<V> {
    type Item = (&'a Name, &'a V);
    type IntoIter = Iter<'a, V>;

    fn into_iter(self) -> Self::IntoIter {
        self.iter()
    }
}

impl<V> IntoIterator for NameMap<V> {
    type Item = (Name, V);
    type IntoIter = std::vec::IntoIter<(Name, V)>;

    fn into_iter(self) -> Self::IntoIter {
        self.0.into_iter()
    }
}

impl<V: fmt::Debug> fmt::Debug for NameMap<V> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map().entries(self.iter()).finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names<V>(map: &NameMap<V>) -> Vec<&str> {
        map.keys().map(|k| k.as_ref()).collect()
    }

    #[test]
    fn entries_in_any_order_come_out_sorted_and_a_repeated_name_keeps_its_last_value() {
        let map: NameMap<u8> = [("b".into(), 1), ("a".into(), 2), ("b".into(), 3), ("c".into(), 4), ("a".into(), 5)].into();
        assert_eq!(names(&map), ["a", "b", "c"]);
        assert_eq!((map.get("a"), map.get("b"), map.get("c"), map.get("d")), (Some(&5), Some(&3), Some(&4), None));
    }

    #[test]
    fn insert_keeps_the_order_and_replaces_an_existing_name() {
        let mut map = NameMap::new();
        for (name, value) in [("m", 1), ("a", 2), ("z", 3), ("m", 4)] {
            map.insert(name.into(), value);
        }
        assert_eq!(names(&map), ["a", "m", "z"]);
        assert_eq!(map.insert("a".into(), 9), Some(2));
        assert_eq!(map.iter().map(|(k, v)| (k.as_ref(), *v)).collect::<Vec<_>>(), [("a", 9), ("m", 4), ("z", 3)]);
        assert!(map.contains_key("z") && !map.contains_key("b"));
    }

    #[test]
    fn a_slot_is_looked_at_first_and_a_wrong_slot_still_finds_the_name() {
        let mut map: NameMap<u8> = [("a".into(), 1), ("b".into(), 2), ("c".into(), 3)].into();
        assert_eq!((map.get_at(1, "b"), map.get_at(0, "c"), map.get_at(9, "a"), map.get_at(1, "d")), (Some(&2), Some(&3), Some(&1), None));
        assert_eq!(map.insert_at(1, "b".into(), 20), Some(2));
        assert_eq!(map.insert_at(0, "bb".into(), 4), None, "a new name goes to its place in order");
        assert_eq!(map.iter().map(|(k, v)| (k.as_ref(), *v)).collect::<Vec<_>>(), [("a", 1), ("b", 20), ("bb", 4), ("c", 3)]);
    }

    #[test]
    fn a_map_too_large_to_scan_finds_and_places_names_by_search() {
        let mut map: NameMap<usize> = (0..100).rev().map(|i| (Name::Owned(format!("k{i:03}")), i)).collect();
        assert!(map.len() > SCANNED);
        assert!((0..100).all(|i| map.get(&format!("k{i:03}")) == Some(&i)));
        assert_eq!(map.get("k1000"), None);
        assert_eq!(map.insert("k0505".into(), 1000), None);
        assert_eq!(map.insert("k050".into(), 2000), Some(50));
        let names: Vec<&str> = map.keys().map(|k| k.as_ref()).collect();
        assert!(names.windows(2).all(|pair| pair[0] < pair[1]), "still sorted");
        assert_eq!((map.len(), map.get("k0505"), map.get("k050")), (101, Some(&1000), Some(&2000)));
    }

    #[test]
    fn maps_with_the_same_entries_are_equal_whatever_order_they_were_built_in() {
        let forward: NameMap<u8> = [("a".into(), 1), ("b".into(), 2)].into();
        let backward: NameMap<u8> = [("b".into(), 2), ("a".into(), 1)].into();
        assert_eq!(forward, backward);
        assert_ne!(forward, [("a".into(), 1)].into());
    }
}
