//! The rows a sink receives from W1 (`user_id`, `score`, `device`), as one batch of a chosen
//! size: the workload's messages decoded and projected by the chain bench's plan, unfiltered
//! so that the batch holds exactly the rows asked for.

use arrow::array::RecordBatch;
use veloflux_connectors::codec::DecodeBatch;
use veloflux_connectors::codec::json::JsonDecoder;

use crate::stages::QuerySteps;
use crate::{Error, Result, workload};

/// `rows` result rows of [`workload::QUERY`] whose `device` cycles through `devices` values.
///
/// # Errors
/// When the query does not plan or a message does not decode.
pub fn w1_rows(rows: usize, devices: usize) -> Result<RecordBatch> {
    let plan = workload::plan()?;
    let steps = QuerySteps::try_new(&plan)?;
    let payloads = workload::device_messages(rows, devices);
    let decoded = JsonDecoder::try_new(plan.source.decoded_schema())?.decode_batch(&payloads)?;
    if !decoded.errors.is_empty() {
        return Err(Error::Workload(format!(
            "{} messages did not decode",
            decoded.errors.len()
        )));
    }
    let projected =
        veloflux_kernels::project(&decoded.batch, &steps.project.exprs, &steps.project.schema)?;
    Ok(projected)
}

#[cfg(test)]
mod tests {
    use arrow::array::AsArray;

    use super::*;

    #[test]
    fn the_batch_holds_the_rows_asked_for_over_the_devices_asked_for() {
        let batch = w1_rows(1024, 1000).unwrap();
        assert_eq!(batch.num_rows(), 1024);
        let names: Vec<_> = batch
            .schema()
            .fields()
            .iter()
            .map(|f| f.name().clone())
            .collect();
        assert_eq!(names, ["user_id", "score", "device"]);
        let devices = batch.column(2).as_string::<i32>();
        let distinct: std::collections::BTreeSet<_> = devices.iter().flatten().collect();
        assert_eq!(distinct.len(), 1000);
    }
}
