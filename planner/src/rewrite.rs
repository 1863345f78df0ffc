//! Rewrites of the parsed statement into the SQL DataFusion plans: the spellings eKuiper and
//! veloFlux users write (`a->b`, 0-based list indexes, function names) and names for unnamed
//! output columns.

use std::ops::ControlFlow;

use datafusion_sql::sqlparser::ast::{
    AccessExpr, BinaryOperator, Expr, Function, Ident, ObjectName, SelectItem, SetExpr, Statement,
    Subscript, Value, visit_expressions_mut,
};

use crate::sql_ast::{call_name, is_window_bound, plain_args};

/// Functions users know under another name, mapped to DataFusion's function of the same
/// meaning.
const RENAMED_FUNCTIONS: &[(&str, &str)] = &[
    ("endswith", "ends_with"),
    ("startswith", "starts_with"),
    ("numbytes", "octet_length"),
    ("regexp_matches", "regexp_like"),
    ("rand", "random"),
    ("newuuid", "uuid"),
];

/// Rewrites `statement` in place (see the module documentation).
pub(crate) fn rewrite(statement: &mut Statement) {
    name_select_items(statement);
    let _ = visit_expressions_mut(statement, |expr| {
        rewrite_expr(expr);
        ControlFlow::<()>::Continue(())
    });
}

/// Gives each unnamed output expression an alias: the field name of a nested access
/// (`meta->site` is `site`), else the SQL text as written (`score * 2`).
fn name_select_items(statement: &mut Statement) {
    let Statement::Query(query) = statement else {
        return;
    };
    let SetExpr::Select(select) = query.body.as_mut() else {
        return;
    };
    for item in &mut select.projection {
        if let SelectItem::UnnamedExpr(expr) = item
            && let Some(name) = output_name(expr)
        {
            let expr = std::mem::replace(expr, null());
            *item = SelectItem::ExprWithAlias {
                expr,
                alias: Ident::with_quote('"', name),
            };
        }
    }
}

/// The name of an unnamed output expression; `None` for a bare column, which keeps its own.
/// `window_start()` is `window_start`.
fn output_name(expr: &Expr) -> Option<String> {
    match expr {
        Expr::Identifier(_) => None,
        Expr::CompoundIdentifier(parts) => parts.last().map(|part| part.value.clone()),
        Expr::BinaryOp {
            op: BinaryOperator::Arrow,
            right,
            ..
        } => match right.as_ref() {
            Expr::Identifier(ident) => Some(ident.value.clone()),
            other => Some(string_literal(other).unwrap_or_else(|| expr.to_string())),
        },
        Expr::Function(function) if is_window_bound(function) => Some(function.name.to_string()),
        other => Some(other.to_string()),
    }
}

fn string_literal(expr: &Expr) -> Option<String> {
    match expr {
        Expr::Value(value) => match &value.value {
            Value::SingleQuotedString(text) | Value::DoubleQuotedString(text) => Some(text.clone()),
            _ => None,
        },
        _ => None,
    }
}

fn rewrite_expr(expr: &mut Expr) {
    match expr {
        Expr::BinaryOp {
            op: BinaryOperator::Arrow,
            ..
        } => arrow_to_field_access(expr),
        Expr::CompoundFieldAccess { access_chain, .. } => {
            access_chain.iter_mut().for_each(index_from_zero);
        }
        Expr::Function(function) => {
            if let Some(rewritten) = rewrite_function(function) {
                *expr = rewritten;
            }
        }
        _ => {}
    }
}

/// `a->b` is the field `b` of struct `a`, as `a['b']`.
///
/// sqlparser gives `->` the low precedence of PostgreSQL's JSON operators, so
/// `meta->site = 'x'` arrives as `meta -> (site = 'x')`. Here `->` is a field access that binds
/// tighter than any operator: the access moves down to the leftmost operand of the right side,
/// which must be the field name.
fn arrow_to_field_access(expr: &mut Expr) {
    let Expr::BinaryOp { left, right, .. } = expr else {
        return;
    };
    let Some(slot) = leftmost_operand(right) else {
        return;
    };
    let Some(name) = field_name(slot) else { return };
    let root = std::mem::replace(left.as_mut(), null());
    *slot = field_access(root, name);
    let rewritten = std::mem::replace(right.as_mut(), null());
    *expr = rewritten;
}

fn null() -> Expr {
    Expr::Value(Value::Null.into())
}

/// The operand an operator of higher precedence than `->` took from it: the leftmost leaf.
fn leftmost_operand(expr: &mut Expr) -> Option<&mut Expr> {
    let inner = match expr {
        Expr::Identifier(_) | Expr::Value(_) => return Some(expr),
        Expr::BinaryOp { left, .. } => left,
        Expr::Like { expr, .. }
        | Expr::ILike { expr, .. }
        | Expr::IsNull(expr)
        | Expr::IsNotNull(expr)
        | Expr::IsTrue(expr)
        | Expr::IsFalse(expr)
        | Expr::Between { expr, .. }
        | Expr::InList { expr, .. }
        | Expr::Cast { expr, .. } => expr,
        _ => return None,
    };
    leftmost_operand(inner)
}

/// The field a `->` names: an identifier or a string.
fn field_name(field: &Expr) -> Option<String> {
    match field {
        Expr::Identifier(ident) => Some(ident.value.clone()),
        other => string_literal(other),
    }
}

/// `root['name']`, extending `root`'s chain of accesses if it has one.
fn field_access(root: Expr, name: String) -> Expr {
    let access = AccessExpr::Subscript(Subscript::Index {
        index: Expr::Value(Value::SingleQuotedString(name).into()),
    });
    match root {
        Expr::CompoundFieldAccess {
            root,
            mut access_chain,
        } => {
            access_chain.push(access);
            Expr::CompoundFieldAccess { root, access_chain }
        }
        root => Expr::CompoundFieldAccess {
            root: Box::new(root),
            access_chain: vec![access],
        },
    }
}

/// List indexes count from 0 in veloFlux and eKuiper, from 1 in DataFusion. Negative indexes
/// count from the end in both and stay as they are.
fn index_from_zero(access: &mut AccessExpr) {
    match access {
        AccessExpr::Subscript(Subscript::Index { index }) => shift_index(index),
        AccessExpr::Subscript(Subscript::Slice {
            lower_bound: Some(lower),
            ..
        }) => {
            // A 0-based, end-exclusive slice is the same as a 1-based, end-inclusive one
            // once its start moves up by one.
            shift_index(lower);
        }
        _ => {}
    }
}

fn shift_index(index: &mut Expr) {
    match index {
        Expr::Value(value) => {
            if let Value::Number(digits, long) = &value.value
                && let Ok(position) = digits.parse::<i64>()
            {
                value.value = Value::Number((position + 1).to_string(), *long);
            }
        }
        Expr::UnaryOp { .. } => {}
        other => {
            let inner = std::mem::replace(other, null());
            *other = Expr::BinaryOp {
                left: Box::new(Expr::Nested(Box::new(inner))),
                op: BinaryOperator::Plus,
                right: Box::new(Expr::Value(Value::Number("1".into(), false).into())),
            };
        }
    }
}

/// Function spellings from eKuiper and the original veloFlux that DataFusion lacks.
fn rewrite_function(function: &mut Function) -> Option<Expr> {
    let name = call_name(function);
    if let Some((_, target)) = RENAMED_FUNCTIONS.iter().find(|(from, _)| *from == name) {
        function.name = ObjectName::from(vec![Ident::new(*target)]);
        return None;
    }
    let operator = match name.as_str() {
        "mod" => BinaryOperator::Modulo,
        "bitand" => BinaryOperator::BitwiseAnd,
        "bitor" => BinaryOperator::BitwiseOr,
        "bitxor" => BinaryOperator::BitwiseXor,
        "isnull" => return one_arg(function).map(|arg| Expr::IsNull(Box::new(arg))),
        _ => return None,
    };
    let [left, right] = plain_args(function)?.try_into().ok()?;
    Some(Expr::BinaryOp {
        left: Box::new(Expr::Nested(Box::new(left))),
        op: operator,
        right: Box::new(Expr::Nested(Box::new(right))),
    })
}

fn one_arg(function: &Function) -> Option<Expr> {
    let [arg] = plain_args(function)?.try_into().ok()?;
    Some(arg)
}
