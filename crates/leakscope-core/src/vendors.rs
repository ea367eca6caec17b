//! The vendor database (`data/vendors.toml`) compiled into a classifier:
//! host suffix → products → endpoint rules. Built once, queried many times.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use crate::error::VendorDbError;
use crate::model::{Category, EndpointKind, Vendor};

/// The built-in database, shipped with the crate.
pub const BUILTIN_VENDORS_TOML: &str = include_str!("../../../data/vendors.toml");

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VendorDbFile {
    pub organisations: HashMap<String, OrganisationSpec>,
    #[serde(rename = "product")]
    pub products: Vec<ProductSpec>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OrganisationSpec {
    pub name: String,
    #[serde(default)]
    pub url: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProductSpec {
    pub id: String,
    pub organisation: String,
    pub name: String,
    pub category: Category,
    /// Event decoder for this product's event endpoints.
    #[serde(default)]
    pub decoder: Option<Vendor>,
    /// Registrable or full host names; each matches itself and its
    /// subdomains. `google.*` matches google under any public suffix.
    pub hosts: Vec<String>,
    /// Kind of a request on these hosts that no endpoint rule matches.
    #[serde(default = "default_kind")]
    pub default_kind: EndpointKind,
    #[serde(default, rename = "endpoint")]
    pub endpoints: Vec<EndpointSpec>,
}

fn default_kind() -> EndpointKind {
    EndpointKind::Other
}

/// A path rule. All given conditions must hold; none given matches any path.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EndpointSpec {
    pub kind: EndpointKind,
    #[serde(default)]
    pub path_prefix: Option<String>,
    #[serde(default)]
    pub path_contains: Option<String>,
    #[serde(default)]
    pub path_suffix: Option<String>,
}

impl EndpointSpec {
    pub fn matches(&self, path: &str) -> bool {
        self.path_prefix
            .as_deref()
            .is_none_or(|p| path.starts_with(p))
            && self
                .path_contains
                .as_deref()
                .is_none_or(|p| path.contains(p))
            && self
                .path_suffix
                .as_deref()
                .is_none_or(|p| path.ends_with(p))
    }
}

/// A product as the classifier hands it out.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Product {
    pub id: String,
    pub organisation: String,
    pub name: String,
    pub category: Category,
    pub decoder: Option<Vendor>,
    pub default_kind: EndpointKind,
    pub endpoints: Vec<EndpointSpec>,
}

/// What a URL is, by host and path.
#[derive(Debug, Clone, Copy)]
pub struct Classification<'a> {
    pub product: &'a Product,
    pub kind: EndpointKind,
}

impl Classification<'_> {
    /// The decoder to run: only event endpoints are decoded.
    pub fn decoder(&self) -> Option<Vendor> {
        if self.kind == EndpointKind::Event {
            self.product.decoder
        } else {
            None
        }
    }
}

/// Compiled database. Serialisable, so a caller can cache it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct VendorDb {
    products: Vec<Product>,
    /// host suffix → product indexes, in file order.
    by_host: HashMap<String, Vec<usize>>,
    /// `google.*`-style rules: first label → product indexes.
    by_label: HashMap<String, Vec<usize>>,
}

impl VendorDb {
    pub fn builtin() -> VendorDb {
        // The built-in file is tested; failing here is a build defect.
        VendorDb::from_toml(BUILTIN_VENDORS_TOML).expect("built-in data/vendors.toml is valid")
    }

    pub fn from_toml(s: &str) -> Result<VendorDb, VendorDbError> {
        let file: VendorDbFile =
            toml::from_str(s).map_err(|e| VendorDbError::Parse(e.to_string()))?;
        VendorDb::compile(file)
    }

    pub fn compile(file: VendorDbFile) -> Result<VendorDb, VendorDbError> {
        let mut products = Vec::new();
        let mut by_host: HashMap<String, Vec<usize>> = HashMap::new();
        let mut by_label: HashMap<String, Vec<usize>> = HashMap::new();
        for p in file.products {
            let org = file.organisations.get(&p.organisation).ok_or_else(|| {
                VendorDbError::UnknownOrganisation {
                    product: p.id.clone(),
                    organisation: p.organisation.clone(),
                }
            })?;
            let idx = products.len();
            for h in &p.hosts {
                let h = h.trim().to_ascii_lowercase();
                if let Some(label) = h.strip_suffix(".*") {
                    by_label.entry(label.to_owned()).or_default().push(idx);
                } else if h.is_empty() || h.contains('/') {
                    return Err(VendorDbError::BadHost {
                        product: p.id.clone(),
                        host: h,
                    });
                } else {
                    by_host.entry(h).or_default().push(idx);
                }
            }
            products.push(Product {
                id: p.id,
                organisation: org.name.clone(),
                name: p.name,
                category: p.category,
                decoder: p.decoder,
                default_kind: p.default_kind,
                endpoints: p.endpoints,
            });
        }
        Ok(VendorDb {
            products,
            by_host,
            by_label,
        })
    }

    pub fn products(&self) -> &[Product] {
        &self.products
    }

    /// Classifies by host (lower-case, no port) and path. The most specific
    /// host wins; within it, the first product whose endpoint rule matches,
    /// else the first product's default kind.
    pub fn classify(&self, host: &str, path: &str) -> Option<Classification<'_>> {
        let mut suffix = host;
        loop {
            if let Some(c) = self.by_host.get(suffix).and_then(|ix| self.pick(ix, path)) {
                return Some(c);
            }
            match suffix.find('.') {
                Some(i) => suffix = &suffix[i + 1..],
                None => break,
            }
        }
        if !self.by_label.is_empty() {
            let reg = psl::domain_str(host)?;
            let label = reg.split('.').next()?;
            if let Some(ix) = self.by_label.get(label) {
                return self.pick(ix, path);
            }
        }
        None
    }

    fn pick(&self, ix: &[usize], path: &str) -> Option<Classification<'_>> {
        for &i in ix {
            let p = &self.products[i];
            if let Some(ep) = p.endpoints.iter().find(|e| e.matches(path)) {
                return Some(Classification {
                    product: p,
                    kind: ep.kind,
                });
            }
        }
        let p = &self.products[*ix.first()?];
        Some(Classification {
            product: p,
            kind: p.default_kind,
        })
    }

    /// A product by id (used when a first-party proxy is recognised by shape).
    pub fn product(&self, id: &str) -> Option<&Product> {
        self.products.iter().find(|p| p.id == id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_db_compiles_and_covers_every_decoder() {
        let db = VendorDb::builtin();
        for v in Vendor::ALL {
            if v == Vendor::Other {
                continue;
            }
            assert!(
                db.products().iter().any(|p| p.decoder == Some(v)),
                "no product decodes {v}"
            );
        }
    }

    #[test]
    fn classify_meta_paths() {
        let db = VendorDb::builtin();
        let c = db.classify("www.facebook.com", "/tr/").unwrap();
        assert_eq!(c.decoder(), Some(Vendor::MetaPixel));
        let c = db
            .classify("connect.facebook.net", "/en_US/fbevents.js")
            .unwrap();
        assert_eq!(c.kind, EndpointKind::Script);
        assert!(db.classify("example.org", "/tr/").is_none());
    }

    #[test]
    fn bad_db_names_the_problem() {
        let e = VendorDb::from_toml("[organisations]\n[[product]]\nid='x'\norganisation='nope'\nname='X'\ncategory='analytics'\nhosts=['x.com']\n").unwrap_err();
        assert!(e.to_string().contains("nope"), "{e}");
    }
}
