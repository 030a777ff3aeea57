//! Objects of the read path resolved without a future per field.
//!
//! async-graphql resolves every selected field of an object in a boxed future of its own, runs
//! them in a `FuturesUnordered` (a task node per field) and does the same for each item of a
//! list. A nested list of 20 organizations × their agreements × their parties selects about
//! 1,400 fields, nearly all of them plain reads of a loaded row (`slug`, `name`, `role`); going
//! around that machinery cut the server's CPU per request by a sixth to a fifth on the nested
//! list and the hub detail (docs/BENCHMARKS.md, item 17).
//!
//! [`resolve_object`] does what async-graphql's `resolve_container` does, in the same order and
//! through the same generated `resolve_field`, with one difference: a field that takes no
//! arguments and selects nothing under it (a leaf: scalars and enums) is polled once in place,
//! and nearly always answers there and then; only the others (connections, objects, lists) get
//! a boxed future, and those run concurrently as before, so loaders still batch siblings. A leaf
//! that does not answer at once (one that loads: a project's regions and themes) is dropped,
//! the load it asked for with it, and run again as a future; the loader keeps one copy of a
//! key, so this costs no statement (`tests/api/fast.rs` pins it).
//!
//! [`Fast`] and [`List`] are the output types that resolve an object, or a list of objects, this
//! way; they register as the type they wrap, so the schema does not change.
//!
//! It relies on the schema having no async-graphql extensions (`graphql::Api` runs what they
//! did around execution), since it calls no extension's `resolve` hook. A field that carries a
//! directive after `@skip`/`@include` are applied (a custom directive) sends its whole object
//! down async-graphql's own path.

use std::{borrow::Cow, future::Future, pin::Pin, task::Poll};

use async_graphql::{
    ContainerType, ContextSelectionSet, Name, OutputType, Positioned, ServerError, ServerResult,
    Value,
    indexmap::{IndexMap, map::Entry},
    parser::types::{Field, Selection},
    registry::Registry,
    resolver_utils::resolve_container,
};
use futures::future::{join_all, try_join_all};

/// An object resolved by [`resolve_object`]; it stands for `T` in the schema.
pub struct Fast<T>(pub T);

impl<T: ContainerType> OutputType for Fast<T> {
    fn type_name() -> Cow<'static, str> {
        T::type_name()
    }

    fn qualified_type_name() -> String {
        T::qualified_type_name()
    }

    fn introspection_type_name(&self) -> Cow<'static, str> {
        self.0.introspection_type_name()
    }

    fn create_type_info(registry: &mut Registry) -> String {
        T::create_type_info(registry)
    }

    async fn resolve(
        &self,
        ctx: &ContextSelectionSet<'_>,
        _field: &Positioned<Field>,
    ) -> ServerResult<Value> {
        resolve_object(ctx, &self.0).await
    }
}

/// A list of objects, each resolved by [`resolve_object`]; it stands for `[T!]!`.
pub struct List<'a, T>(pub Vec<&'a T>);

impl<T: ContainerType> OutputType for List<'_, T> {
    fn type_name() -> Cow<'static, str> {
        <Vec<T> as OutputType>::type_name()
    }

    fn qualified_type_name() -> String {
        <Vec<T> as OutputType>::qualified_type_name()
    }

    fn create_type_info(registry: &mut Registry) -> String {
        <Vec<T> as OutputType>::create_type_info(registry)
    }

    async fn resolve(
        &self,
        ctx: &ContextSelectionSet<'_>,
        _field: &Positioned<Field>,
    ) -> ServerResult<Value> {
        // The items run concurrently, so that their nested fields batch in the loaders (as
        // async-graphql's own `resolve_list` runs them).
        let items = self.0.iter().enumerate().map(|(index, item)| {
            let ctx = ctx.with_index(index);
            async move {
                resolve_object(&ctx, *item)
                    .await
                    .map_err(|err| ctx.set_error_path(err))
            }
        });
        Ok(Value::List(try_join_all(items).await?))
    }
}

type FieldFuture<'a> = Pin<Box<dyn Future<Output = ServerResult<(Name, Value)>> + Send + 'a>>;

/// A field of the object, in the order the query selects it.
enum Slot {
    /// Answered: its response key and value.
    Done(Name, Value),
    /// Failed: the error goes to the response's errors and the key is left out.
    Failed(ServerError),
    /// Answered by the next of `Fields::futures` (they are in the order of their slots).
    Pending,
}

/// An object's selected fields as `collect` finds them, and the futures of those that run.
#[derive(Default)]
struct Fields<'a> {
    slots: Vec<Slot>,
    futures: Vec<FieldFuture<'a>>,
}

/// Resolves `root`'s selection: leaves in place, the other fields concurrently; the answer's
/// keys in the query's order, same-named fields merged, as async-graphql's own resolver does.
pub async fn resolve_object<'a, T: ContainerType + ?Sized>(
    ctx: &ContextSelectionSet<'a>,
    root: &'a T,
) -> ServerResult<Value> {
    let mut fields = Fields::default();
    if !collect(ctx, root, &mut fields)? {
        return resolve_container(ctx, root).await;
    }
    let mut answers = join_all(fields.futures).await.into_iter();
    let mut results = IndexMap::with_capacity(fields.slots.len());
    // Errors are recorded only now, so an object sent down async-graphql's path above
    // reports none twice.
    for slot in fields.slots {
        let answer = match slot {
            Slot::Done(name, value) => Ok((name, value)),
            Slot::Failed(err) => Err(err),
            Slot::Pending => match answers.next() {
                Some(answer) => answer,
                None => continue, // one answer per pending slot: not reached
            },
        };
        match answer {
            Ok((name, value)) => insert_value(&mut results, name, value),
            Err(err) => ctx.add_error(err),
        }
    }
    Ok(if results.is_empty() {
        Value::Null
    } else {
        Value::Object(results)
    })
}

/// Adds the fields of `ctx`'s selection set to `fields`, walking fragments as async-graphql's
/// `Fields::add_set` does. Returns false, having decided nothing, when a field carries a
/// directive: the object then goes down async-graphql's own path.
fn collect<'a, T: ContainerType + ?Sized>(
    ctx: &ContextSelectionSet<'a>,
    root: &'a T,
    fields: &mut Fields<'a>,
) -> ServerResult<bool> {
    for selection in &ctx.item.node.items {
        let (type_condition, selection_set) = match &selection.node {
            Selection::Field(field) => {
                if !field.node.directives.is_empty() {
                    return Ok(false);
                }
                add_field(ctx, root, field, fields);
                continue;
            }
            Selection::FragmentSpread(spread) => {
                let Some(fragment) = ctx.query_env.fragments.get(&spread.node.fragment_name.node)
                else {
                    return Err(ServerError::new(
                        format!(r#"Unknown fragment "{}"."#, spread.node.fragment_name.node),
                        Some(spread.pos),
                    ));
                };
                (
                    Some(&fragment.node.type_condition),
                    &fragment.node.selection_set,
                )
            }
            Selection::InlineFragment(fragment) => (
                fragment.node.type_condition.as_ref(),
                &fragment.node.selection_set,
            ),
        };
        let condition = type_condition.map(|c| c.node.on.node.as_str());
        let own = root.introspection_type_name();
        let applies = condition.is_none_or(|c| {
            own == c
                || T::type_name() == c
                || ctx
                    .schema_env
                    .registry
                    .implements
                    .get(&*own)
                    .is_some_and(|interfaces| interfaces.contains(c))
        });
        if applies && !collect(&ctx.with_selection_set(selection_set), root, fields)? {
            return Ok(false);
        }
    }
    Ok(true)
}

/// One field: answered in place when it is a leaf that answers at once, a future otherwise.
fn add_field<'a, T: ContainerType + ?Sized>(
    ctx: &ContextSelectionSet<'a>,
    root: &'a T,
    field: &'a Positioned<Field>,
    fields: &mut Fields<'a>,
) {
    let name = field.node.response_key().node.clone();
    if field.node.name.node == "__typename" {
        let typename = Value::String(root.introspection_type_name().into());
        fields.slots.push(Slot::Done(name, typename));
        return;
    }
    if field.node.arguments.is_empty() && field.node.selection_set.node.items.is_empty() {
        let ctx_field = ctx.with_field(field);
        // Polled where it is made: `now_or_never` takes the future by value, and that move
        // copies all of it, as large as the type's largest resolver (about 2 KB for an
        // organization), once per leaf.
        let answer = std::pin::pin!(root.resolve_field(&ctx_field))
            .poll(&mut std::task::Context::from_waker(std::task::Waker::noop()));
        match answer {
            Poll::Ready(Ok(value)) => {
                fields
                    .slots
                    .push(Slot::Done(name, value.unwrap_or_default()));
                return;
            }
            Poll::Ready(Err(err)) => {
                fields.slots.push(Slot::Failed(err));
                return;
            }
            // Not a plain read after all: run it as a future, like the others.
            Poll::Pending => {}
        }
    }
    let ctx = ctx.clone();
    fields.slots.push(Slot::Pending);
    fields.futures.push(Box::pin(async move {
        let ctx_field = ctx.with_field(field);
        let value = root.resolve_field(&ctx_field).await?;
        Ok((name, value.unwrap_or_default()))
    }));
}

/// async-graphql's merge of a response key selected more than once (its `insert_value`),
/// hashing the key once.
fn insert_value(target: &mut IndexMap<Name, Value>, name: Name, value: Value) {
    let into = match target.entry(name) {
        Entry::Vacant(vacant) => {
            vacant.insert(value);
            return;
        }
        Entry::Occupied(occupied) => occupied.into_mut(),
    };
    match (into, value) {
        (Value::Object(into), Value::Object(from)) => {
            for (key, value) in from {
                insert_value(into, key, value);
            }
        }
        (Value::List(into), Value::List(from)) => {
            for (index, value) in from.into_iter().enumerate() {
                if let (Some(Value::Object(into)), Value::Object(from)) =
                    (into.get_mut(index), value)
                {
                    for (key, value) in from {
                        insert_value(into, key, value);
                    }
                }
            }
        }
        _ => {}
    }
}
