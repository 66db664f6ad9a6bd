package collector

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"
	"unsafe"

	_ "modernc.org/sqlite" // the pure-Go SQLite driver, registered as "sqlite"

	"github.com/coworkgov/cowork/correlate"
	"github.com/coworkgov/cowork/internal/payload"
	"github.com/coworkgov/cowork/telemetry"
)

// Errors of the store.
var (
	// ErrClosed is returned for writes after Close.
	ErrClosed = errors.New("collector: store closed")
	// ErrSchema means the data directory holds a store of another schema version.
	ErrSchema = errors.New("collector: unsupported store schema")
)

// chainKey is a chain's (session.id, prompt.id).
type chainKey struct{ session, prompt string }

// openChain is an open chain in the writer's mirror of open_chains: its stored events and its
// number (events.ckey).
type openChain struct{ n, ckey int64 }

// chainBits is the room a batch id leaves for the numbers of a request's new chains.
const chainBits = 20

// chainNumber is the ckey of a chain whose stored row says v: its number, or for a row of a
// build before chain numbers (v 0) the hash those builds keyed its events by.
func chainNumber(k chainKey, v int64) int64 {
	if v == 0 {
		return chainHash(k.session, k.prompt)
	}
	return v
}

// logsWrite is one acknowledged-on-commit logs request.
type logsWrite struct {
	payload []byte
	rows    []eventRow
	done    chan logsResult
}

// logsResult tells a request which of its rows were new (not duplicates of stored events) and
// which chains it reopened (chains already stored and closed, that must be rebuilt).
type logsResult struct {
	err    error
	fresh  []bool
	reopen []chainKey
}

type metricsWrite struct {
	rows []pointRow
	done chan error
}

// chainWrite is an emitted chain as the chains table stores it: its columns, copied out of
// the chain, and its JSON, encoded by the emitting goroutine. It keeps nothing of the chain
// itself, whose memory the assembler reuses (correlate.WithChainReuse) once storeChain returns.
type chainWrite struct {
	id, session, prompt, parent   string
	accountUUID, accountID, email string
	product, startedAt, endedAt   string
	complete                      bool
	version, events               int
	cost                          float64
	inputTokens, outputTokens     int64
	apiRequests, apiErrors        int
	toolCalls, rejected           int
	json                          []byte // the write's own: never modified (chainUpsert binds it as a string)
}

func newChainWrite(c *correlate.Chain, js []byte) *chainWrite {
	t := &c.Totals
	return &chainWrite{
		id: c.ID, session: c.SessionID, prompt: c.PromptID, parent: c.ParentPromptID,
		accountUUID: c.User.AccountUUID, accountID: c.User.AccountID, email: c.User.Email,
		product: c.Product, startedAt: fmtTime(c.StartedAt), endedAt: fmtTime(c.EndedAt),
		complete: c.Complete, version: c.Version, events: c.EventCount, cost: t.CostUSD,
		inputTokens: t.InputTokens, outputTokens: t.OutputTokens, apiRequests: t.APIRequests,
		apiErrors: t.APIErrors, toolCalls: t.ToolCalls, rejected: t.Rejected, json: js,
	}
}

// store is the SQLite store: one writer connection fed by one goroutine that commits whatever
// is queued in one transaction (group commit), and a pool of readers.
type store struct {
	w, r, ck *sql.DB
	rt       *sql.DB // retention: short delete transactions beside the writer
	stopCk   chan struct{}
	ckDone   chan struct{}
	queue    chan any // requests (logs, metrics)
	chains   chan any // emitted chains
	log      *slog.Logger
	closed   atomic.Bool
	// payloads is the form of the store's payloads, set by its schema version.
	payloads payload.Form
	closeMu  sync.RWMutex // held for reading by senders, for writing by Close
	done     chan struct{}

	stmts stmts

	// open mirrors the open_chains table: owned by the writer goroutine, loaded by openStore,
	// changed by each transaction and written back at its end (one row per chain a
	// transaction touched, not one per request). openStale is set when a transaction rolls
	// back, and the next one reloads the mirror first (and fails, with its requests, until it
	// can), so no transaction ever starts from changes that were not committed.
	open      map[chainKey]openChain
	openStale bool

	// ckTail is set by the checkpointer when the writer should copy the WAL's tail; ckMu keeps
	// the writer's checkpoint and the checkpointer's apart (SQLite would refuse the second).
	ckTail atomic.Bool
	ckMu   sync.Mutex
	wal    walTuning

	// counters
	eventsStored, eventsDuplicate, chainsStored, pointsStored, commits, commitNanos atomic.Int64
	checkpoints, walTails, walRestarts, writebacks                                  atomic.Int64
	wbDone                                                                          chan struct{}
}

// storeOptions tunes the store.
type storeOptions struct {
	queue    int  // queued writes before senders wait
	fullSync bool // synchronous=FULL: survive power loss, not only process death
	// noSync (synchronous=OFF, no writeback) is for tests of the WAL's bookkeeping, which
	// must not depend on how fast the machine's disk syncs.
	noSync bool
	// rawPayloads creates a new store of rawSchemaVersion, with uncompressed payloads.
	rawPayloads bool
	wal         walTuning // zero: defaultWAL
}

const (
	maxTxnRows   = 50_000
	maxTxnChains = 256
	chainQueue   = 16_384
)

// migrate adds the columns of migrations that the store's tables lack, then creates
// timeIndexes and, in a store that still has events_time or events_batch (see
// backfillRanges), fills in its batches' event ranges and times and drops those indexes, in
// one transaction.
func migrate(w *sql.DB, log *slog.Logger) error {
	for _, m := range migrations {
		var n int
		if err := w.QueryRow(`SELECT count(*) FROM pragma_table_info(?) WHERE name = ?`, m.table, m.column).Scan(&n); err != nil {
			return err
		}
		if n == 0 {
			if _, err := w.Exec(m.ddl); err != nil {
				return fmt.Errorf("%s.%s: %w", m.table, m.column, err)
			}
		}
	}
	var byTime, byBatch int
	if err := w.QueryRow(`SELECT coalesce(sum(name = 'events_time'), 0), coalesce(sum(name = 'events_batch'), 0) FROM sqlite_schema
		WHERE type = 'index' AND name IN ('events_time', 'events_batch')`).Scan(&byTime, &byBatch); err != nil {
		return err
	}
	old := byTime+byBatch > 0
	if old {
		log.Info("collector: indexing the store's batches by their events (once; a large store takes a while)")
	}
	start := time.Now()
	tx, err := w.Begin()
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if _, err := tx.Exec(timeIndexes); err != nil {
		return fmt.Errorf("time indexes: %w", err)
	}
	if old {
		// The ranges first, through events_batch (made here for stores older than it), then the
		// times, through the ranges.
		if _, err := tx.Exec(`CREATE INDEX IF NOT EXISTS events_batch ON events (batch_id)`); err != nil {
			return fmt.Errorf("batch ranges: %w", err)
		}
		if _, err := tx.Exec(backfillRanges); err != nil {
			return fmt.Errorf("batch ranges: %w", err)
		}
		if byTime > 0 {
			if _, err := tx.Exec(backfillTimes); err != nil {
				return fmt.Errorf("batch times: %w", err)
			}
		}
		if _, err := tx.Exec(`DROP INDEX events_batch`); err != nil {
			return fmt.Errorf("batch ranges: %w", err)
		}
	}
	if err := tx.Commit(); err != nil {
		return err
	}
	if old {
		log.Info("collector: batches indexed", "duration_ms", time.Since(start).Milliseconds())
	}
	return nil
}

// filePragmas are the settings of a new store's file; see openStore.
const filePragmas = `PRAGMA page_size = 16384; PRAGMA auto_vacuum = INCREMENTAL; PRAGMA journal_mode = WAL`

func openStore(dir string, o storeOptions, log *slog.Logger) (*store, error) {
	path := filepath.Join(dir, "cowork.db")
	sync := "NORMAL"
	switch {
	case o.noSync:
		sync = "OFF"
	case o.fullSync:
		sync = "FULL"
	}
	// Settings of each connection of the writer's pool (the driver applies them on connect).
	q := url.Values{}
	q.Add("_pragma", "synchronous("+sync+")")
	q.Add("_pragma", "busy_timeout(10000)")
	q.Add("_pragma", "foreign_keys(0)")
	// The writer never checkpoints (see checkpointer); without this SQLite would run one
	// inside a commit whenever the WAL passes 1,000 pages.
	q.Add("_pragma", "wal_autocheckpoint(0)")
	// 1,024 pages of cache (16 MiB with 16 KiB pages), counted in pages because a size in KiB
	// is converted with the page size in force when the pragma runs. More is not better: a
	// transaction that splits a B-tree page (most of them) leaves a page number past the end
	// of the file in the cache, and its commit then walks every cached page to drop it, which
	// took 5% of the collector's CPU with 16,000 pages. 16 MiB still holds a group commit of
	// thousands of events without spilling, and the index pages it touches.
	q.Add("_pragma", "cache_size(1024)")
	q.Set("_txlock", "immediate")
	w, err := sql.Open("sqlite", "file:"+path+"?"+q.Encode())
	if err != nil {
		return nil, fmt.Errorf("collector: open store: %w", err)
	}
	w.SetMaxOpenConns(1)
	w.SetMaxIdleConns(1)
	w.SetConnMaxLifetime(0)
	// Settings of the file, which only a new, empty database takes, in this order: nothing
	// may touch the file before page_size and auto_vacuum. (In the connection string they
	// would not run first: the driver runs its _pragma list sorted by name, which created
	// every store made before December 2026 with 4 KiB pages.)
	//   - 16 KiB pages (the default is 4 KiB): a quarter of the WAL frames, and so of the
	//     write system calls (two per frame), per commit.
	//   - Incremental auto-vacuum lets retention return freed pages to the file system
	//     (older stores, created without it, keep reusing free pages).
	//   - WAL: readers never wait for the writer, and a commit is one append.
	if _, err := w.Exec(filePragmas); err != nil {
		w.Close()
		return nil, fmt.Errorf("collector: open store: %w", err)
	}
	if _, err := w.Exec(schema); err != nil {
		w.Close()
		return nil, fmt.Errorf("collector: create schema: %w", err)
	}
	if err := migrate(w, log); err != nil {
		w.Close()
		return nil, fmt.Errorf("collector: migrate schema: %w", err)
	}
	var v string
	err = w.QueryRow(`SELECT value FROM meta WHERE key = 'schema_version'`).Scan(&v)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		v = schemaVersion
		if o.rawPayloads {
			v = rawSchemaVersion
		}
		_, err = w.Exec(`INSERT INTO meta (key, value) VALUES ('schema_version', ?)`, v)
	case err == nil && !readableVersions[v]:
		err = fmt.Errorf("%w: %s (this build reads 1 to %s)", ErrSchema, v, schemaVersion)
	}
	if err != nil {
		w.Close()
		return nil, err
	}
	rq := url.Values{}
	rq.Add("_pragma", "busy_timeout(10000)")
	rq.Add("_pragma", "query_only(1)")
	r, err := sql.Open("sqlite", "file:"+path+"?"+rq.Encode())
	if err != nil {
		w.Close()
		return nil, fmt.Errorf("collector: open store: %w", err)
	}
	r.SetMaxOpenConns(4)
	if o.queue <= 0 {
		o.queue = 1024
	}
	cq := url.Values{}
	cq.Add("_pragma", "busy_timeout(10000)")
	if o.noSync {
		cq.Add("_pragma", "synchronous(OFF)") // the checkpoints' syncs are the connection's
	}
	ck, err := sql.Open("sqlite", "file:"+path+"?"+cq.Encode())
	if err != nil {
		w.Close()
		r.Close()
		return nil, fmt.Errorf("collector: open store: %w", err)
	}
	ck.SetMaxOpenConns(1)
	// Retention's transactions read, then write: they take the write lock when they begin,
	// since one that began reading before a commit of the writer could not write after it.
	cq.Set("_txlock", "immediate")
	rt, err := sql.Open("sqlite", "file:"+path+"?"+cq.Encode())
	if err != nil {
		w.Close()
		r.Close()
		ck.Close()
		return nil, fmt.Errorf("collector: open store: %w", err)
	}
	rt.SetMaxOpenConns(1)
	s := &store{w: w, r: r, ck: ck, rt: rt, payloads: payloadForm(v), queue: make(chan any, o.queue), chains: make(chan any, chainQueue), log: log, done: make(chan struct{}), stopCk: make(chan struct{}), ckDone: make(chan struct{}), wbDone: make(chan struct{})}
	if s.wal = o.wal; s.wal == (walTuning{}) {
		s.wal = defaultWAL
	}
	err = s.stmts.prepare(w)
	if err != nil {
		err = fmt.Errorf("collector: prepare: %w", err)
	} else if err = s.loadOpen(); err != nil {
		err = fmt.Errorf("collector: open chains: %w", err)
	}
	if err != nil {
		s.stmts.close()
		w.Close()
		r.Close()
		ck.Close()
		rt.Close()
		return nil, err
	}
	go s.run()
	go s.checkpointer()
	if o.noSync {
		close(s.wbDone)
	} else {
		go s.writeback(path)
	}
	return s, nil
}

// loadOpen reads open_chains into the writer's mirror, s.open, and counts each open chain's
// stored events (open_chains.n is the count when the chain opened: the writer does not
// write the row again while events add to it; see writeOpen).
func (s *store) loadOpen() error {
	open := map[chainKey]openChain{}
	rows, err := s.w.Query(`SELECT session_id, prompt_id, ckey FROM open_chains`)
	if err != nil {
		return err
	}
	for rows.Next() {
		var k chainKey
		var oc openChain
		if err := rows.Scan(&k.session, &k.prompt, &oc.ckey); err != nil {
			rows.Close()
			return err
		}
		oc.ckey = chainNumber(k, oc.ckey)
		open[k] = oc
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	count, err := s.w.Prepare(countChainEvents)
	if err != nil {
		return err
	}
	defer count.Close()
	for k, oc := range open {
		if err := count.QueryRow(oc.ckey, k.session, k.prompt).Scan(&oc.n); err != nil {
			return err
		}
		open[k] = oc
	}
	s.open = open
	return nil
}

// countChainEvents counts the stored events of the chain of (ckey, session_id, prompt_id),
// through events_key.
const countChainEvents = `SELECT count(*) FROM events WHERE ckey = ? AND session_id = ? AND prompt_id = ?`

// Checkpoints. SQLite's automatic checkpoint would run inside a commit and delay
// acknowledgements, so the writer runs none of its own (wal_autocheckpoint=0) and a second
// connection copies the WAL into the database in the background (PASSIVE: never blocking
// the writer) every walTuning.every, and again at once while the writer committed more than
// walTuning.tail frames during the pass before.
//
// Copying is not enough to keep the WAL small: SQLite rewinds it to its start only when a
// write transaction begins with every frame copied, and a writer that commits during each
// background pass never sees that, so the log grew by every frame ever written (1.4 GiB in
// six loadgen runs) until a RESTART checkpoint, which blocks the writer for the whole copy
// (2.6–3.2 s here), forced it back. So when the background passes have caught up to a
// short tail of a log longer than walTuning.reset frames, the checkpointer asks the writer
// for that tail: before its next transaction the writer runs a PASSIVE checkpoint itself,
// which copies only what was committed since, and the transaction after it rewinds the log.
// That costs the writer one short checkpoint (its two fsyncs are most of it) per
// walTuning.reset frames written. RESTART stays as the fallback for a log that passes
// walTuning.restartMax anyway (a reader holding an old snapshot for a long time keeps the
// log from rewinding).
const maxPasses = 8

// walTuning sets the checkpointer's pace (see above); tests make it small.
type walTuning struct {
	every                   time.Duration
	tail, reset, restartMax int64 // frames
}

var defaultWAL = walTuning{
	every:      2 * time.Second,
	tail:       1024,     // 16 MiB of 16 KiB pages
	reset:      8192,     // 128 MiB
	restartMax: 64 << 10, // 1 GiB
}

func (s *store) checkpointer() {
	defer close(s.ckDone)
	wt := s.wal
	s.tick(wt.every, func() bool {
		if s.ckTail.Load() {
			return true // the writer has not copied the tail yet; nothing to add until it has
		}
		prev := int64(-1)
		for pass := range maxPasses {
			frames, done, ok := s.checkpoint(s.ck, "PASSIVE")
			if !ok {
				break
			}
			if frames > wt.restartMax {
				s.checkpoint(s.ck, "RESTART")
				s.walRestarts.Add(1)
				break
			}
			if done != frames {
				break // a reader holds frames back: wait for the next tick
			}
			// Caught up to a short tail, or as close as passes get while the writer is this
			// busy: the tail is what it committed during the last pass.
			caughtUp := prev >= 0 && frames >= prev && frames-prev <= wt.tail
			if caughtUp || pass == maxPasses-1 {
				if frames > wt.reset {
					s.ckTail.Store(true)
				}
				break
			}
			prev = frames
		}
		return true
	})
}

// tick calls f every d until the store closes (stopCk) or f returns false.
func (s *store) tick(d time.Duration, f func() bool) {
	t := time.NewTicker(d)
	defer t.Stop()
	for {
		select {
		case <-s.stopCk:
			return
		case <-t.C:
		}
		if !f() {
			return
		}
	}
}

// writebackEvery is how often writeback syncs the database file.
const writebackEvery = 100 * time.Millisecond

// writeback syncs the database file (not the WAL) every writebackEvery, through a file of
// its own, until the store closes. Every checkpoint ends with an fsync of the database,
// and the writer's (see checkpointTail) stalls every acknowledgement while it lasts: it took
// 150–400 ms on the development VM, waiting on the disk for everything written since the
// last one (and, on ext4, for the journal). Syncing in the background keeps that little: the
// writer's checkpoint took 60–130 ms, and the longest acknowledgement of six sustained runs
// fell from 290–350 ms to 130–140 with 4 connections, 220–240 to 170–200 with 8 (three and
// two interleaved rounds; p99 and CPU unchanged). The WAL is left alone: syncing it while
// commits write to it made commits wait on the pages being written back. The sync changes
// nothing of what SQLite guarantees; it only makes writes the disk would make anyway earlier.
func (s *store) writeback(path string) {
	defer close(s.wbDone)
	// Opened for writing, though it never writes: Windows syncs only such handles.
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		s.log.Warn("collector: writeback disabled", "err", err)
		return
	}
	defer f.Close()
	s.tick(writebackEvery, func() bool {
		if err := f.Sync(); err != nil {
			s.log.Warn("collector: writeback disabled", "err", err)
			return false
		}
		s.writebacks.Add(1)
		return true
	})
}

// checkpoint runs one checkpoint of mode on db, after any other has ended, and reports the
// log's frames and how many of them are in the database; ok is false when it failed.
func (s *store) checkpoint(db *sql.DB, mode string) (frames, done int64, ok bool) {
	s.ckMu.Lock()
	defer s.ckMu.Unlock()
	return s.checkpointLocked(db, mode)
}

func (s *store) checkpointLocked(db *sql.DB, mode string) (frames, done int64, ok bool) {
	var busy int64
	if err := db.QueryRow(`PRAGMA wal_checkpoint(`+mode+`)`).Scan(&busy, &frames, &done); err != nil {
		s.log.Warn("collector: checkpoint failed", "mode", mode, "err", err)
		return 0, 0, false
	}
	s.checkpoints.Add(1)
	return frames, done, frames >= 0 // -1: it could not run
}

// checkpointTail is the writer's part of a checkpoint (see checkpointer), between two
// transactions. While a background pass runs it leaves the tail for a later transaction;
// once it has tried, the log is the checkpointer's again, whether the copy worked or not.
func (s *store) checkpointTail() {
	if !s.ckTail.Load() || !s.ckMu.TryLock() {
		return
	}
	defer s.ckMu.Unlock()
	s.ckTail.Store(false)
	if _, _, ok := s.checkpointLocked(s.w, "PASSIVE"); ok {
		s.walTails.Add(1)
	}
}

// send queues a write; it waits up to wait for room (0: as long as ctx lasts) and reports
// false when the queue stayed full.
func (s *store) send(ctx context.Context, item any, wait time.Duration) (bool, error) {
	s.closeMu.RLock()
	defer s.closeMu.RUnlock()
	if s.closed.Load() {
		return false, ErrClosed
	}
	q := s.queue
	if _, ok := item.(*chainWrite); ok {
		q = s.chains
	}
	select {
	case q <- item:
		return true, nil
	default:
	}
	var timeout <-chan time.Time
	if wait > 0 {
		t := time.NewTimer(wait)
		defer t.Stop()
		timeout = t.C
	}
	select {
	case q <- item:
		return true, nil
	case <-timeout:
		return false, nil
	case <-ctx.Done():
		return false, ctx.Err()
	}
}

// depth is the number of queued writes: requests and chains.
func (s *store) depth() int { return len(s.queue) + len(s.chains) }

// Close stops the writer after it has committed everything queued.
func (s *store) Close() error {
	s.closeMu.Lock()
	if !s.closed.Swap(true) {
		close(s.queue)
		close(s.chains)
	}
	s.closeMu.Unlock()
	<-s.done
	close(s.stopCk)
	<-s.ckDone
	<-s.wbDone
	s.stmts.close()
	_, err := s.ck.Exec(`PRAGMA wal_checkpoint(TRUNCATE)`)
	return errors.Join(err, s.rt.Close(), s.ck.Close(), s.r.Close(), s.w.Close())
}

// run is the writer. Each transaction takes the waiting requests first (their clients wait
// for the commit) and then at most maxTxnChains chains (nobody waits for those; their events
// are already stored), so a burst of chains closing together never delays acknowledgements
// by much.
func (s *store) run() {
	defer close(s.done)
	q, cq := s.queue, s.chains
	var batch []any
	for q != nil || cq != nil {
		batch = batch[:0]
		var first any
		var ok bool
		select {
		case first, ok = <-q:
			if !ok {
				q = nil
				continue
			}
		default:
			select {
			case first, ok = <-q:
				if !ok {
					q = nil
					continue
				}
			case first, ok = <-cq:
				if !ok {
					cq = nil
					continue
				}
			}
		}
		batch = append(batch, first)
		rows := weight(first)
	requests:
		for q != nil && rows < maxTxnRows {
			select {
			case it, ok := <-q:
				if !ok {
					q = nil
					break requests
				}
				batch = append(batch, it)
				rows += weight(it)
			default:
				break requests
			}
		}
	chains:
		for n := 0; cq != nil && n < maxTxnChains; n++ {
			select {
			case it, ok := <-cq:
				if !ok {
					cq = nil
					break chains
				}
				batch = append(batch, it)
			default:
				break chains
			}
		}
		s.checkpointTail()
		s.commit(batch)
	}
}

func weight(item any) int {
	switch it := item.(type) {
	case *logsWrite:
		return len(it.rows)
	case *metricsWrite:
		return len(it.rows)
	}
	return 1
}

// txn holds the prepared statements of one transaction.
type txn struct {
	s                                                             *store
	tx                                                            *sql.Tx
	batch, nextBatch, open, chain, closeOpen, point, hasC, hasOne *sql.Stmt
	events                                                        [insertChunk + 1]*sql.Stmt // bound on first use
	now                                                           string
	args                                                          []any
	// touched holds the open chains the transaction is about to change (opened, added to, or
	// shut), each with whether it was open (in open_chains) when the transaction began.
	touched map[chainKey]bool
}

// touch records, before the transaction changes k's entry in s.open, whether k was open.
func (t *txn) touch(k chainKey) {
	if _, ok := t.touched[k]; !ok {
		_, open := t.s.open[k]
		t.touched[k] = open
	}
}

// writeOpen writes to open_chains the chains the transaction opened or shut (each row on its
// own: their order does not matter). A chain that stayed open keeps its row: its count of
// stored events is the mirror's, which counts them again when it is loaded (see loadOpen),
// so that a request adding events to open chains writes no row of open_chains.
func (t *txn) writeOpen() error {
	for k, was := range t.touched {
		oc, open := t.s.open[k]
		var err error
		switch {
		case open && !was:
			_, err = t.open.Exec(k.session, k.prompt, oc.n, oc.ckey)
		case was && !open:
			if t.closeOpen == nil {
				t.closeOpen = t.tx.Stmt(t.s.stmts.closeOpen)
			}
			_, err = t.closeOpen.Exec(k.session, k.prompt)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// insertChunk is the number of rows of one multi-row INSERT into events: 13 parameters a
// row, well under SQLite's limit of 32,766.
const insertChunk = 64

// storedChainsQuery selects the stored chains among those of a JSON array of [prompt id,
// session id] pairs.
const storedChainsQuery = `SELECT c.prompt_id, c.session_id, c.ckey FROM json_each(?) j CROSS JOIN chains c
	WHERE c.prompt_id = j.value ->> 0 AND c.session_id = j.value ->> 1`

// stmts are the writer's statements, prepared once by openStore on the writer connection
// and bound to each transaction with Tx.Stmt (which reuses them: one connection).
type stmts struct {
	batch, nextBatch, open, hasC, hasOne, chain, closeOpen, point *sql.Stmt
	events                                                        [insertChunk + 1]*sql.Stmt // events[n] inserts n rows
}

func (st *stmts) prepare(w *sql.DB) error {
	for _, p := range []struct {
		dst **sql.Stmt
		q   string
	}{
		{&st.batch, `INSERT INTO batches (id, received_at, events, min_time, max_time, first_event, last_event, payload) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`},
		// The id the next batch takes, as SQLite would number it (see txn.logs).
		{&st.nextBatch, `SELECT coalesce(max(id), 0) + 1 FROM batches`},
		{&st.open, `INSERT INTO open_chains (session_id, prompt_id, n, ckey) VALUES (?, ?, ?, ?)
		ON CONFLICT (session_id, prompt_id) DO UPDATE SET n = excluded.n, ckey = excluded.ckey`},
		// The stored chains among a request's chains that are not open, by their keys (a JSON
		// array of [prompt id, session id] pairs: one statement, one chains_key probe a
		// chain, whatever their number), and one chain by its key (for keys JSON cannot carry).
		{&st.hasC, storedChainsQuery},
		{&st.hasOne, `SELECT ckey FROM chains WHERE prompt_id = ? AND session_id = ?`},
		// The upsert keeps the fuller version (the WHERE: an older or partial version arriving
		// late changes nothing) and numbers versions on from the stored one (the assembler
		// counts from 1 again after a restart), writing that number into the JSON too.
		{&st.chain, `INSERT INTO chains (id, session_id, prompt_id, parent_prompt_id, account_uuid, account_id, email, product,
			started_at, ended_at, complete, version, event_count, cost_usd, input_tokens, output_tokens, api_requests, api_errors, tool_calls, rejected, json, stored_at, ckey)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (prompt_id, session_id) DO UPDATE SET parent_prompt_id = excluded.parent_prompt_id, account_uuid = excluded.account_uuid,
			account_id = excluded.account_id, email = excluded.email, product = excluded.product, started_at = excluded.started_at,
			ended_at = excluded.ended_at, complete = excluded.complete, version = max(excluded.version, version + 1), event_count = excluded.event_count,
			cost_usd = excluded.cost_usd, input_tokens = excluded.input_tokens, output_tokens = excluded.output_tokens,
			api_requests = excluded.api_requests, api_errors = excluded.api_errors, tool_calls = excluded.tool_calls,
			rejected = excluded.rejected, stored_at = excluded.stored_at, ckey = CASE WHEN excluded.ckey <> 0 THEN excluded.ckey ELSE ckey END,
			json = CASE WHEN excluded.version > version THEN excluded.json ELSE json_set(excluded.json, '$.version', version + 1) END
			WHERE excluded.event_count >= event_count`},
		{&st.closeOpen, `DELETE FROM open_chains WHERE session_id = ? AND prompt_id = ?`},
		{&st.point, `INSERT INTO metric_points (name, time, time_unix_nano, value, session_id, account_uuid, attributes) VALUES (?, ?, ?, ?, ?, ?, ?)`},
	} {
		var err error
		if *p.dst, err = w.Prepare(p.q); err != nil {
			return err
		}
	}
	for n := 1; n <= insertChunk; n++ {
		var err error
		if st.events[n], err = prepareEventInsert(w, n); err != nil {
			return err
		}
	}
	return nil
}

func (st *stmts) close() {
	for _, s := range append([]*sql.Stmt{st.batch, st.nextBatch, st.open, st.hasC, st.hasOne, st.chain, st.closeOpen, st.point}, st.events[:]...) {
		if s != nil {
			s.Close()
		}
	}
}

// eventStmt returns the prepared INSERT of n event rows (1 ≤ n ≤ insertChunk).
func (s *store) eventStmt(n int) (*sql.Stmt, error) {
	if n < 1 || n > insertChunk {
		return nil, fmt.Errorf("collector: %d rows in one INSERT", n)
	}
	return s.stmts.events[n], nil
}

func prepareEventInsert(w *sql.DB, n int) (*sql.Stmt, error) {
	var b strings.Builder
	// OR IGNORE rather than ON CONFLICT DO NOTHING: with every constraint resolved by
	// ignoring the row, the statement can never abort halfway, so SQLite keeps no statement
	// journal (a copy of every page the statement touches). A row it skips is a duplicate of
	// a stored event (the columns are never NULL).
	b.WriteString(`INSERT OR IGNORE INTO events (batch_id, idx, session_id, prompt_id, name, seq, time_unix_nano, chash, ckey, time, account_uuid, email, attributes) VALUES `)
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(`(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`)
	}
	return w.Prepare(b.String())
}

func (s *store) commit(batch []any) {
	start := time.Now()
	results := make([]logsResult, len(batch))
	err := s.apply(batch, results)
	if err != nil {
		s.log.Error("collector: commit failed", "writes", len(batch), "err", err)
	} else {
		s.commits.Add(1)
		s.commitNanos.Add(int64(time.Since(start)))
	}
	for i, item := range batch {
		switch it := item.(type) {
		case *logsWrite:
			if err != nil {
				it.done <- logsResult{err: err}
				continue
			}
			it.done <- results[i]
		case *metricsWrite:
			it.done <- err
		}
	}
}

func (s *store) apply(batch []any, results []logsResult) (err error) {
	if s.openStale { // a transaction failed: its changes to the mirror were rolled back
		if err := s.loadOpen(); err != nil {
			return fmt.Errorf("collector: reload open chains: %w", err)
		}
		s.openStale = false
	}
	tx, err := s.w.Begin()
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			_ = tx.Rollback()
			s.openStale = true
		}
	}()
	t := &txn{s: s, tx: tx, now: fmtTime(time.Now()), touched: map[chainKey]bool{}}
	t.batch, t.nextBatch = tx.Stmt(s.stmts.batch), tx.Stmt(s.stmts.nextBatch)
	t.open, t.hasC, t.hasOne = tx.Stmt(s.stmts.open), tx.Stmt(s.stmts.hasC), tx.Stmt(s.stmts.hasOne)
	var stored, dups, chains, points int64
	for i, item := range batch {
		switch it := item.(type) {
		case *logsWrite:
			n, d, e := t.logs(it, &results[i])
			if e != nil {
				return e
			}
			stored, dups = stored+n, dups+d
		case *chainWrite:
			if e := t.chainUpsert(it); e != nil {
				return e
			}
			chains++
		case *metricsWrite:
			if e := t.metrics(it); e != nil {
				return e
			}
			points += int64(len(it.rows))
		case *accessWrite:
			for _, r := range it.rows {
				if _, e := t.tx.Exec(`INSERT INTO access_log (time, role, fingerprint, method, path, query, status) VALUES (?, ?, ?, ?, ?, ?, ?)`,
					r.time, r.role, r.fingerprint, r.method, r.path, r.query, r.status); e != nil {
					return e
				}
			}
		}
	}
	if err = t.writeOpen(); err != nil {
		return err
	}
	if err = tx.Commit(); err != nil {
		return err
	}
	s.eventsStored.Add(stored)
	s.eventsDuplicate.Add(dups)
	s.chainsStored.Add(chains)
	s.pointsStored.Add(points)
	return nil
}

// numberChains sets each row's ckey to its chain's number: an open chain's from the mirror, a
// stored (closed) chain's from its row, and a new chain's from this request's batch id and
// the chain's place among the request's new chains. It returns the numbers of the chains
// that were not open, and which of them were stored. Numbers follow arrival, so events_key
// takes its inserts at its end, where its pages are in the cache, instead of all over the
// index. The chains that are not open are looked up in one query for the request.
func (t *txn) numberChains(rows []eventRow, bid int64) (numbers map[chainKey]int64, closed map[chainKey]bool, err error) {
	var lookup []byte  // the keys of the chains not open, as a JSON array of [prompt, session]
	var odd []chainKey // keys that are not UTF-8, which JSON cannot carry as they are
	for i := range rows {
		k := chainKey{rows[i].session, rows[i].prompt}
		if _, ok := t.s.open[k]; ok {
			continue
		}
		if _, ok := numbers[k]; ok {
			continue
		}
		if numbers == nil {
			numbers = map[chainKey]int64{}
		}
		numbers[k] = 0 // to be set below
		if !utf8.ValidString(k.prompt) || !utf8.ValidString(k.session) {
			odd = append(odd, k)
			continue
		}
		if lookup == nil {
			lookup = append(lookup, "[["...)
		} else {
			lookup = append(lookup, ",["...)
		}
		lookup = append(appendJSONString(append(appendJSONString(lookup, k.prompt), ','), k.session), ']')
	}
	if numbers == nil {
		for i := range rows {
			rows[i].ckey = t.s.open[chainKey{rows[i].session, rows[i].prompt}].ckey
		}
		return nil, nil, nil
	}
	if lookup != nil {
		lookup = append(lookup, ']')
	}
	if closed, err = t.storedChains(lookup, odd, numbers); err != nil {
		return nil, nil, err
	}
	var next int64
	for i := range rows {
		r := &rows[i]
		k := chainKey{r.session, r.prompt}
		if oc, ok := t.s.open[k]; ok {
			r.ckey = oc.ckey
			continue
		}
		if ck := numbers[k]; ck != 0 || closed[k] {
			r.ckey = ck
			continue
		}
		if next < 1<<chainBits {
			r.ckey = bid<<chainBits | next
			next++
		} else { // more new chains than any request can hold: the old form still works
			r.ckey = chainHash(k.session, k.prompt)
		}
		numbers[k] = r.ckey
	}
	return numbers, closed, nil
}

// storedChains looks up the chains of want in the chains table, those of the JSON array
// keys (nil: none) in one query and those of odd one by one: it sets the number of each
// stored one in want, and returns them.
func (t *txn) storedChains(keys []byte, odd []chainKey, want map[chainKey]int64) (closed map[chainKey]bool, err error) {
	found := func(k chainKey, v int64) {
		want[k] = chainNumber(k, v)
		if closed == nil {
			closed = map[chainKey]bool{}
		}
		closed[k] = true
	}
	if keys != nil {
		rs, err := t.hasC.Query(unsafe.String(unsafe.SliceData(keys), len(keys)))
		if err != nil {
			return nil, err
		}
		defer rs.Close()
		for rs.Next() {
			var k chainKey
			var v int64
			if err := rs.Scan(&k.prompt, &k.session, &v); err != nil {
				return nil, err
			}
			if _, ok := want[k]; ok {
				found(k, v)
			}
		}
		if err := rs.Err(); err != nil {
			return nil, err
		}
	}
	for _, k := range odd {
		var v int64
		switch err := t.hasOne.QueryRow(k.prompt, k.session).Scan(&v); {
		case err == nil:
			found(k, v)
		case !errors.Is(err, sql.ErrNoRows):
			return nil, err
		}
	}
	return closed, nil
}

// timeRange returns the earliest and latest time of rows, ignoring rows without one ("" when
// none has one): a batch's min_time and max_time. Duplicates the insert skips are counted
// too, which can only widen the range.
func timeRange(rows []eventRow) (lo, hi string) {
	for i := range rows {
		t := rows[i].time
		if t == "" {
			continue
		}
		if lo == "" || t < lo {
			lo = t
		}
		if t > hi {
			hi = t
		}
	}
	return lo, hi
}

// logs stores a request: its events, then its batch row, which records the ids of the first
// and last (so that no index of the events by batch is needed; see batchEvents) and which the
// events name by the id it is about to take (the writer is the only one to insert batches). A
// request whose every event is a duplicate of a stored one (a retried export) stores no batch:
// no second copy for forwarding.
func (t *txn) logs(w *logsWrite, res *logsResult) (stored, dups int64, err error) {
	var bid int64
	if err := t.nextBatch.QueryRow().Scan(&bid); err != nil {
		return 0, 0, err
	}
	var first, last int64 // the ids of the batch's first and last stored events
	res.fresh = make([]bool, len(w.rows))
	numbers, closed, err := t.numberChains(w.rows, bid)
	if err != nil {
		return 0, 0, err
	}
	// Multi-row INSERTs: one statement per insertChunk rows instead of one per row. A chunk
	// that inserted all its rows (the usual case) had no duplicate; otherwise each of its rows
	// is looked up to tell the inserted ones (this batch, this index) from the duplicates.
	var check []int
	for lo := 0; lo < len(w.rows); lo += insertChunk {
		chunk := w.rows[lo:min(lo+insertChunk, len(w.rows))]
		st := t.events[len(chunk)]
		if st == nil {
			ps, err := t.s.eventStmt(len(chunk))
			if err != nil {
				return 0, 0, err
			}
			st = t.tx.Stmt(ps)
			t.events[len(chunk)] = st
		}
		args := t.args[:0]
		for i := range chunk {
			r := &chunk[i]
			args = append(args, bid, int64(r.idx), r.session, r.prompt, r.name, r.seq, r.tun, r.chash, r.ckey, r.time, r.account, r.email, r.attributes)
		}
		t.args = args
		er, err := st.Exec(args...)
		if err != nil {
			return 0, 0, err
		}
		n, err := er.RowsAffected()
		if err != nil {
			return 0, 0, err
		}
		if n > 0 {
			// The chunk's rows took the ids that follow the last one: the last id it inserted
			// and the n-1 before it, each after the previous chunk's.
			if last, err = er.LastInsertId(); err != nil {
				return 0, 0, err
			}
			if first == 0 {
				first = last - n + 1
			}
		}
		for i := range chunk {
			if n == int64(len(chunk)) {
				res.fresh[lo+i] = true
			} else {
				check = append(check, lo+i)
			}
		}
	}
	for _, i := range check {
		r := &w.rows[i]
		var b, idx int64
		var same bool
		if err := t.tx.QueryRow(`SELECT batch_id, idx, session_id = ? AND prompt_id = ? FROM events WHERE ckey = ? AND name = ? AND seq = ? AND time_unix_nano = ? AND chash = ?`,
			r.session, r.prompt, r.ckey, r.name, r.seq, r.tun, r.chash).Scan(&b, &idx, &same); err != nil {
			return 0, 0, err
		}
		if !same {
			// Two chains whose keys hash alike, with an event of the same name, sequence
			// and nanosecond: not seen in practice, but never dropped silently.
			return 0, 0, fmt.Errorf("collector: event key collision in session %s", r.session)
		}
		res.fresh[i] = b == bid && idx == int64(r.idx)
	}
	added := map[chainKey]int64{}
	var order []chainKey
	for i := range w.rows {
		r := &w.rows[i]
		if !res.fresh[i] {
			dups++
			continue
		}
		stored++
		k := chainKey{r.session, r.prompt}
		if _, ok := added[k]; !ok {
			order = append(order, k)
		}
		added[k]++
	}
	for _, k := range order {
		t.touch(k)
		if oc, ok := t.s.open[k]; ok {
			oc.n += added[k] // already open: the assembler holds its earlier events
			t.s.open[k] = oc
			continue
		}
		oc := openChain{n: added[k], ckey: numbers[k]}
		if closed[k] {
			res.reopen = append(res.reopen, k) // a late event for a stored, closed chain
			if err := t.tx.QueryRow(countChainEvents, oc.ckey, k.session, k.prompt).Scan(&oc.n); err != nil {
				return 0, 0, err
			}
		}
		// The map outlives the request, whose memory k's strings share: keep copies.
		t.s.open[chainKey{strings.Clone(k.session), strings.Clone(k.prompt)}] = oc
	}
	if stored > 0 {
		lo, hi := timeRange(w.rows)
		if _, err := t.batch.Exec(bid, t.now, len(w.rows), lo, hi, first, last, w.payload); err != nil {
			return 0, 0, err
		}
	}
	return stored, dups, nil
}

func (t *txn) chainUpsert(c *chainWrite) error {
	if t.chain == nil {
		t.chain = t.tx.Stmt(t.s.stmts.chain)
	}
	// The number its events are stored under; 0 (a chain not open here, which keeps the
	// number already stored) only for a version whose events all came before.
	ckey := t.s.open[chainKey{c.session, c.prompt}].ckey
	// Integers are bound as int64, a driver.Value as it is (an int goes through reflection).
	if _, err := t.chain.Exec(c.id, c.session, c.prompt, c.parent, c.accountUUID, c.accountID, c.email, c.product,
		c.startedAt, c.endedAt, c.complete, int64(c.version), int64(c.events), c.cost, c.inputTokens, c.outputTokens,
		int64(c.apiRequests), int64(c.apiErrors), int64(c.toolCalls), int64(c.rejected), unsafe.String(unsafe.SliceData(c.json), len(c.json)), t.now, ckey); err != nil {
		return err
	}
	t.shut(c)
	return nil
}

// shut takes a stored chain out of the open chains, unless events came for it after the
// version stored (the assembler holds them and will emit another).
func (t *txn) shut(c *chainWrite) {
	k := chainKey{c.session, c.prompt}
	if oc, ok := t.s.open[k]; ok && oc.n <= int64(c.events) {
		t.touch(k)
		delete(t.s.open, k)
	}
}

func (t *txn) metrics(w *metricsWrite) error {
	if t.point == nil {
		t.point = t.tx.Stmt(t.s.stmts.point)
	}
	for i := range w.rows {
		r := &w.rows[i]
		if _, err := t.point.Exec(r.name, r.time, r.tun, r.value, r.session, r.account, r.attributes); err != nil {
			return err
		}
	}
	return nil
}

// chainNumberOf reads the ckey of k's events, for a reader: its number as open_chains or
// chains holds it, or the hash that builds before chain numbers used.
func (s *store) chainNumberOf(ctx context.Context, k chainKey) (int64, error) {
	var v int64
	err := s.r.QueryRowContext(ctx, `SELECT ckey FROM open_chains WHERE session_id = ? AND prompt_id = ?
		UNION ALL SELECT ckey FROM chains WHERE prompt_id = ? AND session_id = ? LIMIT 1`,
		k.session, k.prompt, k.prompt, k.session).Scan(&v)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return 0, err
	}
	return chainNumber(k, v), nil
}

// loadEvents returns the stored events of the given chains (every open chain when keys is
// nil), decoded from their batches, in storage order.
func (s *store) loadEvents(ctx context.Context, keys []chainKey) ([]telemetry.Event, error) {
	type loc struct{ batch, idx int64 }
	var locs []loc
	scan := func(rows *sql.Rows, err error) error {
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var l loc
			if err := rows.Scan(&l.batch, &l.idx); err != nil {
				return err
			}
			locs = append(locs, l)
		}
		return rows.Err()
	}
	type ref struct {
		k    chainKey
		ckey int64
	}
	var refs []ref
	if keys == nil {
		rows, err := s.r.QueryContext(ctx, `SELECT session_id, prompt_id, ckey FROM open_chains`)
		if err != nil {
			return nil, err
		}
		for rows.Next() {
			var r ref
			if err := rows.Scan(&r.k.session, &r.k.prompt, &r.ckey); err != nil {
				rows.Close()
				return nil, err
			}
			r.ckey = chainNumber(r.k, r.ckey)
			refs = append(refs, r)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, err
		}
	}
	for _, k := range keys {
		ck, err := s.chainNumberOf(ctx, k)
		if err != nil {
			return nil, err
		}
		refs = append(refs, ref{k, ck})
	}
	for _, r := range refs {
		if err := scan(s.r.QueryContext(ctx, `SELECT batch_id, idx FROM events WHERE ckey = ? AND session_id = ? AND prompt_id = ?`,
			r.ckey, r.k.session, r.k.prompt)); err != nil {
			return nil, err
		}
	}
	slices.SortFunc(locs, func(a, b loc) int {
		if c := cmp.Compare(a.batch, b.batch); c != 0 {
			return c
		}
		return cmp.Compare(a.idx, b.idx)
	})
	var out []telemetry.Event
	var cur int64 = -1
	var evs []telemetry.Event
	for _, l := range locs {
		if l.batch != cur {
			var payload []byte
			err := s.r.QueryRowContext(ctx, `SELECT payload FROM batches WHERE id = ?`, l.batch).Scan(&payload)
			if errors.Is(err, sql.ErrNoRows) {
				// Retention deleted the batch (by time received) before this event (by its own
				// time, later than received): the event cannot be replayed.
				cur, evs = l.batch, nil
				continue
			}
			if err != nil {
				return nil, fmt.Errorf("collector: batch %d: %w", l.batch, err)
			}
			logs, err := decodePayload(payload)
			if err != nil {
				// Damaged on disk: its events' chains resume without them rather than not at
				// all, and every other chain with them.
				s.log.Error("collector: a stored batch is unreadable; its events are not replayed", "batch", l.batch, "err", err)
				cur, evs = l.batch, nil
				continue
			}
			cur, evs = l.batch, logs.Events()
		}
		if int(l.idx) < len(evs) {
			out = append(out, evs[l.idx])
		}
	}
	return out, nil
}
