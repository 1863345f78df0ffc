//! The columnar chain taken apart: the plan's filter and project steps, and the batch each
//! stage receives in the chain, so that each stage can be timed alone on its real input.

use arrow::array::RecordBatch;
use veloflux_connectors::codec::json::JsonDecoder;
use veloflux_connectors::codec::{DecodeBatch, Message};
use veloflux_planner::{FilterStep, PipelinePlan, PlanStep, ProjectStep};

use crate::{Error, Result};

/// The steps of a `SELECT ... WHERE ...` plan.
#[derive(Debug, Clone)]
pub struct QuerySteps {
    /// The compiled `WHERE` clause.
    pub filter: FilterStep,
    /// The compiled `SELECT` list.
    pub project: ProjectStep,
}

impl QuerySteps {
    /// The filter and project steps of `plan`.
    ///
    /// # Errors
    /// When the plan lacks one of them, or has any other step.
    pub fn try_new(plan: &PipelinePlan) -> Result<Self> {
        match plan.steps.as_slice() {
            [PlanStep::Filter(filter), PlanStep::Project(project)] => Ok(Self {
                filter: filter.clone(),
                project: project.clone(),
            }),
            steps => Err(Error::Workload(format!(
                "expected a filter step then a project step, the plan has {} steps",
                steps.len()
            ))),
        }
    }
}

/// The batch each stage of the chain receives for one micro-batch of payloads.
#[derive(Debug, Clone)]
pub struct StageInputs {
    /// The decoded payloads: the filter's input, with the plan's source schema.
    pub decoded: RecordBatch,
    /// The rows that passed the filter: the projection's input.
    pub filtered: RecordBatch,
    /// The output columns: the encoder's input.
    pub projected: RecordBatch,
}

impl StageInputs {
    /// Runs `payloads` through decode, filter and project, keeping each stage's output.
    ///
    /// # Errors
    /// When a payload does not decode or a kernel fails: the benches measure clean batches.
    pub fn try_new<P: Message>(plan: &PipelinePlan, payloads: &[P]) -> Result<Self> {
        let steps = QuerySteps::try_new(plan)?;
        let decoded = JsonDecoder::try_new(plan.source.decoded_schema())?.decode_batch(payloads)?;
        if let Some(first) = decoded.errors.first() {
            return Err(Error::Workload(format!(
                "payload {} does not decode: {}",
                first.index, first.error
            )));
        }
        let decoded = decoded.batch;
        let filtered = veloflux_kernels::filter(&decoded, steps.filter.predicate.as_ref())?;
        let projected =
            veloflux_kernels::project(&filtered, &steps.project.exprs, &steps.project.schema)?;
        Ok(Self {
            decoded,
            filtered,
            projected,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::workload;

    #[test]
    fn each_stage_sees_the_rows_the_chain_gives_it() {
        let plan = workload::plan().unwrap();
        let inputs = StageInputs::try_new(&plan, &workload::messages(1024)).unwrap();
        assert_eq!(inputs.decoded.num_rows(), 1024);
        assert_eq!(inputs.decoded.num_columns(), 3);
        assert_eq!(inputs.filtered.num_rows(), 500);
        let names: Vec<&str> = inputs
            .projected
            .schema_ref()
            .fields()
            .iter()
            .map(|field| field.name().as_str())
            .collect();
        assert_eq!(names, ["user_id", "score", "device"]);
    }
}
