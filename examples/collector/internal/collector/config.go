package collector

import (
	"log/slog"
	"time"

	"github.com/coworkgov/cowork/telemetry/receiver"
)

// Defaults for [Config].
const (
	DefaultDataDir        = "./cowork-data"
	DefaultRedact         = "strict"
	DefaultForwardQueue   = 1_000_000
	DefaultSaturationWait = time.Second
	DefaultWriteQueue     = 1024
	DefaultHold           = 1 << 30
)

// Config configures a [Collector]. The zero value works: data in ./cowork-data, strict
// redaction, no token, no forwarding.
type Config struct {
	// DataDir holds the SQLite store (cowork.db) and the pseudonym key (pseudonym.key).
	// Default: DefaultDataDir. It is created with mode 0700 when missing.
	DataDir string
	// Redact is the redaction policy: "strict", "balanced", "none", or the path of a policy
	// file (YAML or JSON, see redact.LoadPolicy). Default: "strict".
	Redact string
	// Tokens are the bearer tokens the collector accepts ("Authorization: Bearer <Value>"),
	// each with its role: ingest tokens may only send telemetry (OTLP over HTTP and gRPC),
	// read tokens may only use the query API and /metrics, admin tokens may do both and run
	// retention and exports. A known token of the wrong role is answered 403 (gRPC
	// PermissionDenied), no known token 401 (Unauthenticated). With no token at all (Tokens
	// and Token empty) every request is allowed.
	Tokens []Token
	// Token, when set, is one more admin token (the -token flag and $COWORK_TOKEN, kept for
	// compatibility).
	Token string
	// Forward, when set, is an OTLP/HTTP base URL (e.g. http://siem:4318) that receives every
	// stored, redacted batch, in order, as OTLP protobuf to Forward + "/v1/logs".
	Forward string
	// ForwardHeaders are added to every forwarded request (e.g. an Authorization header).
	ForwardHeaders map[string]string
	// ForwardQueue bounds, in events, how far forwarding may fall behind during a downstream
	// outage; beyond it the oldest unforwarded batches are skipped (counted and logged; they
	// stay in the store). Default: DefaultForwardQueue.
	ForwardQueue int
	// QuietPeriod and IdleTimeout tune when chains close; 0 keeps the correlate defaults
	// (5 s after a terminal event, 2 min idle).
	QuietPeriod, IdleTimeout time.Duration
	// Hold bounds the memory, in (estimated) bytes, of the events the assembler holds for
	// chains still open, and of closed chains kept for late events. Past it, kept events are
	// released first, then the oldest open chains close early: they are stored incomplete
	// (counted in cowork_collector_chains_evicted_total) and their later events make a new
	// version. loadgen's simulated fleet, sent at 30,000 to 37,000 events a second, keeps
	// 350–520 MB held at the default quiet period (its events weigh about 2 KB each in
	// memory). The process's heap is a multiple of what is held: about twice at Go's default
	// GOGC, up to five times at the GOGC=400 that main sets. Default: DefaultHold.
	Hold int64
	// FullSync makes every commit wait for the disk (SQLite synchronous=FULL), so that
	// acknowledged events also survive power loss, at a throughput cost. Default: NORMAL,
	// which survives the process being killed (see README.md).
	FullSync bool
	// RawPayloads creates a new store (schema 3) that keeps each batch's payload as
	// uncompressed OTLP protobuf instead of gzip-compressed (schema 2): about a tenth less CPU
	// per event (gzip is the largest single cost of a request) for about half again as much
	// disk. A store keeps the form it was created with, whatever this is set to.
	RawPayloads bool
	// WriteQueue is the number of requests queued for the writer; SaturationWait how long a
	// request waits for room before it is answered 429. Defaults: DefaultWriteQueue,
	// DefaultSaturationWait.
	WriteQueue     int
	SaturationWait time.Duration
	// Receiver sets the OTLP limits (body sizes, concurrency, timeouts); its Token and Logger
	// are replaced by the collector's.
	Receiver receiver.Options
	// Retention is how long each class of data is kept (see [Retention]); zero fields take
	// the defaults (events 30 days, chains 400 days, metrics 90 days).
	Retention Retention
	// RetentionEvery is how often retention runs while serving. Default: DefaultRetentionRun.
	RetentionEvery time.Duration
	// Now is the clock retention judges age by. Default: time.Now.
	Now func() time.Time
	// Logger receives the collector's structured logs (never event content). Default: discard.
	Logger *slog.Logger
}

func (c Config) withDefaults() Config {
	if c.DataDir == "" {
		c.DataDir = DefaultDataDir
	}
	if c.Redact == "" {
		c.Redact = DefaultRedact
	}
	if c.ForwardQueue <= 0 {
		c.ForwardQueue = DefaultForwardQueue
	}
	if c.WriteQueue <= 0 {
		c.WriteQueue = DefaultWriteQueue
	}
	if c.SaturationWait <= 0 {
		c.SaturationWait = DefaultSaturationWait
	}
	if c.Hold <= 0 {
		c.Hold = DefaultHold
	}
	c.Retention = c.Retention.withDefaults()
	if c.RetentionEvery <= 0 {
		c.RetentionEvery = DefaultRetentionRun
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	return c
}
