//! Who is asking: JWT bearer tokens turned into a [`Viewer`], and the role checks mutations make.
//!
//! - No token: an anonymous viewer, who may read everything and change nothing.
//! - A token is verified with HS256 (JWT_SECRET) or RS256 (JWT_PUBLIC_KEY_FILE); only those
//!   algorithms are accepted, so an `alg: none` token, a forged signature, an expired token or a
//!   wrong issuer/audience is refused as UNAUTHENTICATED, for reads too.
//! - Its `role` claim says what it may change: `editor` creates, updates and links; `admin` also
//!   deletes, restores and reads the audit log. Any other role reads only.
//! - With no key configured there is no way in: every mutation is refused, never an insecure
//!   default.

use std::time::Duration;

use anyhow::{Context, bail};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation, errors::ErrorKind};
use serde::{Deserialize, Serialize};

use crate::{config::AuthSettings, error::AppError};

/// The longest token subject accepted: the audit log's `actor` column holds 200 characters.
pub const MAX_SUBJECT_CHARS: usize = 200;

/// The longest token lifetime `partnerships token` mints (and JWT_MAX_TTL_SECS's default).
pub const MAX_TTL: Duration = Duration::from_secs(crate::config::DEFAULT_JWT_MAX_TTL_SECS);

/// Seconds of clock difference tolerated between the token's issuer and this server, for
/// `exp`, `nbf` and `iat`.
const LEEWAY_SECS: u64 = 30;

/// Why a subject cannot be an actor, if it cannot.
fn subject_problem(subject: &str) -> Option<String> {
    let n = subject.chars().count();
    if subject.trim().is_empty() {
        Some("The token's subject (sub) is empty.".into())
    } else if subject.contains('\0') {
        // The audit log could not hold it (PostgreSQL refuses U+0000 in text).
        Some("The token's subject (sub) holds the character U+0000.".into())
    } else if n > MAX_SUBJECT_CHARS {
        Some(format!(
            "The token's subject (sub) is {n} characters long; at most {MAX_SUBJECT_CHARS}."
        ))
    } else {
        None
    }
}

/// The shortest HS256 secret accepted: RFC 7518 asks for a key as long as the hash (256 bits).
pub const MIN_SECRET_BYTES: usize = 32;

/// What a token may do, lowest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Signed in, read only (a token whose role we do not know).
    Reader,
    /// Creates, updates and links records.
    Editor,
    /// Also deletes and restores records and reads the audit log.
    Admin,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Reader => "reader",
            Self::Editor => "editor",
            Self::Admin => "admin",
        }
    }

    fn parse(text: &str) -> Self {
        match text {
            "editor" => Self::Editor,
            "admin" => Self::Admin,
            _ => Self::Reader,
        }
    }
}

/// The caller of one request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Viewer {
    /// No token. `can_sign_in` is false when the server accepts no tokens at all.
    Anonymous { can_sign_in: bool },
    /// A verified token's subject and role.
    User { subject: String, role: Role },
}

/// Who made a change, as the audit log records it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor {
    pub subject: String,
    pub role: Role,
}

impl Viewer {
    /// The actor, when the viewer holds at least `needed`; the right error otherwise.
    pub fn require(&self, needed: Role) -> Result<Actor, AppError> {
        match self {
            Self::Anonymous { can_sign_in: false } => Err(AppError::Unauthenticated(
                "Changes are turned off: this server has no JWT_SECRET or JWT_PUBLIC_KEY_FILE configured."
                    .into(),
            )),
            Self::Anonymous { can_sign_in: true } => Err(AppError::Unauthenticated(format!(
                "Sign in: send `Authorization: Bearer <token>` with a token of role {} or higher.",
                needed.as_str()
            ))),
            Self::User { role, .. } if *role < needed => Err(AppError::Forbidden(format!(
                "This needs the {} role; the token has {}.",
                needed.as_str(),
                role.as_str()
            ))),
            Self::User { subject, role } => Ok(Actor {
                subject: subject.clone(),
                role: *role,
            }),
        }
    }
}

/// The claims of our tokens.
#[derive(Debug, Serialize, Deserialize)]
pub struct Claims {
    pub sub: String,
    pub role: String,
    pub exp: u64,
    /// When it was issued. Optional in JWT (RFC 7519); without it, the lifetime is counted from
    /// now.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub iat: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub iss: Option<String>,
    /// A string or an array of strings (identity providers send both); `jsonwebtoken` checks
    /// it against JWT_AUDIENCE itself, so it is kept as it came.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub aud: Option<serde_json::Value>,
}

/// Verifies tokens (and signs them for `partnerships token`), built once from the settings.
pub struct Authenticator {
    keys: Vec<(DecodingKey, Validation)>,
    signing: Option<EncodingKey>,
    issuer: Option<String>,
    audience: Option<String>,
    /// The longest lifetime a token may claim (JWT_MAX_TTL_SECS).
    max_ttl: Duration,
}

impl Authenticator {
    pub fn new(settings: &AuthSettings) -> anyhow::Result<Self> {
        let mut keys = Vec::new();
        let validation = |alg| {
            let mut v = Validation::new(alg);
            v.set_required_spec_claims(&["exp", "sub"]);
            v.leeway = LEEWAY_SECS;
            v.validate_nbf = true;
            if let Some(iss) = &settings.jwt_issuer {
                v.set_issuer(&[iss]);
            }
            match &settings.jwt_audience {
                Some(aud) => v.set_audience(&[aud]),
                None => v.validate_aud = false,
            }
            v
        };
        let mut signing = None;
        if let Some(secret) = &settings.jwt_secret {
            let bytes = secret.expose().as_bytes();
            if bytes.len() < MIN_SECRET_BYTES {
                bail!(
                    "JWT_SECRET is {} bytes long; use at least {MIN_SECRET_BYTES} random bytes",
                    bytes.len()
                );
            }
            keys.push((
                DecodingKey::from_secret(bytes),
                validation(Algorithm::HS256),
            ));
            signing = Some(EncodingKey::from_secret(bytes));
        }
        if let Some(path) = &settings.jwt_public_key_file {
            let pem = std::fs::read(path).with_context(|| {
                format!("Failed to read JWT_PUBLIC_KEY_FILE {}", path.display())
            })?;
            let key = DecodingKey::from_rsa_pem(&pem).with_context(|| {
                format!(
                    "JWT_PUBLIC_KEY_FILE {} is not an RSA public key in PEM",
                    path.display()
                )
            })?;
            keys.push((key, validation(Algorithm::RS256)));
        }
        Ok(Self {
            keys,
            signing,
            issuer: settings.jwt_issuer.clone(),
            audience: settings.jwt_audience.clone(),
            max_ttl: Duration::from_secs(settings.jwt_max_ttl_secs),
        })
    }

    /// Whether any token can be accepted.
    pub fn enabled(&self) -> bool {
        !self.keys.is_empty()
    }

    /// The viewer of a request from its `Authorization` header value, if any.
    pub fn viewer(&self, authorization: Option<&str>) -> Result<Viewer, AppError> {
        let Some(header) = authorization else {
            return Ok(Viewer::Anonymous {
                can_sign_in: self.enabled(),
            });
        };
        let token = header
            .strip_prefix("Bearer ")
            .or_else(|| header.strip_prefix("bearer "))
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .ok_or_else(|| {
                AppError::Unauthenticated(
                    "The Authorization header must be `Bearer <token>`.".into(),
                )
            })?;
        if !self.enabled() {
            return Err(AppError::Unauthenticated(
                "This server accepts no tokens: no JWT_SECRET or JWT_PUBLIC_KEY_FILE is configured."
                    .into(),
            ));
        }
        let header = jsonwebtoken::decode_header(token)
            .map_err(|_| AppError::Unauthenticated("The token is not a valid JWT.".into()))?;
        // Only the algorithms of the configured keys: `none` and any other are refused here.
        let Some((key, validation)) = self
            .keys
            .iter()
            .find(|(_, v)| v.algorithms.contains(&header.alg))
        else {
            return Err(AppError::Unauthenticated(format!(
                "Tokens signed with {:?} are not accepted.",
                header.alg
            )));
        };
        match jsonwebtoken::decode::<Claims>(token, key, validation) {
            Ok(data) if let Some(why) = subject_problem(&data.claims.sub) => {
                Err(AppError::Unauthenticated(why))
            }
            Ok(data) if let Some(why) = self.lifetime_problem(&data.claims) => {
                Err(AppError::Unauthenticated(why))
            }
            Ok(data) => Ok(Viewer::User {
                role: Role::parse(&data.claims.role),
                subject: data.claims.sub,
            }),
            Err(err) => {
                let why = match err.kind() {
                    ErrorKind::ExpiredSignature => "The token has expired.",
                    ErrorKind::ImmatureSignature => "The token is not valid yet.",
                    ErrorKind::InvalidIssuer => "The token was issued by someone else.",
                    ErrorKind::InvalidAudience => "The token is meant for another audience.",
                    ErrorKind::InvalidSignature => "The token's signature does not verify.",
                    _ => "The token is not valid.",
                };
                Err(AppError::Unauthenticated(why.into()))
            }
        }
    }

    /// Why a token that verified claims a lifetime we do not accept, if it does. `jsonwebtoken`
    /// checks only that `exp` is not past: a leaked token expiring in the year 9999, or one
    /// dated a year ahead, would be good for ever. So `exp` may be at most JWT_MAX_TTL_SECS
    /// after `iat` (without `iat`, after now), and `iat` not later than now.
    fn lifetime_problem(&self, claims: &Claims) -> Option<String> {
        let now = jsonwebtoken::get_current_timestamp();
        let max = self.max_ttl.as_secs();
        match claims.iat {
            Some(iat) if iat > now.saturating_add(LEEWAY_SECS) => {
                Some("The token's issue time (iat) is in the future.".into())
            }
            Some(iat) if claims.exp.saturating_sub(iat) > max => Some(format!(
                "The token lives longer than this server accepts (exp - iat is at most {max} seconds)."
            )),
            None if claims.exp.saturating_sub(now) > max.saturating_add(LEEWAY_SECS) => {
                Some(format!(
                    "The token expires further ahead than this server accepts (at most {max} seconds from now)."
                ))
            }
            _ => None,
        }
    }

    /// Signs an HS256 token for `subject` with `role`, valid for `ttl`.
    pub fn mint(&self, subject: &str, role: Role, ttl: Duration) -> anyhow::Result<String> {
        let Some(key) = &self.signing else {
            bail!(
                "Set JWT_SECRET to mint tokens (RS256 tokens are minted by your identity provider)"
            );
        };
        if let Some(why) = subject_problem(subject) {
            bail!("{why}");
        }
        if ttl > MAX_TTL {
            bail!("The ttl is longer than {} days", MAX_TTL.as_secs() / 86_400);
        }
        if ttl > self.max_ttl {
            bail!(
                "The ttl is longer than JWT_MAX_TTL_SECS ({} seconds): the server would refuse the token",
                self.max_ttl.as_secs()
            );
        }
        let now = jsonwebtoken::get_current_timestamp();
        let exp = now
            .checked_add(ttl.as_secs())
            .context("The ttl is too long")?;
        let claims = Claims {
            sub: subject.to_owned(),
            role: role.as_str().to_owned(),
            iat: Some(now),
            exp,
            iss: self.issuer.clone(),
            aud: self.audience.clone().map(serde_json::Value::String),
        };
        jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, key)
            .context("Failed to sign the token")
    }
}

/// Parses a duration such as `90s`, `30m`, `1h` or `7d`.
pub fn parse_ttl(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let split = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let n: u64 = number
        .parse()
        .map_err(|_| format!("`{text}` is not a duration such as 30m, 1h or 7d"))?;
    let seconds = match unit {
        "" | "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        _ => return Err(format!("`{text}`: use s, m, h or d as the unit")),
    };
    if n == 0 {
        return Err("the ttl must be positive".into());
    }
    let max_days = MAX_TTL.as_secs() / 86_400;
    match n.checked_mul(seconds) {
        Some(total) if total <= MAX_TTL.as_secs() => Ok(Duration::from_secs(total)),
        _ => Err(format!("`{text}` is too long: at most {max_days}d")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Secret;

    fn settings() -> AuthSettings {
        AuthSettings {
            jwt_secret: Some(Secret::new("x".repeat(40))),
            ..AuthSettings::default()
        }
    }

    #[test]
    fn a_minted_token_verifies_and_carries_its_role() {
        let auth = Authenticator::new(&settings()).expect("valid settings");
        let token = auth
            .mint("ada", Role::Editor, Duration::from_secs(60))
            .expect("signs");
        let viewer = auth
            .viewer(Some(&format!("Bearer {token}")))
            .expect("verifies");
        assert_eq!(
            viewer,
            Viewer::User {
                subject: "ada".into(),
                role: Role::Editor
            }
        );
        assert!(viewer.require(Role::Admin).is_err());
    }

    #[test]
    fn short_secrets_are_refused() {
        let short = AuthSettings {
            jwt_secret: Some(Secret::new("short")),
            ..AuthSettings::default()
        };
        assert!(Authenticator::new(&short).is_err());
    }

    #[test]
    fn ttls_parse() {
        assert_eq!(parse_ttl("1h"), Ok(Duration::from_secs(3600)));
        assert_eq!(parse_ttl("30m"), Ok(Duration::from_secs(1800)));
        assert!(parse_ttl("soon").is_err());
        assert!(parse_ttl("0s").is_err());
        assert_eq!(parse_ttl("366d"), Ok(MAX_TTL));
        assert!(parse_ttl("367d").is_err());
        assert!(parse_ttl("18446744073709551615d").is_err());
        assert!(parse_ttl("99999999999999999999999s").is_err());
    }

    #[test]
    fn subjects_must_fit_the_audit_log() {
        let auth = Authenticator::new(&settings()).expect("valid settings");
        let ttl = Duration::from_secs(60);
        assert!(auth.mint("", Role::Editor, ttl).is_err());
        assert!(auth.mint(&"s".repeat(201), Role::Editor, ttl).is_err());
        assert!(auth.mint(&"s".repeat(200), Role::Editor, ttl).is_ok());
        assert!(auth.mint("ada", Role::Editor, MAX_TTL * 2).is_err());
    }

    #[test]
    fn no_token_is_minted_that_the_configured_maximum_lifetime_refuses() {
        let auth = Authenticator::new(&AuthSettings {
            jwt_max_ttl_secs: 3600,
            ..settings()
        })
        .expect("valid settings");
        assert!(
            auth.mint("ada", Role::Editor, Duration::from_secs(7200))
                .is_err()
        );
        let token = auth
            .mint("ada", Role::Editor, Duration::from_secs(3600))
            .expect("signs");
        assert!(auth.viewer(Some(&format!("Bearer {token}"))).is_ok());
    }
}
