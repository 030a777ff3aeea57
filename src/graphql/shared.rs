//! Live subscriptions resolved once for everyone who asks the same thing.
//!
//! With 1,000 subscribers of one document, each resolving each change with its own loaders,
//! a commit cost 1,000 loads of its record, and writers went from 309 to 26 req/s
//! (docs/BENCHMARKS.md "Subscriptions"). Now subscriptions to the live feed (`changes` without
//! `after`) that send the same document, variables and operation and see the same things (the
//! viewer's role: an admin sees the audit entry, others get an error in its place) form one
//! **group**: the first one's request runs, once, and every response it yields goes to all
//! of them. What stays each subscriber's own:
//! - **its id** in each message (the protocol writes it around the shared payload);
//! - **its buffer**: a member may fall `SUBSCRIPTION_BUFFER` responses behind the group, then
//!   it alone ends with SUBSCRIPTION_OVERFLOW and the cursor of the last change it was sent;
//!   the group and the other members never wait for it;
//! - **its metrics** (active subscriptions, events delivered, overflow endings).
//!
//! `types` and `ids` narrow what a group sees as they narrow one subscription: they are part of
//! the document or the variables, so they are the same for every member. A subscription with
//! `after` is not grouped: its replay is its own (and so it resolves its changes itself).
//!
//! A group lives while it has members: the last one leaving ends its execution. A member that
//! joins a running group receives the responses the group yields from then on, which is what
//! a subscription without `after` promises ("from now on").

use std::{
    collections::HashMap,
    sync::{
        Arc, Mutex, PoisonError,
        atomic::{AtomicI64, Ordering},
    },
};

use async_graphql::{
    Data, Name, PathSegment, Pos, Response, Value, Variables,
    parser::types::{ExecutableDocument, OperationType, Selection},
};
use async_graphql_value::Value as Syntax;
use futures::{StreamExt, stream::BoxStream};
use tokio::{
    sync::broadcast::{self, error::RecvError},
    task::AbortHandle,
};

use super::{changes, operation};
use crate::{
    auth::{Role, Viewer},
    metrics::RealtimeMetrics,
    store::feed::{Change, Feed},
};

/// What subscribers share to be sent the same responses.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct GroupKey {
    query: String,
    /// The variables as JSON (`Variables` has no `Hash`).
    variables: String,
    operation_name: Option<String>,
    visibility: Visibility,
}

/// What a viewer may see: its role, not who it is (nothing a change resolves reads the
/// subject), and for anonymous viewers whether signing in is possible (errors say so).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Visibility {
    Anonymous { can_sign_in: bool },
    Role(Role),
}

impl From<Option<&Viewer>> for Visibility {
    fn from(viewer: Option<&Viewer>) -> Self {
        match viewer {
            Some(Viewer::User { role, .. }) => Self::Role(*role),
            Some(Viewer::Anonymous { can_sign_in }) => Self::Anonymous {
                can_sign_in: *can_sign_in,
            },
            None => Self::Anonymous { can_sign_in: false },
        }
    }
}

/// A grouped subscription's field: where its errors point.
#[derive(Debug, Clone)]
pub struct Field {
    response_key: Name,
    pos: Pos,
}

/// The `changes` field of a subscription to the live feed only (no `after`, or a null one):
/// such subscriptions can be grouped. `None` for anything else.
pub fn live_changes(
    document: &ExecutableDocument,
    operation_name: Option<&str>,
    variables: &Variables,
) -> Option<Field> {
    let (_, operation) = operation::definition(document, operation_name)?;
    let operation = &operation.node;
    if operation.ty != OperationType::Subscription {
        return None;
    }
    // One field, not a fragment (validation refuses more than one root field anyway).
    let [selection] = operation.selection_set.node.items.as_slice() else {
        return None;
    };
    let Selection::Field(field) = &selection.node else {
        return None;
    };
    if field.node.name.node != "changes" {
        return None;
    }
    let live = match field.node.get_argument("after").map(|after| &after.node) {
        None | Some(Syntax::Null) => true,
        Some(Syntax::Variable(name)) => match variables.get(name) {
            Some(value) => *value == Value::Null,
            None => operation
                .variable_definitions
                .iter()
                .find(|definition| definition.node.name.node == *name)
                .and_then(|definition| definition.node.default_value.as_ref())
                .is_none_or(|default| default.node == Value::Null),
        },
        Some(_) => false,
    };
    live.then(|| Field {
        response_key: field.node.response_key().node.clone(),
        pos: field.pos,
    })
}

impl GroupKey {
    pub fn new(
        query: &str,
        variables: &Variables,
        operation_name: Option<&str>,
        session: &Data,
    ) -> Self {
        Self {
            query: query.to_owned(),
            variables: serde_json::to_string(variables).unwrap_or_default(),
            operation_name: operation_name.map(str::to_owned),
            visibility: data::<Viewer>(session).as_ref().into(),
        }
    }
}

/// A copy of the `T` in a request's or a session's data.
pub fn data<T: Clone + 'static>(data: &Data) -> Option<T> {
    data.get(&std::any::TypeId::of::<T>())
        .and_then(|value| value.downcast_ref::<T>())
        .cloned()
}

/// What a group's request carries for its `changes` field: the feed's receiver, taken when
/// the subscription arrived (the group's task may run its request a moment later, and a change
/// committed meanwhile belongs to "from now on"), and the position of the last change the
/// field yielded (-1: none yet), which the field records.
#[derive(Debug, Clone)]
pub struct Progress {
    position: Arc<AtomicI64>,
    live: Arc<Mutex<Option<broadcast::Receiver<Change>>>>,
}

impl Progress {
    /// Subscribes to `feed` now.
    pub fn new(feed: &Feed) -> Self {
        Self {
            position: Arc::new(AtomicI64::new(-1)),
            live: Arc::new(Mutex::new(Some(feed.subscribe()))),
        }
    }

    /// The receiver taken when the subscription arrived (once).
    pub fn take_live(&self) -> Option<broadcast::Receiver<Change>> {
        self.live
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take()
    }

    pub fn record(&self, position: i64) {
        self.position.store(position, Ordering::Release);
    }

    fn last(&self) -> Option<i64> {
        let position = self.position.load(Ordering::Acquire);
        (position >= 0).then_some(position)
    }
}

/// What a group sends its members: a response, or `None` when the group's subscription has
/// ended (after its last response).
type Item = Option<Arc<Delivery>>;

/// A response, with the position of the change it is about when it is a new change's.
struct Delivery {
    change: Option<i64>,
    response: Response,
}

/// One running group.
struct Entry {
    /// Tells joiners and leavers apart from a later group under the same key.
    id: u64,
    sender: broadcast::Sender<Item>,
    members: usize,
    task: AbortHandle,
}

#[derive(Default)]
struct Registry {
    groups: HashMap<GroupKey, Entry>,
    next_id: u64,
}

/// The groups of this process.
#[derive(Default, Clone)]
pub struct Groups(Arc<Mutex<Registry>>);

/// What a member needs of its request: where to count, and its buffer's size.
pub struct Member {
    pub field: Field,
    pub metrics: RealtimeMetrics,
    pub feed: Arc<Feed>,
}

impl Groups {
    fn lock(&self) -> std::sync::MutexGuard<'_, Registry> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Joins the group of `key`, or starts it with the execution `start` makes of the
    /// group's progress (called only then; the progress subscribes to the feed at once).
    pub fn join(
        &self,
        key: GroupKey,
        member: Member,
        start: impl FnOnce(Progress) -> BoxStream<'static, Response>,
    ) -> BoxStream<'static, Response> {
        let mut registry = self.lock();
        let (id, receiver) = match registry.groups.get_mut(&key) {
            Some(entry) => {
                entry.members += 1;
                (entry.id, entry.sender.subscribe())
            }
            None => {
                let id = registry.next_id;
                registry.next_id += 1;
                let (sender, receiver) = broadcast::channel(member.feed.capacity());
                let progress = Progress::new(&member.feed);
                let execution = start(progress.clone());
                let task = tokio::spawn(self.clone().run(
                    key.clone(),
                    id,
                    execution,
                    progress,
                    sender.clone(),
                ))
                .abort_handle();
                registry.groups.insert(
                    key.clone(),
                    Entry {
                        id,
                        sender,
                        members: 1,
                        task,
                    },
                );
                (id, receiver)
            }
        };
        drop(registry);
        let following = Following {
            receiver,
            last: None,
            ended: false,
            _active: changes::Active::new(&member.metrics),
            member,
            _membership: Membership {
                groups: self.clone(),
                key,
                id,
            },
        };
        futures::stream::unfold(following, Following::next).boxed()
    }

    /// Runs a group's subscription, sending each response to the members.
    async fn run(
        self,
        key: GroupKey,
        id: u64,
        mut execution: BoxStream<'static, Response>,
        progress: Progress,
        sender: broadcast::Sender<Item>,
    ) {
        let mut sent = None;
        while let Some(response) = execution.next().await {
            // The field yields a change, then it is resolved: the last position recorded is
            // this response's change (unless the response is an error after the last one).
            let last = progress.last();
            let change = last.filter(|_| last != sent);
            sent = last;
            // No receiver is not an error: the last member may be leaving.
            let _ = sender.send(Some(Arc::new(Delivery { change, response })));
        }
        // Out of the registry first, so that nobody joins a group that has ended.
        {
            let mut registry = self.lock();
            if registry
                .groups
                .get(&key)
                .is_some_and(|entry| entry.id == id)
            {
                registry.groups.remove(&key);
            }
        }
        let _ = sender.send(None);
    }
}

/// A member's place in its group: leaving ends the group when it was the last one.
struct Membership {
    groups: Groups,
    key: GroupKey,
    id: u64,
}

impl Drop for Membership {
    fn drop(&mut self) {
        let mut registry = self.groups.lock();
        if let Some(entry) = registry.groups.get_mut(&self.key)
            && entry.id == self.id
        {
            entry.members -= 1;
            if entry.members == 0 {
                entry.task.abort();
                registry.groups.remove(&self.key);
            }
        }
    }
}

/// One member's stream of its group's responses.
struct Following {
    receiver: broadcast::Receiver<Item>,
    /// The position of the last change this member was sent.
    last: Option<i64>,
    ended: bool,
    member: Member,
    _active: changes::Active,
    _membership: Membership,
}

impl Following {
    async fn next(mut self) -> Option<(Response, Self)> {
        if self.ended {
            return None;
        }
        match self.receiver.recv().await {
            Ok(Some(delivery)) => {
                if delivery.change.is_some() {
                    self.last = delivery.change;
                    self.member.metrics.events_delivered.inc();
                }
                Some((copy(&delivery.response), self))
            }
            Ok(None) => None,
            Err(RecvError::Lagged(_)) => {
                self.member.metrics.overflow_closes.inc();
                self.ended = true;
                let Field { response_key, pos } = &self.member.field;
                let error = changes::overflow(self.last)
                    .into_server_error(*pos)
                    .with_path(vec![PathSegment::Field(response_key.to_string())]);
                Some((Response::from_errors(vec![error]), self))
            }
            Err(RecvError::Closed) => None,
        }
    }
}

/// A member's own copy of a shared response.
fn copy(response: &Response) -> Response {
    let mut copy = Response::new(response.data.clone());
    copy.extensions = response.extensions.clone();
    copy.errors = response.errors.clone();
    copy.cache_control = response.cache_control;
    copy.http_headers = response.http_headers.clone();
    copy
}
