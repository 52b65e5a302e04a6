package gitops

import (
	"fmt"
	"os"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/pyship/pyship/internal/local/agent"
	"github.com/pyship/pyship/internal/local/release"
)

// LocalDrift compares what runs on this machine for an app with its recorded release (the
// stable release's manifest): the number of its replicas against the recorded replicas, each
// replica's environment against the recorded env, and pyship-marked processes of this state
// folder (marked: pid → replica id) of this app that the agent does not know; the replicas of
// the state folder's other apps are theirs, not strangers. environ reads a process's
// environment.
func LocalDrift(st agent.AppStatus, m *release.Manifest, marked map[int]string, environ func(pid int) (map[string]string, error)) ([]Drift, error) {
	var out []Drift
	known := map[int]bool{}
	var stable []int
	for _, r := range st.Releases {
		for _, rep := range r.Replicas {
			known[rep.PID] = true
			if r.ID == st.Stable && rep.PID > 0 {
				stable = append(stable, rep.PID)
			}
		}
	}
	var fields []string
	want := m.Plan.Deploy.Replicas
	if want < 1 {
		want = 1
	}
	if len(stable) != want {
		fields = append(fields, fmt.Sprintf("replicas: recorded %d, running %d", want, len(stable)))
	}
	keys := make([]string, 0, len(m.Env))
	for k := range m.Env {
		if k != "PORT" { // each replica gets its own port behind the proxy
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	sort.Ints(stable)
	for _, pid := range stable {
		env, err := environ(pid)
		if err != nil {
			continue // the process ended meanwhile
		}
		for _, k := range keys {
			if v, ok := env[k]; !ok || v != m.Env[k] {
				fields = append(fields, fmt.Sprintf("env %s of pid %d: recorded %q, running %q", k, pid, m.Env[k], v))
			}
		}
	}
	if len(fields) > 0 {
		out = append(out, Drift{Kind: "Release", Name: m.ID, Manager: "outside pyship's record", Fields: fields})
	}
	pids := make([]int, 0, len(marked))
	for pid := range marked {
		pids = append(pids, pid)
	}
	sort.Ints(pids)
	for _, pid := range pids {
		if app := replicaApp(marked[pid]); !known[pid] && (app == "" || app == st.App) {
			out = append(out, Drift{Kind: "Process", Name: strconv.Itoa(pid), Manager: "outside the agent", Fields: []string{"replica " + marked[pid] + " of this state folder, unknown to the agent"}})
		}
	}
	return out, nil
}

// replicaID is a replica's ID as the agent makes it: APP-RELEASE-N (release rN).
var replicaID = regexp.MustCompile(`^(.+)-r[0-9]+-[0-9]+$`)

// replicaApp is the app of the replica id, "" when id is not a replica's ID (a stranger of
// no app).
func replicaApp(id string) string {
	if m := replicaID.FindStringSubmatch(id); m != nil {
		return m[1]
	}
	return ""
}

// ProcEnviron reads the environment of the process pid from /proc.
func ProcEnviron(pid int) (map[string]string, error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/environ")
	if err != nil {
		return nil, err
	}
	env := map[string]string{}
	for _, kv := range strings.Split(string(b), "\x00") {
		if k, v, ok := strings.Cut(kv, "="); ok {
			env[k] = v
		}
	}
	return env, nil
}
