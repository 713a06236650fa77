//! Writing model files with PyTorch's tensor names, so that they load in PyTorch with
//! `load_state_dict` after `safetensors.torch.load_file`, and in this crate.

use std::collections::BTreeMap;
use std::path::Path;

use nalgebra::{DMatrix, DVector};

use super::cell::CellParams;
use super::linear::Linear;
use super::network::Network;
use super::RecurrentMap;
use crate::error::{Error, Result};
use crate::io::write_tensor_file;

/// Value of the metadata key `format` in files this crate writes.
pub const MODEL_FORMAT: &str = "rnn-dynamics/1";

/// Writes `network` (and `readout`, for a stacked network) to `path` as f32 safetensors.
///
/// Names: a stacked network's layers are `rnn.weight_ih_l{k}` etc. and its readout is
/// `readout.weight`/`readout.bias`; the two-region network uses `rnn1.`, `linear1.`, `rnn2.`,
/// `linear2.`. The metadata is `metadata` with `format`, `arch`, `hidden`, `inputs` and
/// `layers` set from the network. A value that does not fit in f32 is an error naming the
/// tensor; nothing is written on error.
pub fn save_model(
    path: &Path,
    network: &Network,
    readout: Option<&Linear>,
    metadata: &BTreeMap<String, String>,
) -> Result<()> {
    let mut tensors = Vec::new();
    match network {
        Network::Stacked(stack) => {
            for (k, layer) in stack.layers().iter().enumerate() {
                push_cell(&mut tensors, "rnn.", k, layer.params())?;
            }
            if let Some(readout) = readout {
                push_linear(&mut tensors, "readout.", readout)?;
            }
        }
        Network::TwoRegion(net) => {
            if readout.is_some() {
                return Err(Error::invalid(
                    "readout",
                    "the two-region network stores its heads itself; pass no separate readout",
                ));
            }
            push_cell(&mut tensors, "rnn1.", 0, net.ofc().params())?;
            push_linear(&mut tensors, "linear1.", net.ofc_head())?;
            push_cell(&mut tensors, "rnn2.", 0, net.striatum().params())?;
            push_linear(&mut tensors, "linear2.", net.str_head())?;
        }
    }

    let mut meta = metadata.clone();
    let hidden: Vec<String> = network
        .hidden_sizes()
        .iter()
        .map(usize::to_string)
        .collect();
    meta.insert("format".into(), MODEL_FORMAT.into());
    meta.insert("arch".into(), network.arch().to_string());
    meta.insert("hidden".into(), hidden.join(","));
    meta.insert("inputs".into(), network.input_dim().to_string());
    meta.insert("layers".into(), network.layers().to_string());
    write_tensor_file(path, &tensors, &meta)
}

type Entry = (String, Vec<usize>, Vec<f32>);

fn push_cell(out: &mut Vec<Entry>, prefix: &str, layer: usize, p: &CellParams) -> Result<()> {
    out.push(matrix_entry(
        format!("{prefix}weight_ih_l{layer}"),
        &p.weight_ih,
    )?);
    out.push(matrix_entry(
        format!("{prefix}weight_hh_l{layer}"),
        &p.weight_hh,
    )?);
    out.push(vector_entry(
        format!("{prefix}bias_ih_l{layer}"),
        &p.bias_ih,
    )?);
    out.push(vector_entry(
        format!("{prefix}bias_hh_l{layer}"),
        &p.bias_hh,
    )?);
    Ok(())
}

fn push_linear(out: &mut Vec<Entry>, prefix: &str, linear: &Linear) -> Result<()> {
    out.push(matrix_entry(format!("{prefix}weight"), &linear.weight)?);
    out.push(vector_entry(format!("{prefix}bias"), &linear.bias)?);
    Ok(())
}

/// Converts a matrix to row-major f32 (PyTorch's layout).
fn matrix_entry(name: String, m: &DMatrix<f64>) -> Result<Entry> {
    let (rows, cols) = m.shape();
    let mut data = Vec::with_capacity(rows * cols);
    for r in 0..rows {
        for c in 0..cols {
            data.push(to_f32(&name, m[(r, c)], r * cols + c)?);
        }
    }
    Ok((name, vec![rows, cols], data))
}

fn vector_entry(name: String, v: &DVector<f64>) -> Result<Entry> {
    let data = v
        .iter()
        .enumerate()
        .map(|(i, x)| to_f32(&name, *x, i))
        .collect::<Result<Vec<f32>>>()?;
    Ok((name, vec![v.len()], data))
}

fn to_f32(name: &str, value: f64, index: usize) -> Result<f32> {
    let single = value as f32;
    if single.is_finite() {
        Ok(single)
    } else {
        Err(Error::tensor(
            name,
            format!("value {value} at flat index {index} is not a finite f32"),
        ))
    }
}
