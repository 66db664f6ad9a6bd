// Command emit simulates a fleet of Cowork and Claude Code users and sends their telemetry
// through the OpenTelemetry Go SDK to an OTLP endpoint, the way the real apps export it.
//
// Usage:
//
//	emit [-endpoint URL] [-protocol http/protobuf|grpc] [-insecure] [-header k=v]...
//	     [-users N] [-sessions N] [-prompts N] [-seed N]
//
// Without -endpoint it starts an in-memory OTLP receiver on 127.0.0.1, sends there, and prints
// what arrived, checked against the simulator's ground truth.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sort"
	"strings"
	"time"

	"github.com/coworkgov/cowork/telemetry"
	"github.com/coworkgov/cowork/telemetry/emit"
	"github.com/coworkgov/cowork/telemetry/telemetrytest"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "emit:", err)
		os.Exit(1)
	}
}

type headers map[string]string

func (h headers) String() string { return fmt.Sprint(map[string]string(h)) }

func (h headers) Set(s string) error {
	k, v, ok := strings.Cut(s, "=")
	if !ok || k == "" {
		return errors.New("want key=value")
	}
	h[k] = v
	return nil
}

func run(ctx context.Context, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("emit", flag.ContinueOnError)
	fs.SetOutput(stdout)
	endpoint := fs.String("endpoint", "", "OTLP endpoint URL or host:port (default: a local in-memory receiver)")
	protocol := fs.String("protocol", "http/protobuf", "OTLP protocol: http/protobuf or grpc")
	insecure := fs.Bool("insecure", false, "send without TLS")
	hdrs := headers{}
	fs.Var(hdrs, "header", "header to send, key=value (repeatable)")
	users := fs.Int("users", 3, "simulated users")
	sessions := fs.Int("sessions", 2, "sessions per user")
	prompts := fs.Int("prompts", 3, "prompts per session")
	seed := fs.Uint64("seed", 1, "simulation seed")
	if err := fs.Parse(args); err != nil {
		return err
	}
	proto := emit.ParseProtocol(*protocol)

	var rcv *telemetrytest.Receiver
	if *endpoint == "" {
		if proto != emit.ProtocolHTTPProtobuf {
			return fmt.Errorf("-protocol %s needs -endpoint (the local receiver speaks OTLP/HTTP)", *protocol)
		}
		rcv = telemetrytest.NewReceiver()
		defer rcv.Close()
		*endpoint = rcv.URL()
	}

	opts := telemetrytest.Realistic(*seed)
	opts.Users, opts.SessionsPerUser, opts.PromptsPerSession = *users, *sessions, *prompts
	fleet := telemetrytest.NewFleet(opts)

	eopts := []emit.Option{emit.WithEndpoint(*endpoint), emit.WithProtocol(proto), emit.WithTimeout(10 * time.Second)}
	if *insecure {
		eopts = append(eopts, emit.WithInsecure())
	}
	if len(hdrs) > 0 {
		eopts = append(eopts, emit.WithHeaders(hdrs))
	}
	e, err := emit.New(ctx, eopts...)
	if err != nil {
		return err
	}
	n := 0
	var micros int64
	for s := range fleet.Sessions() {
		for _, ev := range s.Events {
			if err := e.Emit(ctx, ev); err != nil {
				return err
			}
			n++
		}
		micros += s.Truth.CostUSDMicros
	}
	if err := e.Shutdown(ctx); err != nil {
		return fmt.Errorf("flush: %w", err)
	}
	fmt.Fprintf(stdout, "emitted %d events from %d sessions of %d users (%s), cost $%.6f\n",
		n, fleet.NumSessions(), len(fleet.Users()), proto, float64(micros)/1e6)
	if rcv == nil {
		return nil
	}
	wctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	got, err := rcv.WaitForEvents(wctx, n)
	if err != nil {
		return fmt.Errorf("received %d of %d events: %w", len(got), n, err)
	}
	summarize(stdout, got)
	return nil
}

// summarize prints counts by event name and the received cost.
func summarize(w io.Writer, events []telemetry.Event) {
	counts := map[string]int{}
	var micros int64
	for _, ev := range events {
		counts[ev.Name()]++
		if r, ok := ev.(*telemetry.APIRequest); ok {
			micros += r.CostUSDMicros
		}
	}
	names := make([]string, 0, len(counts))
	for k := range counts {
		names = append(names, k)
	}
	sort.Strings(names)
	fmt.Fprintf(w, "received %d events, cost $%.6f\n", len(events), float64(micros)/1e6)
	for _, k := range names {
		fmt.Fprintf(w, "  %-26s %d\n", k, counts[k])
	}
}
