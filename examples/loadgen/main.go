// Command loadgen drives an OTLP/HTTP endpoint (the cowork collector by default) with a
// simulated fleet of Claude Cowork and Claude Code sessions from telemetrytest, over real
// HTTP, and reports sustained events/s, acknowledgement latency and, against the collector,
// loss (events stored versus events acknowledged).
//
//	go run ./examples/collector &
//	go run ./examples/loadgen -users 200 -workers 8
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"net/http"
	"os"
	"os/signal"
	"time"

	"github.com/coworkgov/cowork/examples/loadgen/load"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "loadgen:", err)
		os.Exit(1)
	}
}

func run() error {
	var (
		url      = flag.String("url", "http://127.0.0.1:4318", "OTLP/HTTP base `URL`")
		token    = flag.String("token", os.Getenv("COWORK_TOKEN"), "bearer token (also $COWORK_TOKEN)")
		users    = flag.Int("users", 50, "simulated users")
		sessions = flag.Int("sessions", 4, "sessions per user")
		prompts  = flag.Int("prompts", 10, "prompts per session")
		batch    = flag.Int("batch", 200, "events per request")
		workers  = flag.Int("workers", 8, "concurrent connections")
		asJSON   = flag.Bool("json", false, "send OTLP/JSON instead of protobuf")
		gz       = flag.Bool("gzip", false, "gzip request bodies")
		seed     = flag.Uint64("seed", uint64(time.Now().UnixNano()), "fleet seed (new ids each run by default)")
		check    = flag.Bool("check", true, "compare the collector's stored event count (GET /api/stats) with what was acknowledged")
	)
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()

	t0 := time.Now()
	payloads, total, err := load.Generate(load.Fleet{Seed: *seed, Users: *users, SessionsPerUser: *sessions,
		PromptsPerSession: *prompts, BatchSize: *batch, JSON: *asJSON, Gzip: *gz})
	if err != nil {
		return err
	}
	fmt.Printf("generated %d events in %d requests in %v\n", total, len(payloads), time.Since(t0).Round(time.Millisecond))
	before, _ := storedEvents(*url, *token)
	res, err := load.Send(ctx, load.Options{URL: *url, Token: *token, Workers: *workers, JSON: *asJSON, Gzip: *gz}, payloads)
	fmt.Println(res)
	if err != nil {
		return err
	}
	if *check {
		after, err := storedEvents(*url, *token)
		if err != nil {
			return fmt.Errorf("checking loss: %w", err)
		}
		fmt.Printf("stored events: +%d for %d acknowledged: loss %d\n", after-before, res.Events, res.Events-(after-before))
		if after-before < res.Events {
			return fmt.Errorf("lost %d acknowledged events", res.Events-(after-before))
		}
	}
	return nil
}

func storedEvents(url, token string) (int64, error) {
	req, err := http.NewRequest(http.MethodGet, url+"/api/stats", nil)
	if err != nil {
		return 0, err
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return 0, fmt.Errorf("GET /api/stats: %s", resp.Status)
	}
	var s struct{ Events int64 }
	if err := json.NewDecoder(resp.Body).Decode(&s); err != nil {
		return 0, err
	}
	return s.Events, nil
}
