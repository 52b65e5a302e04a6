package promql_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/pyship/pyship/internal/monitor/promql"
	"github.com/pyship/pyship/internal/testsvc"
)

// exporter serves a fixed Prometheus text exposition, scraped by the shared Prometheus.
func exporter(t *testing.T, body string) string {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; version=0.0.4")
		fmt.Fprint(w, body)
	}))
	t.Cleanup(srv.Close)
	return strings.TrimPrefix(srv.URL, "http://")
}

func TestQueriesAgainstTheRealPrometheus(t *testing.T) {
	addr := exporter(t, "# TYPE pyship_promql_test gauge\npyship_promql_test{release=\"a\"} 42\npyship_promql_test{release=\"b\"} 8\n")
	url, tc := testsvc.Scrape(t, addr)
	c, err := promql.New(url, nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	sel := fmt.Sprintf(`pyship_promql_test{testcase=%q`, tc)
	testsvc.Eventually(t, 30*time.Second, "the shared Prometheus to scrape the test's exporter", func() error {
		v, err := c.Value(ctx, sel+`,release="a"}`)
		if err != nil {
			return err
		}
		if v != 42 {
			return fmt.Errorf("value %v, want 42", v)
		}
		return nil
	})
	vec, err := c.Vector(ctx, sel+`}`)
	if err != nil || len(vec) != 2 || vec[0].Labels["release"] != "a" || vec[1].Value != 8 {
		t.Errorf("vector %+v %v, want the two releases in order", vec, err)
	}
	if v, err := c.Value(ctx, "sum("+sel+`}) / 10`); err != nil || v != 5 {
		t.Errorf("sum/10 = %v %v, want 5", v, err)
	}
	if v, err := c.Value(ctx, `scalar(`+sel+`,release="b"}) * 2`); err != nil || v != 16 {
		t.Errorf("a scalar result: %v %v, want 16", v, err)
	}

	for _, tc := range []struct {
		query string
		kind  error
		says  string
	}{
		{sel + `}`, promql.ErrBadQuery, "2 series"},
		{sel + `,release="none"}`, promql.ErrEmpty, "no data"},
		{"sum(" + sel + `,release="none"}) / sum(` + sel + `,release="none"})`, promql.ErrEmpty, "no data"},
		{"sum(rate(" + sel + `}[1m]`, promql.ErrBadQuery, "refused"},
		{sel + `}[1m]`, promql.ErrBadQuery, "matrix"},
		{sel + `} + on() ` + sel + `}`, promql.ErrBadQuery, "many-to-many matching not allowed"}, // 422, execution error
		{`0/0`, promql.ErrEmpty, "no data"},
	} {
		_, err := c.Value(ctx, tc.query)
		if !errors.Is(err, tc.kind) || !strings.Contains(err.Error(), tc.says) {
			t.Errorf("%s: %v, want %v saying %q", tc.query, err, tc.kind, tc.says)
		}
	}
}

func TestUnreachablePrometheus(t *testing.T) {
	// A port nothing listens on.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := "http://" + l.Addr().String()
	l.Close()
	// A server that is not Prometheus, and one that never answers within the deadline.
	notProm := httptest.NewServer(http.NotFoundHandler())
	defer notProm.Close()
	hang := make(chan struct{})
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-hang:
		case <-r.Context().Done():
		}
	}))
	defer slow.Close()
	defer close(hang)
	broken := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "overloaded", http.StatusServiceUnavailable)
	}))
	defer broken.Close()

	for _, tc := range []struct{ url, says string }{
		{closed, "connection refused"},
		{notProm.URL, "not the Prometheus API"},
		{slow.URL, "deadline exceeded"},
		{broken.URL, "server_error"},
	} {
		c, err := promql.New(tc.url, nil)
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
		_, err = c.Value(ctx, "up")
		cancel()
		var u interface{ Unreachable() bool }
		if !errors.Is(err, promql.ErrUnreachable) || !errors.As(err, &u) || !u.Unreachable() || !strings.Contains(err.Error(), tc.says) {
			t.Errorf("%s: %v, want unreachable saying %q", tc.url, err, tc.says)
		}
	}
	if _, err := promql.New("prometheus:9090", nil); err == nil || !strings.Contains(err.Error(), "http(s)://") {
		t.Errorf("a URL without a scheme: %v", err)
	}
}
