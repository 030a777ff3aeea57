//! Responses in the query's order. The spec (§7.2.2) orders every response map as the query's
//! selection set (CollectFields); async-graphql resolves an object's fields concurrently and
//! inserts each as it finishes, so an organization's `events` could come back before its
//! `name` when their loads finished in that order. Once the operation has run,
//! [`order_response`] puts each object's keys back in CollectFields order:
//! fragments expanded where they are spread, type conditions applied to the object's own type,
//! `@skip` and `@include` read as async-graphql read them.
//!
//! An object under an interface or a union is ordered by its own type: the one its
//! `__typename` names when the query asked for it, or else the first possible type whose
//! fields include every key the object has (types sharing those keys order them alike unless
//! a query spreads the same key in different places per type, which then needs `__typename`).

use std::collections::HashMap;

use async_graphql::{
    Name, Positioned, Value, Variables,
    indexmap::IndexMap,
    parser::types::{
        Directive, DocumentOperations, ExecutableDocument, Field, FragmentDefinition,
        OperationType, Selection, SelectionSet,
    },
    registry::{MetaType, MetaTypeName, Registry},
};

/// Puts `data`, the response of `operation_name` in `document`, in the order of the query's
/// selection sets. `registry` is the schema's (async-graphql's introspection types included).
pub fn order_response(
    registry: &Registry,
    document: &ExecutableDocument,
    variables: &Variables,
    operation_name: Option<&str>,
    data: &mut Value,
) {
    let operation = match (&document.operations, operation_name) {
        (DocumentOperations::Single(operation), _) => operation,
        (DocumentOperations::Multiple(operations), Some(name)) => match operations.get(name) {
            Some(operation) => operation,
            None => return,
        },
        (DocumentOperations::Multiple(operations), None) => match operations.values().next() {
            Some(operation) if operations.len() == 1 => operation,
            _ => return,
        },
    };
    let root = match operation.node.ty {
        OperationType::Query => Some(registry.query_type.as_str()),
        OperationType::Mutation => registry.mutation_type.as_deref(),
        OperationType::Subscription => None,
    };
    let Some(root) = root else { return };
    let walk = Walk {
        registry,
        fragments: &document.fragments,
        variables,
    };
    walk.order(vec![data], root, &[&operation.node.selection_set.node]);
}

/// The fields a selection set yields for one object type, by response key in CollectFields
/// order; each key with every field that answers it (`a { x } a { y }` merge).
type Collected<'a> = IndexMap<&'a str, Vec<&'a Field>>;

/// An object of the response.
type Object = IndexMap<Name, Value>;

/// The object types met at one level: each with its collected fields and its objects.
type ByType<'a, 'v> = Vec<(&'a str, Collected<'a>, Vec<&'v mut Object>)>;

struct Walk<'a> {
    registry: &'a Registry,
    fragments: &'a HashMap<Name, Positioned<FragmentDefinition>>,
    variables: &'a Variables,
}

impl<'a> Walk<'a> {
    /// Orders `values` (objects, or lists of them at any depth, or nulls), all answers to
    /// fields of the declared type `declared` with the selection sets `sets`, then their
    /// children, one batch per key, so each selection set is collected once per level.
    fn order<'v>(&self, values: Vec<&'v mut Value>, declared: &str, sets: &[&'a SelectionSet]) {
        let Some(declared) = self.registry.types.get(declared) else {
            return;
        };
        let mut objects = Vec::new();
        let mut pending = values;
        while let Some(value) = pending.pop() {
            match value {
                Value::List(items) => pending.extend(items.iter_mut()),
                Value::Object(map) => objects.push(map),
                _ => {}
            }
        }
        // Popping reversed them; the order of siblings does not matter here, but keep it.
        objects.reverse();

        // Each object type met here with its fields, collected once, and its objects; under an
        // interface or a union each possible type is collected at most once for all objects.
        let mut by_type: ByType<'a, 'v> = Vec::new();
        let typename_keys = self.typename_keys(declared, sets);
        for object in objects {
            if let Some(i) = self.object_type(declared, object, &typename_keys, sets, &mut by_type)
            {
                by_type[i].2.push(object);
            }
        }

        for (ty, fields, members) in by_type.into_iter().filter(|(.., m)| !m.is_empty()) {
            let Some(meta) = self.registry.types.get(ty) else {
                continue;
            };
            // Per key of `fields`: the answers of every member, to order as one batch.
            let mut children: Vec<Vec<&'v mut Value>> = fields.iter().map(|_| Vec::new()).collect();
            for map in members {
                if in_order(map, &fields) {
                    // Nearly always (the read path resolves in the query's order): each key's
                    // place found by walking both in step, comparing names, hashing none.
                    let mut at = 0;
                    for (key, value) in map.iter_mut() {
                        while fields
                            .get_index(at)
                            .is_some_and(|(name, _)| *name != key.as_str())
                        {
                            at += 1;
                        }
                        if let Some(batch) = children.get_mut(at) {
                            batch.push(value);
                            at += 1;
                        }
                    }
                    continue;
                }
                sort_keys(map, &fields);
                for (key, value) in map.iter_mut() {
                    if let Some(i) = fields.get_index_of(key.as_str()) {
                        children[i].push(value);
                    }
                }
            }
            for ((_, group), batch) in fields.iter().zip(children) {
                let sets: Vec<&'a SelectionSet> = group
                    .iter()
                    .map(|field| &field.selection_set.node)
                    .filter(|set| !set.items.is_empty())
                    .collect();
                if batch.is_empty() || sets.is_empty() {
                    continue;
                }
                let Some(field) = meta.field_by_name(group[0].name.node.as_str()) else {
                    continue; // __schema, __type: resolved in order already
                };
                self.order(batch, MetaTypeName::concrete_typename(&field.ty), &sets);
            }
        }
    }

    /// The response keys that answer `__typename` on an interface or a union (none for an
    /// object type, whose objects need no telling apart).
    fn typename_keys(&self, declared: &MetaType, sets: &[&'a SelectionSet]) -> Vec<&'a str> {
        if declared.possible_types().is_none() {
            return Vec::new();
        }
        self.collect(declared.name(), sets)
            .into_iter()
            .filter(|(_, group)| group.iter().any(|field| field.name.node == "__typename"))
            .map(|(key, _)| key)
            .collect()
    }

    /// Where in `by_type` the object type of an object of the declared type `declared` is:
    /// `declared` itself unless it is an interface or a union (see the module's note).
    fn object_type<'v>(
        &self,
        declared: &'a MetaType,
        object: &Object,
        typename_keys: &[&str],
        sets: &[&'a SelectionSet],
        by_type: &mut ByType<'a, 'v>,
    ) -> Option<usize> {
        let Some(possible) = declared.possible_types() else {
            return Some(self.entry(by_type, declared.name(), sets));
        };
        let typename = typename_keys.iter().find_map(|key| match object.get(*key) {
            Some(Value::String(name)) => possible.get(name.as_str()),
            _ => None,
        });
        if let Some(ty) = typename {
            return Some(self.entry(by_type, ty, sets));
        }
        possible.iter().find_map(|ty| {
            let i = self.entry(by_type, ty, sets);
            let fields = &by_type[i].1;
            object
                .keys()
                .all(|key| fields.contains_key(key.as_str()))
                .then_some(i)
        })
    }

    /// The index of `ty` in `by_type`, collecting its fields the first time it is met.
    fn entry(&self, by_type: &mut ByType<'a, '_>, ty: &'a str, sets: &[&'a SelectionSet]) -> usize {
        match by_type.iter().position(|(name, ..)| *name == ty) {
            Some(i) => i,
            None => {
                by_type.push((ty, self.collect(ty, sets), Vec::new()));
                by_type.len() - 1
            }
        }
    }

    fn collect(&self, ty: &str, sets: &[&'a SelectionSet]) -> Collected<'a> {
        let mut fields = Collected::new();
        for set in sets {
            // CollectFields runs per field's selection set, each with its own visited set.
            self.collect_into(ty, set, &mut fields, &mut Vec::new());
        }
        fields
    }

    fn collect_into(
        &self,
        ty: &str,
        set: &'a SelectionSet,
        fields: &mut Collected<'a>,
        visited: &mut Vec<&'a str>,
    ) {
        for selection in &set.items {
            if self.skipped(selection.node.directives()) {
                continue;
            }
            match &selection.node {
                Selection::Field(field) => fields
                    .entry(field.node.response_key().node.as_str())
                    .or_default()
                    .push(&field.node),
                Selection::InlineFragment(fragment) => {
                    let on = fragment.node.type_condition.as_ref();
                    if on.is_none_or(|on| self.applies(&on.node.on.node, ty)) {
                        self.collect_into(ty, &fragment.node.selection_set.node, fields, visited);
                    }
                }
                Selection::FragmentSpread(spread) => {
                    let name = spread.node.fragment_name.node.as_str();
                    if visited.contains(&name) {
                        continue;
                    }
                    visited.push(name);
                    let Some(fragment) = self.fragments.get(name) else {
                        continue;
                    };
                    if self.applies(&fragment.node.type_condition.node.on.node, ty) {
                        self.collect_into(ty, &fragment.node.selection_set.node, fields, visited);
                    }
                }
            }
        }
    }

    /// Whether a fragment on `on` applies to an object of type `ty`.
    fn applies(&self, on: &str, ty: &str) -> bool {
        on == ty
            || self
                .registry
                .types
                .get(on)
                .is_some_and(|on| on.is_possible_type(ty))
    }

    /// `@skip` and `@include` exactly as async-graphql reads them before executing (the
    /// request's variables; a missing or non-boolean condition reads as false).
    fn skipped(&self, directives: &[Positioned<Directive>]) -> bool {
        directives.iter().any(|directive| {
            let include = match directive.node.name.node.as_str() {
                "skip" => false,
                "include" => true,
                _ => return false,
            };
            let Some(condition) = directive.node.get_argument("if") else {
                return false;
            };
            let value = condition
                .node
                .clone()
                .into_const_with(|name| self.variables.get(&name).cloned().ok_or(()))
                .unwrap_or_default();
            include != matches!(value, Value::Boolean(true))
        })
    }
}

/// Whether an object's keys come in the collected order (each one named by the query, none
/// before a key that precedes it there), found by comparing names in step.
fn in_order(map: &Object, fields: &Collected<'_>) -> bool {
    let mut names = fields.keys();
    map.keys()
        .all(|key| names.any(|name| *name == key.as_str()))
}

/// Sorts an object's keys into the collected order (stable; a key the query does not name,
/// which execution never adds, would go last).
fn sort_keys(map: &mut Object, fields: &Collected<'_>) {
    let position = |key: &Name| fields.get_index_of(key.as_str()).unwrap_or(usize::MAX);
    if map.keys().map(position).is_sorted() {
        return;
    }
    map.sort_by_cached_key(|key, _| position(key));
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields<'a>(names: &[&'a str]) -> Collected<'a> {
        names.iter().map(|name| (*name, Vec::new())).collect()
    }

    fn object(keys: &[&str]) -> Object {
        keys.iter()
            .map(|key| (Name::new(key), Value::Null))
            .collect()
    }

    #[test]
    fn keys_in_the_collected_order_are_in_order_even_with_some_left_out() {
        let fields = fields(&["slug", "name", "agreements"]);
        assert!(in_order(&object(&["slug", "name", "agreements"]), &fields));
        assert!(in_order(&object(&["slug", "agreements"]), &fields));
        assert!(in_order(&object(&[]), &fields));
    }

    #[test]
    fn keys_out_of_order_or_not_collected_are_not_in_order() {
        let fields = fields(&["slug", "name", "agreements"]);
        assert!(!in_order(&object(&["name", "slug"]), &fields));
        assert!(!in_order(&object(&["agreements", "name"]), &fields));
        assert!(!in_order(&object(&["slug", "other"]), &fields));
        assert!(!in_order(
            &object(&["slug", "name", "agreements", "extra"]),
            &fields
        ));
    }
}
