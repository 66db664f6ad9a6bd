// Command loadgen drives an OTLP/HTTP endpoint (the cowork collector by default) with a
// simulated fleet of Claude Cowork and Claude Code sessions from telemetrytest, over real
// HTTP, and reports sustained events/s, acknowledgement latency and, against the collector,
// loss (events stored versus events acknowledged). With -runs it repeats the run on new
// fleets against the same endpoint, as a collector sees sustained load (its store growing,
// the chains of one run closing during the next), and reports each run and a summary of the
// runs after the first, with the collector's own CPU per stored event (from its /metrics),
// and the collector's CPU per event over all the runs and until it went idle after the last,
// which counts the work on chains that close between and after runs.
//
//	go run ./examples/collector &
//	go run ./examples/loadgen -users 200 -workers 8
//	go run ./examples/loadgen -users 200 -workers 8 -runs 6
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/signal"
	"slices"
	"strconv"
	"strings"
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
		runs     = flag.Int("runs", 1, "runs one after another, each on a new fleet (seed, seed+1, …)")
		rate     = flag.Float64("rate", 0, "pace requests at this many `events/s` (open loop: latency counts from when each was due); 0 sends as fast as they are acknowledged")
	)
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()

	var done []runResult
	cpuStart, cpuStartOK := collectorCPU(*url, *token)
	for i := range max(1, *runs) {
		t0 := time.Now()
		payloads, total, err := load.Generate(load.Fleet{Seed: *seed + uint64(i), Users: *users, SessionsPerUser: *sessions,
			PromptsPerSession: *prompts, BatchSize: *batch, JSON: *asJSON, Gzip: *gz})
		if err != nil {
			return err
		}
		fmt.Printf("generated %d events in %d requests in %v\n", total, len(payloads), time.Since(t0).Round(time.Millisecond))
		before, _ := storedEvents(*url, *token)
		cpu0, cpuOK := collectorCPU(*url, *token)
		res, err := load.Send(ctx, load.Options{URL: *url, Token: *token, Workers: *workers, JSON: *asJSON, Gzip: *gz, Rate: *rate}, payloads)
		fmt.Println(res)
		if err != nil {
			return err
		}
		r := runResult{Result: res}
		if cpu1, ok := collectorCPU(*url, *token); ok && cpuOK && res.Events > 0 {
			r.cpuPerEvent = time.Duration(float64(cpu1-cpu0) / float64(res.Events))
			fmt.Printf("collector CPU: %v per acknowledged event\n", r.cpuPerEvent.Round(100*time.Nanosecond))
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
		done = append(done, r)
	}
	if len(done) > 1 {
		fmt.Println(summary(done[1:]))
	}
	if cpuStartOK {
		// The runs' figures leave out what the collector did between them and does after the
		// last: closing, folding and storing the chains that were still open. This one counts
		// all of it.
		var events int64
		for _, r := range done {
			events += r.Events
		}
		if cpu, waited, ok := idleCPU(*url, *token, drainPoll, drainWindow, drainMax); ok && events > 0 {
			fmt.Printf("all runs: collector CPU %v per event, %d events, until it went idle %v after the last run\n",
				(time.Duration(float64(cpu-cpuStart) / float64(events))).Round(100*time.Nanosecond), events, waited.Round(100*time.Millisecond))
		}
	}
	return nil
}

// How idleCPU polls: a collector is idle once it used under a twentieth of a core over
// drainWindow, longer than the chains' quiet period (5 s by default), so that the chains of
// the last run have closed; chains left incomplete wait for the idle timeout (2 min) and are
// not waited for.
const (
	drainPoll   = 500 * time.Millisecond
	drainWindow = 6 * time.Second
	drainMax    = time.Minute
)

// idleCPU waits, polling every poll for at most max, until the collector's CPU time grew by
// less than a twentieth of window over the last window, and returns that CPU time and how
// long it waited; ok is false when /metrics has no CPU figure.
func idleCPU(url, token string, poll, window, max time.Duration) (cpu, waited time.Duration, ok bool) {
	start := time.Now()
	cpu, ok = collectorCPU(url, token)
	samples := []time.Duration{cpu}
	for ok && time.Since(start) < max {
		time.Sleep(poll)
		if cpu, ok = collectorCPU(url, token); !ok {
			break
		}
		samples = append(samples, cpu)
		if n := int(window / poll); len(samples) > n && cpu-samples[len(samples)-1-n] < window/20 {
			return cpu, time.Since(start), true
		}
	}
	return cpu, time.Since(start), ok
}

// runResult is one run's measurements; cpuPerEvent is 0 when the endpoint has no
// process_cpu_seconds_total on /metrics.
type runResult struct {
	load.Result
	cpuPerEvent time.Duration
}

// summary describes the runs after the first (which starts on an idle collector and closes
// no chain of an earlier run): events/s, p99 and the collector's CPU per event.
func summary(rs []runResult) string {
	var eps []float64
	var p99 []time.Duration
	var cpu time.Duration
	for _, r := range rs {
		eps = append(eps, r.EventsPerSecond())
		p99 = append(p99, r.P99)
		cpu += r.cpuPerEvent
	}
	mean := 0.0
	for _, v := range eps {
		mean += v
	}
	mean /= float64(len(eps))
	slices.Sort(p99)
	s := fmt.Sprintf("runs 2–%d: %.0f events/s (mean; %.0f–%.0f), p99 median %v (max %v)",
		len(rs)+1, mean, slices.Min(eps), slices.Max(eps), p99[len(p99)/2].Round(time.Millisecond), p99[len(p99)-1].Round(time.Millisecond))
	if cpu > 0 {
		s += fmt.Sprintf(", collector CPU %v per event (mean)", (cpu / time.Duration(len(rs))).Round(100*time.Nanosecond))
	}
	return s
}

// collectorCPU reads process_cpu_seconds_total from the endpoint's /metrics.
func collectorCPU(url, token string) (time.Duration, bool) {
	body, err := get(url+"/metrics", token)
	if err != nil {
		return 0, false
	}
	defer body.Close()
	return parseCPU(body)
}

// get GETs url with the bearer token, if any, and returns the body of a 200 answer.
func get(url, token string) (io.ReadCloser, error) {
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		resp.Body.Close()
		return nil, fmt.Errorf("GET %s: %s", req.URL.Path, resp.Status)
	}
	return resp.Body, nil
}

// parseCPU finds process_cpu_seconds_total in a Prometheus text page.
func parseCPU(r io.Reader) (time.Duration, bool) {
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		v, ok := strings.CutPrefix(sc.Text(), "process_cpu_seconds_total ")
		if !ok {
			continue
		}
		f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
		if err != nil {
			return 0, false
		}
		return time.Duration(f * float64(time.Second)), true
	}
	return 0, false
}

func storedEvents(url, token string) (int64, error) {
	body, err := get(url+"/api/stats", token)
	if err != nil {
		return 0, err
	}
	defer body.Close()
	var st struct{ Events int64 }
	if err := json.NewDecoder(body).Decode(&st); err != nil {
		return 0, err
	}
	return st.Events, nil
}
