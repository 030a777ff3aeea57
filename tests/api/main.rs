//! Integration tests: one binary, each test with its own PostgreSQL database (or SQLite file).
//! Run them with `scripts/test`, which starts PostgreSQL and sets TEST_DATABASE_URL.

mod cli;
mod clients;
mod constraints;
mod examples;
mod generate;
mod graphql;
mod helpers;
mod http;
mod limits;
mod migrations;
mod nested;
mod persisted;
mod queries;
mod schema;
mod seed;
mod sqlite;
