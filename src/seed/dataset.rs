//! Which dataset seeds a database: the ILO dataset the binary carries, or a file.

use std::{
    borrow::Cow,
    fmt,
    path::{Path, PathBuf},
};

use anyhow::Context;

/// `data/ilo-partnerships.yaml` as it was when the binary was built, so the embedded store
/// serves the ILO data from any directory, with nothing beside the binary.
pub const ILO: &str = include_str!("../../data/ilo-partnerships.yaml");

/// Where a dataset's text comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Dataset {
    /// The ILO dataset built into the binary ([`ILO`]).
    Builtin,
    /// A dataset file in the format of docs/DATA.md.
    File(PathBuf),
}

impl Dataset {
    /// A file when one is named, else the built-in ILO dataset.
    pub fn or_builtin(file: Option<PathBuf>) -> Self {
        file.map_or(Self::Builtin, Self::File)
    }

    /// The dataset's text. `setting` names where a file came from (`SEED_FILE`, say), so the
    /// error says which setting to fix.
    pub fn text(&self, setting: &str) -> anyhow::Result<Cow<'static, str>> {
        match self {
            Self::Builtin => Ok(Cow::Borrowed(ILO)),
            Self::File(path) => std::fs::read_to_string(path)
                .map(Cow::Owned)
                .with_context(|| unreadable(path, setting)),
        }
    }

    /// Whether the dataset can be read, without reading it: a file that is missing or not
    /// readable is the same error as [`Dataset::text`]'s.
    pub fn check(&self, setting: &str) -> anyhow::Result<()> {
        match self {
            Self::Builtin => Ok(()),
            Self::File(path) => std::fs::File::open(path)
                .map(drop)
                .with_context(|| unreadable(path, setting)),
        }
    }
}

fn unreadable(path: &Path, setting: &str) -> String {
    format!(
        "Failed to read the dataset file {} named by {setting}",
        path.display()
    )
}

impl fmt::Display for Dataset {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Builtin => f.write_str("the ILO dataset built into the binary"),
            Self::File(path) => write!(f, "{}", path.display()),
        }
    }
}
