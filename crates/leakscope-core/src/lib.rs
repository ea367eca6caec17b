//! leakscope's pure core: the captured-traffic model, body decoding, vendor
//! classification and the tracker decoders. No I/O, no async: every shell
//! (CLI, crawler, gateway, reports) builds on this crate.
//!
//! ```
//! use leakscope_core::{Engine, Exchange, Source};
//! let engine = Engine::new();
//! let ex = Exchange::get(Source::new("example", 0),
//!     "https://www.facebook.com/tr/?id=1234567890123456&ev=PageView&dl=https%3A%2F%2Fshop.example%2Frefill");
//! let events = engine.events(&ex).unwrap();
//! assert_eq!(events[0].vendor.as_str(), "meta_pixel");
//! assert_eq!(events[0].event, "PageView");
//! ```

pub mod body;
pub mod decode;
pub mod engine;
pub mod error;
pub mod html;
pub mod model;
pub mod params;
pub mod party;
pub mod scan;
pub mod survey;
pub mod time;
pub mod vendors;

pub use engine::{Analysis, Analyzer, Engine};
pub use error::{DecodeError, DecodeErrorKind, VendorDbError};
pub use model::*;
