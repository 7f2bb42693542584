//! The one error of a command, and its exit code: 2 for bad input (a scenario, an argument),
//! 1 for any other failure.

use crate::assurance::AssuranceError;
use crate::atomic_file::IoError;
use crate::calibrate::CalibrateError;
use crate::plan::PlanError;
use crate::scenario::ScenarioError;
use crate::sweep::{GridError, SweepError};

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A bad scenario or study file: the located diagnostic.
    #[error("{0}")]
    Scenario(#[from] ScenarioError),
    /// A bad command-line argument or combination.
    #[error("error: {0}")]
    Argument(String),
    /// A bad `--set KEY=VALUES` grid.
    #[error("error: {0}")]
    Grid(#[from] GridError),
    /// Anything else (writing files, a fit that fails), with its context chain.
    #[error("error: {0:#}")]
    Failure(anyhow::Error),
}

impl Error {
    pub fn failure(e: impl Into<anyhow::Error>) -> Error {
        Error::Failure(e.into())
    }

    /// 2: bad input (one message, nothing written); 1: any other failure.
    pub fn exit_code(&self) -> u8 {
        match self {
            Error::Scenario(_) | Error::Argument(_) | Error::Grid(_) => 2,
            Error::Failure(_) => 1,
        }
    }

    /// Adds context to a failure (bad input keeps its own message).
    pub(crate) fn context(self, what: impl std::fmt::Display + Send + Sync + 'static) -> Error {
        match self {
            Error::Failure(e) => Error::Failure(e.context(what)),
            other => other,
        }
    }
}

impl From<IoError> for Error {
    fn from(e: IoError) -> Error {
        Error::failure(e)
    }
}

impl From<SweepError> for Error {
    fn from(e: SweepError) -> Error {
        match e {
            SweepError::Input(m) => Error::Argument(m.to_string()),
            SweepError::Scenario(e) => Error::Scenario(e),
            other => Error::failure(other),
        }
    }
}

// A bad request is a bad argument, a bad scenario its located message: the same split as a
// binding's, so both go through `embed::Error`.
impl From<AssuranceError> for Error {
    fn from(e: AssuranceError) -> Error {
        crate::embed::Error::from(e).into()
    }
}

impl From<PlanError> for Error {
    fn from(e: PlanError) -> Error {
        crate::embed::Error::from(e).into()
    }
}

impl From<crate::embed::Error> for Error {
    fn from(e: crate::embed::Error) -> Error {
        use crate::embed::Error as E;
        match e {
            E::Scenario(e) => Error::Scenario(e),
            E::Argument(m) => Error::Argument(m),
            E::Cancelled | E::Failure(_) => Error::failure(e),
        }
    }
}

impl From<CalibrateError> for Error {
    fn from(e: CalibrateError) -> Error {
        match e {
            CalibrateError::Scenario(e) => Error::Scenario(e),
            CalibrateError::Study { .. } | CalibrateError::Argument(_) => Error::Argument(e.to_string()),
            CalibrateError::Fit(_) => Error::failure(e),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_input_exits_2_and_failures_1() {
        assert_eq!(Error::Argument("x".into()).exit_code(), 2);
        assert_eq!(Error::failure(anyhow::anyhow!("disk full")).exit_code(), 1);
        let e = Error::failure(anyhow::anyhow!("disk full")).context("writing summary.json");
        assert_eq!(e.to_string(), "error: writing summary.json: disk full");
        assert_eq!(Error::Argument("--reps: bad".into()).to_string(), "error: --reps: bad");
    }
}
