//! The canary persona: a made-up person, unique per scan, whose every value
//! is a planted canary. Anything of it that reaches a third party, in any
//! encoding, is proof of a leak (`leakscope_detect::canary`).

use leakscope_core::scan::CanaryInfo;
use leakscope_detect::{Canary, CanaryKind};
use rand::Rng;

/// Made-up identity typed into search boxes and forms.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Persona {
    /// Random suffix shared by the values, e.g. `7f3k2`.
    pub tag: String,
    pub first_name: String,
    pub last_name: String,
    pub email: String,
    /// `415-555-0137`: the 555-01xx range is reserved for fiction.
    pub phone: String,
    /// ISO `1984-03-17` (what `<input type=date>` takes).
    pub dob: String,
    pub street: String,
    pub city: String,
    pub zip: String,
    /// Free text for message and symptom boxes.
    pub symptom: String,
    /// Typed into site search.
    pub search: String,
}

const FIRST: &[&str] = &["Jane", "Maria", "Alex", "Priya", "Noor", "Elena"];
/// What the persona searches for: a drug refill, as in the Kroger complaints.
const SEARCH: &str = "metformin refill";

impl Persona {
    /// A fresh persona with random suffixes.
    pub fn random() -> Persona {
        Persona::from_rng(&mut rand::thread_rng())
    }

    /// Deterministic for a given generator (tests).
    pub fn from_rng(rng: &mut impl Rng) -> Persona {
        const ALNUM: &[u8] = b"abcdefghjkmnpqrstuvwxyz23456789";
        const ALPHA: &[u8] = b"abcdefghjkmnpqrstuvwxyz";
        let pick = |rng: &mut dyn rand::RngCore, set: &[u8], n: usize| -> String {
            (0..n)
                .map(|_| set[rng.gen_range(0..set.len())] as char)
                .collect()
        };
        let tag = pick(rng, ALNUM, 5);
        let first = FIRST[rng.gen_range(0..FIRST.len())].to_owned();
        // A surname no real person has, so a name hit is ours.
        let last = format!("Canary{}", pick(rng, ALPHA, 4));
        let area = rng.gen_range(201..990);
        let line = rng.gen_range(100..200);
        let year = rng.gen_range(1955..2000);
        let month = rng.gen_range(1..13);
        let day = rng.gen_range(1..29);
        // The same health term every scan: finding ids hash the matched terms,
        // so a fixed term keeps ids (and CI baselines) stable across runs; the
        // tag alone makes the value a unique canary.
        let search = format!("{SEARCH} {tag}");
        Persona {
            email: format!("{}.canary.{tag}@example.com", first.to_ascii_lowercase()),
            phone: format!("{area}-555-0{line}"),
            dob: format!("{year:04}-{month:02}-{day:02}"),
            street: format!("{} Canary Lane {tag}", rng.gen_range(10..999)),
            city: "Springfield".into(),
            zip: format!("{:05}", rng.gen_range(10000..99999)),
            symptom: format!("chest pain and shortness of breath since Tuesday, ref {tag}"),
            search,
            tag,
            first_name: first,
            last_name: last,
        }
    }

    pub fn full_name(&self) -> String {
        format!("{} {}", self.first_name, self.last_name)
    }

    /// A persona value by template key (`email`, `phone`, `name`,
    /// `first_name`, `last_name`, `dob`, `street`, `city`, `zip`, `symptom`,
    /// `search`).
    pub fn field(&self, key: &str) -> Option<String> {
        Some(match key {
            "email" => self.email.clone(),
            "phone" => self.phone.clone(),
            "name" => self.full_name(),
            "first_name" => self.first_name.clone(),
            "last_name" => self.last_name.clone(),
            "dob" => self.dob.clone(),
            "street" | "address" => self.street.clone(),
            "city" => self.city.clone(),
            "zip" => self.zip.clone(),
            "symptom" => self.symptom.clone(),
            "search" => self.search.clone(),
            _ => return None,
        })
    }

    /// Replaces `{canary.KEY}` in `s`; an unknown key is an error naming it.
    pub fn expand(&self, s: &str) -> Result<String, String> {
        let mut out = String::with_capacity(s.len());
        let mut rest = s;
        while let Some(i) = rest.find("{canary.") {
            out.push_str(&rest[..i]);
            let after = &rest[i + "{canary.".len()..];
            let Some(end) = after.find('}') else {
                return Err(format!("unclosed {{canary.…}} in {s:?}"));
            };
            let key = &after[..end];
            out.push_str(
                &self
                    .field(key)
                    .ok_or_else(|| format!("unknown persona field {{canary.{key}}}"))?,
            );
            rest = &after[end + 1..];
        }
        out.push_str(rest);
        Ok(out)
    }

    /// The canaries the detector looks for. The last name alone is distinctive
    /// (random letters), so it is planted too: forms often split names.
    pub fn canaries(&self) -> Vec<Canary> {
        vec![
            Canary::with_kind(&self.email, CanaryKind::Email),
            Canary::with_kind(&self.phone, CanaryKind::Phone),
            Canary::with_kind(self.full_name(), CanaryKind::Name),
            Canary::with_kind(&self.last_name, CanaryKind::Name),
            Canary::with_kind(&self.street, CanaryKind::Other),
            Canary::with_kind(&self.symptom, CanaryKind::Other),
            Canary::with_kind(&self.search, CanaryKind::Search),
        ]
    }

    /// What the scan record lists (all made up, safe to print).
    pub fn infos(&self) -> Vec<CanaryInfo> {
        [
            ("name", self.full_name()),
            ("email", self.email.clone()),
            ("phone", self.phone.clone()),
            ("dob", self.dob.clone()),
            (
                "address",
                format!("{}, {} {}", self.street, self.city, self.zip),
            ),
            ("symptom", self.symptom.clone()),
            ("search", self.search.clone()),
        ]
        .into_iter()
        .map(|(k, v)| CanaryInfo {
            kind: k.into(),
            value: v,
        })
        .collect()
    }

    /// The persona as the JSON the page script fills forms with.
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::json!({
            "first_name": self.first_name, "last_name": self.last_name,
            "name": self.full_name(), "email": self.email, "phone": self.phone,
            "dob": self.dob, "street": self.street, "city": self.city,
            "zip": self.zip, "symptom": self.symptom, "search": self.search,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn personas_are_unique_and_well_formed() {
        let a = Persona::from_rng(&mut rand::rngs::StdRng::seed_from_u64(1));
        let b = Persona::from_rng(&mut rand::rngs::StdRng::seed_from_u64(2));
        assert_ne!(a.email, b.email);
        assert!(a.email.ends_with("@example.com") && a.email.contains(&a.tag));
        assert_eq!(CanaryKind::infer(&a.email), CanaryKind::Email);
        assert_eq!(CanaryKind::infer(&a.phone), CanaryKind::Phone);
        assert!(a.phone.contains("-555-01"), "{}", a.phone);
        assert_eq!(a.dob.len(), 10);
        assert!(a.search.ends_with(&a.tag));
        leakscope_detect::Detector::new(&a.canaries()).expect("canaries compile");
    }

    #[test]
    fn templates_expand_and_unknown_keys_are_named() {
        let p = Persona::from_rng(&mut rand::rngs::StdRng::seed_from_u64(3));
        assert_eq!(
            p.expand("to {canary.email}!").unwrap(),
            format!("to {}!", p.email)
        );
        assert!(p.expand("{canary.ssn}").unwrap_err().contains("canary.ssn"));
        assert!(p.expand("{canary.email").is_err());
    }
}
