package collector

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// keyFile is the pseudonym key's file in the data directory.
const keyFile = "pseudonym.key"

// loadKey returns the data directory's HMAC key for redaction pseudonyms and its id, creating
// the key (32 random bytes, hex, mode 0600) on first use, so that a user keeps the same
// pseudonym across restarts. The id is the first 6 hex digits of the key's SHA-256, written
// into every pseudonym so that a new key is visible.
func loadKey(dir string) (id string, key []byte, err error) {
	path := filepath.Join(dir, keyFile)
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		key = make([]byte, 32)
		if _, err := rand.Read(key); err != nil {
			return "", nil, err
		}
		tmp := path + ".tmp"
		if err := os.WriteFile(tmp, []byte(hex.EncodeToString(key)+"\n"), 0o600); err != nil {
			return "", nil, fmt.Errorf("collector: write pseudonym key: %w", err)
		}
		if err := os.Rename(tmp, path); err != nil {
			return "", nil, fmt.Errorf("collector: write pseudonym key: %w", err)
		}
	} else if err != nil {
		return "", nil, fmt.Errorf("collector: read pseudonym key: %w", err)
	} else if key, err = hex.DecodeString(strings.TrimSpace(string(b))); err != nil || len(key) < 32 {
		return "", nil, fmt.Errorf("collector: %s is not a 32-byte hex key", path)
	}
	sum := sha256.Sum256(key)
	return hex.EncodeToString(sum[:3]), key, nil
}
