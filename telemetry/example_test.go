package telemetry_test

import (
	"fmt"

	"github.com/coworkgov/cowork/telemetry"
)

const examplePayload = `{"resourceLogs":[{"resource":{"attributes":[
 {"key":"service.name","value":{"stringValue":"cowork"}}]},
 "scopeLogs":[{"scope":{"name":"com.anthropic.claude_code.events","version":"2.1.328"},"logRecords":[
 {"timeUnixNano":"1795514863337000000","body":{"stringValue":"claude_code.tool_decision"},"attributes":[
  {"key":"session.id","value":{"stringValue":"482f03c7-6d9b-45d6-822e-61c7e6c27a60"}},
  {"key":"event.name","value":{"stringValue":"tool_decision"}},
  {"key":"event.timestamp","value":{"stringValue":"2026-11-24T10:07:43.337Z"}},
  {"key":"event.sequence","value":{"intValue":6}},
  {"key":"prompt.id","value":{"stringValue":"b8da2283-02a9-4960-8792-f11757e33066"}},
  {"key":"decision","value":{"stringValue":"reject"}},
  {"key":"source","value":{"stringValue":"config"}},
  {"key":"tool_name","value":{"stringValue":"Bash"}},
  {"key":"tool_use_id","value":{"stringValue":"toolu_0010"}},
  {"key":"tool_parameters","value":{"stringValue":"{\"bash_command\":\"rm\",\"full_command\":\"rm -rf important\"}"}}]},
 {"timeUnixNano":"1795514863390000000","body":{"stringValue":"claude_code.tool_result"},"attributes":[
  {"key":"session.id","value":{"stringValue":"482f03c7-6d9b-45d6-822e-61c7e6c27a60"}},
  {"key":"event.name","value":{"stringValue":"tool_result"}},
  {"key":"event.timestamp","value":{"stringValue":"2026-11-24T10:07:43.390Z"}},
  {"key":"event.sequence","value":{"intValue":9}},
  {"key":"prompt.id","value":{"stringValue":"b8da2283-02a9-4960-8792-f11757e33066"}},
  {"key":"tool_name","value":{"stringValue":"Read"}},
  {"key":"tool_use_id","value":{"stringValue":"toolu_0011"}},
  {"key":"success","value":{"stringValue":"true"}},
  {"key":"duration_ms","value":{"stringValue":"49"}},
  {"key":"tool_input","value":{"stringValue":"{\"file_path\":\"/Users/jane.doe/notes.txt\"}"}}]}]}]}]}`

func ExampleDecodeLogsJSON() {
	logs, err := telemetry.DecodeLogsJSON([]byte(examplePayload))
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, ev := range logs.Events() {
		switch e := ev.(type) {
		case *telemetry.ToolDecision:
			p, _ := e.Parameters()
			fmt.Printf("%s %s %s by %s: %s\n", e.Name(), e.ToolName, e.Decision, e.Source, p.BashCommand)
		case *telemetry.ToolResult:
			for _, fa := range e.FileAccess() {
				fmt.Printf("%s %s %s in %dms (success=%v)\n", e.Name(), fa.Op, fa.Path, e.DurationMS, e.Success)
			}
		}
	}
	// Output:
	// tool_decision Bash reject by config: rm
	// tool_result read /Users/jane.doe/notes.txt in 49ms (success=true)
}

func ExampleValidate() {
	logs, _ := telemetry.DecodeLogsJSON([]byte(examplePayload))
	fmt.Println("lenient:", telemetry.Validate(logs.Events()...))

	err := telemetry.ValidateOptions{Strict: true}.Validate(logs.Events()...)
	if ve, ok := err.(*telemetry.ValidationError); ok {
		for _, v := range ve.Violations {
			fmt.Println(v)
		}
	}
	// Output:
	// lenient: <nil>
	// record 1 (tool_result) success: type: expected bool, found string "true"
	// record 1 (tool_result) duration_ms: type: expected int, found string "49"
}

func ExampleSet() {
	logs, _ := telemetry.DecodeLogsJSON([]byte(examplePayload))
	res := logs.Events()[1].(*telemetry.ToolResult)
	telemetry.Set(res, telemetry.KeyToolInput, telemetry.String(`{"file_path":"[PATH]"}`))
	fmt.Println(res.ToolInput)
	telemetry.Delete(res, telemetry.KeyToolInput)
	fmt.Println(res.ToolInput == "", res.Attrs.Has(telemetry.KeyToolInput))
	// Output:
	// {"file_path":"[PATH]"}
	// true false
}

func ExampleEncodeLogsProto() {
	ev := &telemetry.APIRequest{Model: "claude-sonnet-5-5", InputTokens: 1200, OutputTokens: 80, CostUSD: 0.003355, CostUSDMicros: 3355}
	ev.SessionID = "482f03c7-6d9b-45d6-822e-61c7e6c27a60"
	b, _ := telemetry.EncodeLogsProto(telemetry.NewLogs(ev))
	back, _ := telemetry.DecodeLogsProto(b)
	got := back.Events()[0].(*telemetry.APIRequest)
	fmt.Println(got.Name(), got.Model, got.Usage().InputTokens, got.CostUSD)
	// Output: api_request claude-sonnet-5-5 1200 0.003355
}

// A program that keeps a few events of each request for long copies them out of the request
// first, so that the rest of the request can be freed.
func ExampleDetachAll() {
	logs, err := telemetry.DecodeLogsJSON([]byte(examplePayload))
	if err != nil {
		fmt.Println(err)
		return
	}
	var keep []telemetry.Event
	for _, ev := range logs.Events() {
		if d, ok := ev.(*telemetry.ToolDecision); ok && d.Decision == telemetry.DecisionReject {
			keep = append(keep, ev)
		}
	}
	kept := telemetry.DetachAll(keep) // logs can now be dropped
	d := kept[0].(*telemetry.ToolDecision)
	fmt.Println(d.ToolName, d.Decision, d.Source, kept[0].EventRecord().Resource.ServiceName)
	// Output: Bash reject config cowork
}
