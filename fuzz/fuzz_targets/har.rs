//! leakscope_ingest::read_reader on arbitrary bytes: the streaming HAR /
//! DevTools-log reader must report bad input as warnings or errors, never
//! panic. Written against the ingest API being built in parallel:
//! `read_reader(reader, label, &mut |exchange| .., &mut |warning| ..)`.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut n = 0usize;
    let _ = leakscope_ingest::read_reader(
        data,
        "fuzz.har",
        &mut |ex| {
            n += 1;
            std::hint::black_box(ex);
        },
        &mut |w| {
            std::hint::black_box(w);
        },
    );
    std::hint::black_box(n);
});
