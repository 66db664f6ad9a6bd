package realclient

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"time"
)

// DefaultVersion is the Claude Code CLI version the corpus was recorded with and the one Run
// installs when Config.Version is empty.
const DefaultVersion = "2.1.328"

// Package is the npm package of the Claude Code CLI.
const Package = "@anthropic-ai/claude-code"

// ErrUnavailable reports that the real CLI cannot be found or installed on this machine (no
// npm, no registry, an install that failed or timed out). Tests skip on it; any other error
// from Install is a real failure.
var ErrUnavailable = errors.New("realclient: claude code CLI unavailable")

// InstallTimeout bounds the npm install Install runs.
const InstallTimeout = 4 * time.Minute

var installMu sync.Mutex

// Install returns the path of the Claude Code CLI binary of the version (DefaultVersion when
// empty). It uses, in order: the CLAUDE_BIN environment variable; a previous install in
// CacheDir(version); a fresh `npm install` into CacheDir(version), bounded by InstallTimeout.
// A candidate counts only if `BIN --version` reports the version (CLAUDE_BIN is trusted as is).
// When the CLI cannot be had, the error wraps ErrUnavailable and says why. Install is safe for
// concurrent use, also across processes: installs go to a temporary folder renamed into place.
func Install(ctx context.Context, version string) (string, error) {
	if version == "" {
		version = DefaultVersion
	}
	if bin := os.Getenv("CLAUDE_BIN"); bin != "" {
		if _, err := exec.LookPath(bin); err != nil {
			return "", fmt.Errorf("realclient: CLAUDE_BIN=%s: %w", bin, err)
		}
		return bin, nil
	}
	dir, err := CacheDir(version)
	if err != nil {
		return "", fmt.Errorf("%w: %w", ErrUnavailable, err)
	}
	installMu.Lock()
	defer installMu.Unlock()
	if bin, ok := findBin(ctx, dir, version); ok {
		return bin, nil
	}
	npm, err := exec.LookPath("npm")
	if err != nil {
		return "", fmt.Errorf("%w: npm not found: %w", ErrUnavailable, err)
	}
	if err := os.MkdirAll(filepath.Dir(dir), 0o755); err != nil {
		return "", fmt.Errorf("%w: %w", ErrUnavailable, err)
	}
	tmp, err := os.MkdirTemp(filepath.Dir(dir), filepath.Base(dir)+".tmp-")
	if err != nil {
		return "", fmt.Errorf("%w: %w", ErrUnavailable, err)
	}
	defer os.RemoveAll(tmp)
	ictx, cancel := context.WithTimeout(ctx, InstallTimeout)
	defer cancel()
	slog.InfoContext(ctx, "realclient: installing the Claude Code CLI", "package", Package, "version", version, "dir", dir)
	start := time.Now()
	cmd := exec.CommandContext(ictx, npm, "install", "--no-audit", "--no-fund", "--no-save", "--prefix", tmp, Package+"@"+version)
	cmd.Dir = tmp
	cmd.WaitDelay = 5 * time.Second
	out, err := cmd.CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("%w: npm install %s@%s: %w: %s", ErrUnavailable, Package, version, err, tail(out, 800))
	}
	if err := os.Rename(tmp, dir); err != nil && !exists(dir) {
		return "", fmt.Errorf("%w: %w", ErrUnavailable, err)
	} // else another process installed first; use its copy
	bin, ok := findBin(ctx, dir, version)
	if !ok {
		return "", fmt.Errorf("%w: npm installed %s@%s into %s but no working binary was found: %s", ErrUnavailable, Package, version, dir, tail(out, 800))
	}
	slog.InfoContext(ctx, "realclient: installed the Claude Code CLI", "bin", bin, "took", time.Since(start).Round(time.Millisecond))
	return bin, nil
}

// CacheDir is where Install keeps the CLI of the version: the user cache folder
// ($XDG_CACHE_HOME, else ~/.cache on Linux) + "/cowork-realclient/claude-code-VERSION".
// .ci/install-deps installs to the same place.
func CacheDir(version string) (string, error) {
	c, err := os.UserCacheDir()
	if err != nil {
		return "", fmt.Errorf("realclient: cache folder: %w", err)
	}
	return filepath.Join(c, "cowork-realclient", "claude-code-"+version), nil
}

// findBin returns the first candidate binary under dir that reports the version.
func findBin(ctx context.Context, dir, version string) (string, bool) {
	mods := filepath.Join(dir, "node_modules", "@anthropic-ai")
	cands := []string{
		filepath.Join(mods, "claude-code", "bin", "claude.exe"),
		// The platform package holds the same native binary; bin/claude.exe is only a copy of
		// it when the package's postinstall script ran.
		filepath.Join(mods, "claude-code-"+platform(), "claude"),
	}
	for _, c := range cands {
		if version == binVersion(ctx, c) {
			return c, true
		}
	}
	return "", false
}

// platform is the suffix of the CLI's platform package, e.g. "linux-x64".
func platform() string {
	arch := runtime.GOARCH
	if arch == "amd64" {
		arch = "x64"
	}
	osName := runtime.GOOS
	if osName == "windows" {
		osName = "win32"
	}
	return osName + "-" + arch
}

// binVersion runs `bin --version` and returns the version it prints, or "".
func binVersion(ctx context.Context, bin string) string {
	if fi, err := os.Stat(bin); err != nil || fi.IsDir() {
		return ""
	}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	home, err := os.MkdirTemp("", "cowork-realclient-home-")
	if err != nil {
		return ""
	}
	defer os.RemoveAll(home)
	cmd := exec.CommandContext(ctx, bin, "--version")
	cmd.Env = append(cleanEnv(), "DISABLE_AUTOUPDATER=1", "HOME="+home)
	cmd.WaitDelay = 2 * time.Second
	out, err := cmd.Output()
	if err != nil {
		return ""
	}
	v, _, _ := strings.Cut(strings.TrimSpace(string(out)), " ")
	return v
}

func exists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

// tail returns the last n bytes of b as a string, for error messages.
func tail(b []byte, n int) string {
	b = bytes.TrimSpace(b)
	if len(b) > n {
		b = b[len(b)-n:]
	}
	return string(b)
}
