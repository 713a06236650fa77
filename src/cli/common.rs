//! Helpers shared by the subcommands: output folders and small formatting utilities.

use std::path::Path;

use anyhow::Context;

/// Creates the output folder `dir` (and its parents), with an error that names it.
pub fn create_out_dir(dir: &Path) -> anyhow::Result<()> {
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create output folder {}", dir.display()))?;
    let probe = dir.join(".analyze-write-test");
    std::fs::write(&probe, b"").with_context(|| format!("output folder {} is not writable", dir.display()))?;
    let _ = std::fs::remove_file(&probe);
    Ok(())
}

/// Removes `dir` if this run created it and it is still empty, so a failed command leaves
/// no empty output folder behind. `existed` is whether the folder was there before the run.
pub fn remove_if_created_empty(dir: &Path, existed: bool) {
    if existed {
        return;
    }
    let empty = std::fs::read_dir(dir).map(|mut entries| entries.next().is_none()).unwrap_or(false);
    if empty {
        let _ = std::fs::remove_dir(dir);
    }
}

/// Formats a value with `digits` significant digits, or `-` when absent or not finite.
pub fn fmt_sig(value: Option<f64>, digits: usize) -> String {
    match value {
        Some(v) if v.is_finite() => format!("{:.*e}", digits.saturating_sub(1), v)
            .parse::<f64>()
            .map(|r| format!("{r}"))
            .unwrap_or_else(|_| v.to_string()),
        _ => "-".to_string(),
    }
}
