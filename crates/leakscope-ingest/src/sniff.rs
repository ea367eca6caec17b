//! What a file is when it is not a capture: named so the error can say
//! "a ZIP archive, not a capture" instead of printing garbled bytes.
//!
//! Only called after format detection failed, so a real capture never
//! reaches it; a wrong guess here changes only the wording of an error.

/// How far into the content the binary check looks.
const PROBE: usize = 1024;

/// What the first bytes say the file is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    /// Text in UTF-16 (a capture saved by PowerShell's `>`, say): readable once converted.
    Utf16,
    /// An HTML page: often what a download saved instead of the file (a login or error page).
    Html,
    /// A known binary format, e.g. "a PNG image".
    Known(Known),
    /// NUL bytes or invalid UTF-8 and no magic we know.
    Binary,
}

/// Binary formats worth naming, with what to do about each.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Known {
    Png,
    Jpeg,
    Gif,
    Webp,
    Pdf,
    Zip,
    SevenZip,
    Tar,
    Zstd,
    Bzip2,
    Xz,
    Sqlite,
    Elf,
    MachO,
    WindowsExe,
}

impl Known {
    /// "a ZIP archive": reads after "this is" and before ", not a capture".
    pub fn what(self) -> &'static str {
        match self {
            Known::Png => "a PNG image",
            Known::Jpeg => "a JPEG image",
            Known::Gif => "a GIF image",
            Known::Webp => "a WebP image",
            Known::Pdf => "a PDF document",
            Known::Zip => "a ZIP archive",
            Known::SevenZip => "a 7-Zip archive",
            Known::Tar => "a tar archive",
            Known::Zstd => "zstd-compressed data",
            Known::Bzip2 => "bzip2-compressed data",
            Known::Xz => "xz-compressed data",
            Known::Sqlite => "an SQLite database",
            Known::Elf => "a program (ELF executable)",
            Known::MachO => "a program (Mach-O executable)",
            Known::WindowsExe => "a program (Windows executable)",
        }
    }

    /// What to do, when there is something better than "pass the capture itself".
    pub fn advice(self) -> Option<&'static str> {
        match self {
            Known::Zip | Known::SevenZip => {
                Some("if it holds a capture, extract it and pass the .har inside")
            }
            Known::Tar => {
                Some("if it holds a capture, extract it (tar -xf) and pass the .har inside")
            }
            Known::Zstd => Some("decompress it first (zstd -d) and pass the result"),
            Known::Bzip2 => Some("decompress it first (bunzip2) and pass the result"),
            Known::Xz => Some("decompress it first (unxz) and pass the result"),
            _ => None,
        }
    }
}

/// Names what `head` (the start of the content, already un-gzipped) is, if it
/// is not plain UTF-8 text; `None` for text.
pub(crate) fn sniff(head: &[u8]) -> Option<Kind> {
    if let Some(k) = magic(head) {
        return Some(Kind::Known(k));
    }
    if utf16(head) {
        return Some(Kind::Utf16);
    }
    if is_binary(head) {
        // "MZ" alone is too weak a magic for text; with binary content it is the PE header.
        if head.starts_with(b"MZ") {
            return Some(Kind::Known(Known::WindowsExe));
        }
        return Some(Kind::Binary);
    }
    let text = skip_bom_ws(head);
    let lower: Vec<u8> = text.iter().take(16).map(u8::to_ascii_lowercase).collect();
    if lower.starts_with(b"<!doctype html") || lower.starts_with(b"<html") {
        return Some(Kind::Html);
    }
    None
}

fn magic(h: &[u8]) -> Option<Known> {
    let at = |off: usize, m: &[u8]| h.get(off..).is_some_and(|s| s.starts_with(m));
    Some(if at(0, b"\x89PNG\r\n\x1a\n") {
        Known::Png
    } else if at(0, b"\xff\xd8\xff") {
        Known::Jpeg
    } else if at(0, b"GIF87a") || at(0, b"GIF89a") {
        Known::Gif
    } else if at(0, b"RIFF") && at(8, b"WEBP") {
        Known::Webp
    } else if at(0, b"%PDF-") {
        Known::Pdf
    } else if at(0, b"PK\x03\x04") || at(0, b"PK\x05\x06") || at(0, b"PK\x07\x08") {
        Known::Zip
    } else if at(0, b"7z\xbc\xaf\x27\x1c") {
        Known::SevenZip
    } else if at(257, b"ustar") {
        Known::Tar
    } else if at(0, b"\x28\xb5\x2f\xfd") {
        Known::Zstd
    } else if at(0, b"BZh") && at(4, b"1AY&SY") {
        Known::Bzip2
    } else if at(0, b"\xfd7zXZ\x00") {
        Known::Xz
    } else if at(0, b"SQLite format 3\x00") {
        Known::Sqlite
    } else if at(0, b"\x7fELF") {
        Known::Elf
    } else if at(0, b"\xcf\xfa\xed\xfe") || at(0, b"\xce\xfa\xed\xfe") {
        Known::MachO
    } else {
        return None;
    })
}

/// A byte order mark, or ASCII text with every other byte NUL.
fn utf16(h: &[u8]) -> bool {
    if h.starts_with(b"\xff\xfe") || h.starts_with(b"\xfe\xff") {
        return true;
    }
    let probe = &h[..h.len().min(PROBE) & !1];
    if probe.len() < 4 {
        return false;
    }
    let (mut le, mut be) = (true, true);
    for pair in probe.chunks_exact(2) {
        le &= pair[1] == 0 && pair[0] != 0 && pair[0].is_ascii();
        be &= pair[0] == 0 && pair[1] != 0 && pair[1].is_ascii();
    }
    le || be
}

/// NUL bytes or invalid UTF-8 in the first KiB (a multi-byte character cut
/// by the probe's end is not invalid).
fn is_binary(h: &[u8]) -> bool {
    let probe = &h[..h.len().min(PROBE)];
    if memchr::memchr(0, probe).is_some() {
        return true;
    }
    match std::str::from_utf8(probe) {
        Ok(_) => false,
        Err(e) => e.error_len().is_some(),
    }
}

fn skip_bom_ws(b: &[u8]) -> &[u8] {
    let b = b.strip_prefix(b"\xef\xbb\xbf").unwrap_or(b);
    let n = b
        .iter()
        .position(|c| !c.is_ascii_whitespace())
        .unwrap_or(b.len());
    &b[n..]
}

/// The first `max` characters of `head` as text, cut at a character boundary
/// (never a replacement character for a cut sequence), controls as spaces.
pub(crate) fn snippet(head: &[u8], max: usize) -> String {
    let probe = &head[..head.len().min(max * 4)];
    let text = match std::str::from_utf8(probe) {
        Ok(s) => s,
        // Valid up to here by construction, so the second parse cannot fail.
        Err(e) => std::str::from_utf8(&probe[..e.valid_up_to()]).unwrap_or_default(),
    };
    text.trim_start_matches('\u{feff}')
        .trim_start()
        .chars()
        .take(max)
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect::<String>()
        .trim_end()
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn known_magics() {
        let mut tar = vec![b'a'; 600];
        tar[257..262].copy_from_slice(b"ustar");
        let cases: &[(&[u8], Known)] = &[
            (b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR", Known::Png),
            (b"\xff\xd8\xff\xe0\0\x10JFIF", Known::Jpeg),
            (b"GIF89a\x01\0", Known::Gif),
            (b"RIFF\x10\0\0\0WEBPVP8 ", Known::Webp),
            (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n", Known::Pdf),
            (b"PK\x03\x04\x14\0\0\0\x08\0", Known::Zip),
            (b"PK\x05\x06\0\0\0\0", Known::Zip),
            (b"7z\xbc\xaf\x27\x1c\0\x04", Known::SevenZip),
            (&tar, Known::Tar),
            (b"\x28\xb5\x2f\xfd\x24\x05", Known::Zstd),
            (b"BZh91AY&SY\x12\x34", Known::Bzip2),
            (b"\xfd7zXZ\0\0\x04", Known::Xz),
            (b"SQLite format 3\0\x10\0", Known::Sqlite),
            (b"\x7fELF\x02\x01\x01\0", Known::Elf),
            (b"\xcf\xfa\xed\xfe\x07\0\0\x01", Known::MachO),
            (b"MZ\x90\0\x03\0\0\0", Known::WindowsExe),
        ];
        for (bytes, want) in cases {
            assert_eq!(sniff(bytes), Some(Kind::Known(*want)), "{bytes:?}");
        }
    }

    #[test]
    fn text_is_not_binary() {
        for text in [
            &b"organization,domain\nx,y\n"[..],
            "caf\u{e9} \u{2014} na\u{ef}ve \u{1f600}\n".as_bytes(),
            b"MZ is a postcode area\n",
            b"BZh9 but then text\n",
            b"",
            b"\xef\xbb\xbf{\"title\": 1}",
        ] {
            assert_eq!(sniff(text), None, "{:?}", String::from_utf8_lossy(text));
        }
    }

    #[test]
    fn binary_html_and_utf16() {
        assert_eq!(sniff(b"\x00\x01\x02garbage"), Some(Kind::Binary));
        assert_eq!(sniff(b"plain start \xc3\x28 invalid"), Some(Kind::Binary));
        assert_eq!(sniff(b"\xff\xfe{\0\"\0"), Some(Kind::Utf16));
        assert_eq!(sniff(b"{\0\"\0l\0o\0g\0\"\0"), Some(Kind::Utf16));
        assert_eq!(sniff(b"\0{\0\"\0l\0o\0g"), Some(Kind::Utf16));
        assert_eq!(
            sniff(b"\n  <!DOCTYPE html><html><body>Sign in"),
            Some(Kind::Html)
        );
        assert_eq!(sniff(b"<HTML><head>"), Some(Kind::Html));
    }

    #[test]
    fn a_character_cut_at_the_probe_end_is_still_text() {
        let mut v = vec![b'a'; PROBE - 1];
        v.extend_from_slice("\u{e9}".as_bytes());
        assert_eq!(sniff(&v), None);
    }

    #[test]
    fn snippet_never_shows_a_cut_character() {
        let s = "\u{feff} \u{1f600}\u{1f600}\u{1f600}";
        for cut in 0..=s.len() {
            let shown = snippet(&s.as_bytes()[..cut], 32);
            assert!(!shown.contains('\u{fffd}'), "{cut}: {shown:?}");
        }
        assert_eq!(snippet(b"a\tb\x01c", 32), "a b c");
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

        #[test]
        fn any_bytes_are_sniffed_without_panic(bytes in proptest::collection::vec(any::<u8>(), 0..2048)) {
            let _ = sniff(&bytes);
            let s = snippet(&bytes, 32);
            prop_assert!(s.chars().count() <= 32);
            prop_assert!(!s.chars().any(char::is_control));
        }

        #[test]
        fn text_without_nul_is_never_called_binary(text in "[^\u{0}]{0,600}") {
            // Neither binary nor a known binary magic: only text kinds (or none).
            let k = sniff(text.as_bytes());
            prop_assert!(matches!(k, None | Some(Kind::Html) | Some(Kind::Known(Known::Pdf | Known::Gif | Known::Tar))), "{k:?}");
        }
    }
}
