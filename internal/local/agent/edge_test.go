package agent

import (
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/pyship/pyship/internal/local/release"
	"github.com/pyship/pyship/internal/plan"
)

// TestProxyAccessFromEdge: [edge] reaches the proxy's options, the basic-auth users from the
// secrets file; a missing variable fails with a message naming it and leaves the app closed.
func TestProxyAccessFromEdge(t *testing.T) {
	secrets, hash := usersSecrets(t)
	m := &release.Manifest{SecretsFile: secrets, Plan: plan.Plan{Edge: &plan.Edge{
		Hosts: []string{"shop.example"}, Allow: []string{"10.0.0.0/8"}, BasicAuth: "USERS", RateLimit: 20}}}
	o, err := proxyOptions(m)
	if err != nil {
		t.Fatal(err)
	}
	a := o.Access
	if a.Closed || a.Users["alice"] != string(hash) || a.RateLimit != 20 || a.Hosts[0] != "shop.example" || a.Allow[0] != "10.0.0.0/8" {
		t.Errorf("access = %+v", a)
	}
	m.Plan.Edge.BasicAuth = "MISSING"
	o, err = proxyOptions(m)
	if err == nil || !strings.Contains(err.Error(), "MISSING") || strings.Contains(err.Error(), string(hash)) {
		t.Errorf("a missing variable: %v", err)
	}
	if !o.Access.Closed {
		t.Error("the app is left open when its users cannot be read")
	}
}

// TestEdgeAccessThroughTheAgent: a deploy's [edge] rules hold on the app's port, and still
// hold after the agent restarts and gives the running proxy process its options again.
func TestEdgeAccessThroughTheAgent(t *testing.T) {
	secrets, _ := usersSecrets(t)
	home := newHome(t)
	edgePorts := sharedEdgePorts(t)
	c, _, stop := runAgent(t, home, edgePorts)
	pub := port(t)
	// An app that names hosts is served on the shared edge's HTTP port.
	url := fmt.Sprintf("http://127.0.0.1:%d/", sharedHTTPPort(t, edgePorts))
	p := stdlibPlan(stdlibApp(t, ""), "v1", "rolling", pub)
	p.Deploy.Replicas = 1
	p.SecretsFile = secrets
	p.Edge = &plan.Edge{Hosts: []string{"shop.example"}, BasicAuth: "USERS"}
	deploy(t, c, build(t, home, p))
	check := func(when string) {
		t.Helper()
		for _, tc := range []struct {
			host, user string
			want       int
		}{{"shop.example", "", 401}, {"shop.example", "alice", 200}, {"other.example", "alice", 404}} {
			req, _ := http.NewRequest("GET", url, nil)
			req.Host = tc.host
			if tc.user != "" {
				req.SetBasicAuth(tc.user, "pw")
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatalf("%s: %v", when, err)
			}
			resp.Body.Close()
			if resp.StatusCode != tc.want {
				t.Errorf("%s: Host %s user %q got %d, want %d", when, tc.host, tc.user, resp.StatusCode, tc.want)
			}
		}
	}
	check("after the deploy")

	stop()
	c = startAgent(t, home, edgePorts)
	// The new agent adopts the running proxy process and configures it before anything else.
	deadline := time.Now().Add(20 * time.Second)
	for {
		if st, err := c.Status(t.Context(), "stdapp"); err == nil && len(st) == 1 && len(st[0].Releases) > 0 && st[0].Releases[0].Weight == 100 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the restarted agent did not take the app back")
		}
		time.Sleep(50 * time.Millisecond)
	}
	check("after the agent's restart")
}

// usersSecrets writes a secrets file whose USERS holds alice with the password "pw".
func usersSecrets(t *testing.T) (file string, hash []byte) {
	t.Helper()
	hash, err := bcrypt.GenerateFromPassword([]byte("pw"), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	file = filepath.Join(t.TempDir(), "secrets.env")
	if err := os.WriteFile(file, []byte("USERS=alice:"+string(hash)+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return file, hash
}

// TestEdgeAppFromPlan: a release naming hosts goes to the shared edge with its TLS settings
// (~/ expanded for the agent's user); one without hosts keeps its own port.
func TestEdgeAppFromPlan(t *testing.T) {
	m := &release.Manifest{Plan: plan.Plan{Edge: &plan.Edge{Hosts: []string{"shop.example"}, TLS: "files",
		CertFile: "~/certs/shop.pem", KeyFile: "/etc/shop.key", HSTS: 60}}}
	home, err := os.UserHomeDir()
	if err != nil {
		t.Fatal(err)
	}
	e := edgeApp(m)
	if e == nil || e.Hosts[0] != "shop.example" || e.TLS != "files" || e.CertFile != filepath.Join(home, "certs/shop.pem") || e.KeyFile != "/etc/shop.key" || e.HSTS != 60 {
		t.Errorf("edge app = %+v", e)
	}
	m.Plan.Edge.Hosts = nil
	if e := edgeApp(m); e != nil {
		t.Errorf("a release without hosts goes to the shared edge: %+v", e)
	}
	if e := edgeApp(nil); e != nil {
		t.Errorf("no release: %+v", e)
	}
}
