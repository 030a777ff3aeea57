//! Counting the aliases and directives an operation would run, each fragment counted at every
//! spread of it.

use std::collections::HashMap;

use async_graphql::parser::types::{
    DocumentOperations, ExecutableDocument, Selection, SelectionSet,
};

/// Aliases and directives an operation would run: a fragment counts at every spread of it, so
/// spreading one fragment many times cannot multiply the work past the caps.
#[derive(Default)]
pub(super) struct Counts {
    pub(super) aliases: usize,
    pub(super) directives: usize,
}

impl Counts {
    pub(super) fn document(&mut self, document: &ExecutableDocument) {
        let mut fragments = HashMap::new();
        let operations: Vec<_> = match &document.operations {
            DocumentOperations::Single(op) => vec![&op.node],
            DocumentOperations::Multiple(ops) => ops.values().map(|op| &op.node).collect(),
        };
        for op in operations {
            self.directives += op.directives.len();
            let inner = selection_counts(document, &op.selection_set.node, &mut fragments, 0);
            self.aliases = self.aliases.saturating_add(inner.aliases);
            self.directives = self.directives.saturating_add(inner.directives);
        }
    }
}

/// Counts of one selection set, spreads expanded (memoized per fragment; a cycle or a nesting
/// past 64 levels counts as over any cap, and the parser refuses cycles anyway).
fn selection_counts(
    document: &ExecutableDocument,
    set: &SelectionSet,
    fragments: &mut HashMap<String, (usize, usize)>,
    depth: usize,
) -> Counts {
    let mut counts = Counts::default();
    if depth > 64 {
        return Counts {
            aliases: usize::MAX,
            directives: usize::MAX,
        };
    }
    for item in &set.items {
        let (aliases, directives) = match &item.node {
            Selection::Field(field) => {
                let inner = selection_counts(
                    document,
                    &field.node.selection_set.node,
                    fragments,
                    depth + 1,
                );
                (
                    usize::from(field.node.alias.is_some()).saturating_add(inner.aliases),
                    field.node.directives.len().saturating_add(inner.directives),
                )
            }
            Selection::FragmentSpread(spread) => {
                let name = spread.node.fragment_name.node.as_str();
                let (aliases, directives) = match fragments.get(name) {
                    Some(known) => *known,
                    None => {
                        let found = document.fragments.get(&spread.node.fragment_name.node).map(
                            |fragment| {
                                let inner = selection_counts(
                                    document,
                                    &fragment.node.selection_set.node,
                                    fragments,
                                    depth + 1,
                                );
                                (
                                    inner.aliases,
                                    fragment
                                        .node
                                        .directives
                                        .len()
                                        .saturating_add(inner.directives),
                                )
                            },
                        );
                        let found = found.unwrap_or_default();
                        fragments.insert(name.to_owned(), found);
                        found
                    }
                };
                (
                    aliases,
                    directives.saturating_add(spread.node.directives.len()),
                )
            }
            Selection::InlineFragment(inline) => {
                let inner = selection_counts(
                    document,
                    &inline.node.selection_set.node,
                    fragments,
                    depth + 1,
                );
                (
                    inner.aliases,
                    inline
                        .node
                        .directives
                        .len()
                        .saturating_add(inner.directives),
                )
            }
        };
        counts.aliases = counts.aliases.saturating_add(aliases);
        counts.directives = counts.directives.saturating_add(directives);
    }
    counts
}
