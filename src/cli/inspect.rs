//! `analyze inspect`: print what a model file contains and what the loader recognised.

use std::path::PathBuf;

use clap::Args;

use crate::model::{load_model, Arch, LoadOptions};

/// Model-file options shared by every subcommand that loads a network.
#[derive(Debug, Clone, Args)]
pub struct ModelArgs {
    /// Architecture, overriding the file's metadata and the shape-based guess:
    /// rnn_tanh, rnn_relu, gru, lstm or two_region_lstm. Needed for relu RNNs saved without
    /// metadata, whose tensors look like tanh RNNs.
    #[arg(long, value_parser = parse_arch)]
    pub arch: Option<Arch>,

    /// Module prefix of the recurrent network in the file (e.g. `core.rnn`), when a file contains
    /// several recurrent modules.
    #[arg(long, value_name = "PREFIX")]
    pub module: Option<String>,
}

impl ModelArgs {
    /// Returns the loader options these arguments select.
    pub fn load_options(&self) -> LoadOptions {
        LoadOptions { arch: self.arch, module: self.module.clone() }
    }
}

fn parse_arch(s: &str) -> Result<Arch, String> {
    s.parse::<Arch>().map_err(|_| "expected rnn_tanh, rnn_relu, gru, lstm or two_region_lstm".to_string())
}

/// Arguments of `analyze inspect`.
#[derive(Debug, Args)]
pub struct InspectArgs {
    /// Model file (safetensors; PyTorch state_dict names, any module prefix).
    pub model: PathBuf,

    #[command(flatten)]
    pub model_args: ModelArgs,
}

/// Runs `analyze inspect`.
pub fn run(args: &InspectArgs) -> anyhow::Result<()> {
    let model = load_model(&args.model, &args.model_args.load_options())?;
    print!("{}", model.describe());
    Ok(())
}
