package realclient

import (
	"context"
	"log/slog"
	"os"
	"testing"
)

func TestDebugRun(t *testing.T) {
	sc := os.Getenv("RC_DEBUG")
	if sc == "" {
		t.Skip()
	}
	slog.SetLogLoggerLevel(slog.LevelDebug)
	p := ProtocolJSON
	if os.Getenv("RC_PROTO") != "" {
		p = Protocol(os.Getenv("RC_PROTO"))
	}
	res, err := Run(context.Background(), Config{Scenario: sc, Protocol: p, Root: os.Getenv("RC_ROOT")})
	if res != nil {
		t.Logf("exit=%d dur=%v flush=%v stderr=%s", res.ExitCode, res.Duration, res.Flush, res.Stderr)
		t.Logf("cli=%s", res.CLI.Raw)
		for _, c := range res.Calls {
			t.Logf("call %+v", c)
		}
		for _, r := range res.Requests {
			t.Logf("req %s %s %d", r.Name(), r.ContentType, len(r.Body))
		}
		t.Logf("events %v", EventCounts(res.Requests))
		if d := os.Getenv("RC_SAVE"); d != "" {
			res.Save(d)
		}
	}
	if err != nil {
		t.Fatal(err)
	}
}
