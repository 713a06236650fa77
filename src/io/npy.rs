//! Reader for NumPy `.npy` arrays (format versions 1–3, little-endian f4/f8, C order), used
//! for starting states saved from Python.

use std::path::Path;

use crate::error::{Error, Result};
use super::{Dtype, Tensor};

/// Reads a `.npy` file into a [`Tensor`].
pub fn read_npy(path: &Path) -> Result<Tensor> {
    let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
    parse_npy(path, &bytes)
}

/// Parses `.npy` bytes; `path` only labels errors.
pub fn parse_npy(path: &Path, bytes: &[u8]) -> Result<Tensor> {
    const MAGIC: &[u8] = b"\x93NUMPY";
    if bytes.len() < 10 || &bytes[..6] != MAGIC {
        return Err(Error::format(path, "not a .npy file (magic string \\x93NUMPY missing)"));
    }

    let major = bytes[6];
    let (header_len, header_start) = match major {
        1 => (u16::from_le_bytes([bytes[8], bytes[9]]) as usize, 10),
        2 | 3 => {
            if bytes.len() < 12 {
                return Err(Error::format(path, "truncated .npy header"));
            }
            (u32::from_le_bytes([bytes[8], bytes[9], bytes[10], bytes[11]]) as usize, 12)
        }
        v => return Err(Error::format(path, format!(".npy format version {v} is not supported (expected 1, 2 or 3)"))),
    };
    let data_start = header_start + header_len;
    if bytes.len() < data_start {
        return Err(Error::format(path, "truncated .npy header"));
    }
    let header = String::from_utf8_lossy(&bytes[header_start..data_start]);

    let descr = dict_value(&header, "descr").ok_or_else(|| Error::format(path, "missing 'descr' in .npy header"))?;
    let fortran = dict_value(&header, "fortran_order").unwrap_or_default();
    if fortran.trim() == "True" {
        return Err(Error::format(path, "Fortran-ordered .npy arrays are not supported; save with np.ascontiguousarray"));
    }
    let shape_text = dict_value(&header, "shape").ok_or_else(|| Error::format(path, "missing 'shape' in .npy header"))?;
    let shape: Vec<usize> = shape_text
        .trim_matches(|c| c == '(' || c == ')')
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| s.parse::<usize>())
        .collect::<std::result::Result<_, _>>()
        .map_err(|_| Error::format(path, format!("invalid .npy shape {shape_text}")))?;

    let descr = descr.trim().trim_matches('\'');
    let (dtype, width) = match descr {
        "<f4" => (Dtype::F32, 4),
        "<f8" => (Dtype::F64, 8),
        other => return Err(Error::format(path, format!(".npy dtype {other} is not supported (expected <f4 or <f8)"))),
    };

    let count: usize = shape.iter().product();
    let payload = &bytes[data_start..];
    if payload.len() < count * width {
        return Err(Error::format(path, format!("truncated .npy data: {} bytes for {} values", payload.len(), count)));
    }
    let data: Vec<f64> = match dtype {
        Dtype::F32 => payload[..count * 4].chunks_exact(4).map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]) as f64).collect(),
        _ => payload[..count * 8]
            .chunks_exact(8)
            .map(|c| f64::from_le_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]]))
            .collect(),
    };
    Ok(Tensor { shape, dtype, data })
}

/// Extracts the raw text of `key`'s value from a Python dict literal such as
/// `{'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), }`.
fn dict_value(header: &str, key: &str) -> Option<String> {
    let pattern = format!("'{key}':");
    let start = header.find(&pattern)? + pattern.len();
    let rest = header[start..].trim_start();
    let end = if rest.starts_with('(') {
        rest.find(')')? + 1
    } else {
        rest.find(',').unwrap_or(rest.len())
    };
    Some(rest[..end].to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn npy_bytes(descr: &str, shape: &str, payload: &[u8]) -> Vec<u8> {
        let mut header = format!("{{'descr': '{descr}', 'fortran_order': False, 'shape': {shape}, }}");
        while (10 + header.len() + 1) % 64 != 0 {
            header.push(' ');
        }
        header.push('\n');
        let mut out = b"\x93NUMPY\x01\x00".to_vec();
        out.extend_from_slice(&(header.len() as u16).to_le_bytes());
        out.extend_from_slice(header.as_bytes());
        out.extend_from_slice(payload);
        out
    }

    #[test]
    fn npy_f4_matrix_parses() {
        let payload: Vec<u8> = [1.0f32, 2.0, 3.0, 4.0, 5.0, 6.0].iter().flat_map(|v| v.to_le_bytes()).collect();
        let t = parse_npy(Path::new("x.npy"), &npy_bytes("<f4", "(2, 3)", &payload)).unwrap();
        assert_eq!(t.shape, vec![2, 3]);
        assert_eq!(t.data[5], 6.0);
    }

    #[test]
    fn npy_integer_dtype_is_rejected() {
        let err = parse_npy(Path::new("x.npy"), &npy_bytes("<i8", "(1,)", &[0; 8])).unwrap_err();
        assert!(err.to_string().contains("<i8"));
    }
}
