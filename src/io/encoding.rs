//! Text in whatever encoding the producing tool wrote: UTF-8 by default, a byte-order mark
//! (UTF-8, UTF-16, UTF-32) when there is one, or the encoding the researcher names with
//! `--encoding` for legacy files (Windows-1252, Latin-1, GB2312, Shift_JIS…).

use std::io::{BufRead, Cursor};

use encoding_rs::Encoding;

use crate::error::{Error, Result};

/// An encoding the researcher named, checked before anything is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TextEncoding {
    Utf8,
    Utf32Le,
    Utf32Be,
    Other(&'static Encoding),
}

impl TextEncoding {
    /// By any of its usual labels (`windows-1252`, `latin1`, `cp1252`, `gb2312`, `utf-16le`…).
    pub fn from_label(label: &str) -> Result<TextEncoding> {
        let l = label.trim().to_ascii_lowercase().replace('_', "-");
        match l.as_str() {
            "utf-32le" | "utf32le" | "utf-32" | "utf32" => return Ok(TextEncoding::Utf32Le),
            "utf-32be" | "utf32be" => return Ok(TextEncoding::Utf32Be),
            "utf8" | "utf-8" => return Ok(TextEncoding::Utf8),
            _ => {}
        }
        let cp = l.strip_prefix("cp").filter(|n| n.parse::<u32>().is_ok());
        let found = Encoding::for_label(l.as_bytes())
            .or_else(|| cp.and_then(|n| Encoding::for_label(format!("windows-{n}").as_bytes())));
        match found {
            Some(e) if e == encoding_rs::UTF_8 => Ok(TextEncoding::Utf8),
            // encoding_rs maps a few labels to a "replacement" decoder that refuses everything.
            Some(e) if e == encoding_rs::REPLACEMENT => Err(unknown(label)),
            Some(e) => Ok(TextEncoding::Other(e)),
            None => Err(unknown(label)),
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            TextEncoding::Utf8 => "UTF-8",
            TextEncoding::Utf32Le => "UTF-32LE",
            TextEncoding::Utf32Be => "UTF-32BE",
            TextEncoding::Other(e) => e.name(),
        }
    }
}

fn unknown(label: &str) -> Error {
    Error::Usage(format!(
        "--encoding {label:?} is not an encoding fieldnotes knows: try utf-8, utf-16le, utf-16be, \
         utf-32le, windows-1252, iso-8859-1, iso-8859-15, gb2312, gbk, big5, shift_jis or euc-kr"
    ))
}

/// The encoding a byte-order mark at the start says, and the mark's length.
fn bom(bytes: &[u8]) -> Option<(TextEncoding, usize)> {
    // UTF-32LE's mark starts with UTF-16LE's: look for it first.
    if bytes.starts_with(&[0xFF, 0xFE, 0x00, 0x00]) {
        return Some((TextEncoding::Utf32Le, 4));
    }
    if bytes.starts_with(&[0x00, 0x00, 0xFE, 0xFF]) {
        return Some((TextEncoding::Utf32Be, 4));
    }
    Encoding::for_bom(bytes).map(|(e, n)| {
        if e == encoding_rs::UTF_8 {
            (TextEncoding::Utf8, n)
        } else {
            (TextEncoding::Other(e), n)
        }
    })
}

/// Decodes a whole file: its byte-order mark wins, then `given`, then UTF-8 (refused with a
/// suggestion of `--encoding` when it is not UTF-8).
pub fn decode(name: &str, mut bytes: Vec<u8>, given: Option<TextEncoding>) -> Result<String> {
    let (encoding, skip) = match bom(&bytes) {
        Some((e, n)) => (e, n),
        None => (given.unwrap_or(TextEncoding::Utf8), 0),
    };
    match encoding {
        TextEncoding::Utf8 => {
            // The bytes become the string: a large file is not held twice.
            bytes.drain(..skip);
            String::from_utf8(bytes).map_err(|e| {
                let valid_up_to = e.utf8_error().valid_up_to();
                not_utf8(name, e.as_bytes(), valid_up_to)
            })
        }
        TextEncoding::Utf32Le | TextEncoding::Utf32Be => utf32(name, &bytes[skip..], encoding),
        TextEncoding::Other(e) => {
            let (text, had_errors) = e.decode_without_bom_handling(&bytes[skip..]);
            if had_errors {
                return Err(Error::Import {
                    file: name.to_owned(),
                    location: "the whole file".into(),
                    reason: format!(
                        "some bytes are not {}: check --encoding (or save the file as UTF-8)",
                        e.name()
                    ),
                });
            }
            Ok(text.into_owned())
        }
    }
}

fn utf32(name: &str, body: &[u8], encoding: TextEncoding) -> Result<String> {
    let mut text = String::with_capacity(body.len() / 4);
    for (i, chunk) in body.chunks(4).enumerate() {
        let word: [u8; 4] = chunk.try_into().map_err(|_| Error::Import {
            file: name.to_owned(),
            location: format!("byte {}", i * 4),
            reason: "the file ends in the middle of a UTF-32 character (is it truncated?)".into(),
        })?;
        let n = match encoding {
            TextEncoding::Utf32Be => u32::from_be_bytes(word),
            _ => u32::from_le_bytes(word),
        };
        text.push(char::from_u32(n).ok_or_else(|| Error::Import {
            file: name.to_owned(),
            location: format!("byte {}", i * 4),
            reason: format!(
                "{n:#x} is not a character: the file is not {}",
                encoding.name()
            ),
        })?);
    }
    Ok(text)
}

/// The "not UTF-8" error: where, and which `--encoding` the bytes look like.
fn not_utf8(name: &str, bytes: &[u8], valid_up_to: usize) -> Error {
    let line = bytes[..valid_up_to].iter().filter(|&&b| b == b'\n').count() + 1;
    Error::Import {
        file: name.to_owned(),
        location: format!("line {line}"),
        reason: not_utf8_reason(bytes),
    }
}

/// Why text that is not UTF-8 is refused, naming the `--encoding` its bytes look like.
pub(crate) fn not_utf8_reason(bytes: &[u8]) -> String {
    let mut detector = chardetng::EncodingDetector::new();
    detector.feed(&bytes[..bytes.len().min(1 << 20)], bytes.len() <= 1 << 20);
    let guess = detector.guess(None, true);
    let suggestion = if guess == encoding_rs::UTF_8 {
        "windows-1252".to_owned()
    } else {
        guess.name().to_ascii_lowercase()
    };
    format!(
        "the text is not UTF-8: it looks like {suggestion}; import it with \
         --encoding {suggestion} (or save the file as UTF-8)"
    )
}

/// A reader giving UTF-8: the input itself when it is UTF-8 (a mark skipped), else the whole
/// input decoded. Invalid UTF-8 further on is the caller's to report (with
/// [`not_utf8_reason`]).
pub fn utf8_reader(
    name: &str,
    mut input: Box<dyn BufRead>,
    given: Option<TextEncoding>,
) -> Result<Box<dyn BufRead>> {
    let head = input
        .fill_buf()
        .map_err(|e| Error::io(format!("cannot read {name}"), e))?;
    match bom(head) {
        Some((TextEncoding::Utf8, n)) => {
            input.consume(n);
            Ok(input)
        }
        None if matches!(given, None | Some(TextEncoding::Utf8)) => Ok(input),
        _ => {
            let bytes = super::read_bytes(name, input)?;
            Ok(Box::new(Cursor::new(
                decode(name, bytes, given)?.into_bytes(),
            )))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utf16le(text: &str, bom: bool) -> Vec<u8> {
        let mut out = if bom { vec![0xFF, 0xFE] } else { vec![] };
        for u in text.encode_utf16() {
            out.extend(u.to_le_bytes());
        }
        out
    }

    #[test]
    fn byte_order_marks_say_the_encoding() {
        let text = "Café ☕ 漢字 🙂";
        assert_eq!(decode("f", utf16le(text, true), None).unwrap(), text);
        let mut be = vec![0xFE, 0xFF];
        for u in text.encode_utf16() {
            be.extend(u.to_be_bytes());
        }
        assert_eq!(decode("f", be, None).unwrap(), text);
        let mut le32 = vec![0xFF, 0xFE, 0x00, 0x00];
        let mut be32 = vec![0x00, 0x00, 0xFE, 0xFF];
        for c in text.chars() {
            le32.extend((c as u32).to_le_bytes());
            be32.extend((c as u32).to_be_bytes());
        }
        assert_eq!(decode("f", le32, None).unwrap(), text);
        assert_eq!(decode("f", be32, None).unwrap(), text);
        let mut utf8 = vec![0xEF, 0xBB, 0xBF];
        utf8.extend(text.as_bytes());
        assert_eq!(decode("f", utf8, None).unwrap(), text);
    }

    #[test]
    fn legacy_encodings_by_name() {
        // "Crème brûlée – 20 €" in Windows-1252.
        let cp1252 = b"Cr\xe8me br\xfbl\xe9e \x96 20 \x80".to_vec();
        let enc = TextEncoding::from_label("windows-1252").unwrap();
        assert_eq!(
            decode("f", cp1252.clone(), Some(enc)).unwrap(),
            "Crème brûlée – 20 €"
        );
        assert_eq!(TextEncoding::from_label("cp1252").unwrap(), enc);
        // "中文" in GB2312.
        let gb = TextEncoding::from_label("gb2312").unwrap();
        assert_eq!(
            decode("f", b"\xd6\xd0\xce\xc4".to_vec(), Some(gb)).unwrap(),
            "中文"
        );
        assert!(matches!(
            TextEncoding::from_label("klingon"),
            Err(Error::Usage(_))
        ));
    }

    #[test]
    fn not_utf8_names_the_line_and_suggests_an_encoding() {
        let text = "first line\nsecond line\nCr\u{e8}me".to_owned();
        let bytes: Vec<u8> = text.chars().map(|c| c as u32 as u8).collect();
        let err = decode("menu.txt", bytes, None).unwrap_err().to_string();
        assert!(err.contains("line 3"), "{err}");
        assert!(err.contains("--encoding"), "{err}");
    }

    #[test]
    fn a_utf8_reader_passes_utf8_through_and_decodes_the_rest() {
        let mut out = String::new();
        utf8_reader(
            "f",
            Box::new(Cursor::new(b"\xEF\xBB\xBFa,b\n".to_vec())),
            None,
        )
        .unwrap()
        .read_to_string(&mut out)
        .unwrap();
        assert_eq!(out, "a,b\n");
        out.clear();
        utf8_reader("f", Box::new(Cursor::new(utf16le("a\tb\n", true))), None)
            .unwrap()
            .read_to_string(&mut out)
            .unwrap();
        assert_eq!(out, "a\tb\n");
    }
}
