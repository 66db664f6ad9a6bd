package correlate_test

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"time"

	"github.com/coworkgov/cowork/correlate"
	"github.com/coworkgov/cowork/internal/corpus"
	"github.com/coworkgov/cowork/telemetry"
)

func scenario(name string) []telemetry.Event {
	var evs []telemetry.Event
	for _, f := range corpus.Logs(corpus.Protobuf, name) {
		l, err := telemetry.DecodeLogsProto(f.Data)
		if err != nil {
			panic(err)
		}
		evs = append(evs, l.Events()...)
	}
	return evs
}

// Fold rebuilds the chains of a stored set of events: here the recorded "deny" scenario, where
// configuration rejects an rm -rf and allows an ls.
func ExampleFold() {
	for _, c := range correlate.Fold(scenario("deny")) {
		if c.IsPreamble() {
			fmt.Printf("preamble: %d events, plugins %v\n", c.EventCount, c.Plugins)
			continue
		}
		fmt.Printf("prompt chain: %d events, %d API calls, $%.6f, complete=%v\n",
			c.EventCount, c.Totals.APIRequests, c.Totals.CostUSD, c.Complete)
		for _, t := range c.Tools {
			fmt.Printf("  %s %s: %s by %s, result=%v\n", t.ToolUseID, t.Name, t.Decision, t.DecisionSource, t.HasResult)
		}
	}
	// Output:
	// preamble: 5 events, plugins [cc-plugin-agents-md cc-plugin-plugin-authoring cc-plugin-privacy cc-plugin-telemetry]
	// prompt chain: 8 events, 3 API calls, $0.010665, complete=true
	//   toolu_0010 Bash: reject by config, result=false
	//   toolu_0011 Bash: accept by config, result=true
}

// manualClock is a Clock the example moves by hand, so no test sleeps.
type manualClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *manualClock) Now() time.Time          { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *manualClock) Advance(d time.Duration) { c.mu.Lock(); c.now = c.now.Add(d); c.mu.Unlock() }

// An Assembler closes a chain once its terminal event has been followed by the quiet period;
// a late event then emits version 2 of the same chain.
func ExampleAssembler() {
	ctx := context.Background()
	clock := &manualClock{now: time.Date(2026, 11, 24, 10, 0, 0, 0, time.UTC)}
	print := correlate.ConsumerFunc(func(_ context.Context, c *correlate.Chain) error {
		if !c.IsPreamble() {
			fmt.Printf("v%d closed_by=%s events=%d mcp=%v\n", c.Version, c.ClosedBy, c.EventCount, c.MCPServers)
		}
		return nil
	})
	a, err := correlate.New(print, correlate.WithClock(clock), correlate.WithQuietPeriod(5*time.Second))
	if err != nil {
		panic(err)
	}
	evs := scenario("mcp")
	late := evs[len(evs)-1] // the MCP server's disconnect, after the response
	_ = a.Add(ctx, evs[:len(evs)-1]...)
	_ = a.Add(ctx, evs[:len(evs)-1]...) // a retried export: all duplicates

	clock.Advance(6 * time.Second)
	_ = a.Sweep(ctx)
	_ = a.Add(ctx, late)
	clock.Advance(6 * time.Second)
	_ = a.Sweep(ctx)
	_ = a.Close(ctx)
	st := a.Stats()
	fmt.Printf("duplicates=%d late=%d emitted=%d\n", st.Duplicates, st.Late, st.Emitted)
	// Output:
	// v1 closed_by=terminal events=9 mcp=[crm]
	// v2 closed_by=terminal events=10 mcp=[crm]
	// duplicates=15 late=1 emitted=3
}

// Sessions groups chains per session with totals: the sum of the chains' costs is what the CLI
// reported.
func ExampleSessions() {
	for _, s := range correlate.Sessions(correlate.Fold(scenario("files"))) {
		fmt.Printf("%d chain(s), $%.5f, %d tool calls\n", len(s.Chains), s.Totals.CostUSD, s.Totals.ToolCalls)
		for _, f := range s.Chains[0].Files {
			fmt.Printf("  %-6s %s\n", f.Operation, f.Tool)
		}
	}
	// Output:
	// 1 chain(s), $0.02313, 5 tool calls
	//   write  Write
	//   read   Read
	//   edit   Edit
	//   search Glob
	//   search Grep
}

// ECS, OCSF and HEC normalise events for SIEMs; GenAI gives the OpenTelemetry GenAI
// semantic-convention attributes.
func ExampleOCSF() {
	for _, ev := range scenario("deny") {
		if d, ok := ev.(*telemetry.ToolDecision); ok && d.Decision == telemetry.DecisionReject {
			o := correlate.OCSF(ev, correlate.SIEMOptions{})
			fmt.Println(o["class_uid"], o["type_uid"], o["action"], o["disposition"])
			h := correlate.HEC(ev, correlate.HECOptions{Format: correlate.HECFormatOCSF})
			fmt.Println(h.Sourcetype)
		}
	}
	// Output:
	// 1007 100701 Denied Blocked
	// anthropic:ocsf:1007
}

// Partition routes events by session so that each of n assemblers sees whole sessions.
func ExamplePartition() {
	evs := scenario("web")
	p := correlate.Partition(evs[0], 4)
	same := true
	for _, ev := range evs {
		same = same && correlate.Partition(ev, 4) == p
	}
	fmt.Println(correlate.PartitionKey(evs[0]) == evs[0].EventRecord().SessionID, same)
	// Output: true true
}

// A consumer that encodes each chain before it returns keeps nothing of it, so it can let the
// assembler build later chains in the same memory with WithChainReuse: almost no garbage per
// chain. (A consumer that keeps chains, like the collector of a test, must not.)
func ExampleWithChainReuse() {
	ctx := context.Background()
	clock := &manualClock{now: time.Date(2026, 11, 24, 10, 0, 0, 0, time.UTC)}
	var line []byte
	encode := correlate.ConsumerFunc(func(_ context.Context, c *correlate.Chain) error {
		var err error
		// Everything the consumer needs is copied out (here encoded) before it returns.
		var tools []string
		for _, t := range c.Tools {
			tools = append(tools, t.Name+":"+t.Decision)
		}
		line, err = json.Marshal(struct {
			Preamble bool     `json:"preamble"`
			Calls    int      `json:"api_calls"`
			Tools    []string `json:"tools"`
		}{c.IsPreamble(), len(c.APICalls), tools})
		if err != nil {
			return err
		}
		fmt.Println(string(line))
		return nil
	})
	a, err := correlate.New(encode, correlate.WithClock(clock), correlate.WithChainReuse())
	if err != nil {
		panic(err)
	}
	_ = a.Add(ctx, scenario("deny")...)
	clock.Advance(time.Hour)
	_ = a.Sweep(ctx)
	// Output:
	// {"preamble":true,"api_calls":0,"tools":null}
	// {"preamble":false,"api_calls":3,"tools":["Bash:reject","Bash:accept"]}
}
