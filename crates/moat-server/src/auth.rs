//! API tokens: `moat_<id>_<secret>`, a role and a tenant. The database keeps the id,
//! role, tenant and an argon2id PHC string of the secret, never the secret. Every
//! request reads the token's row (a revoked token is refused at once, on every
//! replica); the argon2 check (about 50 ms) runs once per token and process, later
//! requests compare a SHA-256 of the secret remembered for that same PHC string.

use crate::error::{Error, Result};
use crate::store::{Store, Val, now_ms};
use argon2::Argon2;
use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::sync::Mutex;

/// What a token may do; each role includes the ones below it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Read images, reports, findings, jobs.
    Reader,
    /// Also submit scans.
    Submitter,
    /// Also manage tokens and webhooks, trigger a re-match, read the audit log.
    Admin,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Reader => "reader",
            Role::Submitter => "submitter",
            Role::Admin => "admin",
        }
    }
    pub fn parse(s: &str) -> Option<Role> {
        Some(match s {
            "reader" => Role::Reader,
            "submitter" => Role::Submitter,
            "admin" => Role::Admin,
            _ => return None,
        })
    }
}

/// The authenticated caller of a request.
#[derive(Debug, Clone)]
pub struct Caller {
    pub token_id: String,
    pub tenant: String,
    pub role: Role,
}

impl Caller {
    /// Refuse (403) unless the caller's role includes `role`.
    pub fn require(&self, role: Role) -> Result<()> {
        if self.role >= role {
            Ok(())
        } else {
            Err(Error::Forbidden(role.as_str()))
        }
    }
}

/// A tenant name: 1–64 of `[a-z0-9-_]`.
pub fn valid_tenant(t: &str) -> bool {
    !t.is_empty()
        && t.len() <= 64
        && t.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_')
}

fn random_hex(bytes: usize) -> Result<String> {
    let mut buf = vec![0u8; bytes];
    getrandom::fill(&mut buf).map_err(|e| Error::Internal(format!("random: {e}")))?;
    Ok(hex::encode(buf))
}

/// Create a token for `tenant` (created when new); the token text, shown once.
pub async fn create_token(store: &Store, tenant: &str, role: Role, label: &str) -> Result<String> {
    if !valid_tenant(tenant) {
        return Err(Error::BadRequest(format!(
            "tenant {:?}: 1-64 of a-z 0-9 - _",
            moat_model::escape_control(tenant)
        )));
    }
    let id = random_hex(8)?;
    let secret = random_hex(24)?;
    let hash = tokio::task::spawn_blocking(move || {
        let h: Result<PasswordHash> = Argon2::default()
            .hash_password(secret.as_bytes())
            .map_err(|e| Error::Internal(format!("argon2: {e}")));
        h.map(|h| (h.to_string(), secret))
    })
    .await
    .map_err(|e| Error::Internal(e.to_string()))??;
    let (phc, secret) = hash;
    let now = now_ms();
    store
        .transaction(vec![
            crate::store::Stmt::new(
                "INSERT INTO tenants (name, created_ms) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING",
                vec![tenant.into(), now.into()],
            ),
            crate::store::Stmt::new(
                "INSERT INTO tokens (id, tenant, role, hash, label, revoked, created_ms) VALUES ($1, $2, $3, $4, $5, 0, $6)",
                vec![
                    id.as_str().into(),
                    tenant.into(),
                    role.as_str().into(),
                    phc.into(),
                    label.into(),
                    now.into(),
                ],
            ),
        ])
        .await?;
    Ok(format!("moat_{id}_{secret}"))
}

/// Revoke a token of `tenant`; false when it does not exist there.
pub async fn revoke_token(store: &Store, tenant: &str, id: &str) -> Result<bool> {
    let rows = store
        .query(
            "UPDATE tokens SET revoked = 1 WHERE id = $1 AND tenant = $2 RETURNING id",
            vec![id.into(), tenant.into()],
        )
        .await?;
    Ok(!rows.is_empty())
}

/// Checks tokens against the database.
#[derive(Default)]
pub struct Verifier {
    /// token id → (PHC string, SHA-256 of the secret that matched it).
    verified: Mutex<HashMap<String, (String, [u8; 32])>>,
}

impl Verifier {
    pub async fn verify(&self, store: &Store, token: &str) -> Result<Caller> {
        let bad = Error::Unauthorized("unknown, wrong or revoked token");
        let rest = token
            .strip_prefix("moat_")
            .ok_or(Error::Unauthorized("a token looks like moat_<id>_<secret>"))?;
        let (id, secret) = rest
            .split_once('_')
            .ok_or(Error::Unauthorized("a token looks like moat_<id>_<secret>"))?;
        if id.len() != 16 || secret.is_empty() || secret.len() > 128 {
            return Err(bad);
        }
        let rows = store
            .query(
                "SELECT tenant, role, hash, revoked FROM tokens WHERE id = $1",
                vec![id.into()],
            )
            .await?;
        let Some(row) = rows.first() else {
            return Err(bad);
        };
        let (tenant, role, phc, revoked) = (
            row[0].string(),
            row[1].string(),
            row[2].string(),
            row[3].int().unwrap_or(1),
        );
        if revoked != 0 {
            return Err(bad);
        }
        let role = Role::parse(&role).ok_or(Error::Internal(format!("token {id}: bad role")))?;
        let digest: [u8; 32] = Sha256::digest(secret.as_bytes()).into();
        let cached = self
            .verified
            .lock()
            .map_err(|_| Error::Poisoned)?
            .get(id)
            .is_some_and(|(h, d)| *h == phc && *d == digest);
        if !cached {
            let (p, s) = (phc.clone(), secret.to_string());
            let ok = tokio::task::spawn_blocking(move || {
                PasswordHash::new(&p)
                    .map(|h| Argon2::default().verify_password(s.as_bytes(), &h).is_ok())
                    .unwrap_or(false)
            })
            .await
            .map_err(|e| Error::Internal(e.to_string()))?;
            if !ok {
                return Err(bad);
            }
            self.verified
                .lock()
                .map_err(|_| Error::Poisoned)?
                .insert(id.to_string(), (phc, digest));
        }
        Ok(Caller {
            token_id: id.to_string(),
            tenant,
            role,
        })
    }
}

/// The `Val` of a tenant, for queries.
pub fn tenant_val(c: &Caller) -> Val {
    Val::from(c.tenant.as_str())
}
