//! Rendering a template over a batch and splitting its rows by destination, with Arrow
//! kernels: each placeholder's column cast to text and concatenated with the literal parts,
//! the rendered column dictionary-encoded, and each destination's rows taken in order.

use std::sync::Arc;

use arrow::array::{Array, ArrayRef, AsArray, RecordBatch, StringArray, UInt32Array};
use arrow::compute::kernels::concat_elements::concat_elements_utf8;
use arrow::compute::{cast, take_record_batch};
use arrow::datatypes::{DataType, Int32Type};

use super::{Part, Template};
use crate::{Error, Result};

/// The rows of a batch split by their rendered destination: `R` is the rows of one
/// destination, as a batch ([`Routes`]) or as their positions ([`RowRoutes`]).
#[derive(Debug)]
pub struct Routed<R> {
    /// Each destination and its rows, in the order of their first row.
    pub groups: Vec<(String, R)>,
    /// Rows that have no destination: a placeholder's value is null.
    pub unroutable: usize,
    /// Why, for the first placeholder that was null.
    pub reason: Option<String>,
}

/// Each destination with its rows taken out of the batch.
pub type Routes = Routed<RecordBatch>;

/// Each destination with the positions of its rows in the batch, ascending.
pub type RowRoutes = Routed<Vec<u32>>;

impl Template {
    /// Renders the template for every row of `batch` and groups the rows by the result; rows
    /// where a placeholder is null are left out and counted.
    ///
    /// # Errors
    /// When a placeholder names a column `batch` does not have.
    pub fn route(&self, batch: &RecordBatch) -> Result<Routes> {
        let rows = self.route_rows(batch)?;
        let groups = rows
            .groups
            .into_iter()
            .map(|(destination, indices)| {
                let group = if indices.len() == batch.num_rows() {
                    batch.clone()
                } else {
                    take_record_batch(batch, &UInt32Array::from(indices))?
                };
                Ok((destination, group))
            })
            .collect::<Result<_>>()?;
        Ok(Routes {
            groups,
            unroutable: rows.unroutable,
            reason: rows.reason,
        })
    }

    /// [`Self::route`] with each destination's rows as their positions in `batch`, for an
    /// encoder that writes a message per row: the batch is encoded once, and each destination
    /// sent its rows' messages.
    ///
    /// # Errors
    /// When a placeholder names a column `batch` does not have.
    pub fn route_rows(&self, batch: &RecordBatch) -> Result<RowRoutes> {
        let rendered = self.render(batch)?;
        let mut routes = RowRoutes {
            groups: Vec::new(),
            unroutable: rendered.null_count(),
            reason: self.null_reason(batch),
        };
        if routes.unroutable == batch.num_rows() {
            return Ok(routes);
        }
        let dictionary = cast(
            &rendered,
            &DataType::Dictionary(Box::new(DataType::Int32), Box::new(DataType::Utf8)),
        )?;
        let dictionary = dictionary.as_dictionary::<Int32Type>();
        let destinations = dictionary.values().as_string::<i32>();
        let mut rows: Vec<Vec<u32>> = vec![Vec::new(); destinations.len()];
        for (row, key) in dictionary.keys().iter().enumerate() {
            if let (Some(key), Ok(row)) = (key, u32::try_from(row)) {
                rows[usize::try_from(key).unwrap_or_default()].push(row);
            }
        }
        for (key, indices) in rows.into_iter().enumerate() {
            if !indices.is_empty() {
                routes
                    .groups
                    .push((destinations.value(key).to_owned(), indices));
            }
        }
        Ok(routes)
    }

    /// The destination of each row; null where a placeholder is.
    fn render(&self, batch: &RecordBatch) -> Result<ArrayRef> {
        let rows = batch.num_rows();
        let mut rendered: Option<ArrayRef> = None;
        for part in &self.parts {
            let piece = match part {
                Part::Text(text) => Arc::new(StringArray::from_iter_values(std::iter::repeat_n(
                    text, rows,
                ))),
                Part::Column(name) => {
                    let column = batch.column_by_name(name).ok_or_else(|| {
                        Error::Config(format!("placeholder {{{{{name}}}}}: no column '{name}'"))
                    })?;
                    cast(column, &DataType::Utf8)?
                }
            };
            rendered = Some(match rendered {
                None => piece,
                Some(left) => Arc::new(concat_elements_utf8(
                    left.as_string::<i32>(),
                    piece.as_string::<i32>(),
                )?),
            });
        }
        Ok(rendered.unwrap_or_else(|| {
            Arc::new(StringArray::from_iter_values(std::iter::repeat_n("", rows)))
        }))
    }

    fn null_reason(&self, batch: &RecordBatch) -> Option<String> {
        let (name, nulls) = self
            .columns()
            .filter_map(|name| Some((name, batch.column_by_name(name)?.null_count())))
            .find(|(_, nulls)| *nulls > 0)?;
        Some(format!(
            "placeholder {{{{{name}}}}} is null in {nulls} row(s): they have no destination"
        ))
    }
}

#[cfg(test)]
mod tests {
    use arrow::array::Int64Array;
    use arrow::datatypes::{Field, Schema};

    use super::*;

    fn batch() -> RecordBatch {
        let schema = Schema::new(vec![
            Field::new("device", DataType::Utf8, true),
            Field::new("line", DataType::Int64, true),
        ]);
        RecordBatch::try_new(
            Arc::new(schema),
            vec![
                Arc::new(StringArray::from(vec![
                    Some("d1"),
                    Some("d2"),
                    None,
                    Some("d1"),
                ])),
                Arc::new(Int64Array::from(vec![1, 2, 3, 1])),
            ],
        )
        .unwrap()
    }

    #[test]
    fn rows_are_grouped_by_destination_in_order_and_null_placeholders_are_counted() {
        let template = Template::parse("alerts/{{line}}/{{device}}").unwrap();
        let routes = template.route(&batch()).unwrap();
        let groups: Vec<_> = routes
            .groups
            .iter()
            .map(|(destination, rows)| (destination.as_str(), rows.num_rows()))
            .collect();
        assert_eq!(groups, [("alerts/1/d1", 2), ("alerts/2/d2", 1)]);
        assert_eq!(routes.unroutable, 1);
        assert_eq!(
            routes.reason.as_deref(),
            Some("placeholder {{device}} is null in 1 row(s): they have no destination")
        );
    }

    #[test]
    fn messages_selected_by_row_are_those_of_each_destination_encoded_apart() {
        use crate::codec::Encoder;
        use crate::codec::json::{JsonEncoder, JsonFormat};

        let template = Template::parse("alerts/{{line}}/{{device}}").unwrap();
        let batch = batch();
        let mut apart = JsonEncoder::new(JsonFormat::MessagePerRow);
        let expected: Vec<(String, Vec<Vec<u8>>)> = template
            .route(&batch)
            .unwrap()
            .groups
            .iter()
            .map(|(destination, rows)| {
                let messages = apart.encode(rows).unwrap();
                (
                    destination.clone(),
                    messages.iter().map(<[u8]>::to_vec).collect(),
                )
            })
            .collect();
        let routes = template.route_rows(&batch).unwrap();
        assert_eq!(routes.unroutable, 1);
        let mut whole = JsonEncoder::new(JsonFormat::MessagePerRow);
        assert!(whole.message_per_row());
        let messages = whole.encode(&batch).unwrap();
        let selected: Vec<(String, Vec<Vec<u8>>)> = routes
            .groups
            .iter()
            .map(|(destination, rows)| {
                let picked = messages.select(rows);
                assert_eq!(picked.len(), rows.len());
                (
                    destination.clone(),
                    picked.iter().map(<[u8]>::to_vec).collect(),
                )
            })
            .collect();
        assert_eq!(selected, expected);
        assert_eq!(messages.select(&[7]).iter().next(), Some(&b""[..]));
    }

    #[test]
    fn a_placeholder_naming_no_column_is_an_error() {
        let error = Template::parse("a/{{site}}")
            .unwrap()
            .route(&batch())
            .unwrap_err();
        assert!(error.to_string().contains("no column 'site'"), "{error}");
    }
}
