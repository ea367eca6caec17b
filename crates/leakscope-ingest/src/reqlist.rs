//! adblock-rust style request lists: a JSON array of `{url, sourceUrl, type}`,
//! streamed element by element. `Source.entry` is the array index.

use std::io::Read;

use leakscope_core::{Exchange, Source};
use serde::Deserialize;

use crate::chunked::{Chunked, Family, LStr, Parsed, Where};
use crate::{Ctx, Format, IngestError, Position};

#[derive(Deserialize)]
struct Item<'a> {
    #[serde(default, borrow)]
    url: LStr<'a>,
    #[serde(default, borrow, rename = "sourceUrl")]
    source_url: LStr<'a>,
    #[serde(default, borrow, rename = "type")]
    kind: LStr<'a>,
}

struct ItemF;
impl Family for ItemF {
    type T<'de> = Item<'de>;
}

pub(crate) fn read<R: Read>(c: &mut Chunked<R>, ctx: &mut Ctx<'_>) -> Result<(), IngestError> {
    let w = Where {
        label: ctx.label,
        format: Format::RequestList,
        entry: None,
    };
    c.array(&w, |c, i| {
        let at = c.offset();
        let ew = Where {
            entry: Some(i),
            ..w
        };
        let file = ctx.file.clone();
        let got = c.value::<ItemF, _>(&ew, |it| {
            let url = it.url.owned().filter(|u| !u.is_empty())?;
            let mut ex = Exchange::get(Source { file, entry: i }, url);
            ex.page_url = it.source_url.owned().filter(|u| !u.is_empty());
            ex.resource_type = it.kind.owned().filter(|u| !u.is_empty());
            Some(ex)
        })?;
        let pos = Position::entry(i, at);
        match got {
            Parsed::Value(Some(ex)) => ctx.emit(ex),
            Parsed::Value(None) => ctx.skip(pos, "request has no \"url\"; skipped"),
            Parsed::Shape(msg) => ctx.skip(pos, format!("not a request object ({msg}); skipped")),
        }
        Ok(())
    })
}
