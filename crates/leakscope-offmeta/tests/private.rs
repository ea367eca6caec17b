//! Private by construction: nothing this crate builds on can open a
//! connection. Checked on the lockfile, so a dependency added later that
//! pulls in a network stack fails here.

use std::collections::{BTreeMap, BTreeSet};

#[test]
fn no_network_stack_in_the_dependency_tree() {
    let lock = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../Cargo.lock"))
        .expect("Cargo.lock beside the workspace");
    let doc: toml::Value = toml::from_str(&lock).expect("a lockfile");
    let mut deps: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for p in doc["package"].as_array().unwrap() {
        let name = p["name"].as_str().unwrap().to_owned();
        let list: Vec<String> = p
            .get("dependencies")
            .and_then(|d| d.as_array())
            .map(|d| {
                d.iter()
                    // "name version" when several versions exist.
                    .filter_map(|x| x.as_str()?.split(' ').next().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default();
        deps.entry(name).or_default().extend(list);
    }
    let mut seen = BTreeSet::new();
    let mut stack = vec!["leakscope-offmeta".to_owned()];
    while let Some(n) = stack.pop() {
        if seen.insert(n.clone()) {
            stack.extend(deps.get(&n).cloned().unwrap_or_default());
        }
    }
    assert!(seen.len() > 5, "{seen:?}");
    for net in [
        "tokio",
        "mio",
        "socket2",
        "hyper",
        "reqwest",
        "ureq",
        "h2",
        "rustls",
        "native-tls",
        "curl",
    ] {
        assert!(
            !seen.contains(net),
            "leakscope-offmeta depends on {net}: {seen:?}"
        );
    }
}
