//! Authentication and roles: reads are open, changes need a valid token of the right role.

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use partnerships::auth::{Claims, Role};
use serde_json::{Value, json};

use crate::helpers::{JWT_SECRET, error_codes, spawn_app, spawn_app_with_auth, token};

const CREATE: &str = r#"mutation { createOrganization(input: {slug: "new-body", name: "New Body", kind: OTHER}) { record { slug } } }"#;

fn now() -> u64 {
    jsonwebtoken::get_current_timestamp()
}

fn signed(claims: &impl serde::Serialize, secret: &str) -> String {
    jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        claims,
        &EncodingKey::from_secret(secret.as_bytes()),
    )
    .unwrap_or_else(|e| panic!("{e}"))
}

fn claims(role: &str, exp: u64) -> Claims {
    Claims {
        sub: "mallory".into(),
        role: role.into(),
        exp,
        iat: Some(now()),
        iss: None,
        aud: None,
    }
}

#[tokio::test]
async fn reads_need_no_token() {
    let app = spawn_app_with_auth().await;
    let data = app
        .data(
            r#"{ organization(by: {slug: "ilo"}) { acronym } }"#,
            json!({}),
        )
        .await;
    assert_eq!(data["organization"]["acronym"], "ILO");
}

#[tokio::test]
async fn a_mutation_without_a_token_is_unauthenticated() {
    let app = spawn_app_with_auth().await;
    let body = app.graphql(CREATE, json!({})).await;
    assert_eq!(error_codes(&body), ["UNAUTHENTICATED"], "{body:#}");
}

#[tokio::test]
async fn without_a_configured_key_every_mutation_is_refused_with_a_clear_message() {
    let app = spawn_app().await;
    let body = app.graphql(CREATE, json!({})).await;
    assert_eq!(error_codes(&body), ["UNAUTHENTICATED"], "{body:#}");
    let message = body["errors"][0]["message"].as_str().unwrap_or_default();
    assert!(message.contains("JWT_SECRET"), "{message}");
    // And a token cannot get in either: there is nothing to verify it with.
    let body = app
        .graphql_as(&token(Role::Admin, "ada"), CREATE, json!({}))
        .await;
    assert_eq!(error_codes(&body), ["UNAUTHENTICATED"], "{body:#}");
}

#[tokio::test]
async fn bad_tokens_are_unauthenticated_even_for_reads() {
    let app = spawn_app_with_auth().await;
    let alg_none = format!(
        "{}.{}.",
        URL_SAFE_NO_PAD.encode(r#"{"alg":"none","typ":"JWT"}"#),
        URL_SAFE_NO_PAD
            .encode(serde_json::to_vec(&claims("admin", now() + 3600)).unwrap_or_default())
    );
    let cases = [
        (
            "expired",
            signed(&claims("admin", now() - 3600), JWT_SECRET),
        ),
        (
            "forged with another secret",
            signed(
                &claims("admin", now() + 3600),
                "another-secret-that-is-long-enough-too!!",
            ),
        ),
        ("alg none", alg_none),
        ("not a JWT", "garbage".to_owned()),
    ];
    for (why, bad) in cases {
        for query in [CREATE, r#"{ organization(by: {slug: "ilo"}) { name } }"#] {
            let body = app.graphql_as(&bad, query, json!({})).await;
            assert_eq!(error_codes(&body), ["UNAUTHENTICATED"], "{why}: {body:#}");
            assert!(body.get("data").is_none(), "{why}: nothing ran");
        }
    }
}

#[tokio::test]
async fn a_bad_token_is_401_for_graphql_response_json_clients() {
    let app = spawn_app_with_auth().await;
    let response = app
        .client
        .post(format!("{}/graphql", app.address))
        .header("Accept", "application/graphql-response+json")
        .bearer_auth(signed(&claims("admin", now() - 3600), JWT_SECRET))
        .json(&json!({ "query": "{ organizations { totalCount } }" }))
        .send()
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(response.status().as_u16(), 401);
    assert_eq!(
        response
            .headers()
            .get("www-authenticate")
            .and_then(|v| v.to_str().ok()),
        Some("Bearer")
    );
    let body: Value = response.json().await.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(error_codes(&body), ["UNAUTHENTICATED"]);
}

/// Each kind of mutation, run with a made-up target: when the role is enough the answer is
/// about the target (NOT_FOUND, BAD_USER_INPUT, ...) or success, never an auth code.
fn operations() -> Vec<(&'static str, Role, String)> {
    let missing_org = URL_SAFE_NO_PAD.encode("Organization:999999");
    let missing_agreement = URL_SAFE_NO_PAD.encode("Agreement:999999");
    vec![
        ("create", Role::Editor, CREATE.to_owned()),
        (
            "update",
            Role::Editor,
            format!(
                r#"mutation {{ updateOrganization(input: {{id: "{missing_org}", version: 1, name: "X"}}) {{ record {{ name }} }} }}"#
            ),
        ),
        (
            "upsert",
            Role::Editor,
            r#"mutation { upsertOrganization(input: {slug: "upserted", name: "Upserted", kind: OTHER}) { created } }"#.to_owned(),
        ),
        (
            "link",
            Role::Editor,
            format!(
                r#"mutation {{ addAgreementParty(input: {{owner: "{missing_agreement}", organization: "{missing_org}", role: PARTNER}}) {{ record {{ slug }} }} }}"#
            ),
        ),
        (
            "import",
            Role::Editor,
            r#"mutation { importDocument(document: "organizations: []", dryRun: true) { dryRun } }"#.to_owned(),
        ),
        (
            "delete",
            Role::Admin,
            format!(
                r#"mutation {{ deleteOrganization(input: {{id: "{missing_org}", version: 1}}) {{ deletedId }} }}"#
            ),
        ),
        (
            "restore",
            Role::Admin,
            r#"mutation { restore(auditEntryId: "999999") { auditEntry { id } } }"#.to_owned(),
        ),
        (
            "audit log",
            Role::Admin,
            "{ auditLog(first: 5) { totalCount } }".to_owned(),
        ),
    ]
}

#[tokio::test]
async fn each_role_may_do_exactly_what_it_is_allowed() {
    let app = spawn_app_with_auth().await;
    let reader = signed(&claims("reader", now() + 3600), JWT_SECRET);
    let editor = token(Role::Editor, "eddie");
    let admin = token(Role::Admin, "ada");
    for (name, needed, query) in operations() {
        let anonymous = app.graphql(&query, json!({})).await;
        assert_eq!(
            error_codes(&anonymous),
            ["UNAUTHENTICATED"],
            "{name} by anonymous: {anonymous:#}"
        );
        for (role, token) in [
            (Role::Reader, &reader),
            (Role::Editor, &editor),
            (Role::Admin, &admin),
        ] {
            let body = app.graphql_as(token, &query, json!({})).await;
            let codes = error_codes(&body);
            if role >= needed {
                // The answer is about the target, exactly: success, or the made-up record not
                // found (the second create of the same slug clashes with the first).
                let expected: &[&str] = match (name, role) {
                    ("create", Role::Admin) => &["CONFLICT"],
                    ("create" | "upsert" | "import" | "audit log", _) => &[],
                    _ => &["NOT_FOUND"],
                };
                assert_eq!(codes, expected, "{name} by {role:?}: {body:#}");
                if expected.is_empty() {
                    assert!(body["data"].is_object(), "{name} by {role:?}: {body:#}");
                }
            } else {
                assert_eq!(codes, ["FORBIDDEN"], "{name} by {role:?}: {body:#}");
            }
        }
    }
}

fn token_command(env: &[(&str, &str)]) -> std::process::Output {
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_partnerships"));
    command
        .args([
            "token",
            "--role",
            "editor",
            "--subject",
            "ada",
            "--ttl",
            "1h",
        ])
        .env_remove("JWT_SECRET");
    for (key, value) in env {
        command.env(key, value);
    }
    command
        .output()
        .unwrap_or_else(|e| panic!("running partnerships token: {e}"))
}

#[tokio::test]
async fn the_token_command_mints_a_token_the_server_accepts() {
    let output = token_command(&[("JWT_SECRET", JWT_SECRET)]);
    assert!(output.status.success(), "{output:?}");
    let minted = String::from_utf8_lossy(&output.stdout).trim().to_owned();
    let app = spawn_app_with_auth().await;
    let body = app
        .graphql_as(
            &minted,
            r#"mutation { createOrganization(input: {slug: "by-cli", name: "By CLI", kind: OTHER}) { auditEntry { actor role } } }"#,
            json!({}),
        )
        .await;
    assert_eq!(
        body["data"]["createOrganization"]["auditEntry"],
        json!({ "actor": "ada", "role": "editor" }),
        "{body:#}"
    );

    let without = token_command(&[]);
    assert!(!without.status.success());
    assert!(
        String::from_utf8_lossy(&without.stderr).contains("JWT_SECRET"),
        "{without:?}"
    );
    let secret = "Zq7-distinctive-S3cret";
    let short = token_command(&[("JWT_SECRET", secret)]);
    assert!(!short.status.success());
    let stderr = String::from_utf8_lossy(&short.stderr);
    let stdout = String::from_utf8_lossy(&short.stdout);
    assert!(stderr.contains("at least 32"), "{stderr}");
    assert!(
        !stderr.contains("distinctive") && !stdout.contains("distinctive"),
        "the secret leaked: {stderr} {stdout}"
    );
}

fn token_command_with(args: &[&str]) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_partnerships"))
        .arg("token")
        .args(args)
        .env("JWT_SECRET", JWT_SECRET)
        .output()
        .unwrap_or_else(|e| panic!("running partnerships token: {e}"))
}

#[tokio::test]
async fn the_token_command_refuses_huge_ttls_and_unusable_subjects_clearly() {
    for ttl in ["367d", "18446744073709551615d", "99999999999999999999999"] {
        let output = token_command_with(&["--role", "editor", "--subject", "ada", "--ttl", ttl]);
        assert!(!output.status.success(), "{ttl}: {output:?}");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(!stderr.contains("panicked"), "{ttl}: {stderr}");
        assert!(stderr.contains(ttl), "{ttl}: names the value: {stderr}");
    }
    let long = "s".repeat(201);
    for subject in ["", long.as_str()] {
        let output = token_command_with(&["--role", "editor", "--subject", subject, "--ttl", "1h"]);
        assert!(!output.status.success(), "{output:?}");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(stderr.contains("subject"), "{stderr}");
    }
}

#[tokio::test]
async fn a_token_not_valid_yet_is_unauthenticated() {
    let app = spawn_app_with_auth().await;
    let mut claims = serde_json::to_value(claims("admin", now() + 7200)).unwrap_or_default();
    claims["nbf"] = json!(now() + 3600);
    let body = app
        .graphql_as(&signed(&claims, JWT_SECRET), CREATE, json!({}))
        .await;
    assert_eq!(error_codes(&body), ["UNAUTHENTICATED"], "{body:#}");
    let message = body["errors"][0]["message"].as_str().unwrap_or_default();
    assert!(message.contains("not valid yet"), "{message}");
}

#[tokio::test]
async fn a_subject_the_audit_log_cannot_hold_is_unauthenticated_not_internal() {
    let app = spawn_app_with_auth().await;
    for sub in [String::new(), "s".repeat(201)] {
        let token = signed(
            &Claims {
                sub: sub.clone(),
                ..claims("admin", now() + 3600)
            },
            JWT_SECRET,
        );
        let body = app.graphql_as(&token, CREATE, json!({})).await;
        assert_eq!(
            error_codes(&body),
            ["UNAUTHENTICATED"],
            "{} chars: {body:#}",
            sub.len()
        );
    }
    // 200 characters fit.
    let token = signed(
        &Claims {
            sub: "s".repeat(200),
            ..claims("editor", now() + 3600)
        },
        JWT_SECRET,
    );
    let body = app.graphql_as(&token, CREATE, json!({})).await;
    assert!(body.get("errors").is_none(), "{body:#}");
}

#[tokio::test]
async fn an_audience_sent_as_an_array_is_accepted_when_it_holds_ours() {
    let app = crate::helpers::spawn_app_with(|s| {
        s.auth = crate::helpers::auth_settings();
        s.auth.jwt_audience = Some("partnerships-api".into());
    })
    .await;
    let with = |aud: Value| {
        let mut claims = serde_json::to_value(claims("editor", now() + 3600)).unwrap_or_default();
        claims["aud"] = aud;
        signed(&claims, JWT_SECRET)
    };
    let body = app
        .graphql_as(
            &with(json!(["other-api", "partnerships-api"])),
            CREATE,
            json!({}),
        )
        .await;
    assert!(body.get("errors").is_none(), "{body:#}");
    let body = app
        .graphql_as(
            &with(json!(["other-api"])),
            "{ organizations { totalCount } }",
            json!({}),
        )
        .await;
    assert_eq!(error_codes(&body), ["UNAUTHENTICATED"], "{body:#}");
}

fn fixture(name: &str) -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/api/fixtures")
        .join(name)
}

#[tokio::test]
async fn rs256_tokens_verify_with_the_public_key_and_the_key_cannot_be_used_as_an_hmac_secret() {
    let public = fixture("jwt-test-public.pem");
    let app = crate::helpers::spawn_app_with(|s| {
        s.auth.jwt_public_key_file = Some(public.clone());
    })
    .await;
    let private = std::fs::read(fixture("jwt-test-private.pem")).unwrap_or_else(|e| panic!("{e}"));
    let rs256 = jsonwebtoken::encode(
        &Header::new(Algorithm::RS256),
        &claims("admin", now() + 3600),
        &EncodingKey::from_rsa_pem(&private).unwrap_or_else(|e| panic!("{e}")),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let body = app
        .graphql_as(&rs256, "{ auditLog { totalCount } }", json!({}))
        .await;
    assert!(body.get("errors").is_none(), "{body:#}");

    // Algorithm confusion: an HS256 token whose secret is the public key itself.
    let public_bytes = std::fs::read_to_string(&public).unwrap_or_else(|e| panic!("{e}"));
    let confused = signed(&claims("admin", now() + 3600), &public_bytes);
    let body = app
        .graphql_as(&confused, "{ auditLog { totalCount } }", json!({}))
        .await;
    assert_eq!(error_codes(&body), ["UNAUTHENTICATED"], "{body:#}");
}

/// A token with exactly these claims (JSON, so any of them may be left out), signed with our
/// secret.
fn with_claims(exp: u64, iat: Option<u64>) -> String {
    let mut claims = json!({ "sub": "mallory", "role": "admin", "exp": exp });
    if let Some(iat) = iat {
        claims["iat"] = json!(iat);
    }
    signed(&claims, JWT_SECRET)
}

const DAY: u64 = 86_400;
/// The default JWT_MAX_TTL_SECS: 366 days.
const MAX_LIFETIME: u64 = 366 * DAY;
/// 9999-12-31T23:59:59Z.
const YEAR_9999: u64 = 253_402_300_799;

#[tokio::test]
async fn a_token_living_past_the_maximum_lifetime_or_issued_in_the_future_is_unauthenticated() {
    let app = spawn_app_with_auth().await;
    let refused = [
        ("exp in the year 9999", with_claims(YEAR_9999, Some(now()))),
        (
            "a lifetime a second over the maximum",
            with_claims(now() + MAX_LIFETIME + 1, Some(now())),
        ),
        ("no iat, exp in the year 9999", with_claims(YEAR_9999, None)),
        (
            "no iat, exp further than the maximum from now",
            with_claims(now() + MAX_LIFETIME + 120, None),
        ),
        (
            "iat a year ahead",
            with_claims(now() + 365 * DAY + 3600, Some(now() + 365 * DAY)),
        ),
        (
            "iat two minutes ahead, past the 30 s leeway",
            with_claims(now() + 3600, Some(now() + 120)),
        ),
    ];
    for (why, bad) in refused {
        for query in [CREATE, r#"{ organization(by: {slug: "ilo"}) { name } }"#] {
            let body = app.graphql_as(&bad, query, json!({})).await;
            assert_eq!(error_codes(&body), ["UNAUTHENTICATED"], "{why}: {body:#}");
            assert!(body.get("data").is_none(), "{why}: nothing ran");
        }
    }
    let accepted = [
        (
            "a lifetime of exactly the maximum",
            with_claims(now() + MAX_LIFETIME, Some(now())),
        ),
        ("no iat, an hour to go", with_claims(now() + 3600, None)),
        (
            "iat ten seconds ahead, within the leeway",
            with_claims(now() + 3600, Some(now() + 10)),
        ),
    ];
    for (why, good) in accepted {
        let body = app
            .graphql_as(&good, "{ organizations { totalCount } }", json!({}))
            .await;
        assert!(body.get("errors").is_none(), "{why}: {body:#}");
    }
}

#[tokio::test]
async fn the_maximum_token_lifetime_is_configurable() {
    let app = crate::helpers::spawn_app_with(|s| {
        s.auth = crate::helpers::auth_settings();
        s.auth.jwt_max_ttl_secs = 3600;
    })
    .await;
    let read = "{ organizations { totalCount } }";
    let body = app
        .graphql_as(&with_claims(now() + 7200, Some(now())), read, json!({}))
        .await;
    assert_eq!(error_codes(&body), ["UNAUTHENTICATED"], "{body:#}");
    let message = body["errors"][0]["message"].as_str().unwrap_or_default();
    assert!(message.contains("3600 seconds"), "{message}");
    let body = app
        .graphql_as(&with_claims(now() + 3600, Some(now())), read, json!({}))
        .await;
    assert!(body.get("errors").is_none(), "{body:#}");
}

#[tokio::test]
async fn a_subject_holding_u0000_is_unauthenticated_not_internal() {
    let app = spawn_app_with_auth().await;
    let token = signed(
        &Claims {
            sub: "ed\u{0}die".into(),
            ..claims("editor", now() + 3600)
        },
        JWT_SECRET,
    );
    let body = app.graphql_as(&token, CREATE, json!({})).await;
    assert_eq!(error_codes(&body), ["UNAUTHENTICATED"], "{body:#}");
    let body = app
        .graphql(
            r#"{ organization(by: {slug: "new-body"}) { id } }"#,
            json!({}),
        )
        .await;
    assert_eq!(
        body["data"]["organization"],
        Value::Null,
        "nothing was written"
    );
}
