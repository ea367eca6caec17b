//! A synthetic HAR larger than one read chunk (8 MiB), so real entries with big
//! response bodies straddle chunk boundaries, read plain and gzip-compressed.

mod support {
    pub mod synth;
}

use std::io::Write;

use leakscope_ingest::{Format, read_reader};

/// A reader that hands out at most 4093 bytes per call, like a pipe.
struct Dribble<'a>(&'a [u8]);

impl std::io::Read for Dribble<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = buf.len().min(self.0.len()).min(4093);
        buf[..n].copy_from_slice(&self.0[..n]);
        self.0 = &self.0[n..];
        Ok(n)
    }
}

#[test]
fn large_synthetic_har_streams_across_chunks() {
    let mut har = Vec::new();
    let (_, entries) = support::synth::write_har(&mut har, 20 << 20, 3).expect("synth");
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(&har).expect("gz");
    let gz = gz.finish().expect("gz");

    for (name, bytes) in [("synthetic.har", &har), ("synthetic.har.gz", &gz)] {
        let mut n = 0u64;
        let mut canary_posts = 0u64;
        let mut last_entry = None;
        let s = read_reader(
            Dribble(bytes),
            name,
            &mut |e| {
                assert_eq!(e.source.entry, n, "entries arrive in order");
                n += 1;
                last_entry = Some(e.source.entry);
                if e.method == "POST"
                    && e.body.as_ref().is_some_and(|b| {
                        String::from_utf8_lossy(&b.bytes).contains("jane.doe.canary%40example.com")
                    })
                {
                    canary_posts += 1;
                }
                assert_eq!(
                    e.page_url.as_deref(),
                    Some("https://clinic.example/appointments")
                );
                assert_eq!(
                    e.initiator.as_deref(),
                    Some("https://connect.facebook.net/en_US/fbevents.js")
                );
                assert_eq!(e.cookies().count(), 2);
            },
            &mut |w| panic!("{w}"),
        )
        .expect("reads");
        assert_eq!(s.format, Format::Har);
        assert_eq!(s.exchanges, entries, "{name}");
        assert_eq!(last_entry, Some(entries - 1));
        assert!(canary_posts > 0);
    }
}
