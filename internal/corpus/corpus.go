// Package corpus gives tests the real OTLP exports recorded from the Claude Code CLI 2.1.328
// configured as Cowork (see testdata/README.md). The files are embedded so that tests in any
// package read the same bytes from a fresh clone, wherever the test binary runs.
package corpus

import (
	"embed"
	"io/fs"
	"path"
	"sort"
	"strings"
)

//go:embed testdata
var files embed.FS

// Version is the CLI version the corpus was recorded with.
const Version = "2.1.328"

const root = "testdata/cowork-cli-2.1.328"

// Encoding names one of the two recorded wire encodings.
type Encoding string

// The recorded encodings.
const (
	JSON     Encoding = "json"
	Protobuf Encoding = "protobuf"
)

// File is one recorded OTLP request body.
type File struct {
	Encoding Encoding // json or protobuf
	Scenario string   // files, deny, mcp, …
	Name     string   // e.g. "0031-logs.json"
	Signal   string   // "logs" or "metrics"
	Data     []byte
}

// Path is the file's path relative to the corpus root, e.g. "json/mcp/0031-logs.json".
func (f File) Path() string { return path.Join(string(f.Encoding), f.Scenario, f.Name) }

// Scenarios lists the recorded scenarios in sorted order.
func Scenarios() []string {
	ents, err := fs.ReadDir(files, root+"/json")
	if err != nil {
		panic(err)
	}
	var out []string
	for _, e := range ents {
		if e.IsDir() {
			out = append(out, e.Name())
		}
	}
	sort.Strings(out)
	return out
}

// Files returns every recorded OTLP body of the encoding, in scenario then arrival order.
func Files(enc Encoding) []File {
	var out []File
	for _, s := range Scenarios() {
		out = append(out, ScenarioFiles(enc, s)...)
	}
	return out
}

// ScenarioFiles returns one scenario's OTLP bodies in arrival order.
func ScenarioFiles(enc Encoding, scenario string) []File {
	dir := path.Join(root, string(enc), scenario)
	ents, err := fs.ReadDir(files, dir)
	if err != nil {
		panic(err)
	}
	var out []File
	for _, e := range ents {
		n := e.Name()
		var sig string
		switch {
		case strings.Contains(n, "-logs."):
			sig = "logs"
		case strings.Contains(n, "-metrics."):
			sig = "metrics"
		default:
			continue
		}
		b, err := files.ReadFile(path.Join(dir, n))
		if err != nil {
			panic(err)
		}
		out = append(out, File{Encoding: enc, Scenario: scenario, Name: n, Signal: sig, Data: b})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// Logs returns only the log bodies of ScenarioFiles.
func Logs(enc Encoding, scenario string) []File { return filter(ScenarioFiles(enc, scenario), "logs") }

// Metrics returns only the metric bodies of ScenarioFiles.
func Metrics(enc Encoding, scenario string) []File {
	return filter(ScenarioFiles(enc, scenario), "metrics")
}

func filter(fs []File, sig string) []File {
	var out []File
	for _, f := range fs {
		if f.Signal == sig {
			out = append(out, f)
		}
	}
	return out
}

// Result is the part of the CLI's own run summary (cli-result.json) tests cross-check.
type Result struct {
	SessionID    string  `json:"session_id"`
	TotalCostUSD float64 `json:"total_cost_usd"`
	NumTurns     int     `json:"num_turns"`
	IsError      bool    `json:"is_error"`
}

// CLIResult returns the raw cli-result.json of a scenario.
func CLIResult(enc Encoding, scenario string) []byte {
	b, err := files.ReadFile(path.Join(root, string(enc), scenario, "cli-result.json"))
	if err != nil {
		panic(err)
	}
	return b
}
