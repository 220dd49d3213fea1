//! OAuth2 bearer tokens (client-credentials grant at the utility's authorisation server): a JWT
//! signed with one of the configured public keys (PEM files, or the server's JWKS fetched and
//! refreshed from its URL; ES256 or RS256), from the configured issuer, for the configured
//! audience, unexpired, and with the required scope if one is set. Its `sub` is the client's
//! identity.

use std::{path::PathBuf, time::Duration};

use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use tracing::{info, warn};

use crate::{Client, ClientTls, Error, Result};

/// How bearer tokens are checked.
#[derive(Clone, Debug)]
pub struct AuthConfig {
	pub issuer: String,
	pub audience: String,
	/// Public keys (PEM) of the authorisation server; a token signed by any of them passes.
	pub public_keys: Vec<PathBuf>,
	/// The authorisation server's JWKS (`jwks_uri`): fetched at start, refreshed every
	/// `jwks_refresh`, and early when a token names a key id not yet known (key rotation).
	pub jwks_url: Option<String>,
	/// How to reach `jwks_url` (its CA; the system's roots if absent).
	pub jwks_tls: ClientTls,
	pub jwks_refresh: Duration,
	/// `ES256` or `RS256`.
	pub algorithm: String,
	/// A scope the token must carry (space-separated `scope` claim), if any.
	pub scope: Option<String>,
}

/// Checks bearer tokens.
pub struct Auth {
	/// Keys from PEM files: tried for every token.
	pem_keys: Vec<DecodingKey>,
	/// Keys from the JWKS, by key id.
	jwks: std::sync::RwLock<Vec<(Option<String>, DecodingKey)>>,
	jwks_source: Option<(String, Client)>,
	jwks_refresh: Duration,
	/// Early refreshes for unknown key ids: at most one per `EARLY_REFRESH`.
	last_fetch: tokio::sync::Mutex<Option<std::time::Instant>>,
	validation: Validation,
	scope: Option<String>,
}

/// Least time between two JWKS fetches prompted by tokens, so that tokens with made-up key ids
/// cannot make the API hammer the authorisation server.
const EARLY_REFRESH: Duration = Duration::from_secs(30);

#[derive(Debug, serde::Deserialize)]
struct Claims {
	sub: Option<String>,
	#[serde(default)]
	scope: String,
}

impl Auth {
	pub fn load(config: &AuthConfig) -> Result<Auth> {
		let algorithm = match config.algorithm.as_str() {
			"ES256" => Algorithm::ES256,
			"RS256" => Algorithm::RS256,
			other => return Err(Error::Keys(format!("unsupported algorithm {other}"))),
		};
		let pem_keys = config
			.public_keys
			.iter()
			.map(|path| {
				let pem = std::fs::read(path)
					.map_err(|e| Error::Keys(format!("{}: {e}", path.display())))?;
				match algorithm {
					Algorithm::ES256 => DecodingKey::from_ec_pem(&pem),
					_ => DecodingKey::from_rsa_pem(&pem),
				}
				.map_err(|e| Error::Keys(format!("{}: {e}", path.display())))
			})
			.collect::<Result<Vec<_>>>()?;
		let jwks_source = match &config.jwks_url {
			Some(url) => Some((
				url.clone(),
				Client::new(&config.jwks_tls, Duration::from_secs(10))
					.map_err(|e| Error::Keys(format!("JWKS client: {e}")))?,
			)),
			None => None,
		};
		if pem_keys.is_empty() && jwks_source.is_none() {
			return Err(Error::Keys("no public keys or JWKS URL configured".into()));
		}
		let mut validation = Validation::new(algorithm);
		validation.set_issuer(&[&config.issuer]);
		validation.set_audience(&[&config.audience]);
		validation.set_required_spec_claims(&["exp", "iss", "aud"]);
		validation.leeway = 30;
		Ok(Auth {
			pem_keys,
			jwks: Default::default(),
			jwks_source,
			jwks_refresh: config.jwks_refresh,
			last_fetch: Default::default(),
			validation,
			scope: config.scope.clone(),
		})
	}

	/// Fetches the JWKS and replaces the keys taken from it (signing keys; the token's
	/// algorithm is checked at validation). Returns how many keys it holds.
	pub async fn refresh(&self) -> Result<usize> {
		let Some((url, client)) = &self.jwks_source else {
			return Ok(0);
		};
		*self.last_fetch.lock().await = Some(std::time::Instant::now());
		let (status, body) = client
			.get(url, None)
			.await
			.map_err(|e| Error::Keys(format!("JWKS: {e}")))?;
		if status != 200 {
			return Err(Error::Keys(format!("JWKS {url}: HTTP {status}")));
		}
		let set: jsonwebtoken::jwk::JwkSet =
			serde_json::from_slice(&body).map_err(|e| Error::Keys(format!("JWKS {url}: {e}")))?;
		let keys: Vec<_> = set
			.keys
			.iter()
			// Signing keys of our algorithm only; a key that names none is tried.
			.filter(|k| {
				k.common.public_key_use != Some(jsonwebtoken::jwk::PublicKeyUse::Encryption)
			})
			.filter_map(|k| match DecodingKey::from_jwk(k) {
				Ok(key) => Some((k.common.key_id.clone(), key)),
				Err(e) => {
					warn!(kid = ?k.common.key_id, "JWKS key skipped: {e}");
					None
				}
			})
			.collect();
		let n = keys.len();
		*self
			.jwks
			.write()
			.unwrap_or_else(std::sync::PoisonError::into_inner) = keys;
		Ok(n)
	}

	/// Refreshes the JWKS every `jwks_refresh` (every 30 s while it fails); never returns.
	pub async fn keep_fresh(&self) {
		if self.jwks_source.is_none() {
			return std::future::pending().await;
		}
		loop {
			let wait = match self.refresh().await {
				Ok(n) => {
					info!(keys = n, "token keys fetched from the JWKS");
					self.jwks_refresh
				}
				Err(e) => {
					warn!("{e}; tokens signed by keys not yet known are refused");
					EARLY_REFRESH
				}
			};
			tokio::time::sleep(wait).await;
		}
	}

	/// The token's subject, or why it is refused.
	pub async fn check(&self, authorization: Option<&str>) -> Result<String, String> {
		let token = authorization
			.and_then(|h| h.strip_prefix("Bearer "))
			.ok_or("a bearer token is required")?;
		let kid = jsonwebtoken::decode_header(token)
			.map_err(|e| format!("invalid token: {e}"))?
			.kid;
		// A key id we do not know may be a rotated-in key: fetch the set once more, not too often.
		if let (Some(kid), Some(_)) = (&kid, &self.jwks_source) {
			let known = self
				.jwks
				.read()
				.unwrap_or_else(std::sync::PoisonError::into_inner)
				.iter()
				.any(|(k, _)| k.as_ref() == Some(kid));
			let due = self
				.last_fetch
				.lock()
				.await
				.is_none_or(|at| at.elapsed() >= EARLY_REFRESH);
			if !known && due {
				if let Err(e) = self.refresh().await {
					warn!("{e}");
				}
			}
		}
		// Keys are borrowed, not cloned, for the check: nothing below awaits under the lock.
		let jwks = self
			.jwks
			.read()
			.unwrap_or_else(std::sync::PoisonError::into_inner);
		let by_kid: Vec<&DecodingKey> = jwks
			.iter()
			.filter(|(k, _)| kid.is_some() && *k == kid)
			.map(|(_, key)| key)
			.collect();
		let keys = if by_kid.is_empty() {
			jwks.iter()
				.map(|(_, key)| key)
				.chain(&self.pem_keys)
				.collect()
		} else {
			by_kid
		};
		let mut last = String::from("no key");
		for key in keys {
			match jsonwebtoken::decode::<Claims>(token, key, &self.validation) {
				Ok(data) => {
					if let Some(scope) = &self.scope {
						if !data.claims.scope.split(' ').any(|s| s == scope) {
							return Err(format!("the token lacks scope {scope}"));
						}
					}
					return Ok(data.claims.sub.unwrap_or_default());
				}
				Err(e) => last = e.to_string(),
			}
		}
		Err(format!("invalid token: {last}"))
	}
}
