package image

import (
	"context"
	"net/url"
	"os/exec"
	"strconv"
	"strings"
	"time"
)

// vcsInfo is what git says about the project: the commit, its time and the remote.
type vcsInfo struct {
	Revision string
	Source   string
	Time     time.Time
}

// readVCS asks git about dir; outside a repository (or without git) it is empty, with the
// Unix epoch as time.
func readVCS(ctx context.Context, dir string) vcsInfo {
	info := vcsInfo{Time: time.Unix(0, 0).UTC()}
	out, err := exec.CommandContext(ctx, "git", "-C", dir, "log", "-1", "--format=%H %ct").Output()
	if err != nil {
		return info
	}
	rev, ts, ok := strings.Cut(strings.TrimSpace(string(out)), " ")
	if !ok {
		return info
	}
	info.Revision = rev
	if sec, err := strconv.ParseInt(ts, 10, 64); err == nil {
		info.Time = time.Unix(sec, 0).UTC()
	}
	if out, err := exec.CommandContext(ctx, "git", "-C", dir, "config", "--get", "remote.origin.url").Output(); err == nil {
		info.Source = stripUserinfo(strings.TrimSpace(string(out)))
	}
	return info
}

// stripUserinfo removes credentials from a remote URL.
func stripUserinfo(s string) string {
	u, err := url.Parse(s)
	if err != nil || u.User == nil {
		return s
	}
	u.User = nil
	return u.String()
}
