package redact

import (
	"bufio"
	"context"
	"encoding/json"
	"os"
	"strings"
	"testing"

	"github.com/open-telemetry/opentelemetry-collector-contrib/processor/redactionprocessor"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/config/configopaque"
	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/processor"
	"go.opentelemetry.io/collector/processor/processortest"

	"github.com/coworkgov/cowork/internal/corpus"
	cowredact "github.com/coworkgov/cowork/redact"
	"github.com/coworkgov/cowork/telemetry"
)

// hmacKey is the pseudonym key both sides use (32 bytes, the processor's minimum).
var hmacKey = []byte("benchmark-hmac-key-0123456789abc")

// input is one benchmark input: OTLP protobuf log request bodies.
type input struct {
	name     string
	bodies   [][]byte
	bytes    int64
	events   int
	injected []string // secret values injected (secrets input only)
}

func realInput(tb testing.TB) input {
	tb.Helper()
	in := input{name: "real"}
	for _, f := range corpus.Files(corpus.Protobuf) {
		if f.Signal != "logs" {
			continue
		}
		in.add(tb, f.Data)
	}
	return in
}

func (in *input) add(tb testing.TB, b []byte) {
	tb.Helper()
	l, err := telemetry.DecodeLogsProto(b)
	require.NoError(tb, err)
	in.bodies = append(in.bodies, b)
	in.bytes += int64(len(b))
	in.events += l.Len()
}

type labelled struct {
	Where  string `json:"where"`
	Text   string `json:"text"`
	Labels []struct {
		Value string `json:"value"`
	} `json:"labels"`
}

// positives reads the labelled corpus of the redact package: texts with their secrets.
func positives(tb testing.TB) []labelled {
	tb.Helper()
	f, err := os.Open("../../../redact/testdata/labelled.jsonl")
	require.NoError(tb, err)
	defer f.Close()
	var out []labelled
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		var c labelled
		require.NoError(tb, json.Unmarshal(sc.Bytes(), &c))
		if len(c.Labels) > 0 {
			out = append(out, c)
		}
	}
	require.NoError(tb, sc.Err())
	return out
}

// secretInput is the real corpus with labelled secrets injected into every prompt,
// response, tool input and command line, re-encoded with telemetry.EncodeLogsProto.
func secretInput(tb testing.TB) input {
	tb.Helper()
	pos := positives(tb)
	next := 0
	pick := func() string {
		c := pos[next%len(pos)]
		next++
		return c.Text
	}
	in := input{name: "secrets"}
	for _, f := range corpus.Files(corpus.Protobuf) {
		if f.Signal != "logs" {
			continue
		}
		l, err := telemetry.DecodeLogsProto(f.Data)
		require.NoError(tb, err)
		for _, ev := range l.Events() {
			attrs := telemetry.AttributesOf(ev)
			for _, k := range []string{telemetry.KeyPrompt, telemetry.KeyPromptText, telemetry.KeyResponse} {
				if v, ok := attrs.Get(k); ok {
					telemetry.Set(ev, k, telemetry.String(v.Str()+"\n"+pick()))
				}
			}
			if v, ok := attrs.Get(telemetry.KeyToolParameters); ok {
				var m map[string]any
				if json.Unmarshal([]byte(v.Str()), &m) == nil {
					if fc, ok := m["full_command"].(string); ok {
						m["full_command"] = fc + " && " + pick()
					} else {
						m["args"] = pick()
					}
					b, _ := json.Marshal(m)
					telemetry.Set(ev, telemetry.KeyToolParameters, telemetry.String(string(b)))
				}
			}
			if v, ok := attrs.Get(telemetry.KeyToolInput); ok {
				var m map[string]any
				if json.Unmarshal([]byte(v.Str()), &m) == nil {
					m["note"] = pick()
					b, _ := json.Marshal(m)
					telemetry.Set(ev, telemetry.KeyToolInput, telemetry.String(string(b)))
				}
			}
		}
		b, err := telemetry.EncodeLogsProto(l)
		require.NoError(tb, err)
		in.add(tb, b)
	}
	for i := 0; i < next; i++ {
		for _, lab := range pos[i%len(pos)].Labels {
			in.injected = append(in.injected, lab.Value)
		}
	}
	return in
}

// peerPatterns are the processor's blocked_values: RE2 expressions for the shapes cowork's
// detectors find (the processor has no detectors of its own).
var peerPatterns = []string{
	`[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}`, // email
	`\b(?:4[0-9]{3}|5[1-5][0-9]{2}|2[2-7][0-9]{2}|3[47][0-9]{2}|6011|65[0-9]{2}|35[0-9]{2}|3[0689][0-9]{2}|62[0-9]{2})(?:[ -]?[0-9]{4}){2}[ -]?[0-9]{1,7}\b`, // card
	`\b[A-Z]{2}[0-9]{2}(?: ?[A-Z0-9]{4}){3,7}(?: ?[A-Z0-9]{1,3})?\b`,                                                                                         // iban
	`\b[0-9]{3}-[0-9]{2}-[0-9]{4}\b`, // ssn
	`\+[1-9][0-9 ().-]{7,18}[0-9]|\(?\b[2-9][0-9]{2}\)?[-. ][2-9][0-9]{2}[-. ][0-9]{4}\b`,                                                        // phone
	`\b(?:(?:25[0-5]|2[0-4][0-9]|1?[0-9]?[0-9])\.){3}(?:25[0-5]|2[0-4][0-9]|1?[0-9]?[0-9])\b`,                                                    // ipv4
	`\b(?:[0-9A-Fa-f]{1,4}:){2,7}:?[0-9A-Fa-f]{1,4}\b`,                                                                                           // ipv6
	`\b(?:AKIA|ASIA|ABIA|ACCA)[A-Z2-7]{16}\b`,                                                                                                    // aws
	`\b(?:gh[pousr]_[A-Za-z0-9]{36}|github_pat_[A-Za-z0-9_]{70,})\b`,                                                                             // github
	`\bgl(?:pat|dt|rt|ptt|soat|oas|cbt|imt|ft|agent|ffct)-[A-Za-z0-9_.-]{20,}`,                                                                   // gitlab
	`\bxox[abpers]-[A-Za-z0-9-]{10,}|\bxapp-[A-Za-z0-9-]{10,}|https://hooks\.slack\.com/[A-Za-z0-9/_-]+`,                                         // slack
	`\b[rs]k_(?:live|test)_[A-Za-z0-9]{20,}`,                                                                                                     // stripe
	`\bAIza[A-Za-z0-9_-]{35}`,                                                                                                                    // google
	`\bsk-(?:proj|svcacct|admin)-[A-Za-z0-9_-]{40,}|\bsk-[A-Za-z0-9]{20}T3BlbkFJ[A-Za-z0-9]{20}`,                                                 // openai
	`\bsk-ant-[a-z]+[0-9]{2}-[A-Za-z0-9_-]{80,}`,                                                                                                 // anthropic
	`\b(?:npm_[A-Za-z0-9]{36}|pypi-AgEIcHlwaS5vcmc[A-Za-z0-9_-]{50,}|hf_[A-Za-z]{34}|SG\.[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{43})`,                  // npm, pypi, hf, sendgrid
	`\b(?:do[opr]_v1_[a-f0-9]{64}|shp(?:at|ca|pa|ss)_[a-fA-F0-9]{32}|AGE-SECRET-KEY-1[0-9A-Z]{58}|hv[sbr]\.[A-Za-z0-9_-]{24,}|dapi[a-f0-9]{32})`, // do, shopify, age, vault, databricks
	`\beyJ[A-Za-z0-9_-]{10,}\.eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]*`,                                                                             // jwt
	`(?s)-----BEGIN [A-Z ]*PRIVATE KEY-----.*?(?:-----END [A-Z ]*PRIVATE KEY-----|$)`,                                                            // private key
	`(?i)(?:authorization|x-api-key|cookie)\s*[:=]\s*(?:bearer |basic |token )?[^\s'"]{6,}(?:; [^\s'"]+)*`,                                       // headers
	`[a-zA-Z][a-zA-Z0-9+.-]*://[^/\s:@]+:[^/\s@]+@`,                                                                                              // url credentials
	`(?i)[?&](?:token|access_token|api_key|apikey|key|sig|signature|x-amz-signature|client_secret|password)=[^&\s'"]+`,                           // url params
	`(?i)(?:password|passwd|pwd|secret|passphrase|api_key|apikey|token|auth)[A-Za-z_]*["']?\s*[:=]\s*["']?[^\s"',;]{3,}`,                         // assignments
	`(?i)--(?:password|passwd|token|api-key|secret)[= ]\S+|\s-p\S{3,}|\s-u\s+\S+:\S+|\s-a\s+\S{6,}`,                                              // command-line flags
	`(?:/Users/|/home/|[A-Za-z]:\\Users\\|[A-Za-z]:/Users/)[^/\\\s"']+`,                                                                          // home-directory user
}

func newPeer(tb testing.TB) processor.Logs { return newPeerWith(tb, peerPatterns) }

func newPeerWith(tb testing.TB, patterns []string) processor.Logs {
	tb.Helper()
	f := redactionprocessor.NewFactory()
	cfg := f.CreateDefaultConfig().(*redactionprocessor.Config)
	cfg.AllowAllKeys = true
	cfg.BlockedValues = patterns
	cfg.HashFunction = redactionprocessor.HMACSHA256
	cfg.HMACKey = configopaque.String(hmacKey)
	// The same keys cowork never scans: the correlation ids and Strict's skip list.
	cfg.IgnoredKeys = append(cowredact.ProtectedKeys(), cowredact.Strict.Skip...)
	cfg.Summary = "info"
	p, err := f.CreateLogs(context.Background(), processortest.NewNopSettings(f.Type()), cfg, consumertest.NewNop())
	require.NoError(tb, err)
	require.NoError(tb, p.Start(context.Background(), componenttest.NewNopHost()))
	return p
}

func newCowork(tb testing.TB, opts ...cowredact.Option) *cowredact.Engine {
	return newCoworkWith(tb, cowredact.Strict, opts...)
}

func newCoworkWith(tb testing.TB, p cowredact.Policy, opts ...cowredact.Option) *cowredact.Engine {
	tb.Helper()
	e, err := cowredact.New(p, append([]cowredact.Option{cowredact.WithKey("k1", hmacKey)}, opts...)...)
	require.NoError(tb, err)
	return e
}

// impl is one side: prepare decodes n copies of the input (untimed), run redacts copy i.
type impl struct {
	name    string
	prepare func(in input, n int)
	run     func(i int)
}

func coworkImpl(tb testing.TB, e *cowredact.Engine) impl {
	var copies [][]*telemetry.Logs
	return impl{
		name: "cowork",
		prepare: func(in input, n int) {
			copies = copies[:0]
			for range n {
				var ls []*telemetry.Logs
				for _, b := range in.bodies {
					l, err := telemetry.DecodeLogsProto(b)
					if err != nil {
						tb.Fatal(err)
					}
					ls = append(ls, l)
				}
				copies = append(copies, ls)
			}
		},
		run: func(i int) {
			for _, l := range copies[i] {
				e.Logs(l)
			}
		},
	}
}

func peerImpl(tb testing.TB, p processor.Logs) impl {
	var copies [][]plog.Logs
	var u plog.ProtoUnmarshaler
	ctx := context.Background()
	return impl{
		name: "collector",
		prepare: func(in input, n int) {
			copies = copies[:0]
			for range n {
				var ls []plog.Logs
				for _, b := range in.bodies {
					l, err := u.UnmarshalLogs(b)
					if err != nil {
						tb.Fatal(err)
					}
					ls = append(ls, l)
				}
				copies = append(copies, ls)
			}
		},
		run: func(i int) {
			for _, l := range copies[i] {
				if err := p.ConsumeLogs(ctx, l); err != nil {
					panic(err)
				}
			}
		},
	}
}

var _ = strings.Contains
