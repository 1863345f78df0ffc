//! Signals to child processes, sent with a system call rather than by running `kill`.

use std::process::Child;

use rustix::process::{Pid, Signal as RawSignal, kill_process};

use crate::{Error, Result};

/// A signal the kit sends to the processes it launches.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Signal {
    /// SIGTERM: stop as an operator asks, gracefully.
    Terminate,
    /// SIGKILL: stop at once, as a power cut would.
    Kill,
    /// SIGINT: Ctrl-C.
    Interrupt,
    /// SIGSTOP: freeze at once, as a hung process or a paused machine is: it reads nothing,
    /// answers nothing and keeps its connections open.
    Stop,
}

impl Signal {
    /// The signal's conventional name, e.g. `SIGTERM`.
    pub fn name(self) -> &'static str {
        match self {
            Self::Terminate => "SIGTERM",
            Self::Kill => "SIGKILL",
            Self::Interrupt => "SIGINT",
            Self::Stop => "SIGSTOP",
        }
    }

    fn raw(self) -> RawSignal {
        match self {
            Self::Terminate => RawSignal::TERM,
            Self::Kill => RawSignal::KILL,
            Self::Interrupt => RawSignal::INT,
            Self::Stop => RawSignal::STOP,
        }
    }
}

/// Sends `signal` to `child` unless it has already exited. The caller still has to wait for
/// it, so that it is reaped.
///
/// A child is checked first because once it is reaped its process id may be reused: the
/// signal would go to a stranger.
///
/// # Errors
/// When the process cannot be waited for or the signal cannot be delivered.
pub fn send_signal(child: &mut Child, signal: Signal) -> Result<()> {
    let pid = child.id();
    let failed = |error: std::io::Error| Error::Signal {
        signal: signal.name(),
        pid,
        source: error,
    };
    match child.try_wait() {
        Ok(Some(_)) => return Ok(()),
        Ok(None) => {}
        Err(error) => return Err(failed(error)),
    }
    kill_process(Pid::from_child(child), signal.raw()).map_err(|error| failed(error.into()))
}

#[cfg(test)]
mod tests {
    use std::os::unix::process::ExitStatusExt;
    use std::process::Command;

    use super::*;

    #[test]
    fn a_terminated_child_exits_by_that_signal() {
        let mut child = Command::new("sleep").arg("30").spawn().unwrap();
        send_signal(&mut child, Signal::Terminate).unwrap();
        let status = child.wait().unwrap();
        assert_eq!(status.signal(), Some(15), "{status}");
        // Reaped: its id may belong to someone else now, so nothing is sent.
        send_signal(&mut child, Signal::Kill).unwrap();
    }
}
