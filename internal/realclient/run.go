package realclient

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/coworkgov/cowork/internal/realclient/internal/pyjson"
)

// Protocol is the OTLP/HTTP encoding the CLI exports with (OTEL_EXPORTER_OTLP_PROTOCOL).
type Protocol string

// The two protocols record.sh records. The zero Protocol means ProtocolJSON.
const (
	ProtocolJSON     Protocol = "http/json"
	ProtocolProtobuf Protocol = "http/protobuf"
)

// Encoding is the corpus folder name of the protocol: "json" or "protobuf".
func (p Protocol) Encoding() string {
	if p == ProtocolProtobuf {
		return "protobuf"
	}
	return "json"
}

// Config describes one scenario run. The zero value of each field but Scenario gives record.sh's
// behaviour.
type Config struct {
	// Scenario is the scenario name: files, deny, mcp, web, skill, task, fatal, leak, or one of
	// Scenarios.
	Scenario string
	// Scenarios are added to the built-in ones (replacing any of the same name).
	Scenarios []Scenario
	// Bin is the CLI binary. Default: Install(ctx, Version).
	Bin string
	// Version is the CLI version Install fetches when Bin is empty. Default: DefaultVersion.
	Version string
	// Protocol is the export encoding. Default: ProtocolJSON.
	Protocol Protocol
	// Endpoint is the OTLP/HTTP base URL the CLI exports to, e.g. a collector under test.
	// Default: the harness's own capture receiver; with an Endpoint, Result.Requests is empty.
	Endpoint string
	// ServiceName is OTEL_SERVICE_NAME. Default: "cowork" ("claude-code" records plain Claude
	// Code).
	ServiceName string
	// User is the signed-in account and home folder. Default: UserFor(Scenario).
	User User
	// Root holds the fake home folders, Root/LOGIN. Default: a temporary folder removed when
	// Run returns.
	Root string
	// Timeout bounds the CLI process. Default: 120 s, as record.sh.
	Timeout time.Duration
	// FlushWait bounds the wait for the CLI's last exports after it exits. Default: 5 s.
	FlushWait time.Duration
	// PromptSuffix is appended to the prompt (record.sh's $more). Default: none.
	PromptSuffix string
	// Env holds extra KEY=VALUE variables for the CLI, applied last.
	Env []string
	// Logger receives progress messages. Default: slog.Default().
	Logger *slog.Logger
}

// Result is what one scenario run produced.
type Result struct {
	Scenario string
	Protocol Protocol
	User     User
	// CLI is the CLI's own summary (cli-result.json), parsed from its standard output.
	CLI CLIResult
	// Requests are the captured OTLP exports in arrival order (empty with Config.Endpoint).
	Requests []Request
	// Calls are the Messages API calls the stand-in model answered.
	Calls []Call
	// ExitCode is the CLI's exit status.
	ExitCode int
	// Stderr is the CLI's standard error.
	Stderr []byte
	// Home and Workdir are the fake home folder and the working folder the CLI ran in; they
	// are gone after Run unless Config.Root was set.
	Home, Workdir string
	// Duration is the CLI's wall time, Flush the wait for its last exports after exit.
	Duration, Flush time.Duration
}

// CLIResult is the part of the CLI's --output-format json summary tests check, with the raw
// bytes.
type CLIResult struct {
	SessionID    string  `json:"session_id"`
	TotalCostUSD float64 `json:"total_cost_usd"`
	NumTurns     int     `json:"num_turns"`
	IsError      bool    `json:"is_error"`
	// Raw is the CLI's standard output as printed, record.sh's cli-result.json.
	Raw []byte `json:"-"`
}

// Logs returns the captured logs requests.
func (r *Result) Logs() []Request { return signal(r.Requests, "logs") }

// Metrics returns the captured metrics requests.
func (r *Result) Metrics() []Request { return signal(r.Requests, "metrics") }

func signal(reqs []Request, sig string) []Request {
	var out []Request
	for _, q := range reqs {
		if q.Signal == sig {
			out = append(out, q)
		}
	}
	return out
}

// Save writes the run as record.sh lays it out: dir/NNNN-SIGNAL.EXT for each request and
// dir/cli-result.json.
func (r *Result) Save(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("realclient: save: %w", err)
	}
	var errs []error
	for _, q := range r.Requests {
		errs = append(errs, os.WriteFile(filepath.Join(dir, q.Name()), q.Body, 0o644))
	}
	errs = append(errs, os.WriteFile(filepath.Join(dir, "cli-result.json"), r.CLI.Raw, 0o644))
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("realclient: save: %w", err)
	}
	return nil
}

// ErrNoResult reports that the CLI did not print a JSON summary; the error also carries the
// tail of its standard error.
var ErrNoResult = errors.New("realclient: no CLI result")

// ErrUnknownScenario reports a Config.Scenario that is neither built in nor in
// Config.Scenarios.
var ErrUnknownScenario = errors.New("realclient: unknown scenario")

// allowedTools is record.sh's --allowedTools list.
var allowedTools = []string{"Bash(ls:*)", "Bash(echo:*)", "Read", "Write", "Edit", "Glob", "Grep", "mcp__crm__lookup_account", "WebFetch", "TodoWrite"}

// oauthToken is the placeholder token record.sh signs in with.
const oauthToken = "sk-ant-oat01-recording-only"

// Run runs the real CLI through one scenario as record.sh does: it starts a stand-in model and
// capture receiver on 127.0.0.1, prepares the user's fake home (~/.claude.json with the
// signed-in Acme Corp account, the ci-report skill, the crm MCP config), runs
// `claude -p PROMPT --allowedTools … --output-format json` in the workdir with record.sh's
// environment, then waits for the CLI's last exports. A CLI that fails but prints its JSON
// summary (the fatal scenario) is not an error: see Result.CLI.IsError and Result.ExitCode.
// On error the Result, when not nil, holds what was gathered, Stderr included. Runs are
// independent and may go in parallel.
func Run(ctx context.Context, cfg Config) (*Result, error) {
	log := cfg.Logger
	if log == nil {
		log = slog.Default()
	}
	scen, ok := newTable(cfg.Scenarios)[cfg.Scenario]
	if !ok {
		return nil, fmt.Errorf("%w: %q", ErrUnknownScenario, cfg.Scenario)
	}
	if cfg.Protocol == "" {
		cfg.Protocol = ProtocolJSON
	}
	if cfg.ServiceName == "" {
		cfg.ServiceName = "cowork"
	}
	if cfg.User == (User{}) {
		cfg.User = UserFor(cfg.Scenario)
	}
	if cfg.Timeout == 0 {
		cfg.Timeout = 120 * time.Second
	}
	if cfg.FlushWait == 0 {
		cfg.FlushWait = 5 * time.Second
	}
	bin := cfg.Bin
	if bin == "" {
		var err error
		if bin, err = Install(ctx, cfg.Version); err != nil {
			return nil, err
		}
	}
	srv, err := listen(log, cfg.Scenarios)
	if err != nil {
		return nil, err
	}
	defer srv.Close()
	root := cfg.Root
	if root == "" {
		if root, err = os.MkdirTemp("", "cowork-realclient-"); err != nil {
			return nil, fmt.Errorf("realclient: %w", err)
		}
		defer os.RemoveAll(root)
	}
	res := &Result{Scenario: scen.Name, Protocol: cfg.Protocol, User: cfg.User}
	res.Home = filepath.Join(root, cfg.User.Login)
	res.Workdir = filepath.Join(res.Home, "Documents", "competitive-intel")
	mcp := ""
	if scen.MCP {
		if mcp, err = MCPServer(ctx); err != nil {
			return nil, err
		}
	}
	if err := prepareHome(res.Home, res.Workdir, cfg.User, mcp); err != nil {
		return nil, err
	}
	endpoint := cfg.Endpoint
	if endpoint == "" {
		endpoint = srv.URL()
	}
	u := cfg.User
	prompt := fmt.Sprintf("scenario:%s workdir:%s Please do the %s task. My email is %s and my card is 4111 1111 1111 1111%s",
		scen.Name, res.Workdir, scen.Name, u.Email, cfg.PromptSuffix)
	args := append([]string{"-p", prompt, "--allowedTools"}, allowedTools...)
	args = append(args, scen.AllowedTools...)
	if scen.MCP {
		args = append(args, "--mcp-config", filepath.Join(res.Home, "mcp.json"))
	}
	args = append(args, "--output-format", "json")
	env := append(cleanEnv(),
		"CLAUDE_CODE_ENABLE_TELEMETRY=1",
		"OTEL_LOGS_EXPORTER=otlp",
		"OTEL_METRICS_EXPORTER=otlp",
		"OTEL_EXPORTER_OTLP_PROTOCOL="+string(cfg.Protocol),
		"OTEL_EXPORTER_OTLP_ENDPOINT="+endpoint,
		"OTEL_LOGS_EXPORT_INTERVAL=500",
		"OTEL_METRIC_EXPORT_INTERVAL=1000",
		"OTEL_LOG_USER_PROMPTS=1",
		"OTEL_LOG_TOOL_DETAILS=1",
		"OTEL_SERVICE_NAME="+cfg.ServiceName,
		"ANTHROPIC_BASE_URL="+srv.URL(),
		"CLAUDE_CODE_OAUTH_TOKEN="+oauthToken,
		"DISABLE_AUTOUPDATER=1",
		"DISABLE_ERROR_REPORTING=1",
		"HOME="+res.Home,
		"WORK="+res.Workdir,
		"OTEL_RESOURCE_ATTRIBUTES=process.owner="+u.Login,
		"CLAUDE_CODE_WORKSPACE_HOST_PATHS="+res.Workdir+"|"+filepath.Join(res.Home, "Downloads"),
	)
	env = append(env, cfg.Env...)

	cctx, cancel := context.WithTimeout(ctx, cfg.Timeout)
	defer cancel()
	cmd := exec.CommandContext(cctx, bin, args...)
	cmd.Dir = res.Workdir
	cmd.Env = env
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	cmd.WaitDelay = 5 * time.Second // children (MCP server, Bash) may hold the pipes open
	log.DebugContext(ctx, "realclient: running the CLI", "scenario", scen.Name, "protocol", cfg.Protocol, "user", u.Login)
	start := time.Now()
	runErr := cmd.Run()
	res.Duration = time.Since(start)
	res.ExitCode = cmd.ProcessState.ExitCode()
	res.Stderr = stderr.Bytes()
	res.CLI.Raw = stdout.Bytes()

	if cfg.Endpoint == "" {
		fctx, fcancel := context.WithTimeout(ctx, cfg.FlushWait)
		if !srv.Wait(fctx, 300*time.Millisecond) {
			log.WarnContext(ctx, "realclient: CLI exports incomplete", "scenario", scen.Name, "requests", len(srv.Requests()), "waited", cfg.FlushWait)
		}
		fcancel()
		res.Flush = time.Since(start) - res.Duration
	}
	res.Requests = srv.Requests()
	res.Calls = srv.Calls()

	var exitErr *exec.ExitError
	if runErr != nil && !errors.As(runErr, &exitErr) || cctx.Err() != nil {
		return res, fmt.Errorf("realclient: run %s: %w (stderr: %s)", scen.Name, errors.Join(runErr, cctx.Err()), tail(res.Stderr, 2000))
	}
	if err := json.Unmarshal(res.CLI.Raw, &res.CLI); err != nil {
		return res, fmt.Errorf("%w: scenario %s, exit %d: %w (stdout: %s; stderr: %s)",
			ErrNoResult, scen.Name, res.ExitCode, err, tail(res.CLI.Raw, 500), tail(res.Stderr, 2000))
	}
	log.DebugContext(ctx, "realclient: CLI done", "scenario", scen.Name, "took", res.Duration, "flush", res.Flush, "requests", len(res.Requests), "session", res.CLI.SessionID)
	return res, nil
}

// prepareHome lays out the user's fake home folder as record.sh does, from scratch.
func prepareHome(home, work string, u User, mcp string) error {
	claude := filepath.Join(home, ".claude")
	skill := filepath.Join(claude, "skills", "ci-report")
	mcpJSON, err := pyjson.Marshal(pyjson.Object{{Key: "mcpServers", Value: pyjson.Object{{Key: "crm", Value: pyjson.Object{
		{Key: "type", Value: "stdio"}, {Key: "command", Value: mcp}, {Key: "args", Value: []string{}},
	}}}}})
	if err != nil {
		return fmt.Errorf("realclient: mcp config: %w", err)
	}
	account, err := pyjson.Marshal(pyjson.Object{
		{Key: "oauthAccount", Value: pyjson.Object{
			{Key: "accountUuid", Value: u.AccountUUID},
			{Key: "emailAddress", Value: u.Email},
			{Key: "organizationUuid", Value: OrgUUID},
			{Key: "organizationName", Value: "Acme Corp"},
			{Key: "organizationRole", Value: "user"},
			{Key: "displayName", Value: u.DisplayName},
		}},
		{Key: "hasCompletedOnboarding", Value: true},
	})
	if err != nil {
		return fmt.Errorf("realclient: account: %w", err)
	}
	errs := []error{
		os.RemoveAll(claude),
		os.RemoveAll(filepath.Join(home, ".claude.json")),
		os.MkdirAll(work, 0o755),
		os.MkdirAll(skill, 0o755),
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("realclient: prepare home: %w", err)
	}
	errs = []error{
		os.WriteFile(filepath.Join(skill, "SKILL.md"), []byte(skillMD), 0o644),
		os.WriteFile(filepath.Join(home, "mcp.json"), mcpJSON, 0o644),
		os.WriteFile(filepath.Join(home, ".claude.json"), account, 0o600),
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("realclient: prepare home: %w", err)
	}
	return nil
}

// skillMD is the ci-report skill record.sh installs.
const skillMD = "---\nname: ci-report\ndescription: Write the weekly competitive intelligence report for an account.\n---\nProduce a short report on the named competitor using the CRM.\n"

// cleanEnv is this process's environment without TERM (record.sh unsets it) and without any
// variable that could point the CLI at a real account or collector: CLAUDE*, ANTHROPIC_*,
// OTEL_*, HOME and WORK.
func cleanEnv() []string {
	var out []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		switch {
		case k == "TERM", k == "HOME", k == "WORK",
			strings.HasPrefix(k, "CLAUDE"), strings.HasPrefix(k, "ANTHROPIC_"), strings.HasPrefix(k, "OTEL_"):
			continue
		}
		out = append(out, kv)
	}
	return out
}
