package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/coworkgov/cowork/internal/corpus"
)

// TestLiveCollector is the end-to-end proof: the real collector (examples/collector, built
// and run as a process) receives the corpus over OTLP/HTTP, redacts and stores it, and the
// report is built from its store while it runs (read-only, beside the writer) and again after
// it stops. The numbers match the report built in memory from the same corpus.
func TestLiveCollector(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the collector")
	}
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go tool to build the collector")
	}
	tmp := t.TempDir()
	bin := filepath.Join(tmp, "collector")
	gobuild := exec.Command(goBin, "build", "-o", bin, "../collector")
	out, err := gobuild.CombinedOutput()
	require.NoError(t, err, string(out))

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	require.NoError(t, ln.Close())
	data := filepath.Join(tmp, "cowork-data")
	logs := &procOutput{}
	cmd := exec.Command(bin, "-http", addr, "-grpc", "", "-data", data, "-log", "warn")
	cmd.Stdout, cmd.Stderr = logs, logs
	require.NoError(t, cmd.Start())
	stopped := false
	stop := func() {
		if !stopped {
			stopped = true
			_ = cmd.Process.Signal(syscall.SIGTERM)
			_ = cmd.Wait()
		}
	}
	defer stop()

	base := "http://" + addr
	require.Eventually(t, func() bool {
		resp, err := http.Get(base + "/api/health")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	}, 20*time.Second, 100*time.Millisecond, logs.String())

	for _, f := range corpus.Files(corpus.Protobuf) {
		if f.Signal != "logs" {
			continue
		}
		resp, err := http.Post(base+"/v1/logs", "application/x-protobuf", bytes.NewReader(f.Data))
		require.NoError(t, err)
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		require.Equal(t, http.StatusOK, resp.StatusCode, string(body))
	}
	// The prompt chains close after the assembler's quiet period.
	require.Eventually(t, func() bool {
		resp, err := http.Get(base + "/api/stats")
		if err != nil {
			return false
		}
		defer resp.Body.Close()
		var st struct {
			Chains int `json:"chains"`
			Events int `json:"events"`
		}
		return json.NewDecoder(resp.Body).Decode(&st) == nil && st.Chains >= 7 && st.Events == 97
	}, 45*time.Second, 250*time.Millisecond, logs.String())

	want, err := build(context.Background(), strictCorpus(t), options{now: testNow, snap: loadPolicy(t)})
	require.NoError(t, err)
	check := func(stage string) {
		src, err := openSource(context.Background(), data, nil)
		require.NoError(t, err, stage)
		defer src.Close()
		_, ok := src.(*store)
		require.True(t, ok, stage)
		got, err := build(context.Background(), src, options{now: testNow, snap: loadPolicy(t)})
		require.NoError(t, err, stage)
		assert.Equal(t, want.Totals, got.Totals, stage)
		assert.Equal(t, want.Days, got.Days, stage)
		assert.Equal(t, want.Tools, got.Tools, stage)
		assert.Equal(t, want.MCPServers, got.MCPServers, stage)
		assert.Equal(t, want.Skills, got.Skills, stage)
		require.Len(t, got.Rejected, 1, stage)
		assert.Contains(t, got.Rejected[0].Detail, "rm -rf", stage)
		assert.Equal(t, "config", got.Rejected[0].Source, stage)
		assert.Len(t, got.APIErrors, 1, stage)
		for _, f := range got.Files {
			assert.NotContains(t, f.Path, "jane.doe", "stored paths are redacted")
		}
		require.NotNil(t, got.Drift)
		assert.Equal(t, len(want.Drift.Findings), len(got.Drift.Findings), stage)
		for i := range want.Drift.Findings {
			assert.Equal(t, want.Drift.Findings[i].Kind, got.Drift.Findings[i].Kind, stage)
			assert.Equal(t, want.Drift.Findings[i].Member.ID, got.Drift.Findings[i].Member.ID, stage)
			assert.Equal(t, want.Drift.Findings[i].Evidence, got.Drift.Findings[i].Evidence, stage)
		}
		assert.Equal(t, 97, got.Retention.Events, stage)
		var page bytes.Buffer
		require.NoError(t, render(&page, got))
		checkHTML(t, page.Bytes())
	}
	check("collector running")
	stop()
	check("collector stopped")
	_, err = os.Stat(filepath.Join(data, storeFile))
	require.NoError(t, err)
}

// procOutput collects a child process's output; exec copies into it from its own goroutine
// while the test reads it.
type procOutput struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (p *procOutput) Write(b []byte) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.b.Write(b)
}

func (p *procOutput) String() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.b.String()
}
