//! The module graph, checked: every top-level module has a layer, and a
//! module may import only from layers below its own. Equal layers may not
//! import each other, so the graph cannot have a cycle. Run by `cargo test`;
//! a new top-level module must be given its layer here.
//!
//! It reads the sources rather than the compiler's view, which is enough for
//! `use crate::x` and `crate::x::y` paths, the only way our modules name each
//! other (`super::` never leaves a top-level module).

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// Each top-level module and its layer, lowest first.
const LAYERS: &[(&str, u8)] = &[
    ("i18n", 0),
    // The contract: what goes over the wire, and nothing that acts on it.
    ("protocol", 1),
    // Sealing, signing, key files, TLS, the PKI.
    ("crypto", 2),
    // One HTTP/1.1 connection with its deadlines, as the hub and the staff
    // UI serve it.
    ("http1", 2),
    // The trusted agency directory (kinds from protocol, keys from crypto).
    ("directory", 3),
    ("store", 4),
    // Example and deployment key sets and their directory entries.
    ("provision", 4),
    ("hub", 5),
    ("agency", 5),
    // One process with a hub and nodes, for the demo, bench and tests.
    ("fleet", 6),
    ("cli", 7),
];

fn layer(module: &str) -> Option<u8> {
    LAYERS.iter().find(|(m, _)| *m == module).map(|&(_, l)| l)
}

/// Every `.rs` file under `dir`.
fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The top-level module a file under `src/` belongs to (`None` for the crate
/// roots and for this checker, whose test sources name modules in strings).
fn module_of(relative: &Path) -> Option<String> {
    let first = relative.components().next()?.as_os_str().to_str()?;
    let name = first.strip_suffix(".rs").unwrap_or(first);
    (!matches!(name, "lib" | "main" | "layers")).then(|| name.to_owned())
}

/// The first segment of every `crate::` path in `source`, comments removed:
/// `crate::store::x` gives `store`; `crate::{hub, protocol::Y}` gives both.
fn crate_imports(source: &str) -> BTreeSet<String> {
    let code: String = source
        .lines()
        .map(|l| l.split("//").next().unwrap_or(""))
        .collect::<Vec<_>>()
        .join("\n");
    let mut found = BTreeSet::new();
    for (at, _) in code.match_indices("crate::") {
        let rest = code[at + "crate::".len()..].trim_start();
        if let Some(group) = rest.strip_prefix('{') {
            let (mut depth, mut segment, mut first) = (0, String::new(), true);
            for c in group.chars() {
                match c {
                    '{' => depth += 1,
                    '}' if depth == 0 => break,
                    '}' => depth -= 1,
                    ',' if depth == 0 => first = true,
                    c if depth == 0 && first && (c.is_alphanumeric() || c == '_') => {
                        segment.push(c)
                    }
                    _ if !segment.is_empty() => {
                        found.insert(std::mem::take(&mut segment));
                        first = false;
                    }
                    _ => {}
                }
            }
            if !segment.is_empty() {
                found.insert(segment);
            }
        } else {
            let name: String = rest
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect();
            found.insert(name);
        }
    }
    found.retain(|m| !m.is_empty() && m != "self");
    found
}

/// Every import that points sideways or up, and every module without a layer.
fn violations(src: &Path) -> Vec<String> {
    let mut files = Vec::new();
    rust_files(src, &mut files);
    files.sort();
    let mut wrong = Vec::new();
    for file in files {
        let relative = file.strip_prefix(src).unwrap();
        let Some(module) = module_of(relative) else {
            continue;
        };
        let Some(own) = layer(&module) else {
            wrong.push(format!(
                "src/{}: module `{module}` has no layer in src/layers.rs",
                relative.display()
            ));
            continue;
        };
        let source = std::fs::read_to_string(&file).unwrap();
        for import in crate_imports(&source) {
            if import == module {
                continue;
            }
            match layer(&import) {
                Some(theirs) if theirs < own => {}
                Some(_) => wrong.push(format!(
                    "src/{}: `{module}` imports `crate::{import}`, which is not below it",
                    relative.display()
                )),
                None => wrong.push(format!(
                    "src/{}: imports `crate::{import}`, which has no layer in src/layers.rs",
                    relative.display()
                )),
            }
        }
    }
    wrong
}

#[test]
fn every_module_imports_only_from_the_layers_below_it() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let wrong = violations(&src);
    assert!(
        wrong.is_empty(),
        "the module graph points up or sideways:\n{}",
        wrong.join("\n")
    );
}

#[test]
fn imports_are_found_in_paths_groups_and_nested_groups_but_not_comments() {
    let source = "use crate::protocol::{AgencyId, ids::X};\n\
                  use crate::{\n    directory::Directory,\n    hub::{self, Hub},\n    store,\n};\n\
                  // crate::cli in a comment\n\
                  fn f() { crate::crypto::sign::sign(); }\n";
    let found: Vec<_> = crate_imports(source).into_iter().collect();
    assert_eq!(found, ["crypto", "directory", "hub", "protocol", "store"]);
}

#[test]
fn a_protocol_file_importing_the_directory_is_named() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("protocol")).unwrap();
    std::fs::write(
        dir.path().join("protocol/consent.rs"),
        "use crate::directory::AgencyKind;\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("directory.rs"),
        "use crate::protocol::AgencyId;\n",
    )
    .unwrap();
    std::fs::write(dir.path().join("gadget.rs"), "\n").unwrap();
    let wrong = violations(dir.path());
    assert_eq!(wrong.len(), 2, "{wrong:?}");
    assert!(
        wrong[0].contains("src/gadget.rs") && wrong[0].contains("no layer"),
        "{wrong:?}"
    );
    assert!(
        wrong[1].contains("src/protocol/consent.rs") && wrong[1].contains("crate::directory"),
        "{wrong:?}"
    );
}
