//! How well business names are classified, on real names kept as test data
//! (`tests/data/`): ordinary businesses (shops, media, apps, including names
//! with medical-sounding words) must rarely read as health; health brands,
//! the curated list's and others it does not hold, must mostly be found.

use leakscope_offmeta::{Class, Classifier};

fn names(text: &str) -> Vec<&str> {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .collect()
}

#[test]
fn ordinary_businesses_are_rarely_health() {
    let c = Classifier::builtin();
    let list = names(include_str!("data/not-health.txt"));
    assert!(list.len() >= 300, "{}", list.len());
    let wrong: Vec<(&str, String)> = list
        .iter()
        .map(|n| (*n, c.classify(n)))
        .filter(|(_, k)| k.class == Class::Health)
        .map(|(n, k)| (n, k.why))
        .collect();
    eprintln!(
        "not-health read as health: {} of {}: {wrong:?}",
        wrong.len(),
        list.len()
    );
    assert!(wrong.len() * 100 <= list.len(), "{wrong:#?}");
}

#[test]
fn health_brands_are_found() {
    let c = Classifier::builtin();
    let curated: Vec<&str> = include_str!("../../../data/offmeta/health-brands.tsv")
        .lines()
        .skip(1)
        .filter_map(|l| l.split('\t').next())
        .collect();
    let heldout = names(include_str!("data/health-heldout.txt"));
    assert!(curated.len() >= 200 && heldout.len() >= 100);
    let found = |list: &[&str]| {
        list.iter()
            .filter(|n| c.classify(n).class == Class::Health)
            .count()
    };
    let (fc, fh) = (found(&curated), found(&heldout));
    let missed: Vec<&&str> = heldout
        .iter()
        .filter(|n| c.classify(n).class != Class::Health)
        .collect();
    eprintln!(
        "health found: curated {fc}/{}, held out {fh}/{} (missed: {missed:?})",
        curated.len(),
        heldout.len()
    );
    // The curated list is the 200+ real brands the issue asks for: all found.
    assert_eq!(fc, curated.len());
    // Beyond it, names alone: measured, kept from falling back.
    assert!(fh * 100 >= heldout.len() * 40, "{fh} of {}", heldout.len());
}
