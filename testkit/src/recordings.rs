//! The recorded Bedrock responses and eventstream vectors under `tests/fixtures` (see
//! `tests/fixtures/README.md`).

use std::path::{Path, PathBuf};

/// `tests/fixtures` of this repository.
pub fn fixtures() -> PathBuf {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures");
    assert!(p.is_dir(), "fixtures missing at {}", p.display());
    p
}

/// The files directly in `dir` whose names end with `suffix`, sorted.
pub fn files(dir: &Path, suffix: &str) -> Vec<PathBuf> {
    let entries = std::fs::read_dir(dir).unwrap_or_else(|e| panic!("cannot list {}: {e}", dir.display()));
    let mut out: Vec<PathBuf> = entries
        .map(|e| e.unwrap_or_else(|e| panic!("{}: {e}", dir.display())).path())
        .filter(|p| p.file_name().is_some_and(|n| n.to_string_lossy().ends_with(suffix)))
        .collect();
    out.sort();
    out
}

/// The bytes of a fixture file.
pub fn read(p: &Path) -> Vec<u8> {
    std::fs::read(p).unwrap_or_else(|e| panic!("cannot read {}: {e}", p.display()))
}

/// The file name of `p`.
pub fn name(p: &Path) -> String {
    p.file_name().unwrap_or_default().to_string_lossy().into_owned()
}

/// Every recorded ConverseStream body: `bedrock-recordings/*.eventstream` and
/// `bedrock-recordings/converse-stream/*.bin`.
pub fn stream_recordings() -> Vec<PathBuf> {
    let base = fixtures().join("bedrock-recordings");
    let mut out = files(&base, ".eventstream");
    out.extend(files(&base.join("converse-stream"), ".bin"));
    out.sort();
    assert!(out.len() >= 40, "expected the recorded streams, found {}", out.len());
    out
}

/// The `converse-stream/*.bin` recordings as (name without extension, bytes), sorted.
pub fn converse_stream_bins() -> Vec<(String, Vec<u8>)> {
    files(&fixtures().join("bedrock-recordings/converse-stream"), ".bin")
        .iter()
        .map(|p| {
            let stem = p.file_stem().unwrap_or_default().to_string_lossy().into_owned();
            (stem, read(p))
        })
        .collect()
}

/// Every recorded 200 Converse (non-streaming) response body: `converse/*.body.json`, and the
/// `bedrock-recordings/*.json` whose `.meta.json` says status 200 on a `/converse` URI.
pub fn converse_recordings() -> Vec<PathBuf> {
    let base = fixtures().join("bedrock-recordings");
    let mut out = files(&base.join("converse"), ".body.json");
    for p in files(&base, ".json") {
        let n = name(&p);
        if n.ends_with(".meta.json") || n.ends_with("INDEX.json") {
            continue;
        }
        let meta_path = PathBuf::from(format!("{}.meta.json", p.display()));
        let meta: serde_json::Value =
            serde_json::from_slice(&read(&meta_path)).unwrap_or_else(|e| panic!("{}: {e}", meta_path.display()));
        if meta["status"] == 200 && meta["request_uri"].as_str().is_some_and(|u| u.ends_with("/converse")) {
            out.push(p);
        }
    }
    out.sort();
    assert!(
        out.len() >= 20,
        "expected the recorded Converse responses, found {}",
        out.len()
    );
    out
}
