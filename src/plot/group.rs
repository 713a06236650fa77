//! Per-group samples shared by the group-comparison figures.

use crate::plot::axes::is_drawable;

/// Values of one metric for one group of networks (one value per network).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct GroupSample {
    /// Group name shown in the legend or under its column, such as "kindergarten".
    pub name: String,
    /// One value per network, in the metric's units.
    pub values: Vec<f64>,
}

impl GroupSample {
    /// Returns the drawable values, in input order.
    pub(crate) fn drawable(&self) -> Vec<f64> {
        self.values.iter().copied().filter(|v| is_drawable(*v)).collect()
    }
}

/// Returns a note counting the non-finite values left out of `groups`, if any.
pub(crate) fn skipped_note(groups: &[GroupSample]) -> Option<String> {
    let skipped: usize = groups.iter().map(|g| g.values.len() - g.drawable().len()).sum();
    (skipped > 0).then(|| format!("{skipped} non-finite value(s) not shown"))
}
