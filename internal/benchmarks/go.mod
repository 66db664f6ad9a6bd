module github.com/coworkgov/cowork/internal/benchmarks

go 1.26.0

replace github.com/coworkgov/cowork => ../..

require (
	github.com/coworkgov/cowork v0.0.0-00010101000000-000000000000 // indirect
	go.opentelemetry.io/collector/pdata v1.71.0 // indirect
)
