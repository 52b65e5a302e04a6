package agent

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"time"

	"github.com/pyship/pyship/internal/daemon"
)

// Client talks to the agent of a state root over its unix socket.
type Client struct {
	home string
	hc   *http.Client
}

// NewClient returns a client for the agent of home (it does not connect yet).
func NewClient(home string) *Client {
	sock := SocketPath(home)
	return &Client{home: home, hc: &http.Client{Transport: &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			return (&net.Dialer{}).DialContext(ctx, "unix", sock)
		},
	}}}
}

// ErrNoAgent means no agent answers on the socket.
var ErrNoAgent = errors.New("no pyship agent is running")

// Ping checks that the agent answers.
func (c *Client) Ping(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	var out map[string]any
	if err := c.do(ctx, "GET", "/v1/ping", nil, &out); err != nil {
		return fmt.Errorf("%w (nothing answers on %s)", ErrNoAgent, SocketPath(c.home))
	}
	return nil
}

// EnsureAgent starts `exe agent --home HOME extra...` in the background, with env as its
// environment (nil: this process's), when no agent answers, and waits until it does. The
// agent's log goes to HOME/agent.log.
func (c *Client) EnsureAgent(ctx context.Context, exe string, env []string, extra ...string) (started bool, err error) {
	if c.Ping(ctx) == nil {
		return false, nil
	}
	if err := os.MkdirAll(c.home, 0o755); err != nil {
		return false, err
	}
	err = daemon.Start(ctx, "the pyship agent", exe, append([]string{"agent", "--home", c.home}, extra...), env,
		filepath.Join(c.home, "agent.log"), func(ctx context.Context) bool { return c.Ping(ctx) == nil })
	return err == nil, err
}

// Deploy asks the agent to roll out a release and calls onEvent for each progress event; it
// returns the final event.
func (c *Client) Deploy(ctx context.Context, req DeployRequest, onEvent func(Event)) (Event, error) {
	body, _ := json.Marshal(req)
	hreq, err := http.NewRequestWithContext(ctx, "POST", "http://agent/v1/deploy", bytes.NewReader(body))
	if err != nil {
		return Event{}, err
	}
	resp, err := c.hc.Do(hreq)
	if err != nil {
		return Event{}, fmt.Errorf("%w: %v", ErrNoAgent, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		return Event{}, readError(resp)
	}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		var e Event
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			return Event{}, fmt.Errorf("reading the agent's answer: %w", err)
		}
		if e.Final != nil || e.Error != "" {
			if e.Error != "" {
				return e, errors.New(e.Error)
			}
			return e, nil
		}
		onEvent(e)
	}
	if err := sc.Err(); err != nil {
		return Event{}, fmt.Errorf("the agent connection broke during the deploy: %w", err)
	}
	return Event{}, errors.New("the agent ended the deploy without a result; see its log (agent.log in the pyship home)")
}

// MonitorRunning is the monitoring stack the agent runs: its settings and the status page
// showing its alerts.
type MonitorRunning struct {
	MonitorConfig
	StatusPage string `json:"statusPage"`
}

// MonitorUp has the agent run Prometheus and Alertmanager with cfg, and returns the settings
// it runs them with once both are ready.
func (c *Client) MonitorUp(ctx context.Context, cfg MonitorConfig) (MonitorRunning, error) {
	var out MonitorRunning
	err := c.do(ctx, "POST", "/v1/monitor/up", cfg, &out)
	return out, err
}

// MonitorDown stops the Prometheus and Alertmanager the agent runs; it says whether they ran.
func (c *Client) MonitorDown(ctx context.Context) (bool, error) {
	var out map[string]bool
	err := c.do(ctx, "POST", "/v1/monitor/down", nil, &out)
	return out["stopped"], err
}

// Status returns the status of app ("" for every app).
func (c *Client) Status(ctx context.Context, app string) ([]AppStatus, error) {
	var out []AppStatus
	err := c.do(ctx, "GET", "/v1/status?app="+url.QueryEscape(app), nil, &out)
	return out, err
}

// Act runs promote, abort, stop or destroy on app and returns the agent's message.
func (c *Client) Act(ctx context.Context, app, verb string) (string, error) {
	var out map[string]string
	err := c.do(ctx, "POST", "/v1/apps/"+url.PathEscape(app)+"/"+verb, nil, &out)
	return out["message"], err
}

// Logs copies the logs of app's release (the current one when "") to w, following them
// when follow is set until ctx ends.
func (c *Client) Logs(ctx context.Context, app, rel string, follow bool, w io.Writer) error {
	q := url.Values{"release": {rel}}
	if follow {
		q.Set("follow", "1")
	}
	req, err := http.NewRequestWithContext(ctx, "GET", "http://agent/v1/apps/"+url.PathEscape(app)+"/logs?"+q.Encode(), nil)
	if err != nil {
		return err
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return fmt.Errorf("%w: %v", ErrNoAgent, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		return readError(resp)
	}
	_, err = io.Copy(w, resp.Body)
	if ctx.Err() != nil {
		return nil
	}
	return err
}

func (c *Client) do(ctx context.Context, method, path string, in, out any) error {
	var body io.Reader
	if in != nil {
		b, _ := json.Marshal(in)
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, "http://agent"+path, body)
	if err != nil {
		return err
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return fmt.Errorf("%w: %v", ErrNoAgent, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		return readError(resp)
	}
	return json.NewDecoder(resp.Body).Decode(out)
}

func readError(resp *http.Response) error {
	var e struct{ Error string }
	b, _ := io.ReadAll(resp.Body)
	if json.Unmarshal(b, &e) == nil && e.Error != "" {
		return errors.New(e.Error)
	}
	return fmt.Errorf("the agent answered %s: %s", resp.Status, bytes.TrimSpace(b))
}
