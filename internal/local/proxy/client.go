package proxy

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/pyship/pyship/internal/rollout"
)

// Client drives a proxy process (RunProcess) over its control socket.
type Client struct {
	sock   string
	prefix string // an app's part of the shared edge's API: /v1/apps/NAME
	hc     *http.Client
}

// NewClient returns a client of the proxy process whose control socket is sock.
func NewClient(sock string) *Client {
	return &Client{sock: sock, hc: &http.Client{Transport: &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			return (&net.Dialer{}).DialContext(ctx, "unix", sock)
		},
		MaxIdleConnsPerHost: 4,
	}}}
}

// App returns a client of app's proxy inside the shared edge process (RunEdgeProcess) that c
// drives; its Shutdown removes the app from the edge.
func (c *Client) App(app string) *Client {
	return &Client{sock: c.sock, prefix: "/v1/apps/" + url.PathEscape(app), hc: c.hc}
}

// SetEdge serves the app of an App client on the edge with its host names and TLS.
func (c *Client) SetEdge(ctx context.Context, cfg EdgeApp) error {
	return c.do(ctx, "PUT", "/edge", cfg, nil)
}

// EdgeApps returns the apps a shared edge process serves.
func (c *Client) EdgeApps(ctx context.Context) ([]string, error) {
	var st struct {
		Apps []string `json:"apps"`
	}
	err := c.do(ctx, "GET", "/v1/state", nil, &st)
	return st.Apps, err
}

// State returns the process's routing table (and so whether it answers).
func (c *Client) State(ctx context.Context) (State, error) {
	var st State
	err := c.do(ctx, "GET", "/v1/state", nil, &st)
	return st, err
}

// Reconfigure replaces the process's options.
func (c *Client) Reconfigure(ctx context.Context, o ControlOptions) error {
	return c.do(ctx, "PUT", "/v1/options", o, nil)
}

// SetWeights replaces the traffic percentages of releases.
func (c *Client) SetWeights(ctx context.Context, w map[string]int) error {
	return c.do(ctx, "PUT", "/v1/weights", w, nil)
}

// AddBackend routes release's traffic to addr under the replica id.
func (c *Client) AddBackend(ctx context.Context, id, release, addr string) error {
	return c.do(ctx, "PUT", "/v1/backends/"+url.PathEscape(id), backendReq{Release: release, Addr: addr}, nil)
}

// RemoveBackend stops routing to id and returns once its in-flight requests are done (at most
// the drain timeout); it reports how many were still running.
func (c *Client) RemoveBackend(ctx context.Context, id string) (int64, error) {
	var out struct {
		Inflight int64 `json:"inflight"`
	}
	err := c.do(ctx, "DELETE", "/v1/backends/"+url.PathEscape(id), nil, &out)
	return out.Inflight, err
}

// Metrics returns the cumulative request metrics of release.
func (c *Client) Metrics(ctx context.Context, release string) (rollout.Metrics, error) {
	var m rollout.Metrics
	err := c.do(ctx, "GET", "/v1/metrics/"+url.PathEscape(release), nil, &m)
	return m, err
}

// WriteMetrics copies the process's Prometheus metrics, labelled with labels, to w.
func (c *Client) WriteMetrics(ctx context.Context, w io.Writer, labels string) error {
	return c.do(ctx, "GET", "/metrics?labels="+url.QueryEscape(labels), nil, w)
}

// Shutdown asks the process to stop accepting, drain and exit.
func (c *Client) Shutdown(ctx context.Context) error {
	return c.do(ctx, "POST", "/v1/shutdown", nil, nil)
}

func (c *Client) unreachable(err error) error {
	return fmt.Errorf("the proxy process does not answer on %s: %w", c.sock, err)
}

// do sends in as JSON and decodes the answer into out, or copies it when out is an io.Writer.
func (c *Client) do(ctx context.Context, method, path string, in, out any) error {
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
	}
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return err
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, "http://proxy"+c.prefix+path, body)
	if err != nil {
		return err
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return c.unreachable(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode >= 300 {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
		return fmt.Errorf("proxy process: %s", strings.TrimSpace(string(b)))
	}
	switch out := out.(type) {
	case nil:
		return nil
	case io.Writer:
		_, err = io.Copy(out, resp.Body)
		return err
	default:
		return json.NewDecoder(resp.Body).Decode(out)
	}
}
