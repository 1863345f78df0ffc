//! Errors of the server library, each naming whose fault it is.

/// The result type of this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// What went wrong.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The statement cannot be planned: the user's to fix.
    #[error(transparent)]
    Plan(#[from] veloflux_planner::Error),
    /// A connector or codec failed or was misconfigured.
    #[error(transparent)]
    Connector(#[from] veloflux_connectors::Error),
    /// An operator failed in a way that is not the data's fault.
    #[error(transparent)]
    Kernel(#[from] veloflux_kernels::Error),
}
