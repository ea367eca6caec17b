//! x decoder: placeholder until its decoder lands; emits one event per request with raw fields.

use super::Request;
use crate::model::Event;

pub fn decode(req: &Request<'_>, out: &mut Vec<Event>) -> Result<(), String> {
    let p = req.all_params();
    let mut ev = req.event("request", "query");
    ev.raw = p.into_pairs();
    out.push(ev);
    Ok(())
}
