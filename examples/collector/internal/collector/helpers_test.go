package collector_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/coworkgov/cowork/examples/collector/internal/collector"
)

// storedEvents returns the number of events in c's store.
func storedEvents(tb testing.TB, c *collector.Collector) int64 {
	tb.Helper()
	return apiStats(tb, c)["events"]
}

func apiStats(tb testing.TB, c *collector.Collector) map[string]int64 {
	tb.Helper()
	req, err := http.NewRequest(http.MethodGet, "/api/stats", nil)
	require.NoError(tb, err)
	w := httptest.NewRecorder()
	c.Handler().ServeHTTP(w, req)
	require.Equal(tb, http.StatusOK, w.Code)
	var s map[string]int64
	require.NoError(tb, json.Unmarshal(w.Body.Bytes(), &s))
	return s
}
