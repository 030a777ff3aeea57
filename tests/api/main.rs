//! Integration tests: one binary, each test with its own PostgreSQL database (or SQLite file).
//! Run them with `scripts/test`, which starts PostgreSQL and sets TEST_DATABASE_URL.

mod aggregates;
mod auth;
mod browser;
mod cli;
mod clients;
mod constraints;
mod containers;
mod decode;
mod examples;
mod explore;
mod fast;
mod fuzz;
mod generate;
mod graphql;
mod helpers;
mod http;
mod inputs;
mod limits;
mod migrations;
mod mutations;
mod nested;
mod nesting;
mod operations;
mod order;
mod order_keys;
mod pages;
mod persisted;
mod projection;
mod proxy;
mod queries;
mod replicas;
mod schema;
mod seed;
mod sqlite;
mod writers;
