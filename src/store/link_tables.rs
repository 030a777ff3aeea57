//! The link tables, one row each: every fact about a link table that the store builds code from.
//!
//! A link table (an agreement's parties) is several things to the store: a kind of link the
//! write path adds, changes and audits (`write::links`), a group of changes an update of its
//! owner carries (`write::link_changes`), a kind of row a delete takes away and a restore puts
//! back (`write::tables`), and two relations nested lists follow, one each way (an agreement's
//! parties, an organization's agreements: `nested::relations`). Each of those modules used to
//! restate the table's facts in rows of its own; now each generates its pieces from the rows
//! below, so a link table is declared once (its migration, entity and API types aside).
//!
//! This is the callback ("X-macro") pattern: `link_tables!(callback)` expands to
//! `callback! { row row … }`, and each consumer defines a small `macro_rules!` that takes the
//! fields it needs. Fields come in a fixed order, so a consumer names the ones before the last it
//! needs and ends with `$($rest:tt)*`. Tokens after the callback's name go before the rows: a
//! consumer that defines a macro of its own (`with_entity!`, `with_changes!`) passes `$` that
//! way (`link_tables!(tables $)`), since a `$` written in its own body would be taken for one
//! of its own metavariables.
//!
//! A row, field by field:
//! - The head (`AgreementParty`) names the `Table` variant, and is also the link's GraphQL type
//!   name as the audit log records it (`entity_type`). Renaming it would change the log's
//!   names, so it would need a migration of the log.
//! - `entity`: the entity module of the table.
//! - `group`: the `LinkGroup` variant for this table's changes in an update.
//! - `role`: the role enumeration of the link (an entity enum).
//! - `words`: what the API calls one link and several, in messages to clients.
//! - `owner`, `target`: the entity module of the record on that side and the link's column
//!   naming it, then what a nested list of those records needs: the link entity's relation that
//!   joins them, their filter, and their order keys (the side in the migration
//!   `m20261201_000001_link_order_keys`, whose `fk` names the same column as text).
//! - `relations`: the `LinkRelation` types, from the owner to its targets (an agreement's parties)
//!   and from the target to its owners (an organization's agreements).
//! - `since`: the columns saying since when the link holds (a party's), for the links that have
//!   them.
//!
//! Names in a row resolve where a consumer expands it, like any other `macro_rules!` tokens:
//! each consumer imports the entity modules, roles and filters that its pieces name.
//!
//! Two things stay outside the rows:
//! - The API's connection types, in `graphql::nested` (two `link_connection!` rows for each
//!   table): their type names, descriptions and aggregates are declarations of the API, and the
//!   store knows nothing of GraphQL. They are keyed by the relation types named here and take
//!   the link's model and role from `LinkRelation`. What they still say of the table is whether
//!   an edge has a `since` field (and the columns it reads): a GraphQL field is declared or not,
//!   and cannot follow from a trait.
//! - Which link tables go with a record when it is deleted and which hold its delete back
//!   (`Writable::OWNED`, `LINKED_BY` in `write::tables`): those are lists of each record, which
//!   also hold a project's regions and themes, and a `macro_rules!` cannot gather rows by owner
//!   into a constant. A test there checks them against these rows.

/// Calls `$callback! { $($args)* row row … }` with the row of every link table (see the module
/// documentation for the fields).
macro_rules! link_tables {
    ($callback:ident $($args:tt)*) => {
        $callback! {
            $($args)*
            AgreementParty {
                entity: agreement_party,
                group: AgreementParties,
                role: PartyRole,
                words: ("agreement party", "agreement parties"),
                owner: agreement.AgreementId (Agreement, AgreementFilter, AGREEMENT),
                target: organization.OrganizationId (Organization, OrganizationFilter, ORGANIZATION),
                relations: (PartiesOfAgreement, AgreementsOfOrganization),
                since: (SinceOn, SincePrecision),
            }
            AgreementInstrument {
                entity: agreement_instrument,
                group: AgreementInstruments,
                role: InstrumentRole,
                words: ("agreement instrument", "agreement instruments"),
                owner: agreement.AgreementId (Agreement, AgreementFilter, AGREEMENT),
                target: instrument.InstrumentId (Instrument, InstrumentFilter, INSTRUMENT),
                relations: (InstrumentsOfAgreement, AgreementsOfInstrument),
            }
            ProjectParticipant {
                entity: project_participant,
                group: ProjectParticipants,
                role: ProjectRole,
                words: ("project participant", "project participants"),
                owner: project.ProjectId (Project, ProjectFilter, PROJECT),
                target: organization.OrganizationId (Organization, OrganizationFilter, ORGANIZATION),
                relations: (ParticipantsOfProject, ProjectsOfOrganization),
            }
            ProjectInstrument {
                entity: project_instrument,
                group: ProjectInstruments,
                role: InstrumentRole,
                words: ("project instrument", "project instruments"),
                owner: project.ProjectId (Project, ProjectFilter, PROJECT),
                target: instrument.InstrumentId (Instrument, InstrumentFilter, INSTRUMENT),
                relations: (InstrumentsOfProject, ProjectsOfInstrument),
            }
            EventParticipant {
                entity: event_participant,
                group: EventParticipants,
                role: EventRole,
                words: ("event participant", "event participants"),
                owner: event.EventId (Event, EventFilter, EVENT),
                target: organization.OrganizationId (Organization, OrganizationFilter, ORGANIZATION),
                relations: (ParticipantsOfEvent, EventsOfOrganization),
            }
            EventInstrument {
                entity: event_instrument,
                group: EventInstruments,
                role: InstrumentRole,
                words: ("event instrument", "event instruments"),
                owner: event.EventId (Event, EventFilter, EVENT),
                target: instrument.InstrumentId (Instrument, InstrumentFilter, INSTRUMENT),
                relations: (InstrumentsOfEvent, EventsOfInstrument),
            }
        }
    };
}

pub(crate) use link_tables;
