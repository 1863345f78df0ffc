//! `webhook-outage`: checks that the HTTP sink delivers every row exactly once and in order
//! across an outage of its endpoint. Rows are fed through the sink at a steady rate while a
//! local webhook answers 500 for `--outage-secs`, then 200; once the sink has confirmed
//! everything, the rows in the bodies the webhook took are compared with the rows sent.
//! Exits 0 when nothing is missing, repeated or reordered, 1 otherwise.
//!
//! ```text
//! webhook-outage [--outage-secs 30] [--feed-secs 45] [--rate 2000] [--batch 100]
//!     [--format array|row]
//! ```

use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;
use veloflux_benches::connectors::outage::{self, OutagePlan};

/// Check that a webhook outage loses, repeats and reorders no row of the HTTP sink.
#[derive(Debug, Parser)]
#[command(name = "webhook-outage", version)]
struct Cli {
    /// How long the webhook answers 500, from the start, in seconds.
    #[arg(long, default_value_t = 30)]
    outage_secs: u64,
    /// How long rows are fed, in seconds.
    #[arg(long, default_value_t = 45)]
    feed_secs: u64,
    /// Rows fed per second.
    #[arg(long, default_value_t = 2000)]
    rate: u64,
    /// Rows per micro-batch.
    #[arg(long, default_value_t = 100)]
    batch: usize,
    /// The JSON encoder's format: `array` (a request per batch) or `row` (a request per row).
    #[arg(long, default_value = "array")]
    format: String,
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    let plan = OutagePlan {
        outage: Duration::from_secs(cli.outage_secs),
        feed: Duration::from_secs(cli.feed_secs),
        rate: cli.rate,
        batch_rows: cli.batch,
        format: cli.format,
    };
    eprintln!(
        "webhook-outage: {} rows/s for {} s in batches of {} ({} bodies), the webhook failing for the first {} s",
        plan.rate, cli.feed_secs, plan.batch_rows, plan.format, cli.outage_secs
    );
    match outage::run(&plan).await {
        Ok(report) => {
            println!("{report}");
            if report.passed() {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            }
        }
        Err(error) => {
            eprintln!("webhook-outage: {error}");
            ExitCode::FAILURE
        }
    }
}
