package main

import (
	"bytes"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The expected lines are what shared/realclient/mcp_crm.py prints for the same input.
func TestServe(t *testing.T) {
	in := strings.Join([]string{
		`{"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{}}}`,
		`{"jsonrpc":"2.0","method":"notifications/initialized"}`,
		`not json`,
		`{"jsonrpc":"2.0","id":1,"method":"tools/list","params":{}}`,
		`{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"lookup_account","arguments":{"account":"Globex"}}}`,
		`{"jsonrpc":"2.0","id":"x","method":"tools/call","params":{"name":"lookup_account","arguments":{}}}`,
		`{"jsonrpc":"2.0","id":3,"method":"resources/list"}`,
	}, "\n")
	var out bytes.Buffer
	require.NoError(t, serve(strings.NewReader(in), &out))
	want := []string{
		`{"jsonrpc": "2.0", "id": 0, "result": {"protocolVersion": "2025-06-18", "capabilities": {"tools": {}}, "serverInfo": {"name": "crm", "version": "1.0.0"}}}`,
		`{"jsonrpc": "2.0", "id": 1, "result": {"tools": [{"name": "lookup_account", "description": "Look up a CRM account", "inputSchema": {"type": "object", "properties": {"account": {"type": "string"}, "owner_email": {"type": "string"}}, "required": ["account"]}}]}}`,
		`{"jsonrpc": "2.0", "id": 2, "result": {"content": [{"type": "text", "text": "Account Globex: ARR $1.2M, owner jane@acme.example"}]}}`,
		`{"jsonrpc": "2.0", "id": "x", "result": {"content": [{"type": "text", "text": "Account None: ARR $1.2M, owner jane@acme.example"}]}}`,
		`{"jsonrpc": "2.0", "id": 3, "result": {}}`,
	}
	assert.Equal(t, strings.Join(want, "\n")+"\n", out.String())
}
