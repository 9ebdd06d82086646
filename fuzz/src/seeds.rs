//! The seed inputs of each target, read from the repository.
//!
//! Rule targets start from every `.narval` file of the repository (examples,
//! tests, diagnostics fixtures, the fuzzer's own rule set) and from the
//! rule files of the language guide. Profile targets start from every line
//! of the repository's `.ndjson` files, among them `fuzz/seeds/`: lines of
//! the workload generator's `--dirty` output and profiles for the operator
//! rule set. Each target's regression fixtures are seeds too.

use std::path::{Path, PathBuf};

use crate::targets::Target;

/// Folders never searched for seeds.
const SKIP: &[&str] = &["target", ".git", "crashes", "corpus", "artifacts"];

pub fn load(root: &Path, target: Target) -> Vec<Vec<u8>> {
    let mut files = Vec::new();
    walk(root, &mut files);
    files.sort();
    let mut seeds = Vec::new();
    for file in &files {
        let extension = file.extension().and_then(|e| e.to_str()).unwrap_or("");
        let Ok(bytes) = std::fs::read(file) else { continue };
        if !target.takes_rules() && extension == "ndjson" {
            // Lines as bytes: hostile ones (tests/decode/) are not UTF-8.
            seeds.extend(bytes.split(|&b| b == b'\n').filter(|l| !l.is_empty()).map(<[u8]>::to_vec));
            continue;
        }
        let Ok(text) = String::from_utf8(bytes) else { continue };
        match (target.takes_rules(), extension) {
            (true, "narval") => seeds.push(text.into_bytes()),
            (true, "md") => {
                for block in text.split("```narval\n").skip(1) {
                    seeds.push(block.split("```").next().unwrap_or("").as_bytes().to_vec());
                }
            }
            _ => {}
        }
    }
    let fixtures = root.join("fuzz").join("regressions").join(target.name());
    if let Ok(entries) = std::fs::read_dir(fixtures) {
        let mut paths: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
        paths.sort();
        seeds.extend(paths.iter().filter_map(|p| std::fs::read(p).ok()));
    }
    seeds.retain(|seed| !seed.is_empty());
    seeds.sort();
    seeds.dedup();
    seeds
}

fn walk(dir: &Path, found: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    for entry in entries.flatten() {
        let path = entry.path();
        let name = entry.file_name();
        if path.is_dir() {
            if !SKIP.iter().any(|skip| name == *skip) {
                walk(&path, found);
            }
        } else {
            found.push(path);
        }
    }
}
