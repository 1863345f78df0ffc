//! Parsing a statement and refusing, by name, what a stream pipeline cannot run.

use std::ops::ControlFlow;

use datafusion_sql::sqlparser::ast::{
    Expr, Query, Select, SetExpr, Statement, TableFactor, TableWithJoins, visit_expressions,
};
use datafusion_sql::sqlparser::dialect::GenericDialect;
use datafusion_sql::sqlparser::keywords::Keyword;
use datafusion_sql::sqlparser::parser::Parser;
use datafusion_sql::sqlparser::tokenizer::{Token, Tokenizer};

use crate::sql_ast::{call_name, is_stateful, is_window_bound};
use crate::{Error, Result};

/// How deeply the parser may recurse into nested expressions; deeper statements get a syntax
/// error instead of exhausting the stack.
const RECURSION_LIMIT: usize = 256;
/// The most operators a statement may hold. A chain of operators nests as deeply as it is
/// long, and every pass over it (planning, simplifying, evaluating) recurses that deep.
const MAX_OPERATORS: usize = 1000;

/// A single `SELECT … FROM <stream> …` statement.
pub(crate) struct StreamQuery {
    pub(crate) statement: Statement,
    pub(crate) stream: String,
    /// The name columns may be qualified with: the stream's alias, else its name.
    pub(crate) qualifier: String,
}

impl StreamQuery {
    /// The statement's `SELECT`; parsing made sure there is exactly one.
    pub(crate) fn select(&self) -> Option<&Select> {
        let Statement::Query(query) = &self.statement else {
            return None;
        };
        match query.body.as_ref() {
            SetExpr::Select(select) => Some(select),
            _ => None,
        }
    }

    /// The statement's `SELECT`, to rewrite.
    pub(crate) fn select_mut(&mut self) -> Option<&mut Select> {
        let Statement::Query(query) = &mut self.statement else {
            return None;
        };
        match query.body.as_mut() {
            SetExpr::Select(select) => Some(select),
            _ => None,
        }
    }
}

/// Parses `sql`, checking that it is one SELECT over one stream with no clause veloFlux
/// does not run.
pub(crate) fn parse(sql: &str) -> Result<StreamQuery> {
    check_operator_count(sql)?;
    let mut statements = Parser::new(&GenericDialect {})
        .with_recursion_limit(RECURSION_LIMIT)
        .try_with_sql(sql)
        .and_then(|mut parser| parser.parse_statements())
        .map_err(|error| Error::Syntax(error.to_string()))?;
    let statement = match statements.len() {
        1 => statements.remove(0),
        0 => return Err(Error::Syntax("the statement is empty".into())),
        _ => return Err(Error::Unsupported("more than one statement".into())),
    };
    let Statement::Query(query) = &statement else {
        return Err(Error::Unsupported("a statement other than SELECT".into()));
    };
    let (stream, alias) = check_query(query)?;
    let qualifier = alias.unwrap_or_else(|| stream.clone());
    Ok(StreamQuery {
        statement,
        stream,
        qualifier,
    })
}

/// Refuses a statement with more than [`MAX_OPERATORS`] operators, before it is parsed.
fn check_operator_count(sql: &str) -> Result<()> {
    let tokens = Tokenizer::new(&GenericDialect {}, sql)
        .tokenize()
        .map_err(|error| Error::Syntax(error.to_string()))?;
    let operators = tokens.iter().filter(|token| is_operator(token)).count();
    if operators > MAX_OPERATORS {
        return Err(Error::Invalid(format!(
            "the statement has {operators} operators, more than the {MAX_OPERATORS} allowed; \
             split the computation across pipelines"
        )));
    }
    Ok(())
}

fn is_operator(token: &Token) -> bool {
    match token {
        Token::Plus
        | Token::Minus
        | Token::Mul
        | Token::Div
        | Token::Mod
        | Token::Eq
        | Token::DoubleEq
        | Token::Neq
        | Token::Lt
        | Token::Gt
        | Token::LtEq
        | Token::GtEq
        | Token::StringConcat
        | Token::Ampersand
        | Token::Pipe
        | Token::Caret
        | Token::ShiftLeft
        | Token::ShiftRight
        | Token::Arrow
        | Token::LongArrow => true,
        Token::Word(word) => matches!(word.keyword, Keyword::AND | Keyword::OR | Keyword::NOT),
        _ => false,
    }
}

/// Checks the query's clauses; returns the stream it reads and its alias.
fn check_query(query: &Query) -> Result<(String, Option<String>)> {
    if query.with.is_some() {
        return unsupported("WITH (common table expressions)");
    }
    if query.order_by.is_some() {
        return unsupported("ORDER BY on a stream");
    }
    if query.limit_clause.is_some() || query.fetch.is_some() {
        return unsupported("LIMIT on a stream");
    }
    let select = match query.body.as_ref() {
        SetExpr::Select(select) => select,
        SetExpr::SetOperation { op, .. } => return unsupported(&op.to_string()),
        SetExpr::Query(_) => return unsupported("a subquery"),
        other => return unsupported(&format!("a query of the form {other}")),
    };
    check_select(select)?;
    check_expressions(query)?;
    stream_name(&select.from)
}

fn check_select(select: &Select) -> Result<()> {
    if select.distinct.is_some() {
        return unsupported("SELECT DISTINCT on a stream");
    }
    if select.into.is_some() {
        return unsupported("SELECT INTO");
    }
    if !select.named_window.is_empty() || select.qualify.is_some() {
        return unsupported("WINDOW and QUALIFY clauses");
    }
    if !select.lateral_views.is_empty() {
        return unsupported("LATERAL VIEW");
    }
    Ok(())
}

fn check_expressions(query: &Query) -> Result<()> {
    let found = visit_expressions(query, |expr| match expr {
        Expr::Subquery(_) | Expr::Exists { .. } | Expr::InSubquery { .. } => {
            ControlFlow::Break("a subquery")
        }
        Expr::Function(function) if function.over.is_some() && !is_stateful(function) => {
            ControlFlow::Break("a window function (OVER)")
        }
        _ => ControlFlow::Continue(()),
    });
    match found {
        ControlFlow::Break(what) => unsupported(what),
        ControlFlow::Continue(()) => Ok(()),
    }
}

/// Refuses `window_start()` and `window_end()` in a statement without a window.
pub(crate) fn check_no_window_bounds(statement: &Statement) -> Result<()> {
    let found = visit_expressions(statement, |expr| match expr {
        Expr::Function(function) if is_window_bound(function) => {
            ControlFlow::Break(call_name(function))
        }
        _ => ControlFlow::Continue(()),
    });
    match found {
        ControlFlow::Break(name) => Err(Error::Invalid(format!(
            "{name}() needs a window: add GROUP BY TUMBLINGWINDOW(ss, 10) or another window"
        ))),
        ControlFlow::Continue(()) => Ok(()),
    }
}

fn stream_name(from: &[TableWithJoins]) -> Result<(String, Option<String>)> {
    let [table] = from else {
        return if from.is_empty() {
            Err(Error::Invalid("a SELECT needs FROM <stream>".into()))
        } else {
            unsupported("JOIN")
        };
    };
    if !table.joins.is_empty() {
        return unsupported("JOIN");
    }
    match &table.relation {
        TableFactor::Table {
            name,
            args: None,
            alias,
            ..
        } if name.0.len() == 1 => {
            let stream = name.0[0]
                .as_ident()
                .map_or_else(|| name.to_string(), |i| i.value.clone());
            Ok((stream, alias.as_ref().map(|alias| alias.name.value.clone())))
        }
        TableFactor::Derived { .. } => unsupported("a subquery in FROM"),
        other => unsupported(&format!("FROM {other}")),
    }
}

fn unsupported<T>(what: &str) -> Result<T> {
    Err(Error::Unsupported(what.to_owned()))
}
