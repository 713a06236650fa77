//! Safetensors files: every tensor decoded to f64 (from F32, F64, F16 or BF16), the
//! `__metadata__` block, and a writer that stores f32 tensors with metadata atomically.

use std::collections::BTreeMap;
use std::path::Path;

use crate::error::{Error, Result};

/// Element type a tensor had on disk.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub enum Dtype {
    F32,
    F64,
    F16,
    BF16,
}

impl std::fmt::Display for Dtype {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let name = match self {
            Dtype::F32 => "F32",
            Dtype::F64 => "F64",
            Dtype::F16 => "F16",
            Dtype::BF16 => "BF16",
        };
        f.write_str(name)
    }
}

/// One tensor, decoded to f64 in row-major (C) order.
#[derive(Debug, Clone)]
pub struct Tensor {
    pub shape: Vec<usize>,
    pub dtype: Dtype,
    pub data: Vec<f64>,
}

impl Tensor {
    /// Number of elements (product of the shape).
    pub fn len(&self) -> usize {
        self.data.len()
    }

    /// True when the tensor has no elements.
    pub fn is_empty(&self) -> bool {
        self.data.is_empty()
    }
}

/// Every tensor of a safetensors file, by name, with the file's metadata.
#[derive(Debug, Clone, Default)]
pub struct TensorFile {
    pub tensors: BTreeMap<String, Tensor>,
    pub metadata: BTreeMap<String, String>,
}

impl TensorFile {
    /// Returns the tensor `name`, or an error naming it and the file's tensors.
    pub fn get(&self, name: &str) -> Result<&Tensor> {
        self.tensors.get(name).ok_or_else(|| {
            let names: Vec<&str> = self.tensors.keys().map(String::as_str).collect();
            Error::tensor(name, format!("missing; the file has {}", names.join(", ")))
        })
    }
}

/// Reads a safetensors file. Tensors of other dtypes (integers, bool) are skipped, since no
/// analysis reads them; a truncated or corrupt file is an error naming the path.
pub fn read_tensor_file(path: &Path) -> Result<TensorFile> {
    let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
    parse_tensor_bytes(path, &bytes)
}

/// Parses the bytes of a safetensors file; `path` only labels errors.
pub fn parse_tensor_bytes(path: &Path, bytes: &[u8]) -> Result<TensorFile> {
    let not_safetensors = |e: safetensors::SafeTensorError| {
        Error::format(path, format!("not a valid safetensors file ({e})"))
    };
    let (_, header) = safetensors::SafeTensors::read_metadata(bytes).map_err(not_safetensors)?;
    let st = safetensors::SafeTensors::deserialize(bytes).map_err(not_safetensors)?;

    let metadata: BTreeMap<String, String> = header
        .metadata()
        .as_ref()
        .map(|m| m.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
        .unwrap_or_default();

    let mut tensors = BTreeMap::new();
    let mut names = st.names();
    names.sort();
    for name in names {
        let view = st.tensor(name).map_err(not_safetensors)?;
        let (dtype, data) = match view.dtype() {
            safetensors::Dtype::F32 => (Dtype::F32, decode::<4>(view.data(), |b| f32::from_le_bytes(b) as f64)),
            safetensors::Dtype::F64 => (Dtype::F64, decode::<8>(view.data(), f64::from_le_bytes)),
            safetensors::Dtype::F16 => (
                Dtype::F16,
                decode::<2>(view.data(), |b| half::f16::from_le_bytes(b).to_f64()),
            ),
            safetensors::Dtype::BF16 => (
                Dtype::BF16,
                decode::<2>(view.data(), |b| half::bf16::from_le_bytes(b).to_f64()),
            ),
            _ => continue,
        };
        tensors.insert(name.to_string(), Tensor { shape: view.shape().to_vec(), dtype, data });
    }

    Ok(TensorFile { tensors, metadata })
}

fn decode<const N: usize>(bytes: &[u8], convert: impl Fn([u8; N]) -> f64) -> Vec<f64> {
    bytes
        .chunks_exact(N)
        .map(|chunk| {
            let mut b = [0u8; N];
            b.copy_from_slice(chunk);
            convert(b)
        })
        .collect()
}

/// Writes f32 tensors and metadata to `path` atomically. Each entry is (name, shape, data in
/// row-major order); the data length must equal the product of the shape.
pub fn write_tensor_file(
    path: &Path,
    tensors: &[(String, Vec<usize>, Vec<f32>)],
    metadata: &BTreeMap<String, String>,
) -> Result<()> {
    let mut byte_buffers = Vec::with_capacity(tensors.len());
    for (name, shape, data) in tensors {
        let expected: usize = shape.iter().product();
        if expected != data.len() {
            return Err(Error::tensor(
                name.clone(),
                format!("has {} values but shape {:?} needs {}", data.len(), shape, expected),
            ));
        }
        let bytes: Vec<u8> = data.iter().flat_map(|v| v.to_le_bytes()).collect();
        byte_buffers.push(bytes);
    }

    let mut views = Vec::with_capacity(tensors.len());
    for ((name, shape, _), bytes) in tensors.iter().zip(&byte_buffers) {
        let view = safetensors::tensor::TensorView::new(safetensors::Dtype::F32, shape.clone(), bytes)
            .map_err(|e| Error::tensor(name.clone(), format!("cannot build tensor view: {e}")))?;
        views.push((name.clone(), view));
    }

    let bytes = safetensors::serialize(views, None)
        .map_err(|e| Error::format(path, format!("cannot serialise safetensors: {e}")))?;
    let bytes = with_sorted_metadata(bytes, metadata).map_err(|e| Error::format(path, e))?;
    super::write_atomic(path, &bytes)
}

/// Inserts `metadata` into the header of a serialised safetensors file, with its keys in sorted
/// order.
///
/// safetensors 0.8 takes the metadata as a `HashMap` and writes it in the map's iteration
/// order, which changes from one map to the next, so two saves of the same model would differ
/// in bytes. The header is JSON padded with spaces to a multiple of 8 bytes, and tensor offsets
/// count from the end of the header, so growing the header moves no tensor.
fn with_sorted_metadata(bytes: Vec<u8>, metadata: &BTreeMap<String, String>) -> std::result::Result<Vec<u8>, String> {
    if metadata.is_empty() {
        return Ok(bytes);
    }
    let header_len = bytes
        .get(..8)
        .map(|b| u64::from_le_bytes(b.try_into().expect("8 bytes")) as usize)
        .ok_or("serialised safetensors is shorter than its 8-byte header length")?;
    let header = bytes
        .get(8..8 + header_len)
        .and_then(|h| std::str::from_utf8(h).ok())
        .ok_or("serialised safetensors header is not UTF-8 JSON")?;
    let tensors = header.trim_end().strip_prefix('{').ok_or("serialised safetensors header is not a JSON object")?;

    let metadata_json = serde_json::to_string(metadata).map_err(|e| format!("cannot serialise metadata: {e}"))?;
    let separator = if tensors.trim_start() == "}" { "" } else { "," };
    let mut new_header = format!("{{\"__metadata__\":{metadata_json}{separator}{tensors}");
    while new_header.len() % 8 != 0 {
        new_header.push(' ');
    }

    let mut out = Vec::with_capacity(8 + new_header.len() + bytes.len() - 8 - header_len);
    out.extend_from_slice(&(new_header.len() as u64).to_le_bytes());
    out.extend_from_slice(new_header.as_bytes());
    out.extend_from_slice(&bytes[8 + header_len..]);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tensor_file_bytes_repeat() {
        let dir = tempfile::tempdir().unwrap();
        let meta: BTreeMap<String, String> = (0..16).map(|i| (format!("key{i:02}"), format!("value {i}"))).collect();
        let tensors = vec![("w".to_string(), vec![2], vec![1.0f32, 2.0]), ("b".to_string(), vec![1], vec![3.0f32])];

        let first = dir.path().join("first.safetensors");
        let second = dir.path().join("second.safetensors");
        write_tensor_file(&first, &tensors, &meta).unwrap();
        write_tensor_file(&second, &tensors, &meta).unwrap();
        assert_eq!(std::fs::read(&first).unwrap(), std::fs::read(&second).unwrap());

        let file = read_tensor_file(&first).unwrap();
        assert_eq!(file.metadata, meta.clone().into_iter().collect());
        assert_eq!(file.get("b").unwrap().shape, vec![1]);
        let header_len = u64::from_le_bytes(std::fs::read(&first).unwrap()[..8].try_into().unwrap());
        assert_eq!(header_len % 8, 0);
    }

    #[test]
    fn tensor_file_round_trip() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.safetensors");
        let mut meta = BTreeMap::new();
        meta.insert("arch".to_string(), "lstm".to_string());
        let tensors = vec![("w".to_string(), vec![2, 3], vec![1.0f32, 2.0, 3.0, 4.0, 5.0, 6.0])];
        write_tensor_file(&path, &tensors, &meta).unwrap();

        let file = read_tensor_file(&path).unwrap();
        assert_eq!(file.metadata.get("arch").map(String::as_str), Some("lstm"));
        let w = file.get("w").unwrap();
        assert_eq!(w.shape, vec![2, 3]);
        assert_eq!(w.dtype, Dtype::F32);
        assert_eq!(w.data, vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0]);
    }

    #[test]
    fn corrupt_header_is_format_error() {
        let err = parse_tensor_bytes(Path::new("bad.safetensors"), b"\x10\x00\x00\x00\x00\x00\x00\x00{not json").unwrap_err();
        let text = err.to_string();
        assert!(text.starts_with("bad.safetensors: not a valid safetensors file"), "{text}");
    }

    #[test]
    fn wrong_length_tensor_is_rejected() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.safetensors");
        let tensors = vec![("w".to_string(), vec![2, 2], vec![1.0f32])];
        let err = write_tensor_file(&path, &tensors, &BTreeMap::new()).unwrap_err();
        assert!(err.to_string().contains("tensor w"));
        assert!(!path.exists());
    }
}
