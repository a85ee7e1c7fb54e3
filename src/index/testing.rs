//! What the index's unit tests share: an index in memory whose segments stay apart, and a
//! repeatable stream of numbers to fill it.

use tantivy::indexer::NoMergePolicy;
use tantivy::schema::Schema;
use tantivy::{Index, IndexWriter};

/// An index in memory with one indexing thread and no merges: each commit stays a segment.
pub(crate) fn unmerged_index(schema: Schema) -> (Index, IndexWriter) {
    let index = Index::create_in_ram(schema);
    let writer = index.writer_with_num_threads(1, 15_000_000).unwrap();
    writer.set_merge_policy(Box::new(NoMergePolicy));
    (index, writer)
}

/// Numbers below the `n` asked for, the same from the same seed.
pub(crate) fn numbers(mut seed: u64) -> impl FnMut(usize) -> usize {
    move |n| {
        seed = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (seed >> 33) as usize % n
    }
}
