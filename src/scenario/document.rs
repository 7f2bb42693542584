//! A scenario file parsed once: its text (for located errors), its path and its raw tables. The
//! model, design and analysis become a [`Scenario`]; each other command validates its own table
//! from the same document (`sweep::sweep_table`, `followup::cuts_table`,
//! `assurance::uncertainty_table`, `calibrate::targets::study_tables`).

use std::path::{Path, PathBuf};

use super::raw::RawScenario;
use super::validate::{self, Ctx};
use super::{ErrorKind, Scenario, ScenarioError};
use crate::atomic_file::{ReadError, read_capped_text};

/// The largest scenario file read: the shipped ones are a few kilobytes; a 64 MB file of unknown
/// keys once took 1.6 GB of memory before it was rejected.
pub const MAX_BYTES: u64 = 1 << 20;

#[derive(Debug)]
pub struct Document {
    path: PathBuf,
    text: String,
    raw: RawScenario,
}

impl Document {
    /// Reads and parses a scenario file (syntax, types and unknown keys are checked here). A file
    /// over [`MAX_BYTES`] is refused once that much is read (a pipe or a device reports no size).
    pub fn load(path: &Path) -> Result<Document, ScenarioError> {
        let text = read_capped_text(path, MAX_BYTES).map_err(|e| match e {
            ReadError::Io(e) => ScenarioError::unreadable(path, &e),
            ReadError::TooLarge { limit } => ScenarioError::new(path, ErrorKind::TooLarge { limit }),
        })?;
        Document::parse(&text, path)
    }

    /// Parses scenario text; `path` only labels errors.
    pub fn parse(text: &str, path: &Path) -> Result<Document, ScenarioError> {
        let raw = validate::parse(text, path)?;
        Ok(Document { path: path.to_path_buf(), text: text.to_string(), raw })
    }

    /// The model, the design and the analysis, validated.
    pub fn scenario(&self) -> Result<Scenario, ScenarioError> {
        validate::build(&self.ctx(), &self.raw)
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn text(&self) -> &str {
        &self.text
    }

    /// The parsed tables, with the spans of their values.
    pub fn raw(&self) -> &RawScenario {
        &self.raw
    }

    /// Turns spans of this document into located errors.
    pub(crate) fn ctx(&self) -> Ctx<'_> {
        Ctx { path: &self.path, text: &self.text }
    }
}
