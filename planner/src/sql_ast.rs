//! Reading function calls in sqlparser's AST, for the passes that work on the parsed statement
//! before DataFusion plans it: a call's name, its arguments, and whether it is one of
//! veloFlux's own functions.

use datafusion_sql::sqlparser::ast::{
    Expr, Function, FunctionArg, FunctionArgExpr, FunctionArguments,
};

use crate::function_names::{STATEFUL_FUNCTIONS, WINDOW_END, WINDOW_START};

/// A call's function name in lowercase, as names are compared.
pub(crate) fn call_name(function: &Function) -> String {
    function.name.to_string().to_ascii_lowercase()
}

/// The arguments of a call, when each is a plain expression.
pub(crate) fn plain_args(function: &Function) -> Option<Vec<Expr>> {
    let FunctionArguments::List(list) = &function.args else {
        return None;
    };
    list.args
        .iter()
        .map(|arg| match arg {
            FunctionArg::Unnamed(FunctionArgExpr::Expr(expr)) => Some(expr.clone()),
            _ => None,
        })
        .collect()
}

/// Whether `function` is one of the stateful functions.
pub(crate) fn is_stateful(function: &Function) -> bool {
    STATEFUL_FUNCTIONS.contains(&call_name(function).as_str())
}

/// Whether `function` is `window_start()` or `window_end()`.
pub(crate) fn is_window_bound(function: &Function) -> bool {
    let name = call_name(function);
    name == WINDOW_START || name == WINDOW_END
}
