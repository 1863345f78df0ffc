//! `window_start()` and `window_end()`: placeholders DataFusion plans as group keys of a
//! windowed aggregate; the aggregation fills their values in, so they are never evaluated.

use std::sync::Arc;

use arrow::datatypes::DataType;
use datafusion_common::{Result, exec_err};
use datafusion_expr::{
    ColumnarValue, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, Volatility,
};

use crate::function_names::{WINDOW_END, WINDOW_START};

/// One bound of the window a row was aggregated in, in epoch milliseconds.
#[derive(Debug, PartialEq, Eq, Hash)]
struct WindowBound {
    name: &'static str,
    signature: Signature,
}

impl ScalarUDFImpl for WindowBound {
    fn name(&self) -> &str {
        self.name
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _: &[DataType]) -> Result<DataType> {
        Ok(DataType::Int64)
    }

    fn invoke_with_args(&self, _: ScalarFunctionArgs) -> Result<ColumnarValue> {
        exec_err!(
            "{}() is only known in a query with GROUP BY <window>",
            self.name
        )
    }
}

/// The two functions.
pub(crate) fn functions() -> [Arc<ScalarUDF>; 2] {
    [WINDOW_START, WINDOW_END].map(|name| {
        Arc::new(ScalarUDF::new_from_impl(WindowBound {
            name,
            // Volatile: constant folding must leave them alone.
            signature: Signature::nullary(Volatility::Volatile),
        }))
    })
}
