//! The `analyze` command-line tool. All logic lives in the library; this file only turns the
//! result of [`rnn_dynamics::cli::run`] into an exit status.

use std::process::ExitCode;

fn main() -> ExitCode {
    match rnn_dynamics::cli::run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            // One plain line: the error and its causes, outermost first.
            let mut line = err.to_string();
            for cause in err.chain().skip(1) {
                let text = cause.to_string();
                if !line.contains(&text) {
                    line.push_str(": ");
                    line.push_str(&text);
                }
            }
            eprintln!("analyze: error: {line}");
            ExitCode::FAILURE
        }
    }
}
