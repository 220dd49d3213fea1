//! Versioned schema migrations, applied by sqlx's migrator on open (`_sqlx_migrations` holds
//! each applied version and its checksum; a build older than its database refuses to open it).
//!
//! The SQL is embedded with `include_str!` and handed to sqlx as a [`MigrationSource`] rather
//! than through the `migrate!` macro: the macro would compile both database drivers a second
//! time, for the proc-macro host, for the same result. A migration, once released, is never
//! edited (its checksum is checked); a change is a new file.

use std::{borrow::Cow, future::Future, pin::Pin};

use sqlx::{
	error::BoxDynError,
	migrate::{Migration, MigrationSource, MigrationType, Migrator},
};

/// `(version, description, SQL)`, ascending.
type Embedded = &'static [(i64, &'static str, &'static str)];

pub(crate) const SQLITE: Embedded = &[(
	1,
	"baseline",
	include_str!("../migrations/sqlite/0001_baseline.sql"),
)];

pub(crate) const POSTGRES: Embedded = &[
	(
		1,
		"baseline",
		include_str!("../migrations/postgres/0001_baseline.sql"),
	),
	(
		2,
		"identity key",
		include_str!("../migrations/postgres/0002_identity_key.sql"),
	),
];

#[derive(Debug)]
struct Source(Embedded);

impl MigrationSource<'static> for Source {
	fn resolve(
		self,
	) -> Pin<Box<dyn Future<Output = Result<Vec<Migration>, BoxDynError>> + Send + 'static>> {
		let migrations = self
			.0
			.iter()
			.map(|(version, description, sql)| {
				Migration::new(
					*version,
					Cow::Borrowed(*description),
					MigrationType::Simple,
					Cow::Borrowed(*sql),
					false,
				)
			})
			.collect();
		Box::pin(async move { Ok(migrations) })
	}
}

pub(crate) async fn migrator(migrations: Embedded) -> crate::Result<Migrator> {
	Ok(Migrator::new(Source(migrations)).await?)
}

/// Whether a database at `found` (its newest applied migration; an error if it has none) is at
/// this build's newest version of `migrations`.
pub(crate) fn check(found: crate::Result<i64>, migrations: Embedded) -> crate::Result<()> {
	let wanted = migrations.last().map_or(0, |m| m.0);
	// A database without `_sqlx_migrations` was made before versions, or is not an SCD.
	let found = found.unwrap_or(0);
	if found == wanted {
		Ok(())
	} else {
		Err(crate::Error::Schema { found, wanted })
	}
}
