package receiver_test

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync/atomic"

	"github.com/coworkgov/cowork/internal/corpus"
	"github.com/coworkgov/cowork/telemetry"
	"github.com/coworkgov/cowork/telemetry/receiver"
)

// A receiver with a bearer token, handing log batches to a function. A request is
// acknowledged only when the function returns nil.
func Example() {
	var events atomic.Int64
	r, err := receiver.New(receiver.Funcs{
		Logs: func(_ context.Context, l *telemetry.Logs) error {
			events.Add(int64(l.Len())) // store the batch here, then return nil
			return nil
		},
	}, receiver.Options{Token: "s3cret"})
	if err != nil {
		panic(err)
	}
	srv := httptest.NewServer(r) // or http.ListenAndServe(":4318", r)
	defer srv.Close()

	body := corpus.Logs(corpus.Protobuf, "mcp")[0].Data
	for _, token := range []string{"", "s3cret"} {
		req, _ := http.NewRequest(http.MethodPost, srv.URL+"/v1/logs", bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/x-protobuf")
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			panic(err)
		}
		resp.Body.Close()
		fmt.Println(resp.Status)
	}
	fmt.Println("events:", events.Load())
	// Output:
	// 401 Unauthorized
	// 200 OK
	// events: 16
}
