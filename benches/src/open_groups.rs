//! An executor of the windowed query ([`workload::WINDOW_QUERY`]) holding many open groups:
//! what the checkpoint bench saves and restores. One message per device goes into the one
//! window open at [`NOW_MS`], so the window holds a group per device and none has closed.

use veloflux_connectors::codec::DecodeBatch;
use veloflux_connectors::codec::json::JsonDecoder;
use veloflux_engine::PlanExecutor;

use crate::{Error, Result, workload};

/// The open groups of the checkpoint bench: the figure.
pub const CHECKPOINT_GROUPS: usize = 10_000;

/// The processing time (epoch milliseconds) the messages arrive and the state is restored
/// at: inside the first one-second window, which therefore stays open.
pub const NOW_MS: i64 = 500;

/// A fresh executor of [`workload::WINDOW_QUERY`], with no window open.
///
/// # Errors
/// When the planner rejects the query.
pub fn empty_executor() -> Result<PlanExecutor> {
    Ok(PlanExecutor::new(workload::window_plan()?))
}

/// An executor of [`workload::WINDOW_QUERY`] whose open window holds `groups` groups: one
/// message from each of `groups` devices, processed at [`NOW_MS`].
///
/// # Errors
/// When a message does not decode or the executor fails on them.
pub fn executor_with_open_groups(groups: usize) -> Result<PlanExecutor> {
    let mut executor = empty_executor()?;
    let payloads = workload::device_messages(groups, groups);
    let schema = executor.plan().source.decoded_schema();
    let decoded = JsonDecoder::try_new(schema)?.decode_batch(&payloads)?;
    if let Some(first) = decoded.errors.first() {
        return Err(Error::Workload(format!(
            "payload {} does not decode: {}",
            first.index, first.error
        )));
    }
    let executed = executor.execute(&decoded.batch, NOW_MS)?;
    if executed.batch.num_rows() > 0 || executed.late_rows > 0 {
        return Err(Error::Workload(
            "the window closed or dropped rows while it was being filled".into(),
        ));
    }
    Ok(executor)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_restored_executor_holds_every_group_and_checkpoints_the_same_bytes() {
        let mut filled = executor_with_open_groups(300).unwrap();
        let checkpoint = filled.checkpoint().unwrap();
        let mut restored = empty_executor().unwrap();
        restored.restore(&checkpoint, NOW_MS).unwrap();
        assert_eq!(restored.checkpoint().unwrap(), checkpoint);
        let emitted = restored.finish().unwrap().unwrap();
        assert_eq!(emitted.batch.num_rows(), 300);
    }

    #[test]
    fn the_groups_stay_open_until_the_window_ends() {
        let mut filled = executor_with_open_groups(10).unwrap();
        assert_eq!(filled.next_deadline(), Some(1000));
        let closed = filled.advance(999, &mut |_, _| {}).unwrap().unwrap();
        assert_eq!(closed.batch.num_rows(), 0);
    }
}
