package kube

import (
	"context"
	"fmt"
	"io"
	"sort"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// LogsOptions select the log lines Logs copies.
type LogsOptions struct {
	// Release whose pods to read ("" for the active release).
	Release string
	// Tail is the number of last lines per pod (0 for all).
	Tail int64
	// Follow streams new lines until ctx ends (first pod only).
	Follow bool
}

// Logs copies the app container's log of each pod of a release to w, each line prefixed by the pod.
func (c *Client) Logs(ctx context.Context, app string, w io.Writer, o LogsOptions) error {
	rel := o.Release
	if rel == "" {
		st, err := c.ReadState(ctx, app)
		if err != nil {
			return err
		}
		rel = st.Active
	}
	if rel == "" {
		return fmt.Errorf("logs: %s has no active release in namespace %s; deploy it first", app, c.Namespace)
	}
	pods, err := c.Core.CoreV1().Pods(c.Namespace).List(ctx, metav1.ListOptions{LabelSelector: releaseSelector(app, rel)})
	if err != nil {
		return fmt.Errorf("logs: listing the pods of %s: %w", app, err)
	}
	sort.Slice(pods.Items, func(i, j int) bool { return pods.Items[i].Name < pods.Items[j].Name })
	for _, p := range pods.Items {
		po := &corev1.PodLogOptions{Container: "app", Follow: o.Follow}
		if o.Tail > 0 {
			po.TailLines = &o.Tail
		}
		rc, err := c.Core.CoreV1().Pods(c.Namespace).GetLogs(p.Name, po).Stream(ctx)
		if err != nil {
			return fmt.Errorf("logs of pod %s: %w", p.Name, err)
		}
		_, err = io.Copy(&prefixWriter{w: w, prefix: "[" + p.Name + "] ", bol: true}, rc)
		rc.Close()
		if err != nil {
			return fmt.Errorf("logs of pod %s: %w", p.Name, err)
		}
		if o.Follow {
			return nil
		}
	}
	return nil
}

// prefixWriter writes prefix at the start of every line.
type prefixWriter struct {
	w      io.Writer
	prefix string
	bol    bool
}

func (p *prefixWriter) Write(b []byte) (int, error) {
	for i, c := range b {
		if p.bol {
			if _, err := io.WriteString(p.w, p.prefix); err != nil {
				return i, err
			}
			p.bol = false
		}
		if _, err := p.w.Write([]byte{c}); err != nil {
			return i, err
		}
		p.bol = c == '\n'
	}
	return len(b), nil
}
