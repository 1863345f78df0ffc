//! Dictionary-encoded text whose dictionary outlives a batch: the topics (or properties)
//! messages arrive with are few and come back batch after batch, so each is copied once and
//! later rows only look up its key. Every batch's column shares one values array, made again
//! only when a batch brought a new value. A dictionary that grows past [`MAX_VALUES`] starts
//! over, so that text unique to each message cannot grow it without bound.

use std::collections::HashMap;
use std::sync::Arc;

use arrow::array::{ArrayRef, DictionaryArray, Int32Builder, StringArray};
use arrow::datatypes::Int32Type;

use crate::Result;

/// The most distinct values kept from batch to batch.
const MAX_VALUES: usize = 65_536;

/// Builds dictionary-encoded text columns, batch after batch, over one dictionary.
#[derive(Debug, Default)]
pub(super) struct InternedText {
    keys: HashMap<Box<str>, i32, foldhash::fast::RandomState>,
    /// The values, by key.
    values: Vec<Box<str>>,
    /// The values as an array, when it holds every value.
    array: Option<ArrayRef>,
    /// The current batch's keys.
    rows: Int32Builder,
}

impl InternedText {
    /// Appends `value` (null when `None`) for each of `rows`.
    pub(super) fn append(&mut self, value: Option<&str>, rows: usize) {
        let Some(value) = value else {
            return self.rows.append_nulls(rows);
        };
        let key = match self.keys.get(value) {
            Some(key) => *key,
            None => self.insert(value),
        };
        self.rows.append_value_n(key, rows);
    }

    /// The current batch's column; the dictionary stays for the next.
    pub(super) fn finish(&mut self) -> Result<ArrayRef> {
        let values = self
            .array
            .get_or_insert_with(|| {
                let values = self.values.iter().map(AsRef::<str>::as_ref);
                Arc::new(StringArray::from_iter_values(values))
            })
            .clone();
        let column = DictionaryArray::<Int32Type>::try_new(self.rows.finish(), values)?;
        if self.values.len() >= MAX_VALUES {
            *self = Self::default();
        }
        Ok(Arc::new(column))
    }

    fn insert(&mut self, value: &str) -> i32 {
        let key = i32::try_from(self.values.len()).unwrap_or(i32::MAX);
        self.keys.insert(value.into(), key);
        self.values.push(value.into());
        self.array = None;
        key
    }
}

#[cfg(test)]
mod tests {
    use arrow::array::{Array, AsArray};

    use super::*;

    fn texts(column: &ArrayRef) -> Vec<Option<String>> {
        let dictionary = column.as_dictionary::<Int32Type>();
        let values = dictionary.values().as_string::<i32>();
        dictionary
            .keys()
            .iter()
            .map(|key| key.map(|key| values.value(key as usize).to_owned()))
            .collect()
    }

    #[test]
    fn values_keep_their_keys_across_batches_and_nulls_stay_null() {
        let mut text = InternedText::default();
        text.append(Some("a/1"), 2);
        text.append(None, 1);
        text.append(Some("a/2"), 1);
        let first = text.finish().unwrap();
        assert_eq!(
            texts(&first),
            [Some("a/1"), Some("a/1"), None, Some("a/2")].map(|t| t.map(str::to_owned))
        );
        text.append(Some("a/2"), 1);
        text.append(Some("a/3"), 1);
        let second = text.finish().unwrap();
        assert_eq!(
            texts(&second),
            [Some("a/2"), Some("a/3")].map(|t| t.map(str::to_owned))
        );
        let second = second.as_dictionary::<Int32Type>();
        assert_eq!(second.keys().value(0), 1, "a/2 kept its key");
        assert_eq!(second.values().len(), 3);
    }

    #[test]
    fn a_dictionary_past_its_bound_starts_over() {
        let mut text = InternedText::default();
        for value in 0..MAX_VALUES {
            text.append(Some(&value.to_string()), 1);
        }
        assert_eq!(text.finish().unwrap().len(), MAX_VALUES);
        text.append(Some("fresh"), 1);
        let column = text.finish().unwrap();
        assert_eq!(column.as_dictionary::<Int32Type>().values().len(), 1);
        assert_eq!(texts(&column), [Some("fresh".to_owned())]);
    }
}
