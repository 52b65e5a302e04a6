package agent

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/crypto/bcrypt"

	"github.com/pyship/pyship/internal/local/release"
	"github.com/pyship/pyship/internal/plan"
)

// TestProxyAccessFromEdge: [edge] reaches the proxy's options, the basic-auth users from the
// secrets file; a missing variable fails with a message naming it and leaves the app closed.
func TestProxyAccessFromEdge(t *testing.T) {
	hash, err := bcrypt.GenerateFromPassword([]byte("pw"), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	secrets := filepath.Join(t.TempDir(), "secrets.env")
	if err := os.WriteFile(secrets, []byte("USERS=alice:"+string(hash)+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
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
