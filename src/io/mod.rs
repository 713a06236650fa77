//! File input and output shared by every module: safetensors tensors with metadata, `.npy`
//! arrays, and atomic writes (temporary file, then rename) so that no half-written output is
//! ever left behind.

pub mod atomic;
pub mod npy;
pub mod tensors;

pub use atomic::{write_atomic, write_json_atomic};
pub use tensors::{read_tensor_file, write_tensor_file, Dtype, Tensor, TensorFile};
