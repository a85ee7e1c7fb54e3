//! WebVTT and SRT transcripts, as video-call and transcription tools export them: each
//! speaker turn (consecutive cues of one speaker) becomes a quote note at its time offset.
//! Speakers are named by `<v Name>` voice tags, `Name:` or `[Name]` at the start of a cue;
//! the researcher's turns are kept without a participant, everyone else becomes one.

use std::sync::LazyLock;

use regex::Regex;

use crate::error::{Error, Result};
use crate::model::{Feedback, NoteKind, Participant};
use crate::store::{ImportSink, NoteRecord};

use super::stable_id::stable_ulid;
use super::{SessionTarget, open_session};

/// One speaker turn.
#[derive(Debug, Clone, PartialEq)]
pub struct Turn {
    pub start_ms: i64,
    pub speaker: Option<String>,
    pub text: String,
}

static VOICE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"<v(?:\.[^ >]*)?\s+([^>]+)>").expect("voice pattern"));
static TAG: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"</?[^>]*>").expect("tag pattern"));
static NAMED: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^(?:-\s*)?(?:\[([^\]]{1,40})\]|(\p{Lu}[\p{L}\p{M}'’.\- ]{0,39}?)\s*:)\s+")
        .expect("speaker pattern")
});

fn parse_time(s: &str) -> Option<i64> {
    let s = s.trim();
    let (clock, frac) = s.rsplit_once(['.', ','])?;
    let ms: i64 = match frac.len() {
        1..=3 => frac.parse::<i64>().ok()? * 10_i64.pow(3 - frac.len() as u32),
        _ => return None,
    };
    let parts: Vec<i64> = clock
        .split(':')
        .map(|p| p.parse().ok())
        .collect::<Option<_>>()?;
    let secs = match parts.as_slice() {
        [h, m, s] if *m < 60 && *s < 60 => h * 3600 + m * 60 + s,
        [m, s] if *s < 60 => m * 60 + s,
        _ => return None,
    };
    Some(secs * 1000 + ms)
}

/// Parses a transcript into speaker turns; errors name the cue and its line.
pub fn parse(name: &str, text: &str) -> Result<Vec<Turn>> {
    let text = text.trim_start_matches('\u{feff}').replace("\r\n", "\n");
    let fail = |line: usize, cue: usize, reason: String| Error::Import {
        file: name.to_owned(),
        location: if cue > 0 {
            format!("cue {cue} (line {line})")
        } else {
            format!("line {line}")
        },
        reason,
    };
    let vtt = text.starts_with("WEBVTT");
    let mut turns: Vec<Turn> = Vec::new();
    let mut line_no = 1;
    let mut cue = 0;
    for block in text.split("\n\n") {
        let first_line = line_no;
        line_no += block.matches('\n').count() + 2;
        let lines: Vec<&str> = block.lines().filter(|l| !l.trim().is_empty()).collect();
        let Some(head) = lines.first() else { continue };
        if vtt
            && (head.starts_with("WEBVTT")
                || ["NOTE", "STYLE", "REGION"]
                    .iter()
                    .any(|k| head.starts_with(k)))
        {
            continue;
        }
        cue += 1;
        let Some(timing_at) = lines.iter().take(2).position(|l| l.contains("-->")) else {
            return Err(fail(
                first_line,
                cue,
                "no timing line such as `00:01:02.500 --> 00:01:05.000`".into(),
            ));
        };
        let timing = lines[timing_at];
        let start = timing.split("-->").next().unwrap_or_default();
        let start_ms = parse_time(start).ok_or_else(|| {
            fail(
                first_line + timing_at,
                cue,
                format!("{:?} is not a time (write 00:01:02.500)", start.trim()),
            )
        })?;
        let raw = lines[timing_at + 1..].join(" ");
        let mut speaker = VOICE.captures(&raw).map(|c| c[1].trim().to_owned());
        let mut body = TAG.replace_all(&raw, "").trim().to_owned();
        if speaker.is_none()
            && let Some(c) = NAMED.captures(&body)
        {
            speaker = c.get(1).or(c.get(2)).map(|m| m.as_str().trim().to_owned());
            body = body[c[0].len()..].trim().to_owned();
        }
        if body.is_empty() {
            continue;
        }
        match turns.last_mut() {
            Some(last) if last.speaker == speaker => {
                last.text.push(' ');
                last.text.push_str(&body);
            }
            _ => turns.push(Turn {
                start_ms,
                speaker,
                text: body,
            }),
        }
    }
    if turns.is_empty() {
        return Err(fail(1, 0, "there are no cues with text in it".into()));
    }
    Ok(turns)
}

/// Who is who in a transcript, and where its notes go.
#[derive(Debug, Clone)]
pub struct TranscriptOptions {
    pub target: SessionTarget,
    /// The researcher's name as the transcript writes it: their turns have no participant.
    pub researcher: Option<String>,
    pub feedback: Option<Feedback>,
}

/// Reads a transcript into the import's transaction.
pub fn import(
    name: &str,
    text: &str,
    opts: &TranscriptOptions,
    sink: &mut ImportSink<'_>,
) -> Result<()> {
    let turns = parse(name, text)?;
    let is_researcher = |s: &str| {
        opts.researcher
            .as_deref()
            .is_some_and(|r| r.trim().eq_ignore_ascii_case(s.trim()))
    };
    let mut target = opts.target.clone();
    if target.new.researcher.is_none() {
        target.new.researcher = opts.researcher.clone();
    }
    for t in &turns {
        if let Some(s) = &t.speaker
            && !is_researcher(s)
            && !target.new.participants.iter().any(|p| p.pseudonym == *s)
        {
            target.new.participants.push(Participant {
                pseudonym: s.clone(),
                consent: false,
                consent_date: None,
                contact: None,
            });
        }
    }
    let (session, start) = open_session(sink, &target)?;
    for t in turns {
        let at = start + chrono::Duration::milliseconds(t.start_ms);
        let speaker = t.speaker.clone().unwrap_or_default();
        let participant = t.speaker.filter(|s| !is_researcher(s));
        let id = stable_ulid(
            Some(at),
            &[&target.label, &t.start_ms.to_string(), &speaker, &t.text],
        );
        sink.note(&NoteRecord {
            participant,
            offset_ms: Some(t.start_ms),
            source: Some(name.to_owned()),
            feedback: opts.feedback.or(Some(Feedback::Direct)),
            ..NoteRecord::written(id, session.clone(), NoteKind::Quote, t.text, at)
        })?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vtt_voices_and_srt_names_become_turns() {
        let vtt = "WEBVTT\n\nNOTE made by a tool\n\n1\n00:00:01.000 --> 00:00:03.000\n<v Ana Ruiz>How was the checkout?</v>\n\n\
                   2\n00:00:04.500 --> 00:00:06.000\n<v Maya>Slow. <i>Really</i> slow</v>\n\n00:00:06.000 --> 00:00:08.000\n<v Maya>#checkout !frustrated</v>\n";
        let turns = parse("t.vtt", vtt).unwrap();
        assert_eq!(turns.len(), 2);
        assert_eq!(turns[1].speaker.as_deref(), Some("Maya"));
        assert_eq!(turns[1].start_ms, 4500);
        assert_eq!(turns[1].text, "Slow. Really slow #checkout !frustrated");

        let srt = "1\r\n00:01:02,500 --> 00:01:04,000\r\nMaya: I waited ages\r\n\r\n2\r\n00:01:05,000 --> 00:01:06,000\r\n[Ana] Why?\r\n";
        let turns = parse("t.srt", srt).unwrap();
        assert_eq!(turns[0].start_ms, 62_500);
        assert_eq!(turns[0].speaker.as_deref(), Some("Maya"));
        assert_eq!(turns[1].speaker.as_deref(), Some("Ana"));
    }

    #[test]
    fn a_bad_cue_is_named() {
        let err = parse(
            "t.srt",
            "1\n00:00:01,000 --> 00:00:02,000\nfine\n\n2\n00:00:xx,000 --> 00:00:03,000\nbad\n",
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains("cue 2 (line 6)"), "{err}");
    }
}
