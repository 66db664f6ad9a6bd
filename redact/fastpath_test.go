package redact

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/coworkgov/cowork/internal/corpus"
	"github.com/coworkgov/cowork/telemetry"
	"github.com/coworkgov/cowork/telemetry/telemetrytest"
)

// enginePair returns an engine with its fast paths and one (same policy and options) with
// them and the cache turned off: every key through plan.child, every string computed,
// audit attributes through telemetry.Set.
func enginePair(t testing.TB, p Policy, opts ...Option) (fast, general *Engine) {
	t.Helper()
	fast = newEngine(t, p, opts...)
	general = newEngine(t, p, append(opts, WithCacheSize(0))...)
	general.general = true
	return fast, general
}

// TestMemoDepth reaches one path with one JSON text at two depths: through a map value
// (depth 0) and through a JSON-valued attribute (depth 1). The text nests JSON four deep,
// so its innermost document is parsed at depth 0 and scanned as text at depth 1, with
// different results; the memo must not hand one depth's result to the other.
func TestMemoDepth(t *testing.T) {
	nest := func(k, v string) string {
		b, err := json.Marshal(map[string]string{k: v})
		require.NoError(t, err)
		return string(b)
	}
	text := nest("z", nest("v", nest("w", `{ "password" : "hunter2hunter2" }`)))
	viaMap := telemetry.New("custom_event")
	telemetry.Set(viaMap, "x", telemetry.Map(telemetry.KeyValue{Key: "y", Value: telemetry.String(text)}))
	viaJSON := telemetry.New("custom_event")
	telemetry.Set(viaJSON, "x", telemetry.String(nest("y", text)))
	for _, order := range [][]telemetry.Event{{viaMap, viaJSON}, {viaJSON, viaMap}} {
		fast, general := enginePair(t, Strict)
		build := func() []*telemetry.Logs {
			var evs []telemetry.Event
			for _, ev := range order {
				evs = append(evs, telemetry.Clone(ev))
			}
			return []*telemetry.Logs{telemetry.NewLogs(evs...)}
		}
		agree(t, fast, general, build)
	}
}

// diffEvents describes how two events differ, field by field and by path: the attribute
// list entry by entry (keys in order, wire types and values; duplicates included), the
// body, the timestamps, the resource and scope, and every typed field.
func diffEvents(want, got telemetry.Event) []string {
	var out []string
	diffReflect("event", reflect.ValueOf(want), reflect.ValueOf(got), &out)
	return out
}

var (
	valueType = reflect.TypeFor[telemetry.Value]()
	timeType  = reflect.TypeFor[time.Time]()
)

// diffReflect compares a and b field by field: telemetry.Values with Equal, times with
// Equal, everything else by kind. Pointers are followed (Resource and Scope included).
func diffReflect(path string, a, b reflect.Value, out *[]string) {
	if a.IsValid() != b.IsValid() {
		*out = append(*out, path+": one side missing")
		return
	}
	if !a.IsValid() {
		return
	}
	if a.Type() != b.Type() {
		*out = append(*out, fmt.Sprintf("%s: type %s vs %s", path, a.Type(), b.Type()))
		return
	}
	switch a.Type() {
	case valueType:
		if !a.CanInterface() {
			*out = append(*out, path+": unexported telemetry.Value, cannot compare")
			return
		}
		if !a.Interface().(telemetry.Value).Equal(b.Interface().(telemetry.Value)) {
			*out = append(*out, fmt.Sprintf("%s: %v vs %v", path, a.Interface(), b.Interface()))
		}
		return
	case timeType:
		if a.CanInterface() && !a.Interface().(time.Time).Equal(b.Interface().(time.Time)) {
			*out = append(*out, path+": times differ")
		}
		return
	}
	switch a.Kind() {
	case reflect.Pointer, reflect.Interface:
		if a.IsNil() != b.IsNil() {
			*out = append(*out, path+": nil on one side")
			return
		}
		if !a.IsNil() {
			diffReflect(path, a.Elem(), b.Elem(), out)
		}
	case reflect.Struct:
		for i := range a.NumField() {
			diffReflect(path+"."+a.Type().Field(i).Name, a.Field(i), b.Field(i), out)
		}
	case reflect.Slice, reflect.Array:
		if a.Len() != b.Len() {
			*out = append(*out, fmt.Sprintf("%s: len %d vs %d", path, a.Len(), b.Len()))
			return
		}
		for i := range a.Len() {
			diffReflect(fmt.Sprintf("%s[%d]", path, i), a.Index(i), b.Index(i), out)
		}
	case reflect.Map:
		if a.Len() != b.Len() {
			*out = append(*out, path+": map sizes differ")
		}
	case reflect.String:
		if a.String() != b.String() {
			*out = append(*out, fmt.Sprintf("%s: %q vs %q", path, a.String(), b.String()))
		}
	case reflect.Bool:
		if a.Bool() != b.Bool() {
			*out = append(*out, path+": bools differ")
		}
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		if a.Int() != b.Int() {
			*out = append(*out, fmt.Sprintf("%s: %d vs %d", path, a.Int(), b.Int()))
		}
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		if a.Uint() != b.Uint() {
			*out = append(*out, fmt.Sprintf("%s: %d vs %d", path, a.Uint(), b.Uint()))
		}
	case reflect.Float32, reflect.Float64:
		if a.Float() != b.Float() && a.Float() == a.Float() {
			*out = append(*out, path+": floats differ")
		}
	}
}

// agree redacts two copies of the same batches with fast and general and fails on any
// difference in reports, encoded output or events.
func agree(t *testing.T, fast, general *Engine, decode func() []*telemetry.Logs) {
	t.Helper()
	a, b := decode(), decode()
	require.Equal(t, len(a), len(b))
	for i := range a {
		ra, rb := fast.Logs(a[i]), general.Logs(b[i])
		require.Equal(t, rb, ra, "batch %d: reports differ", i)
		// Values under protected keys pass untouched, invalid UTF-8 included, which the
		// encoder refuses: then both sides must be refused.
		pa, errA := telemetry.EncodeLogsProto(a[i])
		pb, errB := telemetry.EncodeLogsProto(b[i])
		require.Equal(t, errB == nil, errA == nil, "batch %d: %v vs %v", i, errB, errA)
		require.True(t, bytes.Equal(pa, pb), "batch %d: encoded output differs", i)
		ea, eb := a[i].Events(), b[i].Events()
		require.Equal(t, len(eb), len(ea))
		for k := range ea {
			if d := diffEvents(eb[k], ea[k]); len(d) > 0 {
				t.Fatalf("batch %d event %d (%s):\n%s", i, k, ea[k].Name(), strings.Join(d, "\n"))
			}
		}
	}
}

func decodeAll(t testing.TB, payloads [][]byte) func() []*telemetry.Logs {
	return func() []*telemetry.Logs {
		out := make([]*telemetry.Logs, len(payloads))
		for i, p := range payloads {
			l, err := telemetry.DecodeLogsProto(p)
			require.NoError(t, err)
			out[i] = l
		}
		return out
	}
}

// TestFastPathAgrees checks that the fast paths (key layouts, the per-key fastPath
// decisions, the direct audit attributes, the memo ahead of the UTF-8 check) give exactly
// what the general path gives: the same reports, the same bytes on the wire and the same
// typed fields, on a simulated fleet, the real corpus and the labelled corpus, for Strict,
// Balanced and a policy with a rule naming events, with the cache on and off and every
// audit level.
func TestFastPathAgrees(t *testing.T) {
	o := telemetrytest.Realistic(7)
	o.Users, o.SessionsPerUser, o.PromptsPerSession, o.BatchSize = 8, 2, 6, 200
	o.Chaos = telemetrytest.Chaos{DuplicateRate: 0.02, ReorderRate: 0.05, LateRate: 0.02}
	var fleet [][]byte
	for l := range telemetrytest.NewFleet(o).Batches() {
		p, err := telemetry.EncodeLogsProto(l)
		require.NoError(t, err)
		fleet = append(fleet, p)
	}
	var real [][]byte
	for _, f := range corpus.Files(corpus.Protobuf) {
		if f.Signal == "logs" {
			real = append(real, f.Data)
		}
	}
	var evs []telemetry.Event
	for _, c := range loadLabelled(t) {
		evs = append(evs, labelledEvent(c))
	}
	labelled, err := telemetry.EncodeLogsProto(telemetry.NewLogs(evs...))
	require.NoError(t, err)
	inputs := map[string][][]byte{"fleet": fleet, "corpus": real, "labelled": {labelled}}
	// A rule naming events: plans then depend on the event name and are not shared.
	withEvents := Strict
	withEvents.Name = "strict-events"
	withEvents.Rules = append([]Rule{{Name: "mask-tool-input", Events: []string{telemetry.NameToolResult}, Keys: []string{"tool_input.*"},
		Action: ActionMask}}, Strict.Rules...)
	for _, p := range []Policy{Strict, Balanced, withEvents} {
		for _, opts := range [][]Option{nil, {WithCacheSize(0)}, {WithAudit(AuditKeys)}, {WithCacheSize(3), WithAudit(AuditOff)}} {
			for name, in := range inputs {
				t.Run(fmt.Sprintf("policy=%s/opts=%d/input=%s", p.Name, len(opts), name), func(t *testing.T) {
					fast, general := enginePair(t, p, opts...)
					// Twice: the second pass meets warm layouts, plans and memo entries.
					agree(t, fast, general, decodeAll(t, in))
					agree(t, fast, general, decodeAll(t, in))
				})
			}
		}
	}
}

// TestFastPathGoBuiltEvents runs events built in Go (attribute lists not materialised, so
// the audit attributes go through Set) and already-redacted events (audit attributes
// present) through both paths.
func TestFastPathGoBuiltEvents(t *testing.T) {
	build := func() []*telemetry.Logs {
		f := telemetrytest.NewFactory(3)
		var evs []telemetry.Event
		for i := range 20 {
			evs = append(evs, f.UserPrompt(func(e *telemetry.UserPrompt) {
				e.Prompt = fmt.Sprintf("mail jane%d@acme.example the key AKIAQWERTYUIOPASDFGH", i)
			}))
			evs = append(evs, f.APIRequest())
		}
		return []*telemetry.Logs{telemetry.NewLogs(evs...)}
	}
	for _, p := range []Policy{Strict, Balanced} {
		fast, general := enginePair(t, p)
		agree(t, fast, general, build)
		// Redacted once more: the audit attributes are there already and Set replaces them.
		twice := func() []*telemetry.Logs {
			ls := build()
			newEngine(t, p).Logs(ls[0])
			return ls
		}
		agree(t, fast, general, twice)
	}
}

// TestAuditKeysHaveNoField checks what writeAudit's direct path relies on: no typed event
// has a field that views an audit attribute, so appending them to the attribute list is
// what telemetry.Set does.
func TestAuditKeysHaveNoField(t *testing.T) {
	for _, name := range append(telemetry.EventNames, "not_a_known_event") {
		viaSet, direct := telemetry.New(name), telemetry.New(name)
		for _, ev := range []telemetry.Event{viaSet, direct} {
			telemetry.Set(ev, telemetry.KeySessionID, telemetry.String("s")) // materialises Attrs
		}
		count, rules, keys := telemetry.Int(3), telemetry.Map(telemetry.KeyValue{Key: "r", Value: telemetry.Int(3)}), telemetry.Strings("k")
		telemetry.Set(viaSet, AuditKeyCount, count)
		telemetry.Set(viaSet, AuditKeyRules, rules)
		telemetry.Set(viaSet, AuditKeyKeys, keys)
		rec := direct.EventRecord()
		rec.Attrs = append(rec.Attrs, telemetry.KeyValue{Key: AuditKeyCount, Value: count},
			telemetry.KeyValue{Key: AuditKeyRules, Value: rules}, telemetry.KeyValue{Key: AuditKeyKeys, Value: keys})
		if d := diffEvents(viaSet, direct); len(d) > 0 {
			t.Errorf("%s: %s", name, strings.Join(d, "; "))
		}
	}
}

// fuzzKeyPool are the keys FuzzEventFastPath builds events from: protected, skipped,
// whole-value, detector-scanned and JSON-valued keys, an audit key and unknown ones.
var fuzzKeyPool = []string{telemetry.KeySessionID, telemetry.KeyPromptID, telemetry.KeyUserEmail, telemetry.KeyOrganizationID,
	telemetry.KeyModel, telemetry.KeyPrompt, telemetry.KeyToolInput, telemetry.KeyToolParameters, telemetry.KeyWorkspaceHostPaths,
	telemetry.KeyProcessOwner, "error", "skill.name", "custom.attr", AuditKeyCount, telemetry.KeyDurationMS, "input_tokens"}

var fuzzNames = []string{telemetry.NameUserPrompt, telemetry.NameAPIRequest, telemetry.NameToolResult, "custom_event"}

// fuzzEvents builds events from data: events are separated by blank lines; each line is one
// attribute, its first byte choosing the key (and the value's type: string, int, string
// array, bytes), the rest its value. The first line of an event chooses its name. A key
// seen before in the event is appended again, so lists can hold duplicates.
func fuzzEvents(data string) []telemetry.Event {
	var evs []telemetry.Event
	for _, block := range strings.Split(data, "\n\n") {
		lines := strings.Split(block, "\n")
		if len(lines) == 0 || len(lines[0]) == 0 {
			continue
		}
		ev := telemetry.New(fuzzNames[int(lines[0][0])%len(fuzzNames)])
		telemetry.Set(ev, telemetry.KeySessionID, telemetry.String("s")) // materialises Attrs
		for _, ln := range lines[1:] {
			if ln == "" {
				continue
			}
			sel, val := ln[0], ln[1:]
			key := fuzzKeyPool[int(sel)%len(fuzzKeyPool)]
			var v telemetry.Value
			switch sel / 64 {
			case 0:
				v = telemetry.String(val)
			case 1:
				v = telemetry.Int(int64(len(val)))
			case 2:
				v = telemetry.Strings(strings.Split(val, ",")...)
			default:
				v = telemetry.Bytes([]byte(val))
			}
			if rec := ev.EventRecord(); rec.Attrs.Has(key) {
				rec.Attrs = append(rec.Attrs, telemetry.KeyValue{Key: key, Value: v})
			} else {
				telemetry.Set(ev, key, v)
			}
		}
		evs = append(evs, ev)
	}
	return evs
}

// FuzzEventFastPath checks, on events built from fuzzed keys, value types and values
// (duplicated keys, keys in any order, invalid UTF-8, JSON-looking strings under skipped
// keys, audit attributes already present), that Logs with the fast paths gives what the
// general path gives. Each input is redacted as one batch and then once more, so layouts
// learnt from the first pass meet the second.
func FuzzEventFastPath(f *testing.F) {
	f.Add("\x00\n\x02jane@acme.example\n\x03org-1\n\x05my password is hunter2\n\x08/Users/jane/Documents/x\n\n\x01\n\x02jane@acme.example\n\x0e12\n\x04claude")
	f.Add("\x02\n\x06{\"file_path\":\"/Users/jane/a/b/c/d.txt\",\"content\":\"x\"}\n\x03{\"a\":1}\n\x0d7\n\n\x02\n\x03[1,2]\n\x06{\"file_path\":\"/Users/jane/a/b/c/d.txt\",\"content\":\"x\"}")
	f.Add("\x03\n\x0c\xff\xfe\n\x03\xc3\x28\n\x4aa,b\n\xc2raw bytes\n\x0dx")
	f.Add("\x01\n\x04m1\n\x03o1\n\x02a@b.io\n\n\x01\n\x03o1\n\x04m1\n\x02a@b.io\n\x02c@d.io\n\n\x01\n\x0f5\n\x04m1")
	strict, strictGen := enginePair(f, Strict)
	bal, balGen := enginePair(f, Balanced, WithAudit(AuditKeys), WithCacheSize(8))
	f.Fuzz(func(t *testing.T, data string) {
		for _, pair := range [][2]*Engine{{strict, strictGen}, {bal, balGen}} {
			build := func() []*telemetry.Logs { return []*telemetry.Logs{telemetry.NewLogs(fuzzEvents(data)...)} }
			agree(t, pair[0], pair[1], build)
			agree(t, pair[0], pair[1], build)
		}
	})
}

// TestKeyEqual checks keyEqual against == on keys of every length up to 40 that differ in
// one byte, anywhere, or not at all.
func TestKeyEqual(t *testing.T) {
	base := "abcdefghijklmnopqrstuvwxyz0123456789ABCD"
	for n := 0; n <= len(base); n++ {
		a := base[:n]
		require.True(t, keyEqual(a, strings.Clone(a)), "len %d", n)
		for i := 0; i < n; i++ {
			b := []byte(a)
			b[i] ^= 0x20
			require.False(t, keyEqual(a, string(b)), "len %d, byte %d", n, i)
		}
		if n > 0 {
			require.False(t, keyEqual(a, a[:n-1]))
		}
	}
}
