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
pub fn decode_pixel(req: &Request<'_>, out: &mut Vec<Event>) -> Result<(), String> {
    generic(req, out)
}
pub fn decode_events_api(req: &Request<'_>, out: &mut Vec<Event>) -> Result<(), String> {
    generic(req, out)
}
