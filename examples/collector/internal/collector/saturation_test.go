package collector_test

import (
	"context"
	"database/sql"
	"net/http"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/coworkgov/cowork/examples/loadgen/load"
)

// TestSaturationAnswers429 blocks the store (another connection holds the write lock), fills
// the write queue, and checks that further requests are refused with 429 and Retry-After,
// never dropped: every acknowledged event is stored once the lock is released.
func TestSaturationAnswers429(t *testing.T) {
	dir := t.TempDir()
	cfg := fastChains(dir)
	cfg.WriteQueue, cfg.SaturationWait = 2, 20*time.Millisecond
	c, url := start(t, cfg)

	db, err := sql.Open("sqlite", "file:"+filepath.Join(dir, "cowork.db")+"?_pragma=busy_timeout(10000)")
	require.NoError(t, err)
	defer db.Close()
	conn, err := db.Conn(context.Background())
	require.NoError(t, err)
	_, err = conn.ExecContext(context.Background(), "BEGIN IMMEDIATE")
	require.NoError(t, err)

	payloads, _, err := load.Generate(load.Fleet{Seed: 3, Users: 8, SessionsPerUser: 1, PromptsPerSession: 2, BatchSize: 10})
	require.NoError(t, err)
	require.Greater(t, len(payloads), 16)
	type answer struct {
		code  int
		retry string
		n     int
	}
	answers := make([]answer, len(payloads))
	var wg sync.WaitGroup
	for i, p := range payloads {
		// Requests arrive one after another, as from a fleet: the writer's first group commit
		// takes the ones already waiting and then blocks on the lock, so later ones find the
		// queue full. (Sent all at once to a machine slow to schedule the writer, every one of
		// them could be waiting when it takes its first group, leaving none to refuse.)
		time.Sleep(20 * time.Millisecond)
		wg.Add(1)
		go func() {
			defer wg.Done()
			resp := postBody(t, url, "/v1/logs", "application/x-protobuf", p.Body)
			answers[i] = answer{resp.StatusCode, resp.Header.Get("Retry-After"), p.Events}
		}()
	}
	// Refusals come while the lock is held.
	require.Eventually(t, func() bool { return c.Receiver().Stats().Refused["saturated"] > 0 }, 10*time.Second, 5*time.Millisecond)
	_, err = conn.ExecContext(context.Background(), "ROLLBACK")
	require.NoError(t, err)
	require.NoError(t, conn.Close())
	wg.Wait()

	// Once the lock is gone the collector accepts again. (On a loaded machine every request
	// above may have been refused while the lock was held, so this one is sent after it.)
	after, _, err := load.Generate(load.Fleet{Seed: 4, Users: 1, SessionsPerUser: 1, PromptsPerSession: 1, BatchSize: 10})
	require.NoError(t, err)
	resp := postBody(t, url, "/v1/logs", "application/x-protobuf", after[0].Body)
	answers = append(answers, answer{resp.StatusCode, resp.Header.Get("Retry-After"), after[0].Events})

	var ok, refused int
	var acked int64
	for _, a := range answers {
		switch a.code {
		case http.StatusOK:
			ok++
			acked += int64(a.n)
		case http.StatusTooManyRequests:
			refused++
			assert.Equal(t, "1", a.retry)
		default:
			t.Errorf("unexpected status %d", a.code)
		}
	}
	assert.Positive(t, ok)
	assert.Positive(t, refused)
	assert.Equal(t, acked, storedEvents(t, c), "every acknowledged event, and only those, stored")
}
