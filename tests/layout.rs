//! The layout reads as the data path: no module imports one that imports it back (issue 20).
//! Every `crate::` and `super::` path in `src` (tests modules left out) is resolved to the file
//! of the module it names; two files naming each other are a cycle. A folder's `mod.rs`
//! re-exporting its children is its facade, not a cycle.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// A module by its path from the crate root (`["warnings", "book"]`).
type Module = Vec<String>;

fn sources(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            sources(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The module a file under `src` defines.
fn module_of(src: &Path, file: &Path) -> Module {
    let relative = file.strip_prefix(src).unwrap().with_extension("");
    let mut parts: Module = relative
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    if matches!(
        parts.last().map(String::as_str),
        Some("mod" | "lib" | "main")
    ) {
        parts.pop();
    }
    parts
}

/// The longest prefix of `path` that is a module with a file of its own.
fn resolve(files: &BTreeMap<Module, PathBuf>, path: &[String]) -> Option<Module> {
    (1..=path.len())
        .rev()
        .map(|n| path[..n].to_vec())
        .find(|m| files.contains_key(m))
}

#[derive(Debug, PartialEq)]
enum Token {
    Ident(String),
    Path,
    Open,
    Close,
    Comma,
    Other,
}

/// The tokens of a path expression at the start of `text`, up to where it ends.
fn tokens(text: &str) -> Vec<Token> {
    let mut out = Vec::new();
    let mut depth = 0usize;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        let token = match c {
            c if c.is_alphanumeric() || c == '_' => {
                let mut ident = c.to_string();
                while let Some(&n) = chars.peek().filter(|n| n.is_alphanumeric() || **n == '_') {
                    ident.push(n);
                    chars.next();
                }
                Token::Ident(ident)
            }
            ':' if chars.peek() == Some(&':') => {
                chars.next();
                Token::Path
            }
            '{' => {
                depth += 1;
                Token::Open
            }
            '}' if depth > 0 => {
                depth -= 1;
                Token::Close
            }
            ',' if depth > 0 => Token::Comma,
            c if c.is_whitespace() && depth > 0 => continue,
            _ => Token::Other,
        };
        let done = token == Token::Other || (token == Token::Close && depth == 0);
        out.push(token);
        if done {
            break;
        }
    }
    out
}

/// The modules one path expression names, from `base` (`a::b::{c, d::e}`: a/b/c, a/b/d/e).
fn parse(tokens: &[Token], at: &mut usize, base: Module, out: &mut Vec<Module>) {
    let mut current = base;
    while let Some(token) = tokens.get(*at) {
        *at += 1;
        match token {
            Token::Ident(i) if i == "super" => {
                current.pop();
            }
            Token::Ident(i) if i == "self" => {}
            Token::Ident(i) => current.push(i.clone()),
            Token::Path => continue,
            Token::Open => {
                loop {
                    parse(tokens, at, current.clone(), out);
                    match tokens.get(*at) {
                        Some(Token::Comma) => *at += 1,
                        _ => break,
                    }
                    if tokens.get(*at) == Some(&Token::Close) {
                        break;
                    }
                }
                *at += 1;
                return;
            }
            Token::Close | Token::Comma | Token::Other => {
                *at -= 1;
                break;
            }
        }
        if tokens.get(*at) != Some(&Token::Path) {
            break;
        }
    }
    out.push(current);
}

/// The modules `text` (the file of `module`) names by `crate::` and `super::` paths outside
/// its tests and comments.
fn imports(module: &Module, text: &str) -> BTreeSet<Module> {
    let text = text.split("#[cfg(test)]").next().unwrap_or_default();
    let code: String = text
        .lines()
        .filter(|l| !l.trim_start().starts_with("//"))
        .collect::<Vec<_>>()
        .join("\n");
    let mut found = Vec::new();
    for prefix in ["crate::", "super::"] {
        for (start, _) in code.match_indices(prefix) {
            let glued =
                code[..start].ends_with(|c: char| c.is_alphanumeric() || c == '_' || c == ':');
            if glued {
                continue;
            }
            let (base, from) = match prefix {
                "crate::" => (Vec::new(), start + prefix.len()),
                // `super` itself is the first token: it pops the module's own name.
                _ => (module.clone(), start),
            };
            parse(&tokens(&code[from..]), &mut 0, base, &mut found);
        }
    }
    found.into_iter().collect()
}

#[test]
fn no_module_imports_one_that_imports_it_back() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut list = Vec::new();
    sources(&src, &mut list);
    let files: BTreeMap<Module, PathBuf> = list
        .iter()
        .map(|f| (module_of(&src, f), f.clone()))
        .collect();
    let mut edges: BTreeMap<Module, BTreeSet<Module>> = BTreeMap::new();
    for (module, file) in &files {
        let text = std::fs::read_to_string(file).unwrap();
        for path in imports(module, &text) {
            let Some(target) = resolve(&files, &path) else {
                continue;
            };
            // A module and its own folder facade (`mod.rs`, `lib.rs`) are one unit.
            let facade = |a: &Module, b: &Module| a.len() < b.len() && b.starts_with(a);
            if target != *module && !facade(&target, module) && !facade(module, &target) {
                edges.entry(module.clone()).or_default().insert(target);
            }
        }
    }
    let mut cycles = Vec::new();
    for (from, targets) in &edges {
        for to in targets {
            if from < to && edges.get(to).is_some_and(|back| back.contains(from)) {
                cycles.push(format!("{} <-> {}", from.join("/"), to.join("/")));
            }
        }
    }
    assert!(
        cycles.is_empty(),
        "modules importing each other: {cycles:#?}"
    );
}

#[test]
fn the_checker_sees_a_cycle_through_super_and_crate_paths() {
    let book = vec!["warnings".to_owned(), "book".to_owned()];
    let found = imports(
        &book,
        "use super::summary::{self, Stamp};\nuse crate::rules::{Color, tables::OpenWarning};\nlet x = super::super::api::Thing::new();",
    );
    let path = |p: &str| p.split('/').map(str::to_owned).collect::<Module>();
    for expected in [
        "warnings/summary",
        "warnings/summary/Stamp",
        "rules/Color",
        "rules/tables/OpenWarning",
        "api/Thing/new",
    ] {
        assert!(found.contains(&path(expected)), "{expected} in {found:?}");
    }
}
