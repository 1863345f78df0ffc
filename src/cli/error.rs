//! What can go wrong in a client command, and the exit status each case gives scripts.

/// A client command that failed; its message is printed after `error: `.
#[derive(Debug, thiserror::Error)]
pub(crate) enum CliError {
    /// The server answered with an error: its message, which names the offending field.
    #[error("{0}")]
    Refused(String),
    /// No answer from the server.
    #[error("cannot reach the server at {server}: {reason}")]
    Unreachable {
        /// The server's address.
        server: String,
        /// Why, with its causes.
        reason: String,
    },
    /// What was asked cannot be sent: a spec file that is not there or not JSON, a sink URL
    /// of no known form.
    #[error("{0}")]
    Usage(String),
    /// Something failed here: the terminal, an answer that could not be read.
    #[error("{0}")]
    Local(String),
}

impl CliError {
    /// The exit status: 1 when the server refused or something failed here, 2 for a request
    /// that cannot be sent (as clap's usage errors), 3 when the server cannot be reached.
    pub(crate) fn exit_code(&self) -> u8 {
        match self {
            Self::Refused(_) | Self::Local(_) => 1,
            Self::Usage(_) => 2,
            Self::Unreachable { .. } => 3,
        }
    }

    /// The message of `error` followed by those of its causes, as `a: b: c`.
    pub(crate) fn chain(error: &dyn std::error::Error) -> String {
        let mut message = error.to_string();
        let mut source = error.source();
        while let Some(cause) = source {
            let cause_text = cause.to_string();
            if !message.contains(&cause_text) {
                message = format!("{message}: {cause_text}");
            }
            source = cause.source();
        }
        message
    }
}
