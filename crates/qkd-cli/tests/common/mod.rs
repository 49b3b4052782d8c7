//! Shared by the `qkd` end-to-end tests.

use std::ffi::OsStr;
use std::process::Command;

/// Runs the `qkd` binary with `args`, requires success (stderr in the failure message) and
/// parses its standard output as JSON.
pub(crate) fn qkd_json<I, S>(args: I) -> serde_json::Value
where
    I: IntoIterator<Item = S>,
    S: AsRef<OsStr>,
{
    let out = Command::new(env!("CARGO_BIN_EXE_qkd"))
        .args(args)
        .output()
        .expect("runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("json")
}
