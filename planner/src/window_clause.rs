//! The window in `GROUP BY`: `TUMBLINGWINDOW(ss, 10)`, `HOPPINGWINDOW(ss, 10, 5)`,
//! `SLIDINGWINDOW(ss, 10)`, `SESSIONWINDOW(ss, 60, 10)`, `COUNTWINDOW(100[, 20])` and
//! `STATEWINDOW(begin, emit)`, with the unit quoted or not.
//!
//! The window is taken out of `GROUP BY` and replaced by `window_start()` and `window_end()`,
//! so DataFusion plans an ordinary aggregate whose last two group keys are the window's
//! bounds, which the SELECT list and HAVING may read.

use datafusion_sql::sqlparser::ast::{
    Expr, Function, FunctionArgumentList, FunctionArguments, GroupByExpr, Ident, ObjectName,
    Select, Value,
};
use veloflux_kernels::window::Window;

use crate::function_names::{WINDOW_END, WINDOW_START};
use crate::sql_ast::{call_name, plain_args};
use crate::{Error, Result};

/// What to add when GROUP BY has no window.
const ADD_A_WINDOW: &str = "GROUP BY needs a window: add TUMBLINGWINDOW(ss, 10), \
    HOPPINGWINDOW(ss, 10, 5), SLIDINGWINDOW(ss, 10), SESSIONWINDOW(ss, 60, 10), \
    COUNTWINDOW(100) or STATEWINDOW(begin, emit) to it";

/// A window as written.
pub(crate) enum WindowClause {
    /// Every window but the state window.
    Plain(Window),
    /// `STATEWINDOW(begin, emit)`: the conditions are planned with the rest of the statement.
    State {
        /// Opens a window.
        begin: Box<Expr>,
        /// Closes it.
        emit: Box<Expr>,
    },
}

/// Takes the window out of `select`'s GROUP BY, putting its bounds there instead; `None` for
/// a statement without GROUP BY.
pub(crate) fn extract(select: &mut Select) -> Result<Option<WindowClause>> {
    let exprs = match &mut select.group_by {
        GroupByExpr::All(_) => return Err(Error::Unsupported("GROUP BY ALL".into())),
        GroupByExpr::Expressions(_, modifiers) if !modifiers.is_empty() => {
            return Err(Error::Unsupported("ROLLUP, CUBE and GROUPING SETS".into()));
        }
        GroupByExpr::Expressions(exprs, _) => exprs,
    };
    if exprs.is_empty() {
        return if select.having.is_some() {
            Err(Error::Unsupported(
                "HAVING without GROUP BY <window>".into(),
            ))
        } else {
            Ok(None)
        };
    }
    let windows: Vec<usize> = (0..exprs.len())
        .filter(|index| window_call(&exprs[*index]).is_some())
        .collect();
    let index = match windows.as_slice() {
        [] => return Err(Error::Invalid(ADD_A_WINDOW.into())),
        [index] => *index,
        _ => {
            return Err(Error::Unsupported(
                "more than one window in GROUP BY".into(),
            ));
        }
    };
    let window = exprs.remove(index);
    exprs.extend([bound(WINDOW_START), bound(WINDOW_END)]);
    window_call(&window)
        .map_or_else(|| Err(Error::Internal("lost the window".into())), parse)
        .map(Some)
}

/// A call to a window function, and its name in lowercase.
fn window_call(expr: &Expr) -> Option<(&Function, String)> {
    let Expr::Function(function) = expr else {
        return None;
    };
    let name = call_name(function);
    name.ends_with("window").then_some((function, name))
}

/// `window_start()` or `window_end()`.
pub(crate) fn bound(name: &str) -> Expr {
    Expr::Function(Function {
        name: ObjectName::from(vec![Ident::new(name)]),
        uses_odbc_syntax: false,
        parameters: FunctionArguments::None,
        args: FunctionArguments::List(FunctionArgumentList {
            duplicate_treatment: None,
            args: Vec::new(),
            clauses: Vec::new(),
        }),
        filter: None,
        null_treatment: None,
        over: None,
        within_group: Vec::new(),
    })
}

fn parse((function, name): (&Function, String)) -> Result<WindowClause> {
    let usage = usage(&name)?;
    let invalid =
        |why: &str| Error::Invalid(format!("{}: {why}; write {usage}", name.to_uppercase()));
    let args = plain_args(function).ok_or_else(|| invalid("its arguments must be plain values"))?;
    if name == "statewindow" {
        let [begin, emit] =
            <[Expr; 2]>::try_from(args).map_err(|_| invalid("it takes two conditions"))?;
        return Ok(WindowClause::State {
            begin: Box::new(begin),
            emit: Box::new(emit),
        });
    }
    if name == "countwindow" {
        let counts = args
            .iter()
            .map(|arg| positive(arg).ok_or_else(|| invalid("counts must be positive integers")));
        let counts = counts.collect::<Result<Vec<_>>>()?;
        let (size, every) = match counts.as_slice() {
            [size] => (*size, *size),
            [size, every] => (*size, *every),
            _ => return Err(invalid("it takes one or two counts")),
        };
        let to_usize =
            |count: i64| usize::try_from(count).map_err(|_| invalid("the count is too large"));
        return Ok(WindowClause::Plain(Window::Count {
            size: to_usize(size)?,
            every: to_usize(every)?,
        }));
    }
    let (unit, lengths) = args
        .split_first()
        .ok_or_else(|| invalid("it needs a time unit"))?;
    let unit_ms = unit_ms(unit).ok_or_else(|| invalid("the unit must be ms, ss, mi, hh or dd"))?;
    let lengths = lengths
        .iter()
        .map(|arg| {
            positive(arg)
                .and_then(|length| length.checked_mul(unit_ms))
                .ok_or_else(|| invalid("lengths must be positive integers"))
        })
        .collect::<Result<Vec<_>>>()?;
    let window = match (name.as_str(), lengths.as_slice()) {
        ("tumblingwindow", [size_ms]) => Window::Tumbling { size_ms: *size_ms },
        ("hoppingwindow", [size_ms, hop_ms]) => Window::Hopping {
            size_ms: *size_ms,
            hop_ms: *hop_ms,
        },
        ("slidingwindow", [size_ms]) => Window::Sliding { size_ms: *size_ms },
        ("sessionwindow", [max_ms, timeout_ms]) => Window::Session {
            max_ms: *max_ms,
            timeout_ms: *timeout_ms,
        },
        _ => return Err(invalid("wrong number of arguments")),
    };
    Ok(WindowClause::Plain(window))
}

fn usage(name: &str) -> Result<&'static str> {
    Ok(match name {
        "tumblingwindow" => "TUMBLINGWINDOW(unit, size), e.g. TUMBLINGWINDOW(ss, 10)",
        "hoppingwindow" => "HOPPINGWINDOW(unit, size, hop), e.g. HOPPINGWINDOW(ss, 10, 5)",
        "slidingwindow" => "SLIDINGWINDOW(unit, size), e.g. SLIDINGWINDOW(ss, 10)",
        "sessionwindow" => {
            "SESSIONWINDOW(unit, max_length, timeout), e.g. SESSIONWINDOW(ss, 60, 10)"
        }
        "countwindow" => {
            "COUNTWINDOW(count[, every]), e.g. COUNTWINDOW(100) or COUNTWINDOW(100, 20)"
        }
        "statewindow" => "STATEWINDOW(begin_condition, emit_condition)",
        other => {
            return Err(Error::Unsupported(format!(
                "the window {}",
                other.to_uppercase()
            )));
        }
    })
}

/// `ms`, `ss`, `mi`, `hh` or `dd`, quoted or not, in milliseconds.
fn unit_ms(unit: &Expr) -> Option<i64> {
    let text = match unit {
        Expr::Identifier(ident) => ident.value.clone(),
        Expr::Value(value) => match &value.value {
            Value::SingleQuotedString(text) | Value::DoubleQuotedString(text) => text.clone(),
            _ => return None,
        },
        _ => return None,
    };
    match text.to_ascii_lowercase().as_str() {
        "ms" => Some(1),
        "ss" => Some(1_000),
        "mi" => Some(60_000),
        "hh" => Some(3_600_000),
        "dd" => Some(86_400_000),
        _ => None,
    }
}

fn positive(arg: &Expr) -> Option<i64> {
    let Expr::Value(value) = arg else {
        return None;
    };
    let Value::Number(digits, _) = &value.value else {
        return None;
    };
    digits.parse::<i64>().ok().filter(|number| *number > 0)
}
