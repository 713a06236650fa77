//! Loading model files that are malformed, unsupported or stored in unusual ways: each must
//! load with the right values or fail with one error that names the tensor or key at fault.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use rnn_dynamics::io::{read_tensor_file, write_tensor_file, Dtype};
use rnn_dynamics::model::{load_model, Arch, LoadOptions, Network, RecurrentMap};

fn fixture(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures")
        .join(path)
}

fn load_err(path: &Path, opts: &LoadOptions) -> String {
    match load_model(path, opts) {
        Ok(model) => panic!(
            "{} loaded as {} but should be rejected",
            path.display(),
            model.arch
        ),
        Err(e) => e.to_string(),
    }
}

type Tensors = BTreeMap<String, (Vec<usize>, Vec<f32>)>;

/// Reads the 2-layer LSTM fixture as editable f32 tensors.
fn lstm_tensors() -> Tensors {
    let file = read_tensor_file(&fixture("models/lstm2layer.safetensors")).unwrap();
    file.tensors
        .into_iter()
        .map(|(name, t)| (name, (t.shape, t.data.iter().map(|v| *v as f32).collect())))
        .collect()
}

fn write(dir: &Path, name: &str, tensors: &Tensors, meta: &[(&str, &str)]) -> PathBuf {
    let path = dir.join(name);
    let entries: Vec<(String, Vec<usize>, Vec<f32>)> = tensors
        .iter()
        .map(|(n, (s, d))| (n.clone(), s.clone(), d.clone()))
        .collect();
    let meta: BTreeMap<String, String> = meta
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    write_tensor_file(&path, &entries, &meta).unwrap();
    path
}

#[test]
fn bidirectional_rejected_naming_reverse() {
    let err = load_err(
        &fixture("models/lstm_bidirectional.safetensors"),
        &LoadOptions::default(),
    );
    assert!(err.starts_with("tensor weight_ih_l0_reverse:"), "{err}");
    assert!(err.contains("bidirectional"), "{err}");
}

#[test]
fn projection_rejected_naming_weight_hr() {
    let err = load_err(
        &fixture("models/lstm_proj.safetensors"),
        &LoadOptions::default(),
    );
    assert!(err.starts_with("tensor weight_hr_l0:"), "{err}");
    assert!(err.contains("proj_size"), "{err}");
}

#[test]
fn half_precision_copies_load_same_values() {
    let reference = load_model(
        &fixture("models/lstm2layer.safetensors"),
        &LoadOptions::default(),
    )
    .unwrap();
    for (file, dtype) in [
        ("lstm2layer_f16", Dtype::F16),
        ("lstm2layer_bf16", Dtype::BF16),
    ] {
        let model = load_model(
            &fixture(&format!("models/{file}.safetensors")),
            &LoadOptions::default(),
        )
        .unwrap();
        assert!(
            model.tensors.iter().all(|t| t.dtype == dtype),
            "{file}: {:?}",
            model.tensors
        );

        // Every weight is a multiple of 1/64, exact in both formats.
        let (Network::Stacked(a), Network::Stacked(b)) = (&reference.network, &model.network)
        else {
            panic!("{file}: expected stacked networks")
        };
        for (k, (la, lb)) in a.layers().iter().zip(b.layers()).enumerate() {
            assert_eq!(la.params(), lb.params(), "{file} layer {k}");
        }
    }
}

#[test]
fn prefixed_module_found_by_suffix() {
    let model = load_model(
        &fixture("models/gru_prefixed.safetensors"),
        &LoadOptions::default(),
    )
    .unwrap();
    assert_eq!(model.arch, Arch::Gru, "3H rows must be read as a GRU");
    assert_eq!(model.module, "core.rnn.");
    assert_eq!(model.hidden, vec![3]);
    assert_eq!(model.inputs, 2);
    assert_eq!(model.readout_tensor.as_deref(), Some("core.readout.weight"));
    assert_eq!(model.readout.as_ref().unwrap().out_dim(), 2);
    assert!(model.metadata.is_empty());
    assert_eq!(model.dt, 1.0);
}

#[test]
fn nan_weight_rejected_with_index() {
    let err = load_err(
        &fixture("models/lstm2layer_nan.safetensors"),
        &LoadOptions::default(),
    );
    assert!(err.starts_with("tensor weight_hh_l1:"), "{err}");
    assert!(err.contains("NaN at index [5, 2]"), "{err}");
}

#[test]
fn infinite_readout_rejected() {
    let dir = tempfile::tempdir().unwrap();
    let mut t = lstm_tensors();
    t.insert(
        "readout.weight".into(),
        (
            vec![2, 4],
            vec![0.0, 1.0, f32::INFINITY, 0.0, 0.0, 0.0, 0.0, 0.0],
        ),
    );
    t.insert("readout.bias".into(), (vec![2], vec![0.0, 0.0]));
    let err = load_err(
        &write(dir.path(), "inf.safetensors", &t, &[]),
        &LoadOptions::default(),
    );
    assert!(err.starts_with("tensor readout.weight:"), "{err}");
    assert!(err.contains("inf at index [0, 2]"), "{err}");
}

#[test]
fn truncated_file_rejected() {
    let dir = tempfile::tempdir().unwrap();
    let bytes = std::fs::read(fixture("models/lstm2layer.safetensors")).unwrap();
    let path = dir.path().join("truncated.safetensors");
    std::fs::write(&path, &bytes[..bytes.len() / 2]).unwrap();
    let err = load_err(&path, &LoadOptions::default());
    assert!(
        err.contains("truncated.safetensors: not a valid safetensors file"),
        "{err}"
    );
}

#[test]
fn non_safetensors_file_rejected() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("model.pt");
    std::fs::write(&path, b"PK\x03\x04 this is a zip archive, not safetensors").unwrap();
    let err = load_err(&path, &LoadOptions::default());
    assert!(
        err.contains("model.pt: not a valid safetensors file"),
        "{err}"
    );

    let missing = dir.path().join("absent.safetensors");
    let err = load_err(&missing, &LoadOptions::default());
    assert!(err.contains("absent.safetensors"), "{err}");
}

#[test]
fn wrong_shape_names_expected_shape() {
    let dir = tempfile::tempdir().unwrap();
    let mut t = lstm_tensors();
    t.insert("weight_ih_l0".into(), (vec![12, 3], vec![0.0; 36]));
    let err = load_err(
        &write(dir.path(), "shape.safetensors", &t, &[]),
        &LoadOptions::default(),
    );
    assert!(err.starts_with("tensor weight_ih_l0:"), "{err}");
    assert!(
        err.contains("has shape [12, 3] but [16, 3] was expected"),
        "{err}"
    );

    let mut t = lstm_tensors();
    t.insert("weight_ih_l1".into(), (vec![16, 3], vec![0.0; 48]));
    let err = load_err(
        &write(dir.path(), "shape1.safetensors", &t, &[]),
        &LoadOptions::default(),
    );
    assert!(
        err.contains("tensor weight_ih_l1: has shape [16, 3] but [16, 4] was expected"),
        "{err}"
    );

    let mut t = lstm_tensors();
    t.insert("bias_hh_l0".into(), (vec![15], vec![0.0; 15]));
    let err = load_err(
        &write(dir.path(), "bias.safetensors", &t, &[]),
        &LoadOptions::default(),
    );
    assert!(
        err.contains("tensor bias_hh_l0: has shape [15] but [16] was expected"),
        "{err}"
    );

    let mut t = lstm_tensors();
    t.insert("weight_hh_l0".into(), (vec![10, 4], vec![0.0; 40]));
    let err = load_err(
        &write(dir.path(), "gates.safetensors", &t, &[]),
        &LoadOptions::default(),
    );
    assert!(
        err.contains("tensor weight_hh_l0: has shape [10, 4], which is not [G·H, H]"),
        "{err}"
    );
}

#[test]
fn missing_tensor_rejected() {
    let dir = tempfile::tempdir().unwrap();
    let mut t = lstm_tensors();
    t.remove("bias_hh_l1");
    let err = load_err(
        &write(dir.path(), "missing.safetensors", &t, &[]),
        &LoadOptions::default(),
    );
    assert!(err.starts_with("tensor bias_hh_l1: missing"), "{err}");

    // A layer index with a gap: l0 and l2 present, l1 absent.
    let mut t = lstm_tensors();
    for stem in ["weight_ih", "weight_hh", "bias_ih", "bias_hh"] {
        let (shape, data) = t.remove(&format!("{stem}_l1")).unwrap();
        t.insert(format!("{stem}_l2"), (shape, data));
    }
    let err = load_err(
        &write(dir.path(), "gap.safetensors", &t, &[]),
        &LoadOptions::default(),
    );
    assert!(err.starts_with("tensor weight_hh_l1: missing"), "{err}");
}

#[test]
fn no_biases_load_as_zero() {
    let dir = tempfile::tempdir().unwrap();
    let mut t = lstm_tensors();
    t.retain(|name, _| !name.starts_with("bias"));
    let model = load_model(
        &write(dir.path(), "nobias.safetensors", &t, &[]),
        &LoadOptions::default(),
    )
    .unwrap();
    let Network::Stacked(stack) = &model.network else {
        panic!("expected a stack")
    };
    assert!(stack
        .layers()
        .iter()
        .all(|l| l.params().bias_ih.amax() == 0.0 && l.params().bias_hh.amax() == 0.0));
}

#[test]
fn readout_size_mismatch_rejected() {
    let dir = tempfile::tempdir().unwrap();
    let mut t = lstm_tensors();
    t.insert("readout.weight".into(), (vec![3, 5], vec![0.1; 15]));
    t.insert("readout.bias".into(), (vec![3], vec![0.0; 3]));
    let err = load_err(
        &write(dir.path(), "readout.safetensors", &t, &[]),
        &LoadOptions::default(),
    );
    assert!(
        err.starts_with("tensor readout.weight: has shape [3, 5] but [3, 4] was expected"),
        "{err}"
    );
}

#[test]
fn unnamed_linear_readout_found() {
    let dir = tempfile::tempdir().unwrap();
    let mut t = lstm_tensors();
    t.insert("decoder.weight".into(), (vec![2, 4], vec![0.5; 8]));
    let model = load_model(
        &write(dir.path(), "decoder.safetensors", &t, &[]),
        &LoadOptions::default(),
    )
    .unwrap();
    assert_eq!(model.readout_tensor.as_deref(), Some("decoder.weight"));
    let readout = model.readout.unwrap();
    assert_eq!(
        readout.bias.len(),
        2,
        "a Linear without bias gets zero bias"
    );
    assert_eq!(readout.apply(&[1.0, 1.0, 1.0, 1.0]).as_slice(), &[2.0, 2.0]);
}

#[test]
fn metadata_contradicting_shapes_rejected() {
    let dir = tempfile::tempdir().unwrap();
    let t = lstm_tensors();
    let cases: [(&[(&str, &str)], &str); 6] = [
        (
            &[("arch", "gru")],
            "metadata arch = gru contradicts tensor weight_hh_l0 of shape [16, 4]",
        ),
        (
            &[("hidden", "8")],
            "metadata hidden = \"8\" contradicts the tensors, which give hidden sizes 4,4",
        ),
        (
            &[("inputs", "5")],
            "metadata inputs = \"5\" contradicts the tensors, which give 3 inputs",
        ),
        (
            &[("layers", "1")],
            "metadata layers = \"1\" contradicts the tensors, which give 2 layers",
        ),
        (
            &[("dt", "-0.05")],
            "metadata dt = \"-0.05\" is not a positive number of seconds",
        ),
        (
            &[("arch", "transformer")],
            "\"transformer\" is not one of rnn_tanh, rnn_relu, gru, lstm, two_region_lstm",
        ),
    ];
    for (i, (meta, expected)) in cases.iter().enumerate() {
        let path = write(dir.path(), &format!("meta{i}.safetensors"), &t, meta);
        let err = load_err(&path, &LoadOptions::default());
        assert!(err.contains(expected), "{meta:?}: {err}");
    }

    let path = write(
        dir.path(),
        "consistent.safetensors",
        &t,
        &[("arch", "lstm"), ("hidden", "4,4"), ("dt", "0.05")],
    );
    let model = load_model(&path, &LoadOptions::default()).unwrap();
    assert_eq!(model.dt, 0.05);
}

#[test]
fn arch_option_overrides_metadata() {
    let tanh = load_model(
        &fixture("pytorch/tanh1.safetensors"),
        &LoadOptions::default(),
    )
    .unwrap();
    assert_eq!(tanh.arch, Arch::RnnTanh);
    let opts = LoadOptions {
        arch: Some(Arch::RnnRelu),
        module: None,
    };
    let relu = load_model(&fixture("pytorch/tanh1.safetensors"), &opts).unwrap();
    assert_eq!(relu.arch, Arch::RnnRelu);

    let mut next = [0.0];
    relu.network.step(&[-0.5], &[0.0], &mut next);
    assert_eq!(next[0], 0.0, "relu(2 · −0.5) = 0");
    tanh.network.step(&[-0.5], &[0.0], &mut next);
    assert!((next[0] - (-1.0f64).tanh()).abs() < 1e-15);

    let opts = LoadOptions {
        arch: Some(Arch::Gru),
        module: None,
    };
    let err = load_err(&fixture("pytorch/tanh1.safetensors"), &opts);
    assert!(
        err.contains("architecture option = gru contradicts tensor weight_hh_l0 of shape [1, 1]"),
        "{err}"
    );
}

#[test]
fn several_modules_need_module_option() {
    let dir = tempfile::tempdir().unwrap();
    let mut t = Tensors::new();
    for (name, (shape, data)) in lstm_tensors() {
        if name.ends_with("_l0") {
            t.insert(format!("encoder.rnn.{name}"), (shape.clone(), data.clone()));
            t.insert(format!("decoder.rnn.{name}"), (shape, data));
        }
    }
    let path = write(dir.path(), "two_modules.safetensors", &t, &[]);
    let err = load_err(&path, &LoadOptions::default());
    assert!(
        err.contains("several RNN modules (\"decoder.rnn\", \"encoder.rnn\")"),
        "{err}"
    );
    assert!(err.contains("--module"), "{err}");

    let opts = LoadOptions {
        arch: None,
        module: Some("decoder.rnn".into()),
    };
    let model = load_model(&path, &opts).unwrap();
    assert_eq!(model.module, "decoder.rnn.");
    assert_eq!(model.arch, Arch::Lstm);

    let opts = LoadOptions {
        arch: None,
        module: Some("policy".into()),
    };
    let err = load_err(&path, &opts);
    assert!(
        err.contains("invalid module: \"policy\" is not in"),
        "{err}"
    );
    assert!(err.contains("\"decoder.rnn\", \"encoder.rnn\""), "{err}");
}

#[test]
fn file_without_rnn_rejected() {
    let dir = tempfile::tempdir().unwrap();
    let mut t = Tensors::new();
    t.insert("fc.weight".into(), (vec![2, 2], vec![1.0; 4]));
    let err = load_err(
        &write(dir.path(), "mlp.safetensors", &t, &[]),
        &LoadOptions::default(),
    );
    assert!(err.contains("no recurrent weights found"), "{err}");
}

#[test]
fn two_region_missing_head_rejected() {
    let dir = tempfile::tempdir().unwrap();
    let file = read_tensor_file(&fixture("models/two_region_small.safetensors")).unwrap();
    let mut t: Tensors = file
        .tensors
        .into_iter()
        .map(|(name, t)| (name, (t.shape, t.data.iter().map(|v| *v as f32).collect())))
        .collect();
    t.remove("linear2.weight");
    let err = load_err(
        &write(dir.path(), "no_head.safetensors", &t, &[]),
        &LoadOptions::default(),
    );
    assert!(err.starts_with("tensor linear2.weight: missing"), "{err}");
}

#[test]
fn two_region_regions_load_alone() {
    let path = fixture("models/two_region_small.safetensors");
    let opts = LoadOptions {
        arch: Some(Arch::Lstm),
        module: Some("rnn2".into()),
    };
    let striatum = load_model(&path, &opts).unwrap();
    assert_eq!(striatum.arch, Arch::Lstm);
    assert_eq!(striatum.module, "rnn2.");
    assert_eq!(
        striatum.inputs, 5,
        "the STR reads 2 task channels and 3 block logits"
    );
    // linear1 and linear2 both read 3 inputs, so no readout is guessed.
    assert!(striatum.readout.is_none(), "{:?}", striatum.readout_tensor);

    let opts = LoadOptions {
        arch: None,
        module: Some("rnn1".into()),
    };
    let ofc = load_model(&path, &opts).unwrap();
    assert_eq!(
        ofc.arch,
        Arch::Lstm,
        "the region's type comes from its shapes"
    );
    assert_eq!(ofc.inputs, 4);

    let opts = LoadOptions {
        arch: Some(Arch::TwoRegionLstm),
        module: Some("rnn1".into()),
    };
    let err = load_err(&path, &opts);
    assert!(
        err.contains("architecture two_region_lstm needs tensors rnn1.rnn1.* and rnn1.rnn2.*"),
        "{err}"
    );

    let full = load_model(&path, &LoadOptions::default()).unwrap();
    assert_eq!(full.network.state_dim(), 12);
    assert_eq!(full.layers, 1);
    assert!(full
        .describe()
        .contains("regions: OFC (rnn1) → STR (rnn2), hidden 3, 3"));
}
