package telemetrytest_test

import (
	"context"
	"fmt"

	"github.com/coworkgov/cowork/telemetry"
	"github.com/coworkgov/cowork/telemetry/telemetrytest"
)

// ExampleFactory builds one prompt's events with realistic defaults and overrides a field.
func ExampleFactory() {
	f := telemetrytest.NewFactory(1)
	up := f.UserPrompt()
	d := f.ToolDecision(func(e *telemetry.ToolDecision) {
		e.Decision = telemetry.DecisionReject
		e.Source = telemetry.DecisionSourceUserReject
	})
	req := f.APIRequest()
	fmt.Println(up.Name(), up.Sequence, up.PromptID == d.PromptID)
	fmt.Println(d.Name(), d.Sequence, d.Decision, d.Source, len(d.ToolUseID))
	fmt.Println(req.Name(), req.Sequence, req.CostUSD == float64(req.CostUSDMicros)/1e6)
	fmt.Println(telemetry.Validate(up, d, req))
	// Output:
	// user_prompt 0 true
	// tool_decision 1 reject user_reject 30
	// api_request 2 true
	// <nil>
}

// ExampleFleet streams a simulated fleet and checks the cost of each session against its
// ground truth.
func ExampleFleet() {
	opts := telemetrytest.Realistic(7)
	opts.Users, opts.SessionsPerUser = 2, 1
	fl := telemetrytest.NewFleet(opts)
	for s := range fl.Sessions() {
		var micros int64
		for _, ev := range s.Events {
			if r, ok := ev.(*telemetry.APIRequest); ok {
				micros += r.CostUSDMicros
			}
		}
		fmt.Println(s.Truth.Product, len(s.Truth.Prompts) >= opts.PromptsPerSession, micros == s.Truth.CostUSDMicros)
	}
	// Output:
	// claude-code true true
	// cowork true true
}

// ExampleReceiver posts a payload to an in-memory OTLP receiver and waits for its events.
func ExampleReceiver() {
	rcv := telemetrytest.NewReceiver()
	defer rcv.Close()

	f := telemetrytest.NewFactory(2)
	b, _ := telemetry.EncodeLogsProto(f.Logs(f.UserPrompt(), f.APIRequest(), f.AssistantResponse()))
	status, err := rcv.Post(context.Background(), "/v1/logs", "application/x-protobuf", b)
	fmt.Println(status, err)

	events, err := rcv.WaitForEvents(context.Background(), 3)
	for _, ev := range events {
		fmt.Println(ev.Name())
	}
	fmt.Println(err)
	// Output:
	// 200 <nil>
	// user_prompt
	// api_request
	// assistant_response
	// <nil>
}
