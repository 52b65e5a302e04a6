package promql

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"time"

	"github.com/prometheus/client_golang/api"
	v1 "github.com/prometheus/client_golang/api/prometheus/v1"
	"github.com/prometheus/common/model"
)

// The kinds of query failure callers branch on (errors.Is).
var (
	// ErrUnreachable: no answer from Prometheus: connection refused, timeout, a 5xx, or a URL
	// that does not serve the Prometheus API.
	ErrUnreachable = errors.New("prometheus unreachable")
	// ErrBadQuery: Prometheus refused the query (HTTP 400 bad_data, 422 execution error), or
	// its result has a shape the caller cannot use (a matrix, several series for one value).
	ErrBadQuery = errors.New("bad query")
	// ErrEmpty: the query ran but selected nothing (an empty vector, or NaN).
	ErrEmpty = errors.New("empty result")
)

// Error is a failed query: which kind (one of the Err* sentinels), where and what.
type Error struct {
	Kind  error
	URL   string
	Query string
	Err   error
}

func (e *Error) Error() string {
	switch e.Kind {
	case ErrUnreachable:
		return fmt.Sprintf("prometheus at %s did not answer: %v", e.URL, e.Err)
	case ErrEmpty:
		return fmt.Sprintf("%s gave no data at %s", e.Query, e.URL)
	}
	return fmt.Sprintf("prometheus at %s refused %s: %v", e.URL, e.Query, e.Err)
}

// Unwrap gives the kind and the cause.
func (e *Error) Unwrap() []error { return []error{e.Kind, e.Err} }

// Unreachable reports whether Prometheus gave no answer; Empty whether it answered with no
// data. Callers that must not import this package test these with errors.As on an interface.
func (e *Error) Unreachable() bool { return e.Kind == ErrUnreachable }

// Empty reports whether the query selected nothing.
func (e *Error) Empty() bool { return e.Kind == ErrEmpty }

// Sample is one series of an instant vector.
type Sample struct {
	Labels map[string]string
	Value  float64
}

// Client asks one Prometheus server instant queries.
type Client struct {
	url string
	api v1.API
}

// Timeout bounds one query (a shorter deadline of the context wins): a Prometheus that hangs
// costs a canary step this long, then counts as unreachable.
const Timeout = 10 * time.Second

// New returns a client of the Prometheus at base (e.g. http://prometheus.monitoring:9090);
// hc is the HTTP client (http.DefaultClient's transport when nil).
func New(base string, hc *http.Client) (*Client, error) {
	u, err := url.Parse(base)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("prometheus URL %q: want http(s)://HOST[:PORT][/PATH]", base)
	}
	cfg := api.Config{Address: strings.TrimSuffix(base, "/")}
	if hc != nil {
		cfg.Client = hc
	}
	c, err := api.NewClient(cfg)
	if err != nil {
		return nil, fmt.Errorf("prometheus URL %q: %w", base, err)
	}
	return &Client{url: cfg.Address, api: v1.NewAPI(c)}, nil
}

// URL is the server's address.
func (c *Client) URL() string { return c.url }

// Vector runs an instant query that must give an instant vector (a scalar counts as one
// sample without labels), sorted by labels. An empty vector is not an error here.
func (c *Client) Vector(ctx context.Context, query string) ([]Sample, error) {
	ctx, cancel := context.WithTimeout(ctx, Timeout)
	defer cancel()
	val, _, err := c.api.Query(ctx, query, time.Now())
	if err != nil {
		return nil, c.classify(query, err)
	}
	switch v := val.(type) {
	case model.Vector:
		sort.Slice(v, func(i, j int) bool { return v[i].Metric.String() < v[j].Metric.String() })
		out := make([]Sample, 0, len(v))
		for _, s := range v {
			ls := make(map[string]string, len(s.Metric))
			for k, x := range s.Metric {
				ls[string(k)] = string(x)
			}
			out = append(out, Sample{Labels: ls, Value: float64(s.Value)})
		}
		return out, nil
	case *model.Scalar:
		return []Sample{{Labels: map[string]string{}, Value: float64(v.Value)}}, nil
	}
	return nil, &Error{Kind: ErrBadQuery, URL: c.url, Query: query, Err: fmt.Errorf("it gives a %s; want an instant vector or a scalar", val.Type())}
}

// Value runs a query that must give one number: a scalar, or a vector of exactly one
// sample. No sample, or NaN (e.g. 0/0 when nothing was counted), is ErrEmpty.
func (c *Client) Value(ctx context.Context, query string) (float64, error) {
	v, err := c.Vector(ctx, query)
	if err != nil {
		return 0, err
	}
	switch {
	case len(v) == 0:
		return 0, &Error{Kind: ErrEmpty, URL: c.url, Query: query}
	case len(v) > 1:
		return 0, &Error{Kind: ErrBadQuery, URL: c.url, Query: query,
			Err: fmt.Errorf("it gives %d series, want one: aggregate it, e.g. sum(...)", len(v))}
	case math.IsNaN(v[0].Value):
		return 0, &Error{Kind: ErrEmpty, URL: c.url, Query: query}
	}
	return v[0].Value, nil
}

// classify sorts the API client's errors into the kinds callers branch on.
func (c *Client) classify(query string, err error) error {
	var apiErr *v1.Error
	if errors.As(err, &apiErr) {
		switch apiErr.Type {
		case v1.ErrBadData, v1.ErrExec:
			return &Error{Kind: ErrBadQuery, URL: c.url, Query: query, Err: errors.New(apiErr.Msg)}
		case v1.ErrClient:
			if strings.Contains(apiErr.Msg, "404") {
				return &Error{Kind: ErrUnreachable, URL: c.url, Query: query, Err: fmt.Errorf("%s: not the Prometheus API (is the URL the server's base URL?)", apiErr.Msg)}
			}
			return &Error{Kind: ErrBadQuery, URL: c.url, Query: query, Err: errors.New(apiErr.Msg)}
		case v1.ErrBadResponse:
			return &Error{Kind: ErrUnreachable, URL: c.url, Query: query, Err: fmt.Errorf("%s: not the Prometheus API (is the URL the server's base URL?)", apiErr.Msg)}
		}
		return &Error{Kind: ErrUnreachable, URL: c.url, Query: query, Err: fmt.Errorf("%s: %s", apiErr.Type, apiErr.Msg)}
	}
	return &Error{Kind: ErrUnreachable, URL: c.url, Query: query, Err: err}
}
