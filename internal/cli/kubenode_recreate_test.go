package cli

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// TestRealPodsRecreateKeepsReadWriteOnceData deploys the stdlib example with one replica, the
// recreate strategy and its data folder on a ReadWriteOnce claim of the node's provisioner:
// plan says nothing about the volume, the second deploy completes (the old pod is gone before
// the new one mounts the claim), and v2 goes on counting from the visits v1 wrote.
func TestRealPodsRecreateKeepsReadWriteOnceData(t *testing.T) {
	t.Parallel()
	_, c, reg := realPods(t, "real-recreate")
	spec := strings.Replace(realSpec("recreate"), "replicas = 2", "replicas = 1", 1)
	app := realProject(t, c, reg, strings.ReplaceAll(spec, "@V@", "v1"))
	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Minute)
	defer cancel()
	code, _, errs := app.pyship(ctx, nil, "deploy")
	if code != ExitOK {
		t.Fatalf("first deploy: exit %d\n%s", code, errs)
	}
	if strings.Contains(errs, "ReadWriteOnce") {
		t.Errorf("one replica with recreate is warned about its ReadWriteOnce volume:\n%s", errs)
	}
	url := serviceURL(ctx, t, c, "shop")
	waitServed(ctx, t, url, `"v1"`)
	var before int
	for range 3 {
		before = visit(t, url, "v1")
	}
	pvcs, err := c.Core.CoreV1().PersistentVolumeClaims(c.Namespace).List(ctx, metav1.ListOptions{})
	if err != nil || len(pvcs.Items) != 1 || !slices.Contains(pvcs.Items[0].Spec.AccessModes, corev1.ReadWriteOnce) {
		t.Fatalf("want one ReadWriteOnce claim: %v %+v", err, pvcs)
	}

	app.writeSpec(strings.ReplaceAll(spec, "@V@", "v2"))
	start := time.Now()
	code, _, errs = app.pyship(ctx, nil, "deploy")
	if code != ExitOK {
		t.Fatalf("second deploy: exit %d\n%s", code, errs)
	}
	t.Logf("the recreate deploy took %s", time.Since(start).Round(time.Millisecond))
	waitServed(ctx, t, url, `"v2"`)
	if after := visit(t, url, "v2"); after <= before {
		t.Errorf("v2 counts %d visits after v1's %d: it did not read the data v1 wrote", after, before)
	}
	if pods := waitOnlyActive(ctx, t, c, "shop"); len(pods) != 1 {
		t.Errorf("%d pods after the deploy, want 1", len(pods))
	}
}

// visit asks the stdlib example for its page and returns its visit count, which must come
// from version.
func visit(t *testing.T, url, version string) int {
	t.Helper()
	resp, err := (&http.Client{Timeout: 5 * time.Second}).Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var page struct {
		Version string `json:"version"`
		Visits  int    `json:"visits"`
	}
	if err := json.Unmarshal(b, &page); err != nil || resp.StatusCode != http.StatusOK || page.Version != version {
		t.Fatalf("GET %s: %d %s (%v), want version %s", url, resp.StatusCode, b, err, version)
	}
	return page.Visits
}
