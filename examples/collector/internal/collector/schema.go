package collector

import "github.com/coworkgov/cowork/internal/payload"

// schemaVersion is stored in meta.schema_version of new stores, rawSchemaVersion instead when
// they are created with uncompressed payloads (Config.RawPayloads); a store of a version not
// in readableVersions is refused. Versions 2 to 4 are created with incremental auto-vacuum,
// so retention returns space to the file system; version 1 stores (created without it)
// reuse their freed pages instead. A store keeps the payload form of its version for good
// (see payloadForm): versions 1 and 2 keep batch payloads gzip-compressed, version 3
// uncompressed, version 4 S2-compressed (see payload.go); builds before version 4 refuse its
// stores. (examples/audit reads schemaVersion from this file: keep it a single const
// declaration.)
const schemaVersion = "4"

// rawSchemaVersion is the version of stores created with Config.RawPayloads.
const rawSchemaVersion = "3"

var readableVersions = map[string]bool{"1": true, "2": true, "3": true, "4": true}

// payloadForm returns the form of the payloads a store of version v keeps.
func payloadForm(v string) payload.Form {
	switch v {
	case rawSchemaVersion:
		return payload.Raw
	case "1", "2":
		return payload.Gzip
	}
	return payload.S2
}

// migrations bring stores of older builds to the columns schema creates; each runs when
// its table lacks the column (SQLite has no ADD COLUMN IF NOT EXISTS).
var migrations = []struct{ table, column, ddl string }{
	{"open_chains", "ckey", `ALTER TABLE open_chains ADD COLUMN ckey INTEGER NOT NULL DEFAULT 0`},
	{"chains", "ckey", `ALTER TABLE chains ADD COLUMN ckey INTEGER NOT NULL DEFAULT 0`},
	{"batches", "min_time", `ALTER TABLE batches ADD COLUMN min_time TEXT NOT NULL DEFAULT ''`},
	{"batches", "max_time", `ALTER TABLE batches ADD COLUMN max_time TEXT NOT NULL DEFAULT ''`},
	{"batches", "first_event", `ALTER TABLE batches ADD COLUMN first_event INTEGER NOT NULL DEFAULT 0`},
	{"batches", "last_event", `ALTER TABLE batches ADD COLUMN last_event INTEGER NOT NULL DEFAULT 0`},
}

// timeIndexes are created after the migrations, which give older stores their columns.
// batches_time covers the queries by time (its columns come after the payload in migrated
// stores' rows); it takes its inserts at its end.
const timeIndexes = `CREATE INDEX IF NOT EXISTS batches_time ON batches (min_time, max_time);`

// A batch's events are the rows of its id among those between its first_event and
// last_event (see batchEvents): a request's rows are inserted one after another, so their
// ids follow on. Earlier builds found them through an index on events (batch_id),
// events_batch, which took an insert per event; a store that has it (made or last written
// by such a build, which leaves its batches' first_event and last_event 0) is given them on
// open (backfillRanges), and loses it. The batch_id filter keeps the lookup exact whatever
// ids a build gave.
const backfillRanges = `
UPDATE batches SET
	first_event = coalesce((SELECT min(id) FROM events WHERE batch_id = batches.id), 0),
	last_event = coalesce((SELECT max(id) FROM events WHERE batch_id = batches.id), 0)
WHERE last_event = 0;`

// batchEvents selects, in a WHERE clause over events and batches, the events of the batch.
const batchEvents = `events.id BETWEEN batches.first_event AND batches.last_event AND events.batch_id = batches.id`

// backfillTimes gives the batches of a store that still has the index events_time (made by
// builds before December 2026, which also write batches without times) the times of their
// events; migrate then drops the index. It runs again if such a build wrote to the store
// since, and only fills batches without times.
const backfillTimes = `UPDATE batches SET ` + setBatchTimes + ` WHERE min_time = ''; DROP INDEX events_time;`

// setBatchTimes sets a batch's times to those of its stored events (UPDATE batches SET …).
const setBatchTimes = `
	min_time = coalesce((SELECT min(time) FROM events WHERE ` + batchEvents + ` AND time <> ''), ''),
	max_time = coalesce((SELECT max(time) FROM events WHERE ` + batchEvents + ` AND time <> ''), '')`

// schema is the store's DDL. README.md documents every table for admins using sqlite3.
const schema = `
CREATE TABLE IF NOT EXISTS meta (
	key   TEXT PRIMARY KEY,
	value TEXT NOT NULL
) WITHOUT ROWID;

-- One row per acknowledged OTLP logs request: the redacted request as OTLP protobuf (gzip-compressed in
-- stores of schema 1 and 2), and the range of the times of its stored events that have one
-- ('' when none has), which retention and exports find events by (index batches_time, see
-- timeIndexes): an index of every event's time took a third of the store's writes, since
-- event times, unlike ids, do not follow arrival (clients' clocks, late exports, backfills);
-- and the ids of its first and last stored events, between which its events are (see
-- batchEvents). Stores of earlier builds gain those four columns after payload.
CREATE TABLE IF NOT EXISTS batches (
	id          INTEGER PRIMARY KEY,
	received_at TEXT    NOT NULL,
	events      INTEGER NOT NULL,
	min_time    TEXT    NOT NULL DEFAULT '',
	max_time    TEXT    NOT NULL DEFAULT '',
	first_event INTEGER NOT NULL DEFAULT 0,
	last_event  INTEGER NOT NULL DEFAULT 0,
	payload     BLOB    NOT NULL
);

-- One row per distinct (redacted) log event. ckey is its chain's number, which follows arrival
-- order so that events_key takes its inserts at its end, as the table does: the id of the
-- batch that first stored an event of the chain times 2^20, plus the chain's place among that
-- request's new chains. Rows written by builds before December 2026 hold a hash of
-- (session_id, prompt_id) instead. A chain's number is in chains.ckey and open_chains.ckey.
CREATE TABLE IF NOT EXISTS events (
	id             INTEGER PRIMARY KEY,
	batch_id       INTEGER NOT NULL,
	idx            INTEGER NOT NULL,
	session_id     TEXT    NOT NULL,
	prompt_id      TEXT    NOT NULL,
	name           TEXT    NOT NULL,
	seq            INTEGER NOT NULL,
	time_unix_nano INTEGER NOT NULL,
	chash          INTEGER NOT NULL,
	ckey           INTEGER NOT NULL,
	time           TEXT    NOT NULL,
	account_uuid   TEXT    NOT NULL,
	email          TEXT    NOT NULL,
	attributes     TEXT    NOT NULL
);
CREATE UNIQUE INDEX IF NOT EXISTS events_key ON events (ckey, name, seq, time_unix_nano, chash);

-- Chains whose events are stored but which the assembler has not emitted since: rebuilt on start.
-- n counted their stored events when the chain opened (the writer counts on in memory and
-- counts again on start; builds before December 2026 kept it up to date); ckey is their number (see events.ckey; 0 in rows of builds
-- before December 2026: the hash of session_id and prompt_id).
CREATE TABLE IF NOT EXISTS open_chains (
	session_id TEXT    NOT NULL,
	prompt_id  TEXT    NOT NULL,
	n          INTEGER NOT NULL,
	ckey       INTEGER NOT NULL DEFAULT 0,
	PRIMARY KEY (session_id, prompt_id)
) WITHOUT ROWID;

-- One row per chain (session.id, prompt.id), its latest version. A rowid table: rows are
-- appended in arrival order and only the indexes take random inserts. Stores created before
-- December 2026 made it WITHOUT ROWID, keyed by the random id with the JSON inside the key's
-- B-tree, or a rowid table with a unique index on id; they work the same, only slower to
-- write (their id index is one more random insert per chain).
CREATE TABLE IF NOT EXISTS chains (
	id               TEXT    NOT NULL,
	session_id       TEXT    NOT NULL,
	prompt_id        TEXT    NOT NULL,
	parent_prompt_id TEXT    NOT NULL,
	account_uuid     TEXT    NOT NULL,
	account_id       TEXT    NOT NULL,
	email            TEXT    NOT NULL,
	product          TEXT    NOT NULL,
	started_at       TEXT    NOT NULL,
	ended_at         TEXT    NOT NULL,
	complete         INTEGER NOT NULL,
	version          INTEGER NOT NULL,
	event_count      INTEGER NOT NULL,
	cost_usd         REAL    NOT NULL,
	input_tokens     INTEGER NOT NULL,
	output_tokens    INTEGER NOT NULL,
	api_requests     INTEGER NOT NULL,
	api_errors       INTEGER NOT NULL,
	tool_calls       INTEGER NOT NULL,
	rejected         INTEGER NOT NULL,
	json             TEXT    NOT NULL,
	stored_at        TEXT    NOT NULL,
	ckey             INTEGER NOT NULL DEFAULT 0 -- the chain's number, as in events.ckey (0: the hash)
);
CREATE INDEX IF NOT EXISTS chains_started ON chains (started_at);
CREATE INDEX IF NOT EXISTS chains_session ON chains (session_id, started_at);
-- A chain's key, for the writer's upsert and lookups by prompt (GET /api/chains/{prompt_id}).
CREATE UNIQUE INDEX IF NOT EXISTS chains_key ON chains (prompt_id, session_id);
-- Older stores had an index on prompt_id alone, which chains_key covers, and one on
-- (account_uuid, started_at), which no query used (a user is matched on account_uuid,
-- account_id or email, through chains_started) and which cost one insert per chain.
DROP INDEX IF EXISTS chains_prompt;
DROP INDEX IF EXISTS chains_user;

-- One row per session, totals over its stored chains (a view: always in step, free to write).
CREATE VIEW IF NOT EXISTS sessions AS
SELECT session_id,
	max(account_uuid) AS account_uuid, max(email) AS email, max(product) AS product,
	min(started_at) AS started_at, max(ended_at) AS ended_at, sum(prompt_id <> '') AS prompts,
	total(cost_usd) AS cost_usd, sum(input_tokens) AS input_tokens, sum(output_tokens) AS output_tokens,
	sum(api_errors) AS api_errors, sum(tool_calls) AS tool_calls, sum(rejected) AS rejected
FROM chains GROUP BY session_id;

-- One row per (redacted) metric data point.
CREATE TABLE IF NOT EXISTS metric_points (
	id             INTEGER PRIMARY KEY,
	name           TEXT    NOT NULL,
	time           TEXT    NOT NULL,
	time_unix_nano INTEGER NOT NULL,
	value          REAL    NOT NULL,
	session_id     TEXT    NOT NULL,
	account_uuid   TEXT    NOT NULL,
	attributes     TEXT    NOT NULL
);
CREATE INDEX IF NOT EXISTS metric_points_name_time ON metric_points (name, time);
CREATE INDEX IF NOT EXISTS metric_points_time ON metric_points (time);

-- One row per query-API request (reads, refusals, admin actions): who asked (role and token
-- fingerprint, never the token), when, what, and the answer's status.
CREATE TABLE IF NOT EXISTS access_log (
	id          INTEGER PRIMARY KEY,
	time        TEXT    NOT NULL,
	role        TEXT    NOT NULL,
	fingerprint TEXT    NOT NULL,
	method      TEXT    NOT NULL,
	path        TEXT    NOT NULL,
	query       TEXT    NOT NULL,
	status      INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS access_log_time ON access_log (time);
`
