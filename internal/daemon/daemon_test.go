package daemon

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// A started process gets the environment it is given (the CLI's, not this process's), or
// this process's when none is.
func TestStartGivesTheEnvironment(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name string
		env  []string
		want string
	}{
		{"given", []string{"PYSHIP_MARK=from-the-cli", "HOME=/nowhere"}, "mark=from-the-cli home=/nowhere"},
		{"inherited", nil, "mark= home=" + os.Getenv("HOME")},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			logPath := filepath.Join(t.TempDir(), "child.log")
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			// The child prints what it sees and stays up a moment, as a daemon would.
			err := Start(ctx, "the test child", "/bin/sh", []string{"-c", `echo "mark=$PYSHIP_MARK home=$HOME"; exec sleep 2`}, tt.env, logPath,
				func(context.Context) bool {
					b, _ := os.ReadFile(logPath)
					return strings.Contains(string(b), "\n") // a full line is written
				})
			if err != nil {
				t.Fatal(err)
			}
			b, _ := os.ReadFile(logPath)
			if got := strings.TrimSpace(string(b)); got != tt.want {
				t.Errorf("the child saw %q, want %q", got, tt.want)
			}
		})
	}
}
