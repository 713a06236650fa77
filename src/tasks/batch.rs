//! A batch of fixed-length input and target sequences for supervised training.

/// Inputs and targets of `batch` sequences of `steps` time steps each.
///
/// Both buffers are row-major: `inputs[(b * steps + t) * input_dim + c]` is channel `c` of
/// sequence `b` at step `t`, and `targets` follows the same layout with `target_dim` columns.
#[derive(Debug, Clone, PartialEq)]
pub struct SupervisedBatch {
    /// Number of sequences.
    pub batch: usize,
    /// Number of time steps per sequence.
    pub steps: usize,
    /// Number of input channels per step.
    pub input_dim: usize,
    /// Number of target columns per step.
    pub target_dim: usize,
    /// Inputs, `batch × steps × input_dim`.
    pub inputs: Vec<f32>,
    /// Targets, `batch × steps × target_dim`.
    pub targets: Vec<f32>,
}

impl SupervisedBatch {
    /// Allocates a batch filled with zeros.
    pub fn zeros(batch: usize, steps: usize, input_dim: usize, target_dim: usize) -> Self {
        Self {
            batch,
            steps,
            input_dim,
            target_dim,
            inputs: vec![0.0; batch * steps * input_dim],
            targets: vec![0.0; batch * steps * target_dim],
        }
    }

    /// Input vector of sequence `b` at step `t`.
    pub fn input(&self, b: usize, t: usize) -> &[f32] {
        let start = (b * self.steps + t) * self.input_dim;
        &self.inputs[start..start + self.input_dim]
    }

    /// Target vector of sequence `b` at step `t`.
    pub fn target(&self, b: usize, t: usize) -> &[f32] {
        let start = (b * self.steps + t) * self.target_dim;
        &self.targets[start..start + self.target_dim]
    }

    /// Mutable input vector of sequence `b` at step `t`.
    pub fn input_mut(&mut self, b: usize, t: usize) -> &mut [f32] {
        let start = (b * self.steps + t) * self.input_dim;
        &mut self.inputs[start..start + self.input_dim]
    }

    /// Mutable target vector of sequence `b` at step `t`.
    pub fn target_mut(&mut self, b: usize, t: usize) -> &mut [f32] {
        let start = (b * self.steps + t) * self.target_dim;
        &mut self.targets[start..start + self.target_dim]
    }
}
