//! Code matrices: codes × a grouping of notes (persona, participant, session, study, session
//! kind, touchpoint), as NVivo's matrix coding query and MAXQDA's code matrix browser show them.
//!
//! A cell (code C, group G) counts the notes in G coded C (as a whole or on any passage) and
//! the distinct participants those notes are about. A note in several groups (two personas)
//! counts in each; a note in none counts in no column but still in its codes' row totals.
//!
//! Shares, both of notes:
//!
//! - **row share**: of the notes coded C, the part in G (`cell / notes coded C`). A row's
//!   shares add up to more than 1 when notes sit in several groups, less when some sit in none.
//! - **column share**: of the notes in G, the part coded C (`cell / notes in G`), which
//!   compares groups of different sizes. Notes in G that carry no code count here too.
//!
//! The notes in scope are the ones given with their groups (one entry per note; codings of
//! other notes are left out). Codes are the rows that have a note in scope, groups the columns
//! that have one; both sorted by name.

use std::collections::HashMap;
use std::fmt;
use std::io::Write;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use super::AnalysisNote;
use super::cooccurrence::{Coding, CodingIndex};
use super::text::FxMap;
use crate::model::Facet;

/// What the columns are.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum MatrixBy {
    Persona,
    Participant,
    Session,
    Study,
    SessionKind,
    Touchpoint,
}

impl MatrixBy {
    pub fn name(self) -> &'static str {
        match self {
            MatrixBy::Persona => "persona",
            MatrixBy::Participant => "participant",
            MatrixBy::Session => "session",
            MatrixBy::Study => "study",
            MatrixBy::SessionKind => "session-kind",
            MatrixBy::Touchpoint => "touchpoint",
        }
    }
}

impl fmt::Display for MatrixBy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for MatrixBy {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_lowercase().replace('_', "-").as_str() {
            "persona" => Ok(MatrixBy::Persona),
            "participant" => Ok(MatrixBy::Participant),
            "session" => Ok(MatrixBy::Session),
            "study" => Ok(MatrixBy::Study),
            "session-kind" | "kind" => Ok(MatrixBy::SessionKind),
            "touchpoint" => Ok(MatrixBy::Touchpoint),
            _ => Err(format!(
                "cannot make a matrix by {s:?}: use persona, participant, session, study, \
                 session-kind or touchpoint"
            )),
        }
    }
}

/// A note in scope with the groups it belongs to: one row per note, as the store loads them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NoteGroups {
    /// The note's id, as in [`Coding::note`].
    pub note: String,
    /// Its values of the grouping: its personas, its touchpoints, or its one session, study,
    /// session kind or participant. Empty when it has none.
    pub groups: Vec<String>,
    /// The participants it is about (its speaker, else its session's participants).
    pub participants: Vec<String>,
}

/// Notes and distinct participants.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Counts {
    pub notes: u32,
    pub participants: u32,
}

/// One cell of the matrix.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct MatrixCell {
    pub notes: u32,
    pub participants: u32,
    /// `notes / notes coded with the row's code`.
    pub row_share: f64,
    /// `notes / notes in the column's group`.
    pub column_share: f64,
}

/// Codes × groups.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CodeMatrix {
    pub by: MatrixBy,
    /// Row names.
    pub codes: Vec<String>,
    /// Column names.
    pub groups: Vec<String>,
    /// `cells[code][group]`.
    pub cells: Vec<Vec<MatrixCell>>,
    /// Per code: the notes in scope coded with it and their participants.
    pub code_totals: Vec<Counts>,
    /// Per group: its notes in scope (coded or not) and their participants.
    pub group_totals: Vec<Counts>,
    /// The notes in scope.
    pub notes: u32,
}

/// Cross the codes of `codings` with the groups of `notes`. Fastest when both come in the
/// same note order (as when both are loaded by note): then no note is looked up by id.
pub fn code_matrix(by: MatrixBy, codings: &[Coding], notes: &[NoteGroups]) -> CodeMatrix {
    // The codings and the notes' groups are numbered independently: one on each core.
    let (index, listed) = rayon::join(|| CodingIndex::new(codings), || Listed::new(notes));
    let k = index.codes.len();
    let g = listed.group_names.len();
    let mut locate = Locator::new(&index);

    // One pass over the notes in scope: note counts. Cells are laid out a group at a time
    // (`group * k + code`).
    let mut scope: Vec<Option<u32>> = Vec::new(); // per note in scope: its number in `index`
    let mut kept: Vec<u32> = Vec::new(); // per note in scope: its position in `notes`
    let mut people: Vec<(u32, u32)> = Vec::new(); // (participant, position in `scope`)
    let mut code_notes = vec![0u32; k];
    let mut group_notes = vec![0u32; g];
    let mut cell_notes = vec![0u32; g * k];
    let mut codes: Vec<u32> = Vec::new();
    for (x, entry) in notes.iter().enumerate() {
        let Some(n) = locate.note(&entry.note) else {
            continue; // the same note given twice counts once
        };
        let at = scope.len() as u32;
        scope.push(n);
        kept.push(x as u32);
        distinct_codes(&index, n, &mut codes);
        people.extend(listed.participants(x).iter().map(|&p| (p, at)));
        for &c in &codes {
            code_notes[c as usize] += 1;
        }
        for &grp in listed.groups(x) {
            group_notes[grp as usize] += 1;
            let row = grp as usize * k;
            for &c in &codes {
                cell_notes[row + c as usize] += 1;
            }
        }
    }

    // Distinct participants: visit the notes a participant at a time (a counting sort by
    // participant) and count a participant for a row, column or cell the first time it is
    // met there.
    let participant_count = listed.participant_count;
    let mut by_participant = vec![0u32; participant_count + 1];
    for &(p, _) in &people {
        by_participant[p as usize + 1] += 1;
    }
    for p in 0..participant_count {
        by_participant[p + 1] += by_participant[p];
    }
    let mut ordered = vec![0u32; people.len()];
    for &(p, at) in &people {
        let slot = &mut by_participant[p as usize];
        ordered[*slot as usize] = at;
        *slot += 1;
    }
    let mut code_participants = vec![0u32; k];
    let mut group_participants = vec![0u32; g];
    let mut cell_participants = vec![0u32; g * k];
    let (mut code_seen, mut group_seen, mut cell_seen) =
        (vec![u32::MAX; k], vec![u32::MAX; g], vec![u32::MAX; g * k]);
    let mut p = 0u32;
    for (slot, &at) in ordered.iter().enumerate() {
        while by_participant[p as usize] as usize <= slot {
            p += 1; // after placing, by_participant[p] is where participant p's notes end
        }
        distinct_codes(&index, scope[at as usize], &mut codes);
        let mine = listed.groups(kept[at as usize] as usize);
        for &c in &codes {
            first_time(
                &mut code_seen[c as usize],
                p,
                &mut code_participants[c as usize],
            );
        }
        for &grp in mine {
            first_time(
                &mut group_seen[grp as usize],
                p,
                &mut group_participants[grp as usize],
            );
            let row = grp as usize * k;
            for &c in &codes {
                let cell = row + c as usize;
                first_time(&mut cell_seen[cell], p, &mut cell_participants[cell]);
            }
        }
    }

    // Rows and columns that have a note, in name order (codes are numbered in name order).
    let rows: Vec<u32> = (0..k as u32)
        .filter(|&c| code_notes[c as usize] > 0)
        .collect();
    let mut columns: Vec<u32> = (0..g as u32).collect();
    columns.sort_unstable_by_key(|&grp| listed.group_names[grp as usize]);
    let cells = rows
        .iter()
        .map(|&c| {
            columns
                .iter()
                .map(|&grp| {
                    let cell = grp as usize * k + c as usize;
                    let count = cell_notes[cell];
                    MatrixCell {
                        notes: count,
                        participants: cell_participants[cell],
                        row_share: f64::from(count) / f64::from(code_notes[c as usize]),
                        column_share: f64::from(count) / f64::from(group_notes[grp as usize]),
                    }
                })
                .collect()
        })
        .collect();
    CodeMatrix {
        by,
        codes: rows
            .iter()
            .map(|&c| index.codes[c as usize].to_owned())
            .collect(),
        groups: columns
            .iter()
            .map(|&grp| listed.group_names[grp as usize].to_owned())
            .collect(),
        cells,
        code_totals: rows
            .iter()
            .map(|&c| Counts {
                notes: code_notes[c as usize],
                participants: code_participants[c as usize],
            })
            .collect(),
        group_totals: columns
            .iter()
            .map(|&grp| Counts {
                notes: group_notes[grp as usize],
                participants: group_participants[grp as usize],
            })
            .collect(),
        notes: scope.len() as u32,
    }
}

/// Each note's groups by `by`, as [`code_matrix`] reads them: its personas or touchpoints (tag
/// names), its participants, or its one session, study or session kind (`session_kinds`, by
/// session id, is read only for the last).
pub fn note_groups(
    by: MatrixBy,
    notes: &[AnalysisNote],
    session_kinds: &HashMap<String, String>,
) -> Vec<NoteGroups> {
    notes
        .iter()
        .map(|n| NoteGroups {
            note: n.id.clone(),
            groups: match by {
                MatrixBy::Persona => n.tagged(Facet::Persona).map(str::to_owned).collect(),
                MatrixBy::Touchpoint => n.tagged(Facet::Touchpoint).map(str::to_owned).collect(),
                MatrixBy::Participant => n.participants.clone(),
                MatrixBy::Session => vec![n.session.clone()],
                MatrixBy::Study => vec![n.study.clone()],
                MatrixBy::SessionKind => {
                    session_kinds.get(&n.session).cloned().into_iter().collect()
                }
            },
            participants: n.participants.clone(),
        })
        .collect()
}

/// The notes behind the cell of `code` and `group`: the notes of the group coded with the code
/// (as a whole or on any passage), by id, each once; as many as [`code_matrix`] counts there.
/// What the app lists on Enter.
pub fn notes_in_cell(
    codings: &[Coding],
    notes: &[NoteGroups],
    code: &str,
    group: &str,
) -> Vec<String> {
    let coded: FxMap<&str, ()> = codings
        .iter()
        .filter(|c| c.code == code)
        .map(|c| (c.note.as_str(), ()))
        .collect();
    let mut ids: Vec<String> = notes
        .iter()
        .filter(|n| coded.contains_key(n.note.as_str()) && n.groups.iter().any(|g| g == group))
        .map(|n| n.note.clone())
        .collect();
    ids.sort_unstable();
    ids.dedup();
    ids
}

/// The listed notes' groups and participants as numbers, each note's sorted and distinct.
struct Listed<'a> {
    group_names: Vec<&'a str>,
    group_list: Vec<u32>,
    group_starts: Vec<u32>,
    participant_list: Vec<u32>,
    participant_starts: Vec<u32>,
    participant_count: usize,
}

impl<'a> Listed<'a> {
    fn new(notes: &'a [NoteGroups]) -> Listed<'a> {
        let mut group_of: FxMap<&str, u32> = FxMap::default();
        let mut participant_of: FxMap<&str, u32> = FxMap::default();
        let mut listed = Listed {
            group_names: Vec::new(),
            group_list: Vec::with_capacity(notes.len()),
            group_starts: Vec::with_capacity(notes.len() + 1),
            participant_list: Vec::with_capacity(notes.len()),
            participant_starts: Vec::with_capacity(notes.len() + 1),
            participant_count: 0,
        };
        listed.group_starts.push(0);
        listed.participant_starts.push(0);
        for entry in notes {
            let from = listed.group_list.len();
            for g in &entry.groups {
                let next = listed.group_names.len() as u32;
                let id = *group_of.entry(g.as_str()).or_insert(next);
                if id == next {
                    listed.group_names.push(g.as_str());
                }
                listed.group_list.push(id);
            }
            sort_dedup_tail(&mut listed.group_list, from);
            listed.group_starts.push(listed.group_list.len() as u32);
            let from = listed.participant_list.len();
            for p in &entry.participants {
                let next = participant_of.len() as u32;
                let id = *participant_of.entry(p.as_str()).or_insert(next);
                listed.participant_list.push(id);
            }
            sort_dedup_tail(&mut listed.participant_list, from);
            let end = listed.participant_list.len() as u32;
            listed.participant_starts.push(end);
        }
        listed.participant_count = participant_of.len();
        listed
    }

    fn groups(&self, x: usize) -> &[u32] {
        &self.group_list[self.group_starts[x] as usize..self.group_starts[x + 1] as usize]
    }

    fn participants(&self, x: usize) -> &[u32] {
        let (from, to) = (self.participant_starts[x], self.participant_starts[x + 1]);
        &self.participant_list[from as usize..to as usize]
    }
}

/// Sort `list[from..]` and drop its repeats.
fn sort_dedup_tail(list: &mut Vec<u32>, from: usize) {
    list[from..].sort_unstable();
    let mut kept = from;
    for x in from..list.len() {
        if kept == from || list[kept - 1] != list[x] {
            list[kept] = list[x];
            kept += 1;
        }
    }
    list.truncate(kept);
}

/// Count `p` once: `seen` holds the last participant counted (participants come in order).
fn first_time(seen: &mut u32, p: u32, count: &mut u32) {
    if *seen != p {
        *seen = p;
        *count += 1;
    }
}

/// The distinct codes of a note (none for a note without codings).
fn distinct_codes(index: &CodingIndex, note: Option<u32>, out: &mut Vec<u32>) {
    out.clear();
    if let Some(n) = note {
        out.extend(index.items(n as usize).iter().map(|i| i.code));
        out.dedup(); // sorted by code
    }
}

/// Finds listed notes among the coded ones: by walking in step while the two lists agree,
/// by id otherwise; and tells a note listed twice.
struct Locator<'i, 'a> {
    index: &'i CodingIndex<'a>,
    next: usize,
    by_id: Option<FxMap<&'a str, u32>>,
    seen: Vec<bool>,
    uncoded: FxMap<String, ()>,
}

impl<'i, 'a> Locator<'i, 'a> {
    fn new(index: &'i CodingIndex<'a>) -> Self {
        Locator {
            index,
            next: 0,
            by_id: None,
            seen: vec![false; index.note_count()],
            uncoded: FxMap::default(),
        }
    }

    /// `Some(number in the index)` or `Some(None)` for a note without codings, the first time
    /// a note is met; `None` when it was met before.
    fn note(&mut self, id: &str) -> Option<Option<u32>> {
        let found = if self.index.notes.get(self.next) == Some(&id) {
            Some(self.next as u32)
        } else {
            let index = self.index;
            self.by_id
                .get_or_insert_with(|| {
                    index
                        .notes
                        .iter()
                        .enumerate()
                        .map(|(n, id)| (*id, n as u32))
                        .collect()
                })
                .get(id)
                .copied()
        };
        match found {
            Some(n) => {
                self.next = n as usize + 1;
                (!std::mem::replace(&mut self.seen[n as usize], true)).then_some(Some(n))
            }
            None => self
                .uncoded
                .insert(id.to_owned(), ())
                .is_none()
                .then_some(None),
        }
    }
}

/// Which figure a matrix's cells show: in a wide CSV, in the app's matrix view.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CellFigure {
    Notes,
    Participants,
    RowShare,
    ColumnShare,
}

impl CellFigure {
    pub const ALL: [CellFigure; 4] = [
        CellFigure::Notes,
        CellFigure::Participants,
        CellFigure::RowShare,
        CellFigure::ColumnShare,
    ];

    pub fn name(self) -> &'static str {
        match self {
            CellFigure::Notes => "notes",
            CellFigure::Participants => "participants",
            CellFigure::RowShare => "row share",
            CellFigure::ColumnShare => "column share",
        }
    }
}

/// The matrix as long CSV, one line per non-empty cell:
/// `code,<by>,notes,participants,row_share,column_share` (shares to 4 decimals).
pub fn write_csv_long<W: Write>(matrix: &CodeMatrix, out: W) -> csv::Result<()> {
    let mut w = csv::Writer::from_writer(out);
    w.write_record([
        "code",
        matrix.by.name(),
        "notes",
        "participants",
        "row_share",
        "column_share",
    ])?;
    for (code, row) in matrix.codes.iter().zip(&matrix.cells) {
        for (group, cell) in matrix.groups.iter().zip(row) {
            if cell.notes == 0 {
                continue;
            }
            w.write_record([
                code.as_str(),
                group.as_str(),
                &cell.notes.to_string(),
                &cell.participants.to_string(),
                &share(cell.row_share),
                &share(cell.column_share),
            ])?;
        }
    }
    w.flush()?;
    Ok(())
}

/// The matrix as a spreadsheet grid: a header `code,<group>…,total`, then one line per code
/// with `figure` in each cell. The total column gives the code's notes or participants (empty
/// for shares).
pub fn write_csv_wide<W: Write>(
    matrix: &CodeMatrix,
    figure: CellFigure,
    out: W,
) -> csv::Result<()> {
    let mut w = csv::Writer::from_writer(out);
    let mut header = vec!["code"];
    header.extend(matrix.groups.iter().map(String::as_str));
    header.push("total");
    w.write_record(&header)?;
    for ((code, row), total) in matrix
        .codes
        .iter()
        .zip(&matrix.cells)
        .zip(&matrix.code_totals)
    {
        let mut line = vec![code.clone()];
        line.extend(row.iter().map(|cell| match figure {
            CellFigure::Notes => cell.notes.to_string(),
            CellFigure::Participants => cell.participants.to_string(),
            CellFigure::RowShare => share(cell.row_share),
            CellFigure::ColumnShare => share(cell.column_share),
        }));
        line.push(match figure {
            CellFigure::Notes => total.notes.to_string(),
            CellFigure::Participants => total.participants.to_string(),
            CellFigure::RowShare | CellFigure::ColumnShare => String::new(),
        });
        w.write_record(&line)?;
    }
    w.flush()?;
    Ok(())
}

fn share(x: f64) -> String {
    let s = format!("{x:.4}");
    let s = s.trim_end_matches('0');
    s.trim_end_matches('.').to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn groups(note: &str, groups: &[&str], participants: &[&str]) -> NoteGroups {
        NoteGroups {
            note: note.to_owned(),
            groups: groups.iter().map(|s| (*s).to_owned()).collect(),
            participants: participants.iter().map(|s| (*s).to_owned()).collect(),
        }
    }

    /// A hand-worked archive, codes × persona:
    ///
    /// | note | personas          | participants | codes                         |
    /// |------|-------------------|--------------|-------------------------------|
    /// | n1   | @parent           | ana          | =wait (passage), =staff       |
    /// | n2   | @parent, @student | ana          | =wait                         |
    /// | n3   | @student          | ben          | =wait                         |
    /// | n4   | @student          | cy           | (none)                        |
    /// | n5   | (none)            | ben          | =staff                        |
    /// | n9   | (not in scope)    |              | =wait, =gone                  |
    ///
    /// Group totals: @parent 2 notes (n1, n2), 1 participant (ana); @student 3 notes
    /// (n2–n4), 3 participants. Code totals: =staff 2 notes (n1, n5), 2 participants;
    /// =wait 3 notes (n1–n3), 2 participants (=gone only in n9: no row).
    ///
    /// Cells: =staff×@parent 1 note (n1), 1 participant, row 1/2, column 1/2;
    /// =staff×@student 0; =wait×@parent 2 notes, 1 participant (ana), row 2/3, column 2/2;
    /// =wait×@student 2 notes (n2, n3), 2 participants, row 2/3, column 2/3.
    fn archive() -> (Vec<Coding>, Vec<NoteGroups>) {
        let codings = vec![
            Coding::passage("n1", "=wait", 0, 4),
            Coding::whole("n1", "=staff"),
            Coding::whole("n2", "=wait"),
            Coding::passage("n3", "=wait", 2, 9),
            Coding::passage("n3", "=wait", 12, 20),
            Coding::whole("n5", "=staff"),
            Coding::whole("n9", "=wait"),
            Coding::whole("n9", "=gone"),
        ];
        let notes = vec![
            groups("n1", &["@parent"], &["ana"]),
            groups("n2", &["@student", "@parent"], &["ana"]),
            groups("n3", &["@student"], &["ben"]),
            groups("n4", &["@student"], &["cy"]),
            groups("n5", &[], &["ben"]),
        ];
        (codings, notes)
    }

    fn cell(notes: u32, participants: u32, row_share: f64, column_share: f64) -> MatrixCell {
        MatrixCell {
            notes,
            participants,
            row_share,
            column_share,
        }
    }

    #[test]
    fn counts_notes_participants_and_shares_on_the_hand_worked_archive() {
        let (codings, notes) = archive();
        let m = code_matrix(MatrixBy::Persona, &codings, &notes);
        assert_eq!(m.codes, ["=staff", "=wait"]);
        assert_eq!(m.groups, ["@parent", "@student"]);
        assert_eq!(m.notes, 5);
        assert_eq!(
            m.code_totals,
            [
                Counts {
                    notes: 2,
                    participants: 2
                },
                Counts {
                    notes: 3,
                    participants: 2
                }
            ]
        );
        assert_eq!(
            m.group_totals,
            [
                Counts {
                    notes: 2,
                    participants: 1
                },
                Counts {
                    notes: 3,
                    participants: 3
                }
            ]
        );
        assert_eq!(m.cells[0][0], cell(1, 1, 0.5, 0.5));
        assert_eq!(m.cells[0][1], cell(0, 0, 0.0, 0.0));
        assert_eq!(m.cells[1][0], cell(2, 1, 2.0 / 3.0, 1.0));
        assert_eq!(m.cells[1][1], cell(2, 2, 2.0 / 3.0, 2.0 / 3.0));
    }

    #[test]
    fn the_result_does_not_depend_on_input_order_and_a_repeated_note_counts_once() {
        let (mut codings, mut notes) = archive();
        let m = code_matrix(MatrixBy::Persona, &codings, &notes);
        codings.reverse();
        notes.reverse();
        notes.push(notes[0].clone());
        notes.push(notes[1].clone()); // n4, which has no codings
        assert_eq!(code_matrix(MatrixBy::Persona, &codings, &notes), m);
    }

    #[test]
    fn writes_long_and_wide_csv() {
        let (codings, notes) = archive();
        let m = code_matrix(MatrixBy::Persona, &codings, &notes);
        let mut long = Vec::new();
        write_csv_long(&m, &mut long).unwrap();
        assert_eq!(
            String::from_utf8(long).unwrap(),
            "code,persona,notes,participants,row_share,column_share\n\
             =staff,@parent,1,1,0.5,0.5\n\
             =wait,@parent,2,1,0.6667,1\n\
             =wait,@student,2,2,0.6667,0.6667\n"
        );
        let mut wide = Vec::new();
        write_csv_wide(&m, CellFigure::Notes, &mut wide).unwrap();
        assert_eq!(
            String::from_utf8(wide).unwrap(),
            "code,@parent,@student,total\n=staff,1,0,2\n=wait,2,2,3\n"
        );
        let mut shares = Vec::new();
        write_csv_wide(&m, CellFigure::ColumnShare, &mut shares).unwrap();
        assert_eq!(
            String::from_utf8(shares).unwrap(),
            "code,@parent,@student,total\n=staff,0.5,0,\n=wait,1,0.6667,\n"
        );
    }

    #[test]
    fn lists_the_notes_behind_a_cell_as_many_as_it_counts() {
        let (codings, notes) = archive();
        let m = code_matrix(MatrixBy::Persona, &codings, &notes);
        assert_eq!(
            notes_in_cell(&codings, &notes, "=wait", "@student"),
            ["n2", "n3"]
        );
        assert_eq!(notes_in_cell(&codings, &notes, "=staff", "@parent"), ["n1"]);
        assert!(notes_in_cell(&codings, &notes, "=staff", "@student").is_empty());
        // n9 is coded but not in scope; an unknown code or group has no notes.
        assert!(notes_in_cell(&codings, &notes, "=gone", "@parent").is_empty());
        assert!(notes_in_cell(&codings, &notes, "=wait", "@nobody").is_empty());
        for (i, code) in m.codes.iter().enumerate() {
            for (j, group) in m.groups.iter().enumerate() {
                let listed = notes_in_cell(&codings, &notes, code, group).len();
                assert_eq!(listed as u32, m.cells[i][j].notes, "{code} × {group}");
            }
        }
        // A note listed twice is listed once.
        let mut twice = notes.clone();
        twice.push(notes[1].clone());
        assert_eq!(
            notes_in_cell(&codings, &twice, "=wait", "@parent"),
            ["n1", "n2"]
        );
    }

    #[test]
    fn groups_notes_by_each_grouping() {
        let mut n = crate::analysis::fixtures::note("n1", "s1", "Queue #checkout @busy-parent");
        n.study = "Checkout Q3".into();
        n.participants = vec!["Maya".into()];
        let kinds = HashMap::from([("s1".to_owned(), "interview".to_owned())]);
        let of = |by| {
            note_groups(by, std::slice::from_ref(&n), &kinds)[0]
                .groups
                .clone()
        };
        assert_eq!(of(MatrixBy::Persona), ["busy-parent"]);
        assert_eq!(of(MatrixBy::Touchpoint), ["checkout"]);
        assert_eq!(of(MatrixBy::Participant), ["Maya"]);
        assert_eq!(of(MatrixBy::Session), ["s1"]);
        assert_eq!(of(MatrixBy::Study), ["Checkout Q3"]);
        assert_eq!(of(MatrixBy::SessionKind), ["interview"]);
        let none = note_groups(MatrixBy::SessionKind, &[n], &HashMap::new());
        assert!(none[0].groups.is_empty());
        assert_eq!(none[0].participants, ["Maya"]);
    }

    #[test]
    fn by_participant_each_cell_has_one_participant() {
        let (codings, notes) = archive();
        let notes: Vec<NoteGroups> = notes
            .into_iter()
            .map(|n| NoteGroups {
                groups: n.participants.clone(),
                ..n
            })
            .collect();
        let m = code_matrix(MatrixBy::Participant, &codings, &notes);
        assert_eq!(m.groups, ["ana", "ben", "cy"]);
        // =wait: ana in n1, n2; ben in n3.
        assert_eq!(m.cells[1][0].notes, 2);
        assert_eq!(m.cells[1][1].notes, 1);
        assert!(m.cells.iter().flatten().all(|c| c.participants <= 1));
    }

    #[test]
    fn empty_inputs_give_an_empty_matrix() {
        let m = code_matrix(MatrixBy::Study, &[], &[]);
        assert!(m.codes.is_empty() && m.groups.is_empty() && m.cells.is_empty());
        assert_eq!(m.notes, 0);
        // Notes with no codings still make columns (with empty rows).
        let m = code_matrix(MatrixBy::Study, &[], &[groups("n", &["s1"], &["p"])]);
        assert_eq!(m.groups, ["s1"]);
        assert!(m.codes.is_empty());
        let mut out = Vec::new();
        write_csv_wide(&m, CellFigure::Notes, &mut out).unwrap();
        assert_eq!(String::from_utf8(out).unwrap(), "code,s1,total\n");
    }

    #[test]
    fn groupings_parse_from_their_names() {
        assert_eq!("session-kind".parse(), Ok(MatrixBy::SessionKind));
        assert_eq!("Session_Kind".parse(), Ok(MatrixBy::SessionKind));
        assert_eq!("touchpoint".parse(), Ok(MatrixBy::Touchpoint));
        assert!("colour".parse::<MatrixBy>().is_err());
        assert_eq!(MatrixBy::SessionKind.to_string(), "session-kind");
        assert_eq!(
            serde_json::to_string(&MatrixBy::SessionKind).unwrap(),
            "\"session-kind\""
        );
    }
}
