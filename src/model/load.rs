//! Loading model files: safetensors with PyTorch's state_dict names, with or without our
//! metadata, under any module prefix.
//!
//! Recognised layouts:
//! - one `nn.RNN`/`nn.GRU`/`nn.LSTM` module, `{prefix}weight_ih_l{k}`, `weight_hh_l{k}`,
//!   `bias_ih_l{k}`, `bias_hh_l{k}` for each layer k, optionally with a readout `nn.Linear`;
//! - the two-region network, `{prefix}rnn1.*` (OFC LSTM), `linear1.*` (OFC head), `rnn2.*`
//!   (STR LSTM), `linear2.*` (STR head).
//!
//! Without an `arch` (from metadata or the options) the cell type follows from the row count of
//! `weight_hh_l0` = G·H: G = 3 is a GRU, G = 4 an LSTM and G = 1 a tanh RNN.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

use nalgebra::{DMatrix, DVector};

use super::cell::{Cell, CellKind, CellParams};
use super::linear::Linear;
use super::network::{Arch, Network};
use super::save::save_model;
use super::stacked::Stacked;
use super::two_region::TwoRegion;
use super::RecurrentMap;
use crate::error::{Error, Result};
use crate::io::{read_tensor_file, Dtype, Tensor, TensorFile};

/// Choices that override the file's metadata and the architecture inferred from its shapes.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LoadOptions {
    /// Architecture to use instead of the metadata's `arch` or the one inferred from shapes.
    pub arch: Option<Arch>,
    /// Module prefix (for example `core.rnn`) to load when the file has several RNN modules.
    pub module: Option<String>,
}

/// Name, shape and on-disk dtype of one tensor of a model file.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct TensorInfo {
    pub name: String,
    pub shape: Vec<usize>,
    pub dtype: Dtype,
}

/// A network read from a file, with the file's metadata and tensor list.
#[derive(Debug, Clone)]
pub struct LoadedModel {
    /// The file it was read from.
    pub path: PathBuf,
    pub arch: Arch,
    pub network: Network,
    /// Linear readout of the top layer's `h`, for stacked networks only. The two-region
    /// network keeps its heads inside [`TwoRegion`].
    pub readout: Option<Linear>,
    /// Name of the readout's weight tensor, when there is a readout.
    pub readout_tensor: Option<String>,
    /// The file's `__metadata__` block.
    pub metadata: BTreeMap<String, String>,
    /// Seconds per step, from metadata `dt` (1 when absent).
    pub dt: f64,
    /// Every tensor in the file, sorted by name.
    pub tensors: Vec<TensorInfo>,
    /// The module prefix the network was found under (`""` when there is none).
    pub module: String,
    /// Hidden size per layer, or per region (OFC, STR) for the two-region network.
    pub hidden: Vec<usize>,
    /// Number of stacked layers (1 per region for the two-region network).
    pub layers: usize,
    /// Input dimension.
    pub inputs: usize,
}

impl LoadedModel {
    /// Returns a multi-line summary: architecture, sizes, readout, tensors and metadata.
    pub fn describe(&self) -> String {
        self.to_string()
    }

    /// Writes the network, readout and metadata to `path` with [`save_model`].
    pub fn save(&self, path: &Path) -> Result<()> {
        save_model(path, &self.network, self.readout.as_ref(), &self.metadata)
    }
}

/// A place in a file where a network can be loaded from.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
enum Module {
    /// One RNN module whose tensor names start with this prefix.
    Single(String),
    /// `{prefix}rnn1.*` and `{prefix}rnn2.*` together.
    TwoRegion(String),
}

impl fmt::Display for Module {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Module::Single(p) => write!(f, "{:?}", p.trim_end_matches('.')),
            Module::TwoRegion(p) => {
                write!(f, "{:?} (two-region rnn1/rnn2)", p.trim_end_matches('.'))
            }
        }
    }
}

/// Reads a model file and builds its network.
///
/// Errors name the offending tensor or metadata key: a bidirectional (`*_reverse`) or
/// projected (`weight_hr_l*`) RNN, a missing tensor, a wrong shape (with the expected one),
/// a NaN or infinite value (with its index), a readout whose input size differs from the
/// hidden size, or metadata (`arch`, `hidden`, `inputs`, `layers`, `dt`) that contradicts the
/// tensors.
pub fn load_model(path: &Path, opts: &LoadOptions) -> Result<LoadedModel> {
    let file = read_tensor_file(path)?;
    let tensors: Vec<TensorInfo> = file
        .tensors
        .iter()
        .map(|(name, t)| TensorInfo {
            name: name.clone(),
            shape: t.shape.clone(),
            dtype: t.dtype,
        })
        .collect();

    let metadata_arch = match file.metadata.get("arch") {
        Some(text) => Some(
            text.parse::<Arch>()
                .map_err(|e| Error::format(path, format!("metadata arch: {e}")))?,
        ),
        None => None,
    };
    let arch_request = opts.arch.or(metadata_arch);
    if let (Some(requested), Some(from_file)) = (opts.arch, metadata_arch) {
        if requested != from_file {
            tracing::info!(file = %path.display(), %requested, %from_file, "architecture option overrides metadata");
        }
    }

    let module = choose_module(path, &file, arch_request, opts.module.as_deref())?;
    let (network, readout, readout_tensor, prefix) = match &module {
        Module::Single(prefix) => {
            // A module option may pick one region of a two-region file. The metadata arch
            // describes the whole file, so the region's cell type comes from its shapes.
            let arch_request = match (opts.arch, metadata_arch) {
                (None, Some(Arch::TwoRegionLstm)) if opts.module.is_some() => None,
                _ => arch_request,
            };
            if arch_request == Some(Arch::TwoRegionLstm) {
                return Err(Error::format(
                    path,
                    format!("architecture two_region_lstm needs tensors {prefix}rnn1.* and {prefix}rnn2.*"),
                ));
            }
            let kind = arch_request.and_then(Arch::cell_kind);
            if let (Some(kind), Some(arch)) = (kind, arch_request) {
                let source = if opts.arch.is_some() {
                    "architecture option"
                } else {
                    "metadata arch"
                };
                check_gate_rows(path, &file, prefix, kind, &format!("{source} = {arch}"))?;
            }
            let stack = Stacked::new(load_layers(&file, prefix, kind)?)?;
            let top = *stack
                .hidden_sizes()
                .last()
                .expect("a stack has at least one layer");
            let readout = find_readout(&file, prefix, top)?;
            let (readout, readout_tensor) = match readout {
                Some((linear, name)) => (Some(linear), Some(name)),
                None => (None, None),
            };
            (
                Network::Stacked(stack),
                readout,
                readout_tensor,
                prefix.clone(),
            )
        }
        Module::TwoRegion(prefix) => {
            if let Some(other) = arch_request.filter(|a| *a != Arch::TwoRegionLstm) {
                return Err(Error::format(
                    path,
                    format!("architecture {other} contradicts the tensors {prefix}rnn1.* and {prefix}rnn2.* of a two-region network"),
                ));
            }
            (
                Network::TwoRegion(load_two_region(&file, prefix)?),
                None,
                None,
                prefix.clone(),
            )
        }
    };

    let arch = network.arch();
    let hidden = network.hidden_sizes();
    let layers = network.layers();
    let inputs = network.input_dim();
    // Metadata of a two-region file describes both regions, so it does not describe one
    // region loaded alone with the module option.
    let metadata_is_two_region = metadata_arch == Some(Arch::TwoRegionLstm);
    if metadata_is_two_region == (arch == Arch::TwoRegionLstm) {
        check_metadata(path, &file.metadata, &hidden, layers, inputs)?;
    }
    let dt = parse_dt(path, &file.metadata)?;

    Ok(LoadedModel {
        path: path.to_path_buf(),
        arch,
        network,
        readout,
        readout_tensor,
        metadata: file.metadata,
        dt,
        tensors,
        module: prefix,
        hidden,
        layers,
        inputs,
    })
}

/// Lists the modules of the file and picks the one to load: the one named by `module`, else
/// the only one (of the requested architecture's family, when `arch` is given).
fn choose_module(
    path: &Path,
    file: &TensorFile,
    arch: Option<Arch>,
    module: Option<&str>,
) -> Result<Module> {
    let mut singles = Vec::new();
    for name in file.tensors.keys() {
        for suffix in ["weight_ih_l0", "weight_hh_l0"] {
            if let Some(prefix) = name.strip_suffix(suffix) {
                if !singles.contains(&prefix.to_string()) {
                    singles.push(prefix.to_string());
                }
            }
        }
    }
    singles.sort();

    let mut pairs = Vec::new();
    for prefix in &singles {
        if let Some(base) = prefix.strip_suffix("rnn1.") {
            if singles.contains(&format!("{base}rnn2.")) {
                pairs.push(base.to_string());
            }
        }
    }
    let in_pair = |p: &str| {
        pairs
            .iter()
            .any(|b| p == format!("{b}rnn1.") || p == format!("{b}rnn2."))
    };

    let everything: Vec<Module> = singles
        .iter()
        .cloned()
        .map(Module::Single)
        .chain(pairs.iter().cloned().map(Module::TwoRegion))
        .collect();
    if everything.is_empty() {
        return Err(Error::format(
            path,
            "no recurrent weights found; expected tensors named weight_ih_l0 and weight_hh_l0, optionally with a module prefix",
        ));
    }

    if let Some(requested) = module {
        let requested_prefix = requested.trim_end_matches('.');
        return everything
            .iter()
            .find(|m| match m {
                Module::Single(p) | Module::TwoRegion(p) => {
                    p.trim_end_matches('.') == requested_prefix
                }
            })
            .cloned()
            .ok_or_else(|| {
                Error::invalid(
                    "module",
                    format!(
                        "{requested:?} is not in {}; it has {}",
                        path.display(),
                        list(&everything)
                    ),
                )
            });
    }

    let candidates: Vec<Module> = match arch {
        Some(Arch::TwoRegionLstm) => pairs.iter().cloned().map(Module::TwoRegion).collect(),
        Some(_) => singles
            .iter()
            .filter(|p| !in_pair(p))
            .cloned()
            .map(Module::Single)
            .collect(),
        None => singles
            .iter()
            .filter(|p| !in_pair(p))
            .cloned()
            .map(Module::Single)
            .chain(pairs.iter().cloned().map(Module::TwoRegion))
            .collect(),
    };
    match candidates.len() {
        1 => Ok(candidates[0].clone()),
        0 => Err(Error::format(
            path,
            format!(
                "no module fits architecture {}; the file has {}",
                arch.map_or("?", Arch::as_str),
                list(&everything)
            ),
        )),
        _ => Err(Error::format(
            path,
            format!(
                "has several RNN modules ({}); choose one with the module option (--module PREFIX)",
                list(&candidates)
            ),
        )),
    }
}

fn list(modules: &[Module]) -> String {
    modules
        .iter()
        .map(Module::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

/// Loads the layers `{prefix}*_l{k}`, rejecting bidirectional and projected RNNs.
fn load_layers(file: &TensorFile, prefix: &str, kind: Option<CellKind>) -> Result<Vec<Cell>> {
    let mut layer_count = 0;
    let mut has_bias = false;
    let mut reversed = Vec::new();
    for name in file.tensors.keys() {
        let Some(local) = name.strip_prefix(prefix) else {
            continue;
        };
        if local.contains('.') {
            continue;
        }
        if local.ends_with("_reverse") {
            reversed.push(name.clone());
        }
        if local.starts_with("weight_hr_l") {
            return Err(Error::tensor(
                name,
                "is an LSTM projection (proj_size > 0), which is not supported",
            ));
        }
        for stem in ["weight_ih_l", "weight_hh_l", "bias_ih_l", "bias_hh_l"] {
            if let Some(k) = local
                .strip_prefix(stem)
                .and_then(|k| k.parse::<usize>().ok())
            {
                layer_count = layer_count.max(k + 1);
                has_bias |= stem.starts_with("bias");
            }
        }
    }
    if !reversed.is_empty() {
        let first_weight = format!("{prefix}weight_ih_l0_reverse");
        let named = if reversed.contains(&first_weight) {
            first_weight
        } else {
            reversed[0].clone()
        };
        return Err(Error::tensor(
            named,
            format!(
                "belongs to a bidirectional RNN ({} tensors end in _reverse), which is not supported: \
                 the backward direction is not a map of the forward state",
                reversed.len()
            ),
        ));
    }
    if !has_bias {
        tracing::info!(
            module = prefix,
            "no bias tensors; loading as bias=False (zero biases)"
        );
    }

    let hh0_name = format!("{prefix}weight_hh_l0");
    let hh0 = file.get(&hh0_name)?;
    let kind = match kind {
        Some(kind) => kind,
        None => infer_kind(&hh0_name, hh0)?,
    };
    let gates = kind.gate_count();

    let mut layers = Vec::with_capacity(layer_count);
    let mut below_hidden = None;
    for k in 0..layer_count {
        let hh_name = format!("{prefix}weight_hh_l{k}");
        let hh = file.get(&hh_name)?;
        let hidden = match hh.shape.as_slice() {
            [_, h] if *h > 0 => *h,
            shape => {
                return Err(Error::tensor(
                    hh_name,
                    format!(
                        "has shape {shape:?} but a matrix [{gates}·H, H] with H ≥ 1 was expected"
                    ),
                ));
            }
        };
        let rows = gates * hidden;
        let weight_hh = matrix(&hh_name, hh, Some((rows, hidden)), &gate_note(kind, hidden))?;

        let ih_name = format!("{prefix}weight_ih_l{k}");
        let ih = file.get(&ih_name)?;
        let input = match (below_hidden, ih.shape.as_slice()) {
            (Some(h_below), _) => h_below,
            (None, [_, i]) => *i,
            (None, shape) => {
                return Err(Error::tensor(
                    ih_name,
                    format!("has shape {shape:?} but a matrix [{rows}, inputs] was expected"),
                ));
            }
        };
        let weight_ih = matrix(&ih_name, ih, Some((rows, input)), &gate_note(kind, hidden))?;

        let bias = |stem: &str| -> Result<DVector<f64>> {
            let name = format!("{prefix}{stem}_l{k}");
            if has_bias {
                vector(&name, file.get(&name)?, rows)
            } else {
                Ok(DVector::zeros(rows))
            }
        };
        let params = CellParams {
            weight_ih,
            weight_hh,
            bias_ih: bias("bias_ih")?,
            bias_hh: bias("bias_hh")?,
        };
        layers.push(Cell::new(kind, params)?);
        below_hidden = Some(hidden);
    }
    Ok(layers)
}

/// Infers the cell kind from `weight_hh_l0` = [G·H, H]: G = 1, 3 or 4.
fn infer_kind(name: &str, hh: &Tensor) -> Result<CellKind> {
    let (rows, cols) = match hh.shape.as_slice() {
        [r, c] if *c > 0 => (*r, *c),
        shape => {
            return Err(Error::tensor(
                name,
                format!("has shape {shape:?} but a matrix [G·H, H] was expected"),
            ))
        }
    };
    match (rows % cols, rows / cols) {
        (0, 1) => {
            // NOTE: tanh and relu RNNs have the same tensors; without metadata `arch` or the
            // architecture option a relu network would be analysed as tanh.
            tracing::info!(tensor = name, "one gate block: loading as rnn_tanh (set the architecture for relu)");
            Ok(CellKind::RnnTanh)
        }
        (0, 3) => Ok(CellKind::Gru),
        (0, 4) => Ok(CellKind::Lstm),
        _ => Err(Error::tensor(
            name,
            format!("has shape [{rows}, {cols}], which is not [G·H, H] for G = 1 (rnn), 3 (gru) or 4 (lstm)"),
        )),
    }
}

/// Checks that `weight_hh_l0` has the row count of `kind`, so that an `arch` that contradicts
/// the tensors is reported as such (naming where it came from) instead of as a shape error.
fn check_gate_rows(
    path: &Path,
    file: &TensorFile,
    prefix: &str,
    kind: CellKind,
    source: &str,
) -> Result<()> {
    let name = format!("{prefix}weight_hh_l0");
    let Some(hh) = file.tensors.get(&name) else {
        return Ok(());
    };
    let [rows, cols] = hh.shape.as_slice() else {
        return Ok(());
    };
    if *cols == 0 || *rows == kind.gate_count() * cols {
        return Ok(());
    }
    let found = match infer_kind(&name, hh) {
        Ok(k) => format!(", which fits {}", Arch::from_cell_kind(k)),
        Err(_) => String::new(),
    };
    Err(Error::format(
        path,
        format!(
            "{source} contradicts tensor {name} of shape [{rows}, {cols}]: {} needs [{}, {cols}]{found}",
            Arch::from_cell_kind(kind),
            kind.gate_count() * cols
        ),
    ))
}

fn gate_note(kind: CellKind, hidden: usize) -> String {
    let name = Arch::from_cell_kind(kind).as_str();
    format!(
        "{} gate blocks for {name} with H = {hidden}",
        kind.gate_count()
    )
}

/// Loads the two-region network under `prefix`.
fn load_two_region(file: &TensorFile, prefix: &str) -> Result<TwoRegion> {
    let region = |name: &str| -> Result<super::lstm::LstmCell> {
        let region_prefix = format!("{prefix}{name}.");
        let mut layers = load_layers(file, &region_prefix, Some(CellKind::Lstm))?;
        if layers.len() != 1 {
            return Err(Error::tensor(
                format!("{region_prefix}weight_ih_l1"),
                "the two-region network has one LSTM layer per region",
            ));
        }
        match layers.pop() {
            Some(Cell::Lstm(cell)) => Ok(cell),
            _ => unreachable!("load_layers was asked for LSTM layers"),
        }
    };
    let ofc = region("rnn1")?;
    let striatum = region("rnn2")?;
    let ofc_head = load_linear(
        file,
        &format!("{prefix}linear1."),
        ofc.params().weight_hh.ncols(),
        true,
    )?;
    let str_head = load_linear(
        file,
        &format!("{prefix}linear2."),
        striatum.params().weight_hh.ncols(),
        true,
    )?;
    TwoRegion::new(ofc, ofc_head, striatum, str_head)
}

/// Loads `{prefix}weight` [out, hidden] and `{prefix}bias` [out] (zeros when absent and
/// `bias_required` is false).
fn load_linear(
    file: &TensorFile,
    prefix: &str,
    hidden: usize,
    bias_required: bool,
) -> Result<Linear> {
    let w_name = format!("{prefix}weight");
    let w = file.get(&w_name)?;
    let out = match w.shape.as_slice() {
        [o, _] => *o,
        shape => {
            return Err(Error::tensor(
                w_name,
                format!("has shape {shape:?} but a matrix [outputs, {hidden}] was expected"),
            ))
        }
    };
    let note = format!("a readout of hidden size {hidden}");
    let weight = matrix(&w_name, w, Some((out, hidden)), &note)?;

    let b_name = format!("{prefix}bias");
    let bias = if bias_required || file.tensors.contains_key(&b_name) {
        vector(&b_name, file.get(&b_name)?, out)?
    } else {
        DVector::zeros(out)
    };
    Linear::new(weight, bias)
}

/// Finds the readout of a stacked network: a `*readout.weight` tensor, or else the only
/// other `nn.Linear` whose input size equals the top hidden size. Returns it with its weight's
/// tensor name.
fn find_readout(
    file: &TensorFile,
    module: &str,
    hidden: usize,
) -> Result<Option<(Linear, String)>> {
    let named: Vec<&String> = file
        .tensors
        .keys()
        .filter(|n| n.ends_with("readout.weight"))
        .collect();
    let parent = module
        .trim_end_matches('.')
        .rsplit_once('.')
        .map_or(String::new(), |(p, _)| format!("{p}."));

    let chosen = match named.as_slice() {
        [one] => Some((*one).clone()),
        [] => {
            // The RNN's own tensors end in `_l{k}`, so only linear layers end in `weight`.
            let others: Vec<&String> = file
                .tensors
                .iter()
                .filter(|(n, t)| {
                    (n.as_str() == "weight" || n.ends_with(".weight"))
                        && t.shape.len() == 2
                        && t.shape[1] == hidden
                })
                .map(|(n, _)| n)
                .collect();
            match others.as_slice() {
                [one] => Some((*one).clone()),
                [] => None,
                several => {
                    tracing::warn!(candidates = ?several, "several linear layers read the hidden state; loading no readout");
                    None
                }
            }
        }
        several => {
            let preferred = format!("{parent}readout.weight");
            if several.iter().any(|n| **n == preferred) {
                Some(preferred)
            } else {
                tracing::warn!(candidates = ?several, "several readout tensors; loading none");
                None
            }
        }
    };

    match chosen {
        Some(name) => {
            let prefix = name.strip_suffix("weight").unwrap_or("").to_string();
            Ok(Some((load_linear(file, &prefix, hidden, false)?, name)))
        }
        None => Ok(None),
    }
}

/// Converts a 2-D tensor to a matrix, checking its shape against `expected` and that every
/// value is finite. `note` explains the expected shape in errors.
fn matrix(
    name: &str,
    t: &Tensor,
    expected: Option<(usize, usize)>,
    note: &str,
) -> Result<DMatrix<f64>> {
    let (rows, cols) = match t.shape.as_slice() {
        [r, c] => (*r, *c),
        shape => {
            return Err(Error::tensor(
                name,
                format!("has shape {shape:?} but a matrix was expected"),
            ))
        }
    };
    if let Some((er, ec)) = expected {
        if (rows, cols) != (er, ec) {
            return Err(Error::tensor(
                name,
                format!("has shape [{rows}, {cols}] but [{er}, {ec}] was expected ({note})"),
            ));
        }
    }
    if let Some((i, v)) = t.data.iter().enumerate().find(|(_, v)| !v.is_finite()) {
        return Err(Error::tensor(
            name,
            format!(
                "has the non-finite value {v} at index [{}, {}]",
                i / cols,
                i % cols
            ),
        ));
    }
    Ok(DMatrix::from_row_slice(rows, cols, &t.data))
}

/// Converts a 1-D tensor of length `len` to a vector, checking that every value is finite.
fn vector(name: &str, t: &Tensor, len: usize) -> Result<DVector<f64>> {
    if t.shape != [len] {
        return Err(Error::tensor(
            name,
            format!("has shape {:?} but [{len}] was expected", t.shape),
        ));
    }
    if let Some((i, v)) = t.data.iter().enumerate().find(|(_, v)| !v.is_finite()) {
        return Err(Error::tensor(
            name,
            format!("has the non-finite value {v} at index [{i}]"),
        ));
    }
    Ok(DVector::from_column_slice(&t.data))
}

/// Checks metadata `hidden`, `inputs` and `layers`, where present, against the tensors.
fn check_metadata(
    path: &Path,
    meta: &BTreeMap<String, String>,
    hidden: &[usize],
    layers: usize,
    inputs: usize,
) -> Result<()> {
    let contradiction = |key: &str, value: &str, actual: String| {
        Error::format(
            path,
            format!("metadata {key} = {value:?} contradicts the tensors, which give {actual}"),
        )
    };
    let parse = |key: &str, value: &str| -> Result<usize> {
        value.trim().parse::<usize>().map_err(|_| {
            Error::format(
                path,
                format!("metadata {key} = {value:?} is not a non-negative integer"),
            )
        })
    };

    if let Some(value) = meta.get("hidden") {
        let listed: Vec<usize> = value
            .split(',')
            .map(|part| parse("hidden", part))
            .collect::<Result<_>>()?;
        // A single value may stand for every layer of a stack with equal sizes.
        let matches =
            listed == hidden || (listed.len() == 1 && hidden.iter().all(|h| *h == listed[0]));
        if !matches {
            let actual: Vec<String> = hidden.iter().map(usize::to_string).collect();
            return Err(contradiction(
                "hidden",
                value,
                format!("hidden sizes {}", actual.join(",")),
            ));
        }
    }
    if let Some(value) = meta.get("inputs") {
        if parse("inputs", value)? != inputs {
            return Err(contradiction("inputs", value, format!("{inputs} inputs")));
        }
    }
    if let Some(value) = meta.get("layers") {
        if parse("layers", value)? != layers {
            return Err(contradiction("layers", value, format!("{layers} layers")));
        }
    }
    Ok(())
}

/// Reads metadata `dt` (seconds per step), which must be a positive finite number; 1 when absent.
fn parse_dt(path: &Path, meta: &BTreeMap<String, String>) -> Result<f64> {
    let Some(text) = meta.get("dt") else {
        return Ok(1.0);
    };
    match text.trim().parse::<f64>() {
        Ok(dt) if dt.is_finite() && dt > 0.0 => Ok(dt),
        _ => Err(Error::format(
            path,
            format!("metadata dt = {text:?} is not a positive number of seconds"),
        )),
    }
}

impl fmt::Display for LoadedModel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let hidden: Vec<String> = self.hidden.iter().map(usize::to_string).collect();
        writeln!(f, "model: {}", self.path.display())?;
        writeln!(f, "architecture: {}", self.arch)?;
        match self.arch {
            Arch::TwoRegionLstm => writeln!(
                f,
                "regions: OFC (rnn1) → STR (rnn2), hidden {}",
                hidden.join(", ")
            )?,
            _ => writeln!(f, "layers: {}, hidden {}", self.layers, hidden.join(", "))?,
        }
        writeln!(f, "inputs: {}", self.inputs)?;
        writeln!(f, "state dimension: {}", self.network.state_dim())?;
        writeln!(f, "module prefix: {:?}", self.module)?;
        match (&self.readout, &self.readout_tensor) {
            (Some(r), Some(name)) => writeln!(f, "readout: {name} ({} outputs)", r.out_dim())?,
            _ if self.arch == Arch::TwoRegionLstm => {
                writeln!(f, "readout: heads linear1 (OFC) and linear2 (STR)")?
            }
            _ => writeln!(f, "readout: none")?,
        }
        writeln!(f, "dt: {} s", self.dt)?;

        writeln!(f, "tensors:")?;
        let width = self.tensors.iter().map(|t| t.name.len()).max().unwrap_or(0);
        for t in &self.tensors {
            writeln!(f, "  {:width$}  {:?}  {}", t.name, t.shape, t.dtype)?;
        }
        writeln!(f, "metadata:")?;
        if self.metadata.is_empty() {
            writeln!(f, "  (none)")?;
        }
        for (key, value) in &self.metadata {
            writeln!(f, "  {key} = {value}")?;
        }
        Ok(())
    }
}
