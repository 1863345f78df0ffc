//! Statements built to exhaust a recursive parser or planner get an error or a plan, never a
//! stack overflow: each runs on a thread with a small stack, as a request handler would.

#![expect(clippy::expect_used, reason = "a test: a failure is a failed test")]

use std::sync::Arc;

use arrow::datatypes::{DataType, Field, Schema};
use veloflux_planner::{Catalog, Error, plan};

/// The stack of a tokio worker thread.
const STACK: usize = 2 << 20;

fn plan_on_small_stack(sql: String) -> Result<(), Error> {
    let schema = Arc::new(Schema::new(vec![Field::new("a", DataType::Int64, true)]));
    let catalog = Catalog::new().with_stream("s", schema);
    std::thread::Builder::new()
        .stack_size(STACK)
        .spawn(move || plan(&sql, &catalog).map(|_| ()))
        .expect("a thread")
        .join()
        .expect("planning does not overflow the stack")
}

#[test]
fn twenty_thousand_chained_additions_are_refused() {
    let terms = vec!["a"; 20_000].join(" + ");
    let error =
        plan_on_small_stack(format!("SELECT {terms} AS total FROM s")).expect_err("too long");
    assert!(error.to_string().contains("operators"), "{error}");
}

#[test]
fn the_longest_chain_allowed_plans() {
    let terms = vec!["a"; 1000].join(" + ");
    assert!(plan_on_small_stack(format!("SELECT {terms} AS total FROM s")).is_ok());
}

#[test]
fn five_thousand_nested_parentheses_are_refused() {
    let sql = format!(
        "SELECT {}a{} AS x FROM s",
        "(".repeat(5000),
        ")".repeat(5000)
    );
    let error = plan_on_small_stack(sql).expect_err("too deep");
    assert!(error.to_string().contains("recursion limit"), "{error}");
}
