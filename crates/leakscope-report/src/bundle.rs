//! Evidence bundles: a directory with the captures (secrets redacted), the
//! screenshots and DOM snapshots, the results and the HTML report, plus
//!
//! - `manifest.json`: provenance (tool version, browser build and flags, OS,
//!   times) and, for every file in order, its size, SHA-256 and a chain hash
//!   `chain[i] = SHA-256(chain[i-1] "\n" path "\n" sha256[i])`, starting from
//!   a genesis hash over the format and provenance: no entry can be changed,
//!   dropped or reordered without breaking every later link;
//! - `manifest.sig`: an ed25519 signature over the exact bytes of `manifest.json`;
//! - `signing-key.pub`: the public key (PEM). The private key is kept outside
//!   the bundle. A bundle only proves who made it when its public key is
//!   checked against one known beforehand (`verify_with_key`, or comparing
//!   the fingerprint that `verify` reports).

use std::collections::BTreeSet;
use std::path::{Component, Path};

use ed25519_dalek::pkcs8::{DecodePrivateKey, DecodePublicKey, EncodePrivateKey, EncodePublicKey};
use ed25519_dalek::{Signature, Signer, SigningKey, Verifier, VerifyingKey};
use leakscope_core::scan::BrowserInfo;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::Error;
use crate::har::Redaction;

pub const FORMAT: &str = "leakscope-evidence/1";
pub const MANIFEST: &str = "manifest.json";
pub const SIGNATURE: &str = "manifest.sig";
pub const PUBLIC_KEY: &str = "signing-key.pub";

/// One file to put in a bundle, at `path` (relative, `/`-separated).
#[derive(Debug, Clone)]
pub struct BundleFile {
    pub path: String,
    pub bytes: Vec<u8>,
}

/// Where the evidence came from and how it was made.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Provenance {
    pub tool: String,
    pub tool_version: String,
    /// When the bundle was written, RFC 3339 UTC (this machine's clock).
    pub created: String,
    pub os: OsInfo,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub browser: Option<BrowserInfo>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scan_started: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scan_finished: Option<String>,
    /// The inputs as the user named them.
    pub inputs: Vec<String>,
    /// Every value replaced in the capture copies: present, and what kind.
    #[serde(default)]
    pub redactions: Vec<BundleRedaction>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BundleRedaction {
    /// The bundle file the redaction is in.
    pub file: String,
    #[serde(flatten)]
    pub redaction: Redaction,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OsInfo {
    pub os: String,
    pub arch: String,
    /// Kernel release (`/proc/sys/kernel/osrelease`), when readable.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kernel: Option<String>,
    /// `PRETTY_NAME` from `/etc/os-release`, when readable.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub distribution: Option<String>,
}

impl OsInfo {
    pub fn current() -> OsInfo {
        let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease")
            .ok()
            .map(|s| s.trim().to_owned());
        let distribution = std::fs::read_to_string("/etc/os-release")
            .ok()
            .and_then(|t| {
                t.lines()
                    .find_map(|l| l.strip_prefix("PRETTY_NAME="))
                    .map(|v| v.trim_matches('"').to_owned())
            });
        OsInfo {
            os: std::env::consts::OS.to_owned(),
            arch: std::env::consts::ARCH.to_owned(),
            kernel,
            distribution,
        }
    }
}

impl Provenance {
    /// Provenance for now, on this machine.
    pub fn new(
        tool_version: &str,
        inputs: Vec<String>,
        scan: Option<&leakscope_core::scan::ScanInfo>,
    ) -> Provenance {
        Provenance {
            tool: "leakscope".into(),
            tool_version: tool_version.into(),
            created: crate::time::now_rfc3339(),
            os: OsInfo::current(),
            browser: scan.map(|s| s.browser.clone()),
            scan_started: scan.map(|s| s.started.clone()),
            scan_finished: scan.map(|s| s.finished.clone()),
            inputs,
            redactions: Vec::new(),
        }
    }
}

/// The manifest as written.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Manifest {
    pub format: String,
    pub provenance: Provenance,
    pub genesis: String,
    pub files: Vec<ManifestEntry>,
    /// The last chain hash: what the signature ultimately pins.
    pub head: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ManifestEntry {
    pub path: String,
    pub size: u64,
    pub sha256: String,
    pub chain: String,
}

fn sha256_hex(b: &[u8]) -> String {
    hex::encode(Sha256::digest(b))
}

fn genesis(format: &str, provenance: &Provenance) -> Result<String, Error> {
    let p = serde_json::to_vec(provenance).map_err(|source| Error::Json {
        what: "provenance".into(),
        source,
    })?;
    let mut h = Sha256::new();
    h.update(format.as_bytes());
    h.update(b"\n");
    h.update(&p);
    Ok(hex::encode(h.finalize()))
}

fn link(prev: &str, path: &str, sha: &str) -> String {
    let mut h = Sha256::new();
    h.update(prev.as_bytes());
    h.update(b"\n");
    h.update(path.as_bytes());
    h.update(b"\n");
    h.update(sha.as_bytes());
    hex::encode(h.finalize())
}

/// A bundle path is plain relative components, `/`-separated, and not one
/// of the bundle's own control files.
fn safe_path(p: &str) -> bool {
    !p.is_empty()
        && !p.contains('\\')
        && Path::new(p)
            .components()
            .all(|c| matches!(c, Component::Normal(_)))
        && ![MANIFEST, SIGNATURE, PUBLIC_KEY].contains(&p)
}

/// A fresh signing key from the OS's random source.
pub fn generate_key() -> SigningKey {
    SigningKey::generate(&mut rand::rngs::OsRng)
}

/// Reads a PKCS#8 PEM private key.
pub fn read_signing_key(path: &Path) -> Result<SigningKey, Error> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| Error::io(format!("signing key {}", path.display()), e))?;
    SigningKey::from_pkcs8_pem(&text).map_err(|e| Error::Key {
        what: path.display().to_string(),
        message: format!("not an ed25519 PKCS#8 PEM private key ({e})"),
    })
}

/// Writes the private key as PKCS#8 PEM, readable by the owner only.
pub fn write_signing_key(path: &Path, key: &SigningKey) -> Result<(), Error> {
    let pem = key
        .to_pkcs8_pem(Default::default())
        .map_err(|e| Error::Key {
            what: path.display().to_string(),
            message: e.to_string(),
        })?;
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    use std::io::Write;
    let mut f = opts.open(path).map_err(|e| {
        Error::io(
            format!("private key {} (never overwritten)", path.display()),
            e,
        )
    })?;
    f.write_all(pem.as_bytes())
        .map_err(|e| Error::io(format!("private key {}", path.display()), e))
}

/// Public key as SPKI PEM.
pub fn public_key_pem(key: &VerifyingKey) -> Result<String, Error> {
    key.to_public_key_pem(Default::default())
        .map_err(|e| Error::Key {
            what: "public key".into(),
            message: e.to_string(),
        })
}

/// Reads an SPKI PEM public key.
pub fn parse_public_key(text: &str, what: &str) -> Result<VerifyingKey, Error> {
    VerifyingKey::from_public_key_pem(text).map_err(|e| Error::Key {
        what: what.into(),
        message: format!("not an ed25519 public key PEM ({e})"),
    })
}

/// Short fingerprint of a public key: SHA-256 of its 32 bytes, hex.
pub fn fingerprint(key: &VerifyingKey) -> String {
    sha256_hex(key.as_bytes())
}

/// Writes the bundle into `dir` (created; must be empty if it exists).
pub fn write(
    dir: &Path,
    files: &[BundleFile],
    provenance: &Provenance,
    key: &SigningKey,
) -> Result<Manifest, Error> {
    let what = dir.display().to_string();
    if dir.exists() {
        let mut rd = std::fs::read_dir(dir).map_err(|e| Error::io(&what, e))?;
        if rd.next().is_some() {
            return Err(Error::invalid(
                what,
                "evidence directory is not empty; give a new or empty one",
            ));
        }
    }
    std::fs::create_dir_all(dir).map_err(|e| Error::io(&what, e))?;
    let genesis = genesis(FORMAT, provenance)?;
    let mut prev = genesis.clone();
    let mut entries = Vec::with_capacity(files.len());
    let mut seen = BTreeSet::new();
    for f in files {
        if !safe_path(&f.path) || !seen.insert(f.path.clone()) {
            return Err(Error::invalid(
                &f.path,
                "not a usable bundle path (relative, unique, no `..`)",
            ));
        }
        let full = dir.join(&f.path);
        if let Some(parent) = full.parent() {
            std::fs::create_dir_all(parent)
                .map_err(|e| Error::io(parent.display().to_string(), e))?;
        }
        std::fs::write(&full, &f.bytes).map_err(|e| Error::io(full.display().to_string(), e))?;
        let sha = sha256_hex(&f.bytes);
        let chain = link(&prev, &f.path, &sha);
        prev = chain.clone();
        entries.push(ManifestEntry {
            path: f.path.clone(),
            size: f.bytes.len() as u64,
            sha256: sha,
            chain,
        });
    }
    let manifest = Manifest {
        format: FORMAT.into(),
        provenance: provenance.clone(),
        genesis,
        files: entries,
        head: prev,
    };
    let mut bytes = serde_json::to_vec_pretty(&manifest).map_err(|source| Error::Json {
        what: "manifest".into(),
        source,
    })?;
    bytes.push(b'\n');
    let sig = key.sign(&bytes);
    let w = |name: &str, b: &[u8]| {
        std::fs::write(dir.join(name), b)
            .map_err(|e| Error::io(dir.join(name).display().to_string(), e))
    };
    w(MANIFEST, &bytes)?;
    w(
        SIGNATURE,
        format!("{}\n", hex::encode(sig.to_bytes())).as_bytes(),
    )?;
    w(PUBLIC_KEY, public_key_pem(&key.verifying_key())?.as_bytes())?;
    Ok(manifest)
}

/// What `verify` found. `ok()` only when nothing at all is wrong.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct VerifyReport {
    pub signature_valid: bool,
    /// Fingerprint of the bundle's public key: compare with one you trust.
    pub key_fingerprint: Option<String>,
    /// False when `verify_with_key` was given another key.
    pub key_trusted: Option<bool>,
    pub chain_valid: bool,
    pub files_checked: usize,
    pub changed: Vec<String>,
    pub missing: Vec<String>,
    pub added: Vec<String>,
    /// Anything else: unreadable manifest, unsafe paths, bad key files.
    pub problems: Vec<String>,
}

impl VerifyReport {
    pub fn ok(&self) -> bool {
        self.signature_valid
            && self.chain_valid
            && self.key_trusted != Some(false)
            && self.changed.is_empty()
            && self.missing.is_empty()
            && self.added.is_empty()
            && self.problems.is_empty()
    }
}

/// Checks a bundle against its own public key.
pub fn verify(dir: &Path) -> VerifyReport {
    verify_with_key(dir, None)
}

/// Checks a bundle; with `trusted`, also that it was signed by that key.
pub fn verify_with_key(dir: &Path, trusted: Option<&VerifyingKey>) -> VerifyReport {
    let mut r = VerifyReport::default();
    let read = |name: &str| std::fs::read(dir.join(name));
    let manifest_bytes = match read(MANIFEST) {
        Ok(b) => b,
        Err(e) => {
            r.problems.push(format!("{MANIFEST}: {e}"));
            r.missing.push(MANIFEST.into());
            return r;
        }
    };
    let key = match read(PUBLIC_KEY) {
        Ok(b) => match parse_public_key(&String::from_utf8_lossy(&b), PUBLIC_KEY) {
            Ok(k) => Some(k),
            Err(e) => {
                r.problems.push(e.to_string());
                None
            }
        },
        Err(e) => {
            r.problems.push(format!("{PUBLIC_KEY}: {e}"));
            r.missing.push(PUBLIC_KEY.into());
            None
        }
    };
    if let Some(k) = &key {
        r.key_fingerprint = Some(fingerprint(k));
        if let Some(t) = trusted {
            r.key_trusted = Some(t.as_bytes() == k.as_bytes());
        }
    }
    let sig = match read(SIGNATURE) {
        Ok(b) => {
            let text = String::from_utf8_lossy(&b);
            match hex::decode(text.trim())
                .ok()
                .and_then(|v| <[u8; 64]>::try_from(v).ok())
            {
                Some(s) => Some(Signature::from_bytes(&s)),
                None => {
                    r.problems
                        .push(format!("{SIGNATURE}: not a hex ed25519 signature"));
                    None
                }
            }
        }
        Err(e) => {
            r.problems.push(format!("{SIGNATURE}: {e}"));
            r.missing.push(SIGNATURE.into());
            None
        }
    };
    if let (Some(k), Some(s)) = (&key, &sig) {
        r.signature_valid = k.verify(&manifest_bytes, s).is_ok();
        if !r.signature_valid {
            r.problems.push(format!(
                "{SIGNATURE}: does not match {MANIFEST} and {PUBLIC_KEY}"
            ));
            r.changed.push(MANIFEST.into());
        }
    }
    let manifest: Manifest = match serde_json::from_slice(&manifest_bytes) {
        Ok(m) => m,
        Err(e) => {
            r.problems
                .push(format!("{MANIFEST}: not a leakscope manifest ({e})"));
            return r;
        }
    };
    if manifest.format != FORMAT {
        r.problems.push(format!(
            "{MANIFEST}: format {:?}, expected {FORMAT:?}",
            manifest.format
        ));
    }
    // The chain, recomputed from the recorded hashes.
    let mut chain_ok = genesis(&manifest.format, &manifest.provenance)
        .ok()
        .as_deref()
        == Some(&manifest.genesis);
    let mut prev = manifest.genesis.clone();
    for e in &manifest.files {
        let c = link(&prev, &e.path, &e.sha256);
        chain_ok &= c == e.chain;
        prev = c;
    }
    chain_ok &= prev == manifest.head;
    r.chain_valid = chain_ok;
    if !chain_ok {
        r.problems.push(format!(
            "{MANIFEST}: hash chain broken (an entry was edited, dropped or reordered)"
        ));
    }
    // Every listed file, then anything not listed.
    let mut listed = BTreeSet::new();
    for e in &manifest.files {
        if !safe_path(&e.path) {
            r.problems
                .push(format!("{MANIFEST}: unsafe path {:?} not read", e.path));
            continue;
        }
        listed.insert(e.path.clone());
        r.files_checked += 1;
        let full = dir.join(&e.path);
        match std::fs::symlink_metadata(&full) {
            Err(_) => r.missing.push(e.path.clone()),
            Ok(m) if !m.is_file() => r.changed.push(e.path.clone()),
            Ok(_) => match std::fs::read(&full) {
                Ok(b) if sha256_hex(&b) == e.sha256 && b.len() as u64 == e.size => {}
                Ok(_) => r.changed.push(e.path.clone()),
                Err(err) => r.problems.push(format!("{}: {err}", e.path)),
            },
        }
    }
    let mut present = Vec::new();
    list_files(dir, "", &mut present, &mut r.problems);
    for p in present {
        if !listed.contains(&p) && ![MANIFEST, SIGNATURE, PUBLIC_KEY].contains(&p.as_str()) {
            r.added.push(p);
        }
    }
    r.changed.sort();
    r.changed.dedup();
    r.missing.sort();
    r.added.sort();
    r
}

fn list_files(dir: &Path, prefix: &str, out: &mut Vec<String>, problems: &mut Vec<String>) {
    let rd = match std::fs::read_dir(dir) {
        Ok(rd) => rd,
        Err(e) => {
            problems.push(format!("{}: {e}", dir.display()));
            return;
        }
    };
    for ent in rd.flatten() {
        let name = ent.file_name().to_string_lossy().into_owned();
        let rel = if prefix.is_empty() {
            name
        } else {
            format!("{prefix}/{name}")
        };
        match ent.file_type() {
            // Directories are walked; symlinks are never followed, only named.
            Ok(t) if t.is_dir() => list_files(&ent.path(), &rel, out, problems),
            _ => out.push(rel),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(dir: &Path) -> SigningKey {
        let key = generate_key();
        let files = vec![
            BundleFile {
                path: "results.json".into(),
                bytes: b"{}".to_vec(),
            },
            BundleFile {
                path: "captures/site.har".into(),
                bytes: b"{\"log\":{}}".to_vec(),
            },
            BundleFile {
                path: "screenshots/1.png".into(),
                bytes: vec![1, 2, 3],
            },
        ];
        let prov = Provenance::new("0.0.0-test", vec!["site.har".into()], None);
        write(dir, &files, &prov, &key).unwrap();
        key
    }

    #[test]
    fn an_untouched_bundle_verifies_and_pins_its_key() {
        let t = tempfile::tempdir().unwrap();
        let dir = t.path().join("b");
        let key = sample(&dir);
        let r = verify_with_key(&dir, Some(&key.verifying_key()));
        assert!(r.ok(), "{r:?}");
        assert_eq!(r.files_checked, 3);
        let other = generate_key();
        let r = verify_with_key(&dir, Some(&other.verifying_key()));
        assert_eq!(r.key_trusted, Some(false));
        assert!(!r.ok());
    }

    #[test]
    fn refuses_unsafe_paths_and_non_empty_dirs() {
        let t = tempfile::tempdir().unwrap();
        let key = generate_key();
        let prov = Provenance::new("0", vec![], None);
        let bad = [BundleFile {
            path: "../x".into(),
            bytes: vec![],
        }];
        assert!(write(&t.path().join("a"), &bad, &prov, &key).is_err());
        let dir = t.path().join("b");
        sample(&dir);
        assert!(
            write(&dir, &[], &prov, &key)
                .unwrap_err()
                .to_string()
                .contains("not empty")
        );
    }

    #[test]
    fn a_re_signed_manifest_with_a_broken_chain_fails() {
        let t = tempfile::tempdir().unwrap();
        let dir = t.path().join("b");
        let key = sample(&dir);
        // An attacker with the key swaps a file and fixes its hash, but not the chain.
        std::fs::write(dir.join("results.json"), b"{\"forged\":1}").unwrap();
        let mut m: Manifest =
            serde_json::from_slice(&std::fs::read(dir.join(MANIFEST)).unwrap()).unwrap();
        m.files[0].sha256 = sha256_hex(b"{\"forged\":1}");
        m.files[0].size = 12;
        let bytes = serde_json::to_vec_pretty(&m).unwrap();
        std::fs::write(dir.join(MANIFEST), &bytes).unwrap();
        std::fs::write(
            dir.join(SIGNATURE),
            hex::encode(key.sign(&bytes).to_bytes()),
        )
        .unwrap();
        let r = verify(&dir);
        assert!(r.signature_valid);
        assert!(!r.chain_valid, "{r:?}");
        assert!(!r.ok());
    }
}
