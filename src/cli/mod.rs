//! The `analyze` command line: one file per subcommand, argument parsing and output only.
