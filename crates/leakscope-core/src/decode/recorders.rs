//! Google decoders: placeholder until they land.

use super::Request;
use crate::model::Event;

fn generic(req: &Request<'_>, out: &mut Vec<Event>) -> Result<(), String> {
    let p = req.all_params();
    let mut ev = req.event("request", "query");
    ev.raw = p.into_pairs();
    out.push(ev);
    Ok(())
}
pub fn decode_hotjar(req: &Request<'_>, out: &mut Vec<Event>) -> Result<(), String> {
    generic(req, out)
}
pub fn decode_fullstory(req: &Request<'_>, out: &mut Vec<Event>) -> Result<(), String> {
    generic(req, out)
}
pub fn decode_clarity(req: &Request<'_>, out: &mut Vec<Event>) -> Result<(), String> {
    generic(req, out)
}
