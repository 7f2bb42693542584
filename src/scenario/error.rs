//! A bad scenario is one error that names the file, line and column, the key, and what was
//! expected; it renders like a compiler diagnostic. The [`ErrorKind`] says what is wrong as data
//! (for callers and tests); its `Display` is the message the user reads.

use std::ops::Range;
use std::path::{Path, PathBuf};

use annotate_snippets::{AnnotationKind, Level, Renderer, Snippet};

/// Why a scenario was rejected, with the place in the file that caused it.
#[derive(Debug, thiserror::Error)]
#[error("{}", self.render())]
pub struct ScenarioError {
    path: PathBuf,
    /// Where in the text; `None` when the file could not be read, or the scenario was made by
    /// overrides (line numbers would point into regenerated text).
    location: Option<Box<Location>>,
    /// The dotted key at fault (e.g. `arms.hsct.causes.treatment_death`), when known.
    key: Option<String>,
    /// Boxed: the error travels in every `Result` of validation and of the studies.
    kind: Box<ErrorKind>,
}

/// What is wrong with a scenario. `Display` renders the message without the file, place or key.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum ErrorKind {
    /// A value outside what its key allows: a range, a set of values, a count, a shape.
    #[error("expected {expected}, found {found}")]
    OutOfRange { expected: String, found: String },
    /// A name (of the scenario, an arm, a cause, an endpoint) with characters other than ASCII
    /// letters, digits, `_` and `-`, or starting with `-`; `found` as written.
    #[error("expected a name of letters, digits, `_` or `-`, found {found:?}")]
    BadName { found: String },
    /// A reference to a name that does not exist where it is looked up; `allowed` lists the
    /// names that do.
    #[error("{}", unknown_name(what, name, allowed))]
    UnknownName { what: Namespace, name: String, allowed: Vec<String> },
    /// A list or table that must not be empty, or a table with none of the keys it needs.
    #[error("expected {expected}")]
    Empty { expected: String },
    /// A key required by another (`what` says which and why).
    #[error("missing: {what}")]
    Missing { what: String },
    /// A test that needs another key of `[analysis]`.
    #[error("the `{test}` test needs `{needs}` ({what})")]
    TestNeeds { test: String, needs: String, what: String },
    /// An item written twice in a list; `item` as the message shows it (``cause `x` ``,
    /// `test "x"`, `[0.0, 1.0]`).
    #[error("{item} is listed twice")]
    Duplicate { item: String },
    /// A break (or horizon, period, cut) not greater than the one before it.
    #[error("breaks must be strictly increasing: found {found} after {after}")]
    NotIncreasing { found: f64, after: f64 },
    /// `breaks + 1` values (`what`: "values", "hazard ratios") were needed; `found` is how
    /// many were written, `None` for a single number.
    #[error("{}", wrong_length(what, *breaks, *found))]
    WrongLength { what: &'static str, breaks: usize, found: Option<usize> },
    /// A relative hazard whose reference (`arms.{arm}.causes.{cause}`) cannot be used.
    #[error("{}", relative_to(arm, cause, *problem))]
    RelativeTo { arm: String, cause: String, problem: RelativeProblem },
    /// Text that is not a valid scenario document: TOML's own message (syntax, types, unknown
    /// or missing keys).
    #[error("{message}")]
    Syntax { message: String },
    /// The file could not be read.
    #[error("cannot read the scenario: {message}")]
    Unreadable { message: String },
    /// The file is larger than any scenario needs (a wrong file, or a runaway generator).
    #[error("the file has more than {limit} bytes; a scenario has at most {limit}")]
    TooLarge { limit: u64 },
    /// A one-off rule with its own wording, which no other check shares (the control arm's
    /// allocation, the accrual table's two forms, the last accrual rate, an illness–death
    /// trigger modifying itself, the MaxCombo weights' rank), or a message worded by another
    /// module (a `[sweep]` axis, study tables, overrides).
    #[error("{0}")]
    Invalid(String),
}

/// Where a name was looked up, for [`ErrorKind::UnknownName`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Namespace {
    Arm,
    Endpoint,
    /// The causes of all arms.
    Cause,
    /// The causes of one arm.
    CauseOf {
        arm: String,
    },
    /// Test names (`analysis.tests`).
    Test,
    /// Extrapolation methods (`analysis.long_term.extrapolation.methods`).
    ExtrapolationMethod,
    /// Continuous outcomes (`[outcomes.NAME]`).
    Outcome,
    /// Assessment times (`assessments.at`).
    Assessment,
}

/// Why a relative hazard's reference cannot be used, for [`ErrorKind::RelativeTo`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RelativeProblem {
    /// The reference arm is the arm itself.
    SameArm,
    /// The reference arm has no such cause.
    NoSuchCause,
    /// The reference is itself relative.
    ItselfRelative,
}

/// "`a`, `b`": names as the messages list them.
pub fn list<S: AsRef<str>>(items: impl IntoIterator<Item = S>) -> String {
    items.into_iter().map(|s| format!("`{}`", s.as_ref())).collect::<Vec<_>>().join(", ")
}

fn unknown_name(what: &Namespace, name: &str, allowed: &[String]) -> String {
    match what {
        Namespace::Arm => format!("no arm named `{name}`; arms are: {}", list(allowed)),
        Namespace::Endpoint => format!("no endpoint named `{name}`; endpoints are: {}", list(allowed)),
        Namespace::Cause => format!("cause `{name}` is in no arm; causes are: {}", list(allowed)),
        Namespace::CauseOf { arm } => {
            format!("`{name}` is not a cause of arm `{arm}`; its causes are: {}", list(allowed))
        }
        Namespace::Test => format!("unknown test {name:?}; allowed: {}", allowed.join(", ")),
        Namespace::Outcome => format!("no outcome named `{name}`; outcomes are: {}", list(allowed)),
        Namespace::Assessment => {
            format!("{name} is not an assessment time; `assessments.at` is: {}", allowed.join(", "))
        }
        Namespace::ExtrapolationMethod => {
            format!("unknown extrapolation method {name:?}; allowed: {}", allowed.join(", "))
        }
    }
}

fn wrong_length(what: &str, breaks: usize, found: Option<usize>) -> String {
    let expected = breaks + 1;
    match found {
        Some(found) => {
            format!("expected {expected} {what} (one more than the {breaks} breaks), found {found}")
        }
        None => format!("with {breaks} breaks, expected a list of {expected} {what}"),
    }
}

fn relative_to(arm: &str, cause: &str, problem: RelativeProblem) -> String {
    match problem {
        RelativeProblem::SameArm => {
            format!("an arm cannot be relative to itself (`{arm}`): name another arm")
        }
        RelativeProblem::NoSuchCause => format!("arm `{arm}` has no cause `{cause}` to be relative to"),
        RelativeProblem::ItselfRelative => {
            format!("`arms.{arm}.causes.{cause}` is itself relative; the reference must be absolute")
        }
    }
}

#[derive(Debug)]
struct Location {
    source: String,
    span: Range<usize>,
    line: usize,
    column: usize,
}

impl ScenarioError {
    /// An error of `kind` about the text at `span` (byte offsets into `source`).
    pub fn located(
        path: &Path,
        source: &str,
        span: Range<usize>,
        key: Option<String>,
        kind: ErrorKind,
    ) -> Self {
        let start = span.start.min(source.len());
        let end = span.end.clamp(start, source.len());
        let (line, column) = line_column(source, start);
        ScenarioError {
            path: path.to_path_buf(),
            location: Some(Box::new(Location { source: source.to_string(), span: start..end, line, column })),
            key,
            kind: Box::new(kind),
        }
    }

    /// An error of `kind` with no place in the text.
    pub fn new(path: &Path, kind: ErrorKind) -> Self {
        ScenarioError { path: path.to_path_buf(), location: None, key: None, kind: Box::new(kind) }
    }

    /// An error about the text at `span` with a message worded by the caller
    /// ([`ErrorKind::Invalid`]).
    pub fn at(path: &Path, source: &str, span: Range<usize>, key: Option<String>, message: String) -> Self {
        ScenarioError::located(path, source, span, key, ErrorKind::Invalid(message))
    }

    /// An error with no place in the text and a message worded by the caller
    /// ([`ErrorKind::Invalid`]).
    pub(crate) fn without_location(path: &Path, message: String) -> Self {
        ScenarioError::new(path, ErrorKind::Invalid(message))
    }

    /// The scenario file could not be read.
    pub(crate) fn unreadable(path: &Path, err: &std::io::Error) -> Self {
        ScenarioError::new(path, ErrorKind::Unreadable { message: err.to_string() })
    }

    /// The same error (kind and key) reported against `path` with no place in the text: for a
    /// scenario regenerated from overrides, whose line numbers are not the user's file's.
    pub fn relabelled(self, path: &Path) -> Self {
        ScenarioError { path: path.to_path_buf(), location: None, ..self }
    }

    /// The file the error is about (or the label of a scenario made by overrides).
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The dotted key at fault, when known.
    pub fn key(&self) -> Option<&str> {
        self.key.as_deref()
    }

    pub fn kind(&self) -> &ErrorKind {
        &self.kind
    }

    /// The message without file, place or key (the kind's rendering).
    pub fn message(&self) -> String {
        self.kind.to_string()
    }

    /// `(line, column)`, both 1-based, columns counted in characters (a binding's exception
    /// carries them).
    pub fn line_column(&self) -> Option<(usize, usize)> {
        self.location.as_ref().map(|l| (l.line, l.column))
    }

    fn render(&self) -> String {
        let title = match &self.key {
            Some(key) => format!("`{key}`: {}", self.kind),
            None => self.kind.to_string(),
        };
        let Some(loc) = &self.location else {
            return format!("error: {}: {title}", self.path.display());
        };
        let path = self.path.display().to_string();
        let head = format!("{path}:{}:{}: {title}", loc.line, loc.column);
        // An empty file has nothing to underline; the head line already says where.
        if loc.source.trim().is_empty() {
            return format!("error: {head}");
        }
        let report = [Level::ERROR.primary_title(&head).element(
            Snippet::source(loc.source.as_str())
                .path(path.as_str())
                .annotation(AnnotationKind::Primary.span(loc.span.clone())),
        )];
        Renderer::plain().render(&report).to_string()
    }
}

/// 1-based line and character column of byte offset `at`.
fn line_column(source: &str, at: usize) -> (usize, usize) {
    let before = &source[..floor_char_boundary(source, at)];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let column = before[line_start..].chars().count() + 1;
    (line, column)
}

fn floor_char_boundary(s: &str, mut i: usize) -> usize {
    while i > 0 && !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_and_column_are_one_based_in_chars() {
        assert_eq!(line_column("a = 1\nbé = 2\n", 0), (1, 1));
        assert_eq!(line_column("a = 1\nbé = 2\n", 6), (2, 1));
        // 'é' is two bytes but one column.
        assert_eq!(line_column("a = 1\nbé = 2\n", 9), (2, 3));
    }

    #[test]
    fn message_names_file_line_column_and_key() {
        let src = "name = \"x\"\n[design]\nn = 1\n";
        let e = ScenarioError::at(
            Path::new("s.toml"),
            src,
            24..25,
            Some("design.n".into()),
            "expected an integer ≥ 2, found 1".into(),
        );
        let text = e.to_string();
        assert!(text.contains("s.toml:3:5"), "{text}");
        assert!(text.contains("`design.n`"), "{text}");
        assert!(text.contains("expected an integer ≥ 2"), "{text}");
    }

    #[test]
    fn kinds_render_the_messages_users_read() {
        let names = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        let cases = [
            (
                ErrorKind::UnknownName {
                    what: Namespace::Arm,
                    name: "x".into(),
                    allowed: names(&["a", "b"]),
                },
                "no arm named `x`; arms are: `a`, `b`",
            ),
            (
                ErrorKind::UnknownName {
                    what: Namespace::CauseOf { arm: "hsct".into() },
                    name: "x".into(),
                    allowed: names(&["death"]),
                },
                "`x` is not a cause of arm `hsct`; its causes are: `death`",
            ),
            (
                ErrorKind::UnknownName {
                    what: Namespace::Test,
                    name: "x".into(),
                    allowed: names(&["a", "b"]),
                },
                "unknown test \"x\"; allowed: a, b",
            ),
            (
                ErrorKind::WrongLength { what: "values", breaks: 2, found: Some(2) },
                "expected 3 values (one more than the 2 breaks), found 2",
            ),
            (
                ErrorKind::WrongLength { what: "hazard ratios", breaks: 1, found: None },
                "with 1 breaks, expected a list of 2 hazard ratios",
            ),
            (
                ErrorKind::NotIncreasing { found: 1.0, after: 2.5 },
                "breaks must be strictly increasing: found 1 after 2.5",
            ),
            (ErrorKind::Unreadable { message: "gone".into() }, "cannot read the scenario: gone"),
        ];
        for (kind, text) in cases {
            assert_eq!(kind.to_string(), text);
        }
    }

    #[test]
    fn relabelled_keeps_kind_and_key_and_drops_the_place() {
        let e = ScenarioError::located(
            Path::new("regenerated"),
            "a = 1\n",
            4..5,
            Some("a".into()),
            ErrorKind::Missing { what: "b".into() },
        )
        .relabelled(Path::new("s.toml with a = 1"));
        assert_eq!(e.line_column(), None);
        assert_eq!(e.key(), Some("a"));
        assert_eq!(e.kind(), &ErrorKind::Missing { what: "b".into() });
        assert_eq!(e.to_string(), "error: s.toml with a = 1: `a`: missing: b");
    }
}
