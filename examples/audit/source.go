package main

import (
	"context"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/coworkgov/cowork/correlate"
	"github.com/coworkgov/cowork/internal/corpus"
	"github.com/coworkgov/cowork/redact"
	"github.com/coworkgov/cowork/telemetry"
)

// Source is where the report's data comes from: the collector's SQLite store, or events held
// in memory (decoded OTLP files, the embedded corpus).
//
// Methods may be called from one goroutine at a time; since is inclusive, and the zero time
// means everything retained.
type Source interface {
	// Chains returns the chains (including session preambles) that started at or after since.
	Chains(ctx context.Context, since time.Time) ([]*correlate.Chain, error)
	// Events returns the stored events whose time is at or after since, in no particular
	// order.
	Events(ctx context.Context, since time.Time) ([]telemetry.Event, error)
	// Retained describes everything the source holds, whatever the window.
	Retained(ctx context.Context) (Retention, error)
	// Describe names the source for the report.
	Describe() string
	// Close releases the source.
	Close() error
}

// memory is a Source over decoded events; its chains are folded with correlate.Fold, the same
// code the collector's assembler uses.
type memory struct {
	name   string
	events []telemetry.Event
	chains []*correlate.Chain
	bytes  int64
}

var _ Source = (*memory)(nil)

func newMemory(name string, events []telemetry.Event, bytes int64) *memory {
	return &memory{name: name, events: events, chains: correlate.Fold(events), bytes: bytes}
}

func (m *memory) Chains(_ context.Context, since time.Time) ([]*correlate.Chain, error) {
	var out []*correlate.Chain
	for _, c := range m.chains {
		if !c.StartedAt.Before(since) {
			out = append(out, c)
		}
	}
	return out, nil
}

func (m *memory) Events(_ context.Context, since time.Time) ([]telemetry.Event, error) {
	var out []telemetry.Event
	for _, ev := range m.events {
		if !ev.EventRecord().Time().Before(since) {
			out = append(out, ev)
		}
	}
	return out, nil
}

func (m *memory) Retained(context.Context) (Retention, error) {
	r := Retention{Store: m.name, Events: len(m.events), Chains: len(m.chains), Bytes: m.bytes}
	for _, ev := range m.events {
		r.observe(ev.EventRecord().Time())
	}
	sessions := map[string]bool{}
	for _, c := range m.chains {
		sessions[c.SessionID] = true
	}
	r.Sessions = len(sessions)
	return r, nil
}

func (m *memory) Describe() string { return m.name }
func (m *memory) Close() error     { return nil }

// redactor redacts decoded batches in place before a memory source keeps them, as the
// collector does before it stores anything; nil keeps them as they are.
type redactor struct {
	name   string
	engine *redact.Engine
}

// newRedactor compiles a preset name (strict, balanced, none) or a policy file. Pseudonyms are
// keyed for this run only (the collector's key stays in its data directory).
func newRedactor(spec string) (*redactor, error) {
	p, ok := redact.Preset(spec)
	if !ok {
		f, err := os.Open(spec)
		if err != nil {
			return nil, fmt.Errorf("-redact %q is neither strict, balanced, none nor a readable policy file: %w", spec, err)
		}
		defer f.Close()
		if p, err = redact.LoadPolicy(f); err != nil {
			return nil, fmt.Errorf("-redact %s: %w", spec, err)
		}
	}
	e, err := redact.New(p)
	if err != nil {
		return nil, err
	}
	return &redactor{name: filepath.Base(spec), engine: e}, nil
}

func (r *redactor) apply(l *telemetry.Logs) {
	if r != nil {
		r.engine.Logs(l)
	}
}

func (r *redactor) describe() string {
	if r == nil {
		return ""
	}
	return ", redacted with " + r.name
}

// corpusSource is the real recorded corpus (every scenario, OTLP/protobuf).
func corpusSource(red *redactor) (*memory, error) {
	var events []telemetry.Event
	var n int64
	for _, f := range corpus.Files(corpus.Protobuf) {
		if f.Signal != "logs" {
			continue
		}
		l, err := telemetry.DecodeLogsProto(f.Data)
		if err != nil {
			return nil, fmt.Errorf("corpus %s/%s: %w", f.Scenario, f.Name, err)
		}
		red.apply(l)
		n += int64(len(f.Data))
		events = append(events, l.Events()...)
	}
	return newMemory("recorded corpus (Claude Code "+corpus.Version+" as Cowork)"+red.describe(), events, n), nil
}

// fileSource reads OTLP logs request bodies from dir: *.pb and *.binpb as protobuf, *.json as
// OTLP/JSON, walking sub-directories; files named *metrics* are skipped.
func fileSource(dir string, red *redactor) (*memory, error) {
	var paths []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		name := d.Name()
		if d.IsDir() || strings.Contains(name, "metrics") {
			return nil
		}
		switch filepath.Ext(name) {
		case ".pb", ".binpb", ".json":
			paths = append(paths, p)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if len(paths) == 0 {
		return nil, fmt.Errorf("%s: no collector store (cowork.db) and no OTLP files (*.pb, *.json)", dir)
	}
	slices.Sort(paths)
	var events []telemetry.Event
	var n int64
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			return nil, err
		}
		var l *telemetry.Logs
		if filepath.Ext(p) == ".json" {
			l, err = telemetry.DecodeLogsJSON(b)
		} else {
			l, err = telemetry.DecodeLogsProto(b)
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", p, err)
		}
		red.apply(l)
		n += int64(len(b))
		events = append(events, l.Events()...)
	}
	return newMemory(fmt.Sprintf("%d OTLP file(s) in %s%s", len(paths), dir, red.describe()), events, n), nil
}

// openSource opens the collector's store in dir when there is one (already redacted by the
// collector), else the OTLP files in it, redacted by red.
func openSource(ctx context.Context, dir string, red *redactor) (Source, error) {
	db := filepath.Join(dir, storeFile)
	if _, err := os.Stat(db); err == nil {
		return openStore(ctx, db)
	}
	return fileSource(dir, red)
}
