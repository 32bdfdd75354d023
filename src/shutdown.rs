//! Stopping a run cleanly when the scheduler or the user asks: SIGTERM (a
//! timeout, `docker stop`), SIGINT (Ctrl-C) and SIGHUP (a closed terminal).
//!
//! A job races its work against [`signalled`]:
//!
//! ```text
//! tokio::select! {
//!     result = job.run() => result,
//!     signal = shutdown::signalled() => Err(Error::Stopped { signal }),
//! }
//! ```
//!
//! Losing the race drops the run's future, and with it the staging folder
//! (removed by [`crate::sink::Staging`]'s destructor), the output lock and
//! the `SessionContext`. DataFusion removes its spill directories when the
//! last holder of its runtime lets go, which includes the query tasks it
//! spawned: they are aborted when dropped but only freed by the Tokio
//! runtime, so `main` must shut the runtime down (drop it, or
//! `shutdown_timeout`) before `std::process::exit`, which runs no
//! destructor. Publishing is synchronous, so a signal never lands in the
//! middle of it: it is seen once the publish is done. `Error::Stopped`
//! exits with the shell's code for the signal (128 + its number: 143, 130,
//! 129).
//!
//! Handlers are installed by the first poll of [`signalled`] (or by
//! [`Signals::install`]) and replace the default "terminate" action for the
//! rest of the process, so only a command that selects on them should
//! install them.

use std::fmt;

/// A request to stop.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Signal {
    /// SIGINT: Ctrl-C.
    Interrupt,
    /// SIGTERM: a scheduler's timeout, `kill`, `docker stop`.
    Terminate,
    /// SIGHUP: the controlling terminal went away.
    Hangup,
}

impl Signal {
    /// The signal's number on Linux (and every Unix for these three).
    pub fn number(self) -> i32 {
        match self {
            Signal::Hangup => 1,
            Signal::Interrupt => 2,
            Signal::Terminate => 15,
        }
    }

    /// The exit code a shell reports for a process killed by this signal,
    /// which schedulers know how to read: 128 + the signal number.
    pub fn exit_code(self) -> i32 {
        128 + self.number()
    }

    pub fn name(self) -> &'static str {
        match self {
            Signal::Hangup => "SIGHUP",
            Signal::Interrupt => "SIGINT",
            Signal::Terminate => "SIGTERM",
        }
    }
}

impl fmt::Display for Signal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Installed handlers for the three signals.
pub struct Signals {
    #[cfg(unix)]
    streams: [(Signal, tokio::signal::unix::Signal); 3],
}

impl Signals {
    /// Install the handlers (needs a Tokio runtime with I/O enabled).
    #[cfg(unix)]
    pub fn install() -> std::io::Result<Signals> {
        use tokio::signal::unix::{signal, SignalKind};
        Ok(Signals {
            streams: [
                (Signal::Terminate, signal(SignalKind::terminate())?),
                (Signal::Interrupt, signal(SignalKind::interrupt())?),
                (Signal::Hangup, signal(SignalKind::hangup())?),
            ],
        })
    }

    #[cfg(not(unix))]
    pub fn install() -> std::io::Result<Signals> {
        Ok(Signals {})
    }

    /// Wait for the next of the signals.
    #[cfg(unix)]
    pub async fn recv(&mut self) -> Signal {
        let [(a, sa), (b, sb), (c, sc)] = &mut self.streams;
        tokio::select! {
            Some(()) = sa.recv() => *a,
            Some(()) = sb.recv() => *b,
            Some(()) = sc.recv() => *c,
            else => std::future::pending().await,
        }
    }

    /// Wait for Ctrl-C (the only one of the three outside Unix).
    #[cfg(not(unix))]
    pub async fn recv(&mut self) -> Signal {
        match tokio::signal::ctrl_c().await {
            Ok(()) => Signal::Interrupt,
            Err(_) => std::future::pending().await,
        }
    }
}

/// Resolve when the process receives SIGTERM, SIGINT or SIGHUP. If the
/// handlers cannot be installed this never resolves (the signals then keep
/// their default action) and says so in the log.
pub async fn signalled() -> Signal {
    match Signals::install() {
        Ok(mut signals) => signals.recv().await,
        Err(e) => {
            tracing::warn!(
                "cannot install signal handlers ({e}); signals will stop the run without cleanup"
            );
            std::future::pending().await
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exit_codes_are_the_shells() {
        assert_eq!(Signal::Terminate.exit_code(), 143);
        assert_eq!(Signal::Interrupt.exit_code(), 130);
        assert_eq!(Signal::Hangup.exit_code(), 129);
        let err = crate::Error::Stopped {
            signal: Signal::Terminate,
        };
        assert_eq!(err.exit_code(), 143);
        assert!(err.to_string().starts_with("stopped by SIGTERM"), "{err}");
    }

    /// Sends each signal to this test process and sees it arrive as the
    /// right `Signal`. The handlers stay installed for the rest of the test
    /// process, which is harmless: no other test expects to be killed.
    #[cfg(unix)]
    #[tokio::test]
    async fn each_signal_is_received_as_itself() {
        let mut signals = Signals::install().unwrap();
        for (flag, expected) in [
            ("-TERM", Signal::Terminate),
            ("-INT", Signal::Interrupt),
            ("-HUP", Signal::Hangup),
        ] {
            let status = std::process::Command::new("kill")
                .args([flag, &std::process::id().to_string()])
                .status()
                .unwrap();
            assert!(status.success());
            let got = tokio::time::timeout(std::time::Duration::from_secs(10), signals.recv())
                .await
                .unwrap_or_else(|_| panic!("{flag} did not arrive"));
            assert_eq!(got, expected);
        }
    }
}
