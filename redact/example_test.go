package redact_test

import (
	"fmt"
	"strings"

	"github.com/coworkgov/cowork/internal/corpus"
	"github.com/coworkgov/cowork/redact"
	"github.com/coworkgov/cowork/telemetry"
)

// The key would come from the collector's data directory; it must be at least 32 bytes.
var key = []byte("example-key-example-key-example-key!")

func ExampleEngine_Event() {
	e, err := redact.New(redact.Strict, redact.WithKey("k1", key), redact.WithAudit(redact.AuditOff))
	if err != nil {
		panic(err)
	}
	ev := telemetry.New(telemetry.NameToolResult)
	telemetry.Set(ev, telemetry.KeyToolUseID, telemetry.String("toolu_01"))
	telemetry.Set(ev, telemetry.KeyToolParameters, telemetry.String(
		`{"bash_command":"curl","full_command":"curl -u admin:Hunter2Secret https://ci.acme.example"}`))
	telemetry.Set(ev, telemetry.KeyToolInput, telemetry.String(`{"file_path":"/Users/jane.doe/Documents/plan/notes.txt"}`))
	rep := e.Event(ev)
	for _, k := range []string{telemetry.KeyToolUseID, telemetry.KeyToolParameters, telemetry.KeyToolInput} {
		v, _ := telemetry.AttributesOf(ev).Get(k)
		fmt.Println(k, v.Str())
	}
	fmt.Println("changed:", rep.Changed, "detections:", rep.Detections)
	// Output:
	// tool_use_id toolu_01
	// tool_parameters {"bash_command":"curl","full_command":"curl -u admin:[SECRET] https://ci.acme.example"}
	// tool_input {"file_path":"~/Documents/plan/notes.txt"}
	// changed: 2 detections: 1
}

func ExampleEngine_Value() {
	e, _ := redact.New(redact.Balanced, redact.WithKey("k1", key))
	v, ok := e.Value("prompt", telemetry.String("card 4111 1111 1111 1111, mail jane@acme.example, key AKIAQWERTYUIOPASDFGH"))
	fmt.Println(ok, v.Str())
	// Output:
	// true card **** **** **** 1111, mail ***@acme.example, key [AWS_ACCESS_KEY]
}

func ExampleParsePolicy() {
	p, err := redact.ParsePolicy([]byte(`
name: acme
extends: strict
rules:
  - name: customer-names
    keys: ["tool_input.customer"]
    action: hash
    entity: customer
`))
	if err != nil {
		panic(err)
	}
	e, _ := redact.New(p, redact.WithKey("k1", key))
	v, _ := e.Value(telemetry.KeyToolInput, telemetry.String(`{"customer":"Globex","limit":5}`))
	fmt.Println(strings.HasPrefix(v.Str(), `{"customer":"customer:k1:`), strings.HasSuffix(v.Str(), `,"limit":5}`))

	_, err = redact.ParsePolicy([]byte("rules:\n  - name: x\n    action: hide\n"))
	fmt.Println(err)
	// Output:
	// true true
	// redact: invalid policy: line 3: rules[0].action: unknown action "hide"
}

func ExampleEngine_Logs() {
	e, _ := redact.New(redact.Strict, redact.WithKey("k1", key))
	body := corpus.Logs(corpus.Protobuf, "deny")[0].Data
	l, err := telemetry.DecodeLogsProto(body)
	if err != nil {
		panic(err)
	}
	rep := e.Logs(l)
	fmt.Println("resource owner:", l.ResourceLogs[0].Resource.ProcessOwner)
	for _, ev := range l.Events() {
		if p, ok := ev.(*telemetry.UserPrompt); ok {
			r := p.EventRecord()
			fmt.Println("prompt:", p.Prompt)
			fmt.Println("email:", r.UserEmail)
			fmt.Println("paths:", r.WorkspaceHostPaths)
			fmt.Println("prompt.id kept:", r.PromptID != "")
		}
	}
	fmt.Println("failed:", rep.Failed)
	// Output:
	// resource owner: user:k1:ea396a992696e95f
	// prompt: [LEN:157]
	// email: email:k1:7d9747ecf345500b
	// paths: [~/Documents/competitive-intel ~/Downloads]
	// prompt.id kept: true
	// failed: 0
}
