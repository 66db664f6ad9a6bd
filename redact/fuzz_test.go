package redact

import (
	"encoding/json"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/coworkgov/cowork/internal/corpus"
	"github.com/coworkgov/cowork/telemetry"
)

// jsonKeys are the fuzzed keys no whole-value rule rewrites, so JSON must stay JSON.
var jsonKeys = map[string]bool{telemetry.KeyToolInput: true, telemetry.KeyToolParameters: true, "mcp_args": true, "error": true}

var fuzzKeys = []string{telemetry.KeyPrompt, telemetry.KeyToolInput, telemetry.KeyToolParameters, "error", telemetry.KeyUserEmail,
	telemetry.KeyWorkspaceHostPaths, "mcp_args", telemetry.KeySessionID}

// FuzzValue checks, for Strict and Balanced and several keys: no panic, output is valid
// UTF-8, output is valid JSON when the input was a JSON document, protected keys are never
// changed, and redacting the output again changes nothing.
func FuzzValue(f *testing.F) {
	for i, c := range loadLabelled(f) {
		if i%7 == 0 {
			f.Add(uint8(i), c.Text)
		}
	}
	for _, l := range decodeScenario(f, "files") {
		for _, ev := range l.Events() {
			for _, kv := range telemetry.AttributesOf(ev) {
				if s := kv.Value.Str(); len(s) > 8 {
					f.Add(uint8(len(s)), s)
				}
			}
		}
	}
	f.Add(uint8(1), `{"a":"\ud800","b":[1,2,{"password":"x y"}]}`)
	f.Add(uint8(2), "4111 1111 1111 1111 AKIAQWERTYUIOPASDFGH jane@acme.example /Users/jane/x")
	engines := []*Engine{newEngine(f, Strict), newEngine(f, Balanced)}
	f.Fuzz(func(t *testing.T, sel uint8, s string) {
		key := fuzzKeys[int(sel)%len(fuzzKeys)]
		e := engines[int(sel/16)%len(engines)]
		in := telemetry.String(s)
		out, ok := e.Value(key, in)
		if key == telemetry.KeySessionID {
			// Correlation ids pass through untouched, whatever they hold.
			if !ok || !out.Equal(in) {
				t.Fatalf("protected key changed: %q -> %v", s, out)
			}
			return
		}
		if !ok {
			return
		}
		o := out.Str()
		if !utf8.ValidString(o) {
			t.Fatalf("invalid UTF-8 output %q for %q", o, s)
		}
		if jsonKeys[key] && looksJSON(s) && json.Valid([]byte(s)) && !json.Valid([]byte(o)) {
			t.Fatalf("JSON in, invalid JSON out: %q -> %q", s, o)
		}
		again, ok2 := e.Value(key, out)
		if !ok2 || !again.Equal(out) {
			t.Fatalf("not idempotent for %s:\n in: %q\n 1st: %q\n 2nd: %q (kept %v)", key, s, o, again.Str(), ok2)
		}
	})
}

// FuzzParsePolicy checks the policy parser never panics and that what it accepts compiles.
func FuzzParsePolicy(f *testing.F) {
	f.Add([]byte("extends: strict\nrules:\n  - name: a\n    keys: [\"tool_input.*\"]\n    action: hash\n"))
	f.Add([]byte(`{"detectors":["all"],"rules":[{"name":"x","what":["email","card"],"action":"partial","keep_last":4}]}`))
	f.Add([]byte("rules: [{name: a, action: drop, keys: ['**.secret']}]"))
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := ParsePolicy(b)
		if err != nil {
			return
		}
		if _, err := New(p, WithKey("", testKey)); err != nil {
			t.Fatalf("accepted policy does not compile: %v", err)
		}
	})
}

var _ = corpus.Version

// FuzzJSON checks the JSON reader against encoding/json: it accepts exactly the valid
// documents (up to its depth limit), and what it writes back is valid JSON with the same
// meaning.
func FuzzJSON(f *testing.F) {
	for _, s := range []string{`{"a":[1,2.5e3,-0,true,false,null,"x\u00e9\ud83d\ude00"]}`, `[]`, `{"":{}}`, `"\ud800"`, `{"a":1,"a":2}`,
		`{"file_path":"/Users/x","content":"a\nb"}`, ` [ 1 , { "k" : "v" } ] `, `01`, `{"a":}`, `[1,]`, "\"\x01\""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		jv, err := parseJSON(s)
		valid := json.Valid([]byte(s))
		if err == nil && !valid {
			t.Fatalf("accepted invalid JSON %q", s)
		}
		if err != nil {
			return // rejected: invalid, or deeper than maxJSONDepth
		}
		out := appendJSON(nil, &jv)
		if !json.Valid(out) {
			t.Fatalf("wrote invalid JSON %q for %q", out, s)
		}
		var a, b any
		if json.Unmarshal([]byte(s), &a) == nil && json.Unmarshal(out, &b) == nil {
			ja, _ := json.Marshal(a)
			jb, _ := json.Marshal(b)
			if string(ja) != string(jb) {
				t.Fatalf("meaning changed:\n in: %s\nout: %s", ja, jb)
			}
		}
	})
}

// FuzzPlanted checks that no context hides a secret or PII: a labelled value of the test
// corpus (a card, e-mail, key, token, IBAN, …) of a detector that needs no context, which a
// preset removes when it stands alone,
// planted between any two texts, set off by a space, tab, newline, bracket, quote or
// punctuation on each side, never comes out as it went in. It compares with the same texts
// without it, which may hold copies of their own that rightly survive (glued to a word, so
// not a card or an e-mail).
func FuzzPlanted(f *testing.F) {
	var planted []string
	seen := map[string]bool{}
	// Detectors that find a value by what stands around it (a key, a flag, a URL, a header, a
	// home directory) are left out: away from that context, the value is rightly kept.
	inContext := map[string]bool{"assignment": true, "command_line": true, "high_entropy": true, "url_secret_param": true,
		"url_credentials": true, "auth_header": true, "home_user": true}
	for _, c := range loadLabelled(f) {
		for _, l := range c.Labels {
			if !seen[l.Value] && !inContext[l.Detector] {
				seen[l.Value] = true
				planted = append(planted, l.Value)
			}
		}
	}
	const left, right = " \n\t(\"',;=[", " \n\t)\"',;]"
	f.Add(uint8(0), uint16(0), uint8(0), "card", "2 items")
	f.Add(uint8(1), uint16(7), uint8(0x11), "ref 1234", "x")
	f.Add(uint8(2), uint16(40), uint8(0x44), `{"note":"mail`, `now"}`)
	f.Add(uint8(3), uint16(300), uint8(0x47), "export AWS_ACCESS_KEY_ID", "\nfoo")
	f.Add(uint8(4), uint16(600), uint8(0x63), "iban:", "12")
	engines := []*Engine{newEngine(f, Strict), newEngine(f, Balanced)}
	keys := []string{"error", "mcp_args", telemetry.KeyToolInput, "note"}
	f.Fuzz(func(t *testing.T, sel uint8, pick uint16, seps uint8, before, after string) {
		v := planted[int(pick)%len(planted)]
		e := engines[int(sel)%len(engines)]
		key := keys[int(sel/2)%len(keys)]
		if out, _ := e.Value(key, telemetry.String(v)); strings.Contains(out.Str(), v) {
			return // not removed even alone: nothing to check
		}
		in := before + string(left[int(seps%16)%len(left)]) + v + string(right[int(seps/16)%len(right)]) + after
		with, _ := e.Value(key, telemetry.String(in))
		without, _ := e.Value(key, telemetry.String(before+" "+after))
		if strings.Count(with.Str(), v) > strings.Count(without.Str(), v) {
			t.Fatalf("%s kept %q:\n in: %q\nout: %q", key, v, in, with.Str())
		}
	})
}
