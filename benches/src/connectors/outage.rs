//! The webhook-outage check: rows fed through the HTTP sink at a steady rate while its
//! webhook answers 500 for a while, then 200; once the sink has confirmed everything, every
//! row must have arrived in a 200-answered request exactly once, in the order it was sent.
//!
//! Rows are W1 result rows whose `user_id` is their sequence number, so the bodies the
//! webhook took say which rows arrived and in what order.

use std::collections::HashSet;
use std::fmt;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use super::rows::w1_rows;
use super::sinks;
use super::webhook::Webhook;
use crate::{Error, Result};

/// How many distinct devices the rows cycle through.
const DEVICES: usize = 1000;

/// How long the sink gets, after the last row was sent and the outage is over, to confirm
/// everything: its longest wait between retries is 5 s by default.
const CONFIRM_GRACE: Duration = Duration::from_secs(60);

/// What the check does.
#[derive(Debug, Clone)]
pub struct OutagePlan {
    /// How long the webhook answers 500 from the start.
    pub outage: Duration,
    /// How long rows are fed.
    pub feed: Duration,
    /// Rows fed per second.
    pub rate: u64,
    /// Rows per micro-batch.
    pub batch_rows: usize,
    /// The JSON encoder's format: `array` (a request per batch) or `row` (a request per row).
    pub format: String,
}

/// What the check found.
#[derive(Debug, Clone)]
pub struct OutageReport {
    /// Rows sent through the sink.
    pub rows_sent: usize,
    /// Rows in the bodies the webhook answered 200.
    pub rows_arrived: usize,
    /// Rows sent that never arrived.
    pub missing: usize,
    /// Rows that arrived more than once.
    pub duplicates: usize,
    /// Rows that arrived before a row sent earlier.
    pub out_of_order: usize,
    /// Requests answered 500.
    pub requests_failed: u64,
    /// Requests answered 200.
    pub requests_ok: u64,
    /// Requests the sink gave up on (it never should for a 500).
    pub lost: u64,
    /// From the end of the outage to the first 200.
    pub recovered_after: Option<Duration>,
    /// From the start until the sink confirmed the last row.
    pub confirmed_after: Duration,
}

impl OutageReport {
    /// Whether every row arrived exactly once, in order, and nothing was given up.
    pub fn passed(&self) -> bool {
        self.missing == 0
            && self.duplicates == 0
            && self.out_of_order == 0
            && self.rows_arrived == self.rows_sent
            && self.lost == 0
    }
}

impl fmt::Display for OutageReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "rows sent:         {}", self.rows_sent)?;
        writeln!(f, "rows arrived:      {}", self.rows_arrived)?;
        writeln!(f, "missing:           {}", self.missing)?;
        writeln!(f, "duplicates:        {}", self.duplicates)?;
        writeln!(f, "out of order:      {}", self.out_of_order)?;
        writeln!(f, "requests 500:      {}", self.requests_failed)?;
        writeln!(f, "requests 200:      {}", self.requests_ok)?;
        writeln!(f, "given up (lost):   {}", self.lost)?;
        let recovered = self.recovered_after.map_or_else(
            || "never".to_owned(),
            |d| format!("{:.2} s", d.as_secs_f64()),
        );
        writeln!(f, "first 200 after the outage ended: {recovered}")?;
        writeln!(
            f,
            "everything confirmed {:.2} s after the start",
            self.confirmed_after.as_secs_f64()
        )?;
        write!(f, "{}", if self.passed() { "PASS" } else { "FAIL" })
    }
}

/// Runs the check on the current tokio runtime.
///
/// # Errors
/// When the rows, the webhook or the sink cannot be set up, the sink refuses rows, or it does
/// not confirm them within a minute of the end of the outage and the feed.
pub async fn run(plan: &OutagePlan) -> Result<OutageReport> {
    let total = usize::try_from(plan.rate.saturating_mul(plan.feed.as_secs())).unwrap_or(0);
    let rows = w1_rows(total, DEVICES)?;
    let webhook = Webhook::start(plan.outage, true).await?;
    let mut sink = sinks::sink("http", &json!({"url": webhook.url()}))?;
    let mut encoder = sinks::json_encoder(&plan.format)?;
    let started = Instant::now();
    let batch_rows = plan.batch_rows.max(1);
    let interval = Duration::from_secs_f64(batch_rows as f64 / plan.rate.max(1) as f64);
    for (index, offset) in (0..total).step_by(batch_rows).enumerate() {
        let due = started + interval.mul_f64(index as f64);
        tokio::time::sleep_until(due.into()).await;
        let batch = rows.slice(offset, batch_rows.min(total - offset));
        let messages = encoder.encode(&batch)?;
        sinks::send(sink.as_mut(), messages).await?;
    }
    let deadline = webhook.outage_end().max(Instant::now()) + CONFIRM_GRACE;
    let confirmed = sink.confirmed_through(sink.published());
    if tokio::time::timeout_at(deadline.into(), confirmed)
        .await
        .is_err()
    {
        return Err(Error::Workload(format!(
            "the HTTP sink had not confirmed {total} rows {} s after the outage",
            CONFIRM_GRACE.as_secs()
        )));
    }
    let confirmed_after = started.elapsed();
    let arrived = arrived_ids(&webhook)?;
    let answered = webhook.answered();
    Ok(OutageReport {
        confirmed_after,
        lost: sink.take_lost().map_or(0, |lost| lost.count),
        requests_failed: answered.failed,
        requests_ok: answered.ok,
        recovered_after: answered
            .first_ok
            .map(|first| first.saturating_duration_since(webhook.outage_end())),
        ..compare(total, &arrived)
    })
}

/// The `user_id` of every row in the bodies the webhook took, in order.
fn arrived_ids(webhook: &Webhook) -> Result<Vec<i64>> {
    let mut ids = Vec::new();
    for body in webhook.taken() {
        let value: Value = serde_json::from_slice(&body)?;
        let rows = match value {
            Value::Array(rows) => rows,
            row => vec![row],
        };
        for row in rows {
            let id = row["user_id"].as_i64().ok_or_else(|| {
                Error::Workload(format!("a row without an integer user_id arrived: {row}"))
            })?;
            ids.push(id);
        }
    }
    Ok(ids)
}

/// The report's row counts for `arrived` against rows `0..sent` in order.
fn compare(sent: usize, arrived: &[i64]) -> OutageReport {
    let mut seen = HashSet::new();
    let duplicates = arrived.iter().filter(|id| !seen.insert(**id)).count();
    let missing = (0..sent)
        .filter(|id| !i64::try_from(*id).is_ok_and(|id| seen.contains(&id)))
        .count();
    let out_of_order = arrived.windows(2).filter(|pair| pair[1] <= pair[0]).count();
    OutageReport {
        rows_sent: sent,
        rows_arrived: arrived.len(),
        missing,
        duplicates,
        out_of_order,
        requests_failed: 0,
        requests_ok: 0,
        lost: 0,
        recovered_after: None,
        confirmed_after: Duration::ZERO,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_row_once_in_order_passes() {
        let report = compare(4, &[0, 1, 2, 3]);
        assert!(report.passed(), "{report}");
    }

    #[test]
    fn a_missing_a_repeated_and_a_reordered_row_are_each_counted() {
        let report = compare(4, &[0, 2, 1, 2]);
        assert_eq!(
            (report.missing, report.duplicates, report.out_of_order),
            (1, 1, 1)
        );
        assert!(!report.passed());
    }

    #[tokio::test]
    async fn a_short_outage_loses_nothing() {
        let plan = OutagePlan {
            outage: Duration::from_millis(300),
            feed: Duration::from_secs(1),
            rate: 2000,
            batch_rows: 100,
            format: "array".into(),
        };
        let report = run(&plan).await.unwrap();
        assert!(report.passed(), "{report}");
        assert_eq!(report.rows_sent, 2000);
        assert!(report.requests_failed > 0, "{report}");
    }
}
