//! Stable sorting through one instance of the standard library's sort: each
//! `sort_by` (and each `collect` into a `BTreeMap`) on a new element type or
//! comparator adds a few KB of WebAssembly, so the core sorts positions with
//! a single comparator type and moves the elements afterwards. The order is
//! exactly `slice::sort_by`'s, equal elements keeping their order.

use std::cmp::Ordering;
use std::collections::BTreeMap;

/// Sort `items` stably by `compare`, like `slice::sort_by`.
pub fn sort_by<T>(items: &mut Vec<T>, mut compare: impl FnMut(&T, &T) -> Ordering) {
    let mut order: Vec<usize> = (0..items.len()).collect();
    {
        let items: &[T] = items;
        sort_positions(&mut order, &mut |a, b| match (items.get(a), items.get(b)) {
            (Some(a), Some(b)) => compare(a, b),
            // Positions come from 0..len: both are always present.
            _ => a.cmp(&b),
        });
    }
    let mut slots: Vec<Option<T>> = items.drain(..).map(Some).collect();
    items.extend(
        order
            .into_iter()
            .filter_map(|i| slots.get_mut(i).and_then(Option::take)),
    );
}

/// Sort `items` stably by the key `key` gives, like `slice::sort_by_key`.
pub fn sort_by_key<T, K: Ord>(items: &mut Vec<T>, mut key: impl FnMut(&T) -> K) {
    sort_by(items, |a, b| key(a).cmp(&key(b)));
}

/// Sort `items` in their natural order, like `slice::sort`.
pub fn sort<T: Ord>(items: &mut Vec<T>) {
    sort_by(items, T::cmp);
}

/// A map of `pairs`, the last value winning for a repeated key, like
/// `collect::<BTreeMap<_, _>>()` (which sorts its input first).
pub fn btree_map<K: Ord, V>(pairs: impl IntoIterator<Item = (K, V)>) -> BTreeMap<K, V> {
    let mut map = BTreeMap::new();
    for (k, v) in pairs {
        map.insert(k, v);
    }
    map
}

/// The one instance of the standard sort the helpers above share.
fn sort_positions(order: &mut [usize], compare: &mut dyn FnMut(usize, usize) -> Ordering) {
    order.sort_by(|a, b| compare(*a, *b));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_order_as_the_standard_stable_sort() {
        let words: Vec<(u32, &str)> = (0..300u32)
            .map(|i| ((i * 7919) % 13, ["a", "b", "c"][(i % 3) as usize]))
            .collect();
        let mut ours = words.clone();
        sort_by_key(&mut ours, |w| w.0);
        let mut standard = words.clone();
        standard.sort_by_key(|w| w.0);
        assert_eq!(ours, standard);
        let mut ours = words.clone();
        sort_by(&mut ours, |a, b| b.1.cmp(a.1));
        let mut standard = words;
        standard.sort_by(|a, b| b.1.cmp(a.1));
        assert_eq!(ours, standard);
        let mut empty: Vec<String> = vec![];
        sort(&mut empty);
        assert!(empty.is_empty());
    }

    #[test]
    fn maps_keep_the_last_value_of_a_repeated_key() {
        let map = btree_map([("b", 1), ("a", 2), ("b", 3)]);
        assert_eq!(map, [("a", 2), ("b", 3)].into_iter().collect());
    }
}
