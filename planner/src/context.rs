//! What DataFusion's SQL planner may see while planning one statement: the stream being read
//! and the functions veloFlux offers.

use std::collections::HashMap;
use std::sync::{Arc, LazyLock};

use arrow::datatypes::{DataType, SchemaRef};
use datafusion_common::config::ConfigOptions;
use datafusion_common::{Result, TableReference, plan_err};
use datafusion_expr::logical_plan::builder::LogicalTableSource;
use datafusion_expr::planner::{ContextProvider, ExprPlanner};
use datafusion_expr::{AggregateUDF, HigherOrderUDF, ScalarUDF, TableSource, WindowUDF};

/// Every function a statement may call, by lowercase name and alias; built once.
struct Functions {
    scalar: HashMap<String, Arc<ScalarUDF>>,
    higher_order: HashMap<String, Arc<HigherOrderUDF>>,
    aggregate: HashMap<String, Arc<AggregateUDF>>,
    planners: Vec<Arc<dyn ExprPlanner>>,
    options: ConfigOptions,
}

static FUNCTIONS: LazyLock<Functions> = LazyLock::new(|| {
    let scalar = datafusion_functions::all_default_functions()
        .into_iter()
        .chain(datafusion_functions_nested::all_default_nested_functions())
        .chain(crate::window_bounds::functions());
    Functions {
        scalar: by_name(scalar, |udf| (udf.name(), udf.aliases())),
        higher_order: by_name(
            datafusion_functions_nested::all_default_higher_order_functions(),
            |udf| (udf.name(), udf.aliases()),
        ),
        aggregate: by_name(
            datafusion_functions_aggregate::all_default_aggregate_functions(),
            |udf| (udf.name(), udf.aliases()),
        ),
        planners: expr_planners(),
        options: ConfigOptions::default(),
    }
});

fn by_name<T>(
    functions: impl IntoIterator<Item = Arc<T>>,
    names: impl Fn(&T) -> (&str, &[String]),
) -> HashMap<String, Arc<T>> {
    let mut map = HashMap::new();
    for function in functions {
        let (name, aliases) = names(&function);
        for alias in std::iter::once(name).chain(aliases.iter().map(String::as_str)) {
            map.insert(alias.to_ascii_lowercase(), function.clone());
        }
    }
    map
}

/// The planners DataFusion's own sessions use for operators and syntax that are functions
/// underneath (`a['b']`, `a[1]`, `position(x in y)`, `extract(...)`, ...).
fn expr_planners() -> Vec<Arc<dyn ExprPlanner>> {
    vec![
        Arc::new(datafusion_functions::core::planner::CoreFunctionPlanner::default()),
        Arc::new(datafusion_functions_nested::planner::NestedFunctionPlanner),
        Arc::new(datafusion_functions_nested::planner::FieldAccessPlanner),
        Arc::new(datafusion_functions::datetime::planner::DatetimeFunctionPlanner),
        Arc::new(datafusion_functions::unicode::planner::UnicodeFunctionPlanner),
        Arc::new(datafusion_functions_aggregate::planner::AggregateFunctionPlanner),
    ]
}

/// The planner's view of one stream.
pub(crate) struct StreamContext {
    stream: String,
    source: Arc<dyn TableSource>,
}

impl StreamContext {
    pub(crate) fn new(stream: &str, schema: SchemaRef) -> Self {
        Self {
            stream: stream.to_owned(),
            source: Arc::new(LogicalTableSource::new(schema)),
        }
    }
}

impl ContextProvider for StreamContext {
    fn get_table_source(&self, name: TableReference) -> Result<Arc<dyn TableSource>> {
        if name.table() == self.stream {
            Ok(self.source.clone())
        } else {
            plan_err!("unknown stream '{name}'")
        }
    }

    fn get_expr_planners(&self) -> &[Arc<dyn ExprPlanner>] {
        &FUNCTIONS.planners
    }

    fn get_function_meta(&self, name: &str) -> Option<Arc<ScalarUDF>> {
        FUNCTIONS.scalar.get(&name.to_ascii_lowercase()).cloned()
    }

    fn get_higher_order_meta(&self, name: &str) -> Option<Arc<HigherOrderUDF>> {
        FUNCTIONS
            .higher_order
            .get(&name.to_ascii_lowercase())
            .cloned()
    }

    fn get_aggregate_meta(&self, name: &str) -> Option<Arc<AggregateUDF>> {
        FUNCTIONS.aggregate.get(&name.to_ascii_lowercase()).cloned()
    }

    fn get_window_meta(&self, _name: &str) -> Option<Arc<WindowUDF>> {
        None
    }

    fn get_variable_type(&self, _variable_names: &[String]) -> Option<DataType> {
        None
    }

    fn options(&self) -> &ConfigOptions {
        &FUNCTIONS.options
    }

    fn udf_names(&self) -> Vec<String> {
        FUNCTIONS.scalar.keys().cloned().collect()
    }

    fn higher_order_function_names(&self) -> Vec<String> {
        FUNCTIONS.higher_order.keys().cloned().collect()
    }

    fn udaf_names(&self) -> Vec<String> {
        FUNCTIONS.aggregate.keys().cloned().collect()
    }

    fn udwf_names(&self) -> Vec<String> {
        Vec::new()
    }
}
