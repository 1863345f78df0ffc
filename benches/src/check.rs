//! The check run before anything is timed: the columnar chain and the row-at-a-time baseline
//! must turn the same payloads into the same rows, or comparing their speed means nothing.

use serde_json::Value;
use veloflux_connectors::codec::Message;
use veloflux_engine::wall_clock_ms;

use crate::{Error, Result, row_at_a_time, workload};

/// Runs `payloads` through the chain of [`workload::QUERY`] and through the baseline, in
/// micro-batches of `batch_size`, and compares the output rows as JSON values (key order
/// aside). Returns how many rows came out.
///
/// # Errors
/// When either side fails, a payload is rejected, or the outputs differ.
pub fn chain_matches_baseline<P: AsRef<[u8]> + Message>(
    payloads: &[P],
    batch_size: usize,
) -> Result<usize> {
    let chain_rows = run_chain(payloads, batch_size)?;
    let baseline_rows = run_baseline(payloads)?;
    if chain_rows.len() != baseline_rows.len() {
        return Err(Error::Workload(format!(
            "the chain output {} rows and the baseline {}",
            chain_rows.len(),
            baseline_rows.len()
        )));
    }
    let differing = chain_rows
        .iter()
        .zip(&baseline_rows)
        .position(|(a, b)| a != b);
    if let Some(row) = differing {
        return Err(Error::Workload(format!(
            "output row {row} differs: the chain wrote {}, the baseline {}",
            chain_rows[row], baseline_rows[row]
        )));
    }
    Ok(chain_rows.len())
}

fn run_chain<P: Message>(payloads: &[P], batch_size: usize) -> Result<Vec<Value>> {
    let mut chain = veloflux_testkit::json_chain(workload::plan()?)?;
    let mut messages = Vec::new();
    for batch in payloads.chunks(batch_size.max(1)) {
        let output = chain.process_at(batch, wall_clock_ms(), |_, message| {
            messages.push(message.to_vec());
        })?;
        if !output.decode_errors.is_empty() || !output.row_errors.is_empty() {
            return Err(Error::Workload(format!(
                "the chain rejected {} payloads and {} rows",
                output.decode_errors.len(),
                output.row_errors.len()
            )));
        }
    }
    messages.iter().map(|message| parse(message)).collect()
}

fn run_baseline<P: AsRef<[u8]>>(payloads: &[P]) -> Result<Vec<Value>> {
    let mut messages = Vec::new();
    let processed = row_at_a_time::process(payloads, |message| messages.push(message.to_vec()))?;
    if processed.bad_payloads > 0 {
        return Err(Error::Workload(format!(
            "the baseline rejected {} payloads",
            processed.bad_payloads
        )));
    }
    messages.iter().map(|message| parse(message)).collect()
}

fn parse(message: &[u8]) -> Result<Value> {
    Ok(serde_json::from_slice(message)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_chain_and_the_baseline_agree_at_every_batch_size() {
        let payloads = workload::messages(500);
        for batch_size in [1, 16, 128, 500] {
            assert_eq!(chain_matches_baseline(&payloads, batch_size).unwrap(), 250);
        }
    }
}
