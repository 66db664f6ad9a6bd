package main

import (
	"context"
	"database/sql"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	_ "modernc.org/sqlite"

	"github.com/coworkgov/cowork/correlate"
	"github.com/coworkgov/cowork/examples/loadgen/load"
	"github.com/coworkgov/cowork/telemetry"
)

// buildBinary builds this command into a temporary folder.
func buildBinary(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "collector")
	cmd := exec.Command(filepath.Join(runtime.GOROOT(), "bin", "go"), "build", "-o", bin, ".")
	cmd.Stderr = os.Stderr
	require.NoError(t, cmd.Run(), "go build")
	return bin
}

func freePort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer ln.Close()
	return ln.Addr().String()
}

// startBinary runs the collector and waits for /api/health.
func startBinary(t *testing.T, bin, dir, addr string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(bin, "-data", dir, "-http", addr, "-grpc", "", "-quiet", "200ms", "-idle", "1s", "-log", "warn")
	cmd.Stderr = os.Stderr
	require.NoError(t, cmd.Start())
	t.Cleanup(func() { _ = cmd.Process.Kill(); _, _ = cmd.Process.Wait() })
	require.Eventually(t, func() bool {
		resp, err := http.Get("http://" + addr + "/api/health")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	}, 30*time.Second, 20*time.Millisecond, "collector did not become healthy")
	return cmd
}

// TestKillNineLosesNoAcknowledgedEvent streams a fleet at the real binary, kills it with
// SIGKILL mid-stream, restarts it on the same data directory, and checks that every event of
// every acknowledged request is stored; then sends everything again (the exporters' retries),
// checks that the chains still open at the kill are completed, and stops it with SIGTERM.
func TestKillNineLosesNoAcknowledgedEvent(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: the crash test builds and runs the binary")
	}
	bin := buildBinary(t)
	dir := t.TempDir()
	addr := freePort(t)
	fleet := load.Fleet{Seed: 7, Users: 20, SessionsPerUser: 3, PromptsPerSession: 5, BatchSize: 50}
	if raceEnabled {
		fleet.Users = 6
	}
	payloads, total, err := load.Generate(fleet)
	require.NoError(t, err)

	cmd := startBinary(t, bin, dir, addr)
	var (
		mu     sync.Mutex
		acked  []int
		events atomic.Int64
	)
	killAt := int64(total / 2)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan struct{})
	go func() {
		defer close(done)
		_, _ = load.Send(ctx, load.Options{URL: "http://" + addr, Workers: 8, OnAck: func(i, n int) {
			mu.Lock()
			acked = append(acked, i)
			mu.Unlock()
			if events.Add(int64(n)) >= killAt {
				_ = cmd.Process.Signal(syscall.SIGKILL)
			}
		}}, payloads)
	}()
	<-done
	_, _ = cmd.Process.Wait()
	mu.Lock()
	ackedNow := append([]int(nil), acked...)
	mu.Unlock()
	require.GreaterOrEqual(t, events.Load(), killAt)
	require.Less(t, len(ackedNow), len(payloads), "the kill came mid-stream")
	t.Logf("killed after %d of %d requests acknowledged (%d of %d events)", len(ackedNow), len(payloads), events.Load(), total)

	cmd = startBinary(t, bin, dir, addr)
	db, err := sql.Open("sqlite", "file:"+filepath.Join(dir, "cowork.db")+"?mode=ro&_pragma=busy_timeout(10000)")
	require.NoError(t, err)
	defer db.Close()
	missing := 0
	for _, i := range ackedNow {
		l, err := telemetry.DecodeLogsProto(payloads[i].Body)
		require.NoError(t, err)
		for _, ev := range l.Events() {
			r := ev.EventRecord()
			var n int
			require.NoError(t, db.QueryRow(`SELECT count(*) FROM events WHERE session_id = ? AND prompt_id = ? AND name = ? AND seq = ? AND time_unix_nano = ?`,
				r.SessionID, r.PromptID, ev.Name(), r.Sequence, int64(r.TimeUnixNano)).Scan(&n))
			if n != 1 {
				missing++
			}
		}
	}
	assert.Zero(t, missing, "acknowledged events missing after kill -9")

	// The exporters retry what was not acknowledged; duplicates are dropped.
	res, err := load.Send(context.Background(), load.Options{URL: "http://" + addr, Workers: 4}, payloads)
	require.NoError(t, err)
	require.Equal(t, int64(total), res.Events)
	var stored int64
	require.NoError(t, db.QueryRow(`SELECT count(*) FROM events`).Scan(&stored))
	assert.Equal(t, int64(total), stored, "every event once")

	// Chains open at the kill were rebuilt: the store ends with exactly the fold's chains.
	var all []telemetry.Event
	for _, p := range payloads {
		l, err := telemetry.DecodeLogsProto(p.Body)
		require.NoError(t, err)
		all = append(all, l.Events()...)
	}
	want := len(correlate.Fold(all))
	require.Eventually(t, func() bool {
		var chains, open int
		_ = db.QueryRow(`SELECT (SELECT count(*) FROM chains), (SELECT count(*) FROM open_chains)`).Scan(&chains, &open)
		return chains == want && open == 0
	}, 30*time.Second, 100*time.Millisecond, "want %d chains stored and none open", want)

	// SIGTERM drains and exits cleanly, leaving no WAL behind.
	require.NoError(t, cmd.Process.Signal(syscall.SIGTERM))
	waited := make(chan error, 1)
	go func() { waited <- cmd.Wait() }()
	select {
	case err := <-waited:
		require.NoError(t, err, "exit status after SIGTERM")
	case <-time.After(30 * time.Second):
		t.Fatal("no exit 30 s after SIGTERM")
	}
	if fi, err := os.Stat(filepath.Join(dir, "cowork.db-wal")); err == nil {
		assert.Zero(t, fi.Size(), "WAL checkpointed and truncated at shutdown")
	}
}
