package realclient

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sync"
)

var mcpBuild struct {
	sync.Mutex
	bin string
}

// MCPServer returns the path of the crm stdio MCP server (package mcpcrm), building it with
// `go build` into a temporary folder on first use and reusing that binary for the rest of the
// process. It needs the go command and this package's source, which tests have.
func MCPServer(ctx context.Context) (string, error) {
	mcpBuild.Lock()
	defer mcpBuild.Unlock()
	if mcpBuild.bin != "" {
		return mcpBuild.bin, nil
	}
	_, self, _, ok := runtime.Caller(0)
	if !ok {
		return "", fmt.Errorf("realclient: build mcpcrm: cannot locate the package source")
	}
	gocmd, err := exec.LookPath("go")
	if err != nil {
		gocmd = filepath.Join(runtime.GOROOT(), "bin", "go")
	}
	dir, err := os.MkdirTemp("", "cowork-realclient-mcpcrm-")
	if err != nil {
		return "", fmt.Errorf("realclient: build mcpcrm: %w", err)
	}
	bin := filepath.Join(dir, "mcpcrm")
	if runtime.GOOS == "windows" {
		bin += ".exe"
	}
	cmd := exec.CommandContext(ctx, gocmd, "build", "-o", bin, "./mcpcrm")
	cmd.Dir = filepath.Dir(self)
	if out, err := cmd.CombinedOutput(); err != nil {
		os.RemoveAll(dir)
		return "", fmt.Errorf("realclient: build mcpcrm: %w: %s", err, tail(out, 800))
	}
	mcpBuild.bin = bin
	return bin, nil
}
