//! The library's error type.
//!
//! Every variant renders as one plain line that names the offending value and what was
//! expected, so the CLI can print it as is and exit with a non-zero status.

use std::path::PathBuf;

/// Errors raised by the library. Messages are lowercase, have no final period and put the
/// subject (a path, a tensor name, an option) first.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    /// A file exists but its content is not what the format requires.
    #[error("{path}: {message}")]
    Format { path: PathBuf, message: String },

    /// A model file has a missing, misshaped or unsupported tensor.
    #[error("tensor {tensor}: {message}")]
    Tensor { tensor: String, message: String },

    /// A user-supplied value (option, input vector, spec entry) is invalid.
    #[error("invalid {what}: {message}")]
    Invalid { what: String, message: String },

    /// A numerical routine failed (non-finite values, no convergence within its bound).
    #[error("{0}")]
    Numerical(String),
}

/// Shorthand for results whose error is [`Error`].
pub type Result<T> = std::result::Result<T, Error>;

impl Error {
    /// Builds an [`Error::Io`] for `path`.
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io { path: path.into(), source }
    }

    /// Builds an [`Error::Format`] for `path`.
    pub fn format(path: impl Into<PathBuf>, message: impl Into<String>) -> Self {
        Error::Format { path: path.into(), message: message.into() }
    }

    /// Builds an [`Error::Tensor`] for the tensor `name`.
    pub fn tensor(name: impl Into<String>, message: impl Into<String>) -> Self {
        Error::Tensor { tensor: name.into(), message: message.into() }
    }

    /// Builds an [`Error::Invalid`] for the value called `what`.
    pub fn invalid(what: impl Into<String>, message: impl Into<String>) -> Self {
        Error::Invalid { what: what.into(), message: message.into() }
    }
}
