//! Counts the tags of every matching note in one pass over the `tag` fast field, without
//! loading any document: the facet counts shown beside results.

use std::collections::HashMap;

use tantivy::collector::{Collector, SegmentCollector};
use tantivy::columnar::StrColumn;
use tantivy::{DocId, Score, SegmentOrdinal, SegmentReader};

pub(crate) struct TagCounter;

pub(crate) struct SegmentTagCounter {
    column: Option<StrColumn>,
    counts: Vec<u32>,
}

impl Collector for TagCounter {
    type Fruit = HashMap<String, u64>;
    type Child = SegmentTagCounter;

    fn for_segment(
        &self,
        _segment_local_id: SegmentOrdinal,
        segment: &SegmentReader,
    ) -> tantivy::Result<SegmentTagCounter> {
        let column = segment.fast_fields().str("tag")?;
        let terms = column.as_ref().map_or(0, |c| c.num_terms());
        Ok(SegmentTagCounter {
            column,
            counts: vec![0; terms],
        })
    }

    fn requires_scoring(&self) -> bool {
        false
    }

    fn merge_fruits(&self, fruits: Vec<HashMap<String, u64>>) -> tantivy::Result<Self::Fruit> {
        let mut total: HashMap<String, u64> = HashMap::new();
        for fruit in fruits {
            for (tag, n) in fruit {
                *total.entry(tag).or_default() += n;
            }
        }
        Ok(total)
    }
}

impl SegmentCollector for SegmentTagCounter {
    type Fruit = HashMap<String, u64>;

    fn collect(&mut self, doc: DocId, _score: Score) {
        if let Some(column) = &self.column {
            for ord in column.term_ords(doc) {
                self.counts[ord as usize] += 1;
            }
        }
    }

    fn harvest(self) -> HashMap<String, u64> {
        let mut out = HashMap::new();
        let Some(column) = self.column else {
            return out;
        };
        let mut name = String::new();
        for (ord, &n) in self.counts.iter().enumerate() {
            if n > 0 {
                name.clear();
                if column.ord_to_str(ord as u64, &mut name).unwrap_or(false) {
                    out.insert(name.clone(), n as u64);
                }
            }
        }
        out
    }
}
