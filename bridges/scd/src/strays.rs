//! Repair of rows an older SCD stranded in a sealed window, shared by both backends (SQLite
//! takes `$N` parameters too).

use crate::Result;

/// Rows that joined an already sealed window (written by SCDs before the late-data fix of
/// issue #12): their window's certificate misses them, so they would never be certified. Moves
/// each such dataset's rows to its next window that is open and not behind its frontier (from
/// the one holding the current time on), where they are certified as late data. Runs inside
/// the sealing transaction.
pub(crate) async fn rehome<DB>(conn: &mut DB::Connection, start: i64, ms: i32) -> Result<()>
where
	DB: sqlx::Database,
	for<'c> &'c mut DB::Connection: sqlx::Executor<'c, Database = DB>,
	for<'q> DB::Arguments<'q>: sqlx::IntoArguments<'q, DB>,
	i64: sqlx::Type<DB> + for<'q> sqlx::Encode<'q, DB> + for<'r> sqlx::Decode<'r, DB>,
	i32: sqlx::Type<DB> + for<'q> sqlx::Encode<'q, DB>,
	String: sqlx::Type<DB> + for<'r> sqlx::Decode<'r, DB>,
	usize: sqlx::ColumnIndex<DB::Row>,
{
	let sealed: Option<String> = sqlx::query_scalar(
		"SELECT state FROM certificates WHERE window_start_ms = $1 AND window_ms = $2",
	)
	.bind(start)
	.bind(ms)
	.fetch_optional(&mut *conn)
	.await?;
	if sealed.is_none() {
		return Ok(());
	}
	let strays: Vec<i64> = sqlx::query_scalar(
		"SELECT dataset FROM open_windows WHERE window_start_ms = $1 AND window_ms = $2 ORDER BY dataset",
	)
	.bind(start)
	.bind(ms)
	.fetch_all(&mut *conn)
	.await?;
	let step = i64::from(ms.max(1));
	let now = crate::now_ms().div_euclid(step) * step;
	for dataset in strays {
		let frontier: Option<i64> = sqlx::query_scalar(
			"SELECT MAX(window_start_ms + window_ms) FROM sealed_windows WHERE dataset = $1",
		)
		.bind(dataset)
		.fetch_one(&mut *conn)
		.await?;
		let frontier = frontier.unwrap_or(0);
		let mut target = start
			.saturating_add(step)
			.max(now)
			.max(frontier.saturating_add(step - 1).div_euclid(step) * step);
		while sqlx::query_scalar::<DB, i64>(
			"SELECT window_start_ms FROM certificates WHERE window_start_ms = $1 AND window_ms = $2",
		)
		.bind(target)
		.bind(ms)
		.fetch_optional(&mut *conn)
		.await?
		.is_some()
		{
			target = target.saturating_add(step);
		}
		let moved: i64 = sqlx::query_scalar(
			"SELECT COUNT(*) FROM measurements \
			 WHERE dataset = $1 AND cert_window_start_ms = $2 AND window_ms = $3",
		)
		.bind(dataset)
		.bind(start)
		.bind(ms)
		.fetch_one(&mut *conn)
		.await?;
		sqlx::query(
			"UPDATE measurements SET cert_window_start_ms = $1 \
			 WHERE dataset = $2 AND cert_window_start_ms = $3 AND window_ms = $4",
		)
		.bind(target)
		.bind(dataset)
		.bind(start)
		.bind(ms)
		.execute(&mut *conn)
		.await?;
		sqlx::query(
			"INSERT INTO open_windows (dataset, window_start_ms, window_ms) VALUES ($1, $2, $3) \
			 ON CONFLICT DO NOTHING",
		)
		.bind(dataset)
		.bind(target)
		.bind(ms)
		.execute(&mut *conn)
		.await?;
		sqlx::query(
			"DELETE FROM open_windows WHERE dataset = $1 AND window_start_ms = $2 AND window_ms = $3",
		)
		.bind(dataset)
		.bind(start)
		.bind(ms)
		.execute(&mut *conn)
		.await?;
		tracing::error!(
			dataset,
			window_start_ms = start,
			moved,
			to_window_start_ms = target,
			"rows had joined a sealed window: moved to a later window, certified there as late data"
		);
	}
	Ok(())
}
