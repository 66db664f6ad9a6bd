// Command collector is a privacy-sensitive OTLP collector for Claude Cowork and Claude Code:
// it receives their telemetry over OTLP/HTTP and OTLP/gRPC, redacts it before anything is
// stored or forwarded, stores events, chains and sessions in an embedded SQLite database, and
// serves a query API. See README.md.
//
//	go run ./examples/collector
//
// Flags:
//
//	-http ADDR   OTLP/HTTP and the query API        (default 127.0.0.1:4318)
//	-grpc ADDR   OTLP/gRPC, "" to disable           (default 127.0.0.1:4317)
//	-data DIR    embedded store                     (default ./cowork-data)
//	-redact P    strict | balanced | none | FILE    (default strict)
//	-tokens FILE bearer tokens with roles, one "role token" a line (ingest | read | admin);
//	             also $COWORK_TOKENS="role:token,…"
//	-token T     one more admin token               (also $COWORK_TOKEN)
//	-retain R    how long data is kept, e.g. events=30d,chains=400d,metrics=90d (the defaults)
//	-forward URL send redacted events on to another OTLP/HTTP endpoint
package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"math"
	"net"
	"os"
	"os/signal"
	"runtime/debug"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/coworkgov/cowork/examples/collector/internal/collector"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "collector:", err)
		os.Exit(1)
	}
}

func run() error {
	var (
		httpAddr = flag.String("http", "127.0.0.1:4318", "OTLP/HTTP and the query API `address`")
		grpcAddr = flag.String("grpc", "127.0.0.1:4317", `OTLP/gRPC address, "" to disable`)
		dataDir  = flag.String("data", collector.DefaultDataDir, "embedded store `directory`")
		redactP  = flag.String("redact", collector.DefaultRedact, "redaction: strict | balanced | none | policy FILE")
		token    = flag.String("token", os.Getenv("COWORK_TOKEN"), `an admin bearer token (also $COWORK_TOKEN)`)
		tokFile  = flag.String("tokens", "", "token `file`: one \"role token\" a line, role ingest | read | admin (also $COWORK_TOKENS=\"role:token,…\")")
		retain   = flag.String("retain", "", "retention per class, e.g. `events=30d,chains=400d,metrics=90d` (the defaults)")
		forward  = flag.String("forward", "", "send redacted events on to another OTLP/HTTP endpoint `URL`")
		fsync    = flag.Bool("fsync", false, "wait for the disk on every commit (survives power loss, slower)")
		rawPay   = flag.Bool("raw-payloads", false, "a new store keeps payloads uncompressed (schema 3): less CPU, more disk")
		logLevel = flag.String("log", "info", "log level: debug | info | warn | error")
		quiet    = flag.Duration("quiet", 0, "close a chain this long after its last event once it looks finished (default 5s)")
		idle     = flag.Duration("idle", 0, "close a chain this long after its last event in any case (default 2m)")
		hold     = sizeFlag(collector.DefaultHold)
	)
	flag.Var(&hold, "hold", "memory for the events of open chains, e.g. `512MiB` or 2GiB; past it the oldest close early")
	flag.Parse()
	// The pipeline allocates per event and keeps little; collecting less often buys throughput
	// for memory. GOGC in the environment still wins.
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(400)
	}
	// At GOGC=400 the heap's goal is five times the live heap, and the live heap is mostly
	// what the assembler holds: left alone, the heap grew to 4–5.5 GB under loadgen, every
	// page of it touched for the first time (a page fault each: 14 µs a page on a VM without
	// huge pages). A soft limit of three times -hold keeps the heap on pages it already has.
	// GOMEMLIMIT in the environment still wins.
	if os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(memoryLimit(int64(hold)))
	}
	var level slog.Level
	if err := level.UnmarshalText([]byte(*logLevel)); err != nil {
		return fmt.Errorf("-log: %w", err)
	}
	log := slog.New(slog.NewJSONHandler(os.Stderr, &slog.HandlerOptions{Level: level}))
	log.Info("collector: go runtime", "memory_limit_bytes", debug.SetMemoryLimit(-1)) // a negative limit only reads it

	retention, err := collector.ParseRetention(*retain)
	if err != nil {
		return fmt.Errorf("-retain: %w", err)
	}
	toks, err := collector.ParseTokens(os.Getenv("COWORK_TOKENS"))
	if err != nil {
		return fmt.Errorf("$COWORK_TOKENS: %w", err)
	}
	if *tokFile != "" {
		ft, err := collector.LoadTokenFile(*tokFile, log)
		if err != nil {
			return err
		}
		toks = append(toks, ft...)
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	c, err := collector.New(ctx, collector.Config{
		DataDir: *dataDir, Redact: *redactP, Token: *token, Tokens: toks, Retention: retention, Forward: *forward, FullSync: *fsync, RawPayloads: *rawPay, Logger: log,
		QuietPeriod: *quiet, IdleTimeout: *idle, Hold: int64(hold),
	})
	if err != nil {
		return err
	}
	httpLn, err := net.Listen("tcp", *httpAddr)
	if err != nil {
		_ = c.Shutdown(context.Background())
		return err
	}
	var grpcLn net.Listener
	if *grpcAddr != "" {
		if grpcLn, err = net.Listen("tcp", *grpcAddr); err != nil {
			_ = c.Shutdown(context.Background())
			return err
		}
	}
	errc := make(chan error, 1)
	go func() { errc <- c.Serve(httpLn, grpcLn) }()
	select {
	case err := <-errc:
		_ = c.Shutdown(context.Background())
		return err
	case <-ctx.Done():
	}
	log.Info("collector: signal received; draining")
	sctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := c.Shutdown(sctx); err != nil {
		return err
	}
	return <-errc
}

// sizeFlag is a flag of a size in bytes, written as a number with an optional unit: B, KiB,
// MiB, GiB (powers of 1024) or KB, MB, GB (powers of 1000).
type sizeFlag int64

func (f *sizeFlag) String() string {
	for _, u := range []struct {
		name string
		n    int64
	}{{"GiB", 1 << 30}, {"MiB", 1 << 20}, {"KiB", 1 << 10}} {
		if *f >= sizeFlag(u.n) && int64(*f)%u.n == 0 {
			return strconv.FormatInt(int64(*f)/u.n, 10) + u.name
		}
	}
	return strconv.FormatInt(int64(*f), 10) + "B"
}

func (f *sizeFlag) Set(s string) error {
	num := strings.TrimRight(s, "BKMGib")
	unit := s[len(num):]
	mult, ok := map[string]int64{"": 1, "B": 1, "KiB": 1 << 10, "MiB": 1 << 20, "GiB": 1 << 30,
		"KB": 1e3, "MB": 1e6, "GB": 1e9}[unit]
	n, err := strconv.ParseInt(strings.TrimSpace(num), 10, 64)
	if !ok || err != nil || n <= 0 || n > math.MaxInt64/mult {
		return fmt.Errorf("%q: want a positive size such as 512MiB or 2GiB", s)
	}
	*f = sizeFlag(n * mult)
	return nil
}

// memoryLimit is the Go memory limit main sets for a -hold of hold bytes: three times hold,
// and at least 1 GiB. It is soft: past it the GC works harder, never more than about half the
// CPU, and the heap may grow beyond it rather than stall.
func memoryLimit(hold int64) int64 {
	const minLimit = 1 << 30
	if hold > math.MaxInt64/3 {
		return math.MaxInt64
	}
	return max(3*hold, minLimit)
}
