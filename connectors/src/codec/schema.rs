//! Stream schemas as users write them (`{"name": "score", "data_type": "float64"}`) and their
//! Arrow equivalents.

use std::sync::Arc;

use arrow::datatypes::{DataType, Field, Fields, Schema, SchemaRef, TimeUnit};
use serde::{Deserialize, Serialize};

use crate::{Error, Result};

/// The unit of the `timestamp` column type: milliseconds since the Unix epoch, UTC.
pub const TIMESTAMP_UNIT: TimeUnit = TimeUnit::Millisecond;

/// One column of a stream schema.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ColumnSpec {
    /// The field name in the payload and the column name in SQL.
    pub name: String,
    /// The column type.
    pub data_type: ColumnType,
    /// The fields of a `struct` column.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(no_recursion))]
    pub fields: Option<Vec<ColumnSpec>>,
    /// The element of a `list` column.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(no_recursion))]
    pub element: Option<Box<ColumnSpec>>,
}

/// The column types a stream schema may declare.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
#[allow(
    missing_docs,
    reason = "each variant is the Arrow type of the same name"
)]
pub enum ColumnType {
    Null,
    Bool,
    Int8,
    Int16,
    Int32,
    Int64,
    Uint8,
    Uint16,
    Uint32,
    Uint64,
    Float32,
    Float64,
    String,
    Struct,
    List,
    /// Milliseconds since the Unix epoch; JSON carries it as a number or an RFC 3339 string.
    Timestamp,
}

impl ColumnSpec {
    /// A column of a scalar type.
    pub fn new(name: impl Into<String>, data_type: ColumnType) -> Self {
        Self {
            name: name.into(),
            data_type,
            fields: None,
            element: None,
        }
    }

    /// The Arrow field of this column.
    ///
    /// # Errors
    /// When a `struct` has no `fields`, a `list` has no `element`, or a name is empty.
    pub fn to_field(&self) -> Result<Field> {
        if self.name.is_empty() {
            return Err(Error::Config("a column has an empty name".into()));
        }
        Ok(Field::new(&self.name, self.arrow_type()?, true))
    }

    fn arrow_type(&self) -> Result<DataType> {
        Ok(match self.data_type {
            ColumnType::Null => DataType::Null,
            ColumnType::Bool => DataType::Boolean,
            ColumnType::Int8 => DataType::Int8,
            ColumnType::Int16 => DataType::Int16,
            ColumnType::Int32 => DataType::Int32,
            ColumnType::Int64 => DataType::Int64,
            ColumnType::Uint8 => DataType::UInt8,
            ColumnType::Uint16 => DataType::UInt16,
            ColumnType::Uint32 => DataType::UInt32,
            ColumnType::Uint64 => DataType::UInt64,
            ColumnType::Float32 => DataType::Float32,
            ColumnType::Float64 => DataType::Float64,
            ColumnType::String => DataType::Utf8,
            ColumnType::Timestamp => DataType::Timestamp(TIMESTAMP_UNIT, None),
            ColumnType::Struct => DataType::Struct(self.struct_fields()?),
            ColumnType::List => DataType::new_list(self.list_element()?, true),
        })
    }

    fn struct_fields(&self) -> Result<Fields> {
        let fields = self.fields.as_ref().ok_or_else(|| {
            Error::Config(format!("struct column '{}' needs \"fields\"", self.name))
        })?;
        fields.iter().map(ColumnSpec::to_field).collect()
    }

    fn list_element(&self) -> Result<DataType> {
        let element = self.element.as_ref().ok_or_else(|| {
            Error::Config(format!("list column '{}' needs an \"element\"", self.name))
        })?;
        element.arrow_type()
    }
}

/// The Arrow schema of a list of columns.
///
/// # Errors
/// When a column is invalid or two columns share a name.
pub fn arrow_schema(columns: &[ColumnSpec]) -> Result<SchemaRef> {
    let mut seen = std::collections::HashSet::new();
    for column in columns {
        if !seen.insert(column.name.as_str()) {
            return Err(Error::Config(format!(
                "column '{}' is declared twice",
                column.name
            )));
        }
    }
    let fields: Vec<Field> = columns
        .iter()
        .map(ColumnSpec::to_field)
        .collect::<Result<_>>()?;
    Ok(Arc::new(Schema::new(fields)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(json: &str) -> Result<SchemaRef> {
        let columns: Vec<ColumnSpec> = serde_json::from_str(json).expect("column json");
        arrow_schema(&columns)
    }

    #[test]
    fn nested_columns_map_to_arrow_types() {
        let schema = parse(
            r#"[{"name":"id","data_type":"uint16"},
                {"name":"meta","data_type":"struct","fields":[{"name":"a","data_type":"string"}]},
                {"name":"tags","data_type":"list","element":{"name":"t","data_type":"float32"}},
                {"name":"ts","data_type":"timestamp"}]"#,
        )
        .expect("valid schema");
        let types: Vec<String> = schema
            .fields()
            .iter()
            .map(|f| f.data_type().to_string())
            .collect();
        assert_eq!(
            types,
            [
                "UInt16",
                "Struct(\"a\": Utf8)",
                "List(Float32)",
                "Timestamp(ms)"
            ]
        );
    }

    #[test]
    fn incomplete_nested_columns_name_the_column() {
        let error = parse(r#"[{"name":"meta","data_type":"struct"}]"#).unwrap_err();
        assert_eq!(
            error.to_string(),
            "invalid configuration: struct column 'meta' needs \"fields\""
        );
        let error = parse(r#"[{"name":"a","data_type":"int8"},{"name":"a","data_type":"int8"}]"#)
            .unwrap_err();
        assert!(error.to_string().contains("column 'a' is declared twice"));
    }

    #[test]
    fn unknown_type_names_are_rejected_by_serde() {
        let error = serde_json::from_str::<ColumnSpec>(r#"{"name":"a","data_type":"decimal"}"#)
            .unwrap_err();
        assert!(error.to_string().contains("unknown variant `decimal`"));
    }
}
