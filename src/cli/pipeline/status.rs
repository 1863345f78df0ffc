//! `veloFlux pipeline status` as text: the state, the counters of each stage, the
//! connections and the windows.

use serde_json::Value;

use crate::cli::output::{Table, milliseconds, plain, print_fields};

/// Prints the answer of `GET /pipelines/<id>/status`.
pub(super) fn print(status: &Value) {
    let mut fields = vec![
        ("state", plain(&status["state"])),
        ("uptime", format!("{}s", plain(&status["uptime_secs"]))),
    ];
    if !status["last_error"].is_null() {
        fields.push(("last error", plain(&status["last_error"])));
    }
    let window = &status["window"];
    if !window.is_null() {
        fields.push(("late rows", plain(&window["late_rows"])));
        let state = format!(
            "{} of {} bytes",
            plain(&window["state_bytes"]),
            plain(&window["max_state_bytes"])
        );
        fields.push(("window state", state));
    }
    print_fields(&fields);
    if let Some(stages) = status["stages"]
        .as_array()
        .filter(|stages| !stages.is_empty())
    {
        println!();
        stage_table(stages).print();
    }
    if let Some(connectors) = status["connectors"]
        .as_array()
        .filter(|list| !list.is_empty())
    {
        println!();
        connector_table(connectors).print();
    }
}

fn stage_table(stages: &[Value]) -> Table {
    let mut table = Table::new(&[
        "STAGE",
        "IN",
        "OUT",
        "ERRORS",
        "BATCHES",
        "P50 MS",
        "P99 MS",
        "LAST ERROR",
    ]);
    for stage in stages {
        let stats = &stage["stats"];
        table.push(vec![
            plain(&stage["processor_id"]),
            plain(&stats["records_in"]),
            plain(&stats["records_out"]),
            plain(&stats["error_count"]),
            plain(&stats["batches"]),
            milliseconds(&stats["p50_batch_ms"]),
            milliseconds(&stats["p99_batch_ms"]),
            plain(&stats["last_error"]),
        ]);
    }
    table
}

fn connector_table(connectors: &[Value]) -> Table {
    let mut table = Table::new(&["CONNECTION", "CONNECTED", "RECONNECTS"]);
    for connector in connectors {
        table.push(vec![
            plain(&connector["name"]),
            plain(&connector["connected"]),
            plain(&connector["reconnects"]),
        ]);
    }
    table
}
