package kube

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
)

// Diagnose explains why the pods matching selector are not ready: scheduling failures, image
// pull errors, crash loops (with the last log lines), failing probes and warning events.
func (c *Client) Diagnose(ctx context.Context, selector string) []string {
	pods, err := c.Core.CoreV1().Pods(c.Namespace).List(ctx, metav1.ListOptions{LabelSelector: selector})
	if err != nil {
		return []string{fmt.Sprintf("listing pods (%s): %v", selector, err)}
	}
	if len(pods.Items) == 0 {
		if out := c.replicaSetFailures(ctx, selector); len(out) > 0 {
			return out
		}
		return []string{fmt.Sprintf("no pods match %s and their ReplicaSets report no failure yet", selector)}
	}
	sort.Slice(pods.Items, func(i, j int) bool { return pods.Items[i].Name < pods.Items[j].Name })
	var out []string
	seen := map[string]bool{}
	add := func(s string) {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	for i := range pods.Items {
		p := &pods.Items[i]
		if podReady(p) {
			continue
		}
		for _, d := range c.diagnosePod(ctx, p) {
			add(d)
		}
		if len(out) > 12 {
			break
		}
	}
	return out
}

func podReady(p *corev1.Pod) bool {
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

func (c *Client) diagnosePod(ctx context.Context, p *corev1.Pod) []string {
	var out []string
	for _, cond := range p.Status.Conditions {
		if cond.Type == corev1.PodScheduled && cond.Status == corev1.ConditionFalse {
			out = append(out, fmt.Sprintf("pod %s unschedulable: %s", p.Name, cond.Message))
		}
	}
	for _, cs := range containerStatuses(p) {
		switch {
		case cs.State.Waiting != nil && (cs.State.Waiting.Reason == "ImagePullBackOff" || cs.State.Waiting.Reason == "ErrImagePull" || cs.State.Waiting.Reason == "InvalidImageName"):
			out = append(out, fmt.Sprintf("pod %s cannot pull image %s: %s (check the image reference and the imagePullSecrets)", p.Name, cs.Image, cs.State.Waiting.Message))
		case cs.State.Waiting != nil && cs.State.Waiting.Reason == "CrashLoopBackOff",
			// Between two back-offs the container is briefly created, running or terminated:
			// one that keeps exiting is crash-looping whatever the instant shows.
			!cs.Ready && cs.RestartCount > 0 && cs.LastTerminationState.Terminated != nil && cs.LastTerminationState.Terminated.ExitCode != 0:
			msg := fmt.Sprintf("pod %s container %s is crash-looping (%d restarts)", p.Name, cs.Name, cs.RestartCount)
			if t := cs.LastTerminationState.Terminated; t != nil {
				msg += fmt.Sprintf(", last exit code %d (%s)", t.ExitCode, t.Reason)
			}
			out = append(out, msg)
			if logs := c.lastLogs(ctx, p.Name, cs.Name, cs.State.Running != nil); logs != "" {
				out = append(out, "last log lines of "+p.Name+":\n    "+strings.ReplaceAll(logs, "\n", "\n    "))
			}
		case cs.State.Waiting != nil && cs.State.Waiting.Reason != "" && cs.State.Waiting.Reason != "ContainerCreating":
			out = append(out, fmt.Sprintf("pod %s container %s waiting: %s %s", p.Name, cs.Name, cs.State.Waiting.Reason, cs.State.Waiting.Message))
		case cs.State.Running != nil && !cs.Ready:
			out = append(out, fmt.Sprintf("pod %s container %s is running but not ready: its readiness probe is failing", p.Name, cs.Name))
		}
	}
	out = append(out, c.warningEvents(ctx, p.Name)...)
	return out
}

// lastLogs are the last lines of the container's previous instance (the one that exited) or,
// when the kubelet no longer has it (it keeps one dead instance, and a crash loop replaces it
// between two reads), of the current one, which a crash loop runs into the same error. A
// running current instance may not have written anything yet: it is read again for a few
// seconds (one waiting in its back-off has nothing to wait for).
func (c *Client) lastLogs(ctx context.Context, pod, container string, running bool) string {
	tail := int64(20)
	read := func(previous bool) string {
		raw, err := c.Core.CoreV1().Pods(c.Namespace).GetLogs(pod, &corev1.PodLogOptions{Container: container, Previous: previous, TailLines: &tail}).DoRaw(ctx)
		if logs := strings.TrimSpace(string(raw)); err == nil && !kubeletLogError(logs) {
			return logs
		}
		return ""
	}
	if logs := read(true); logs != "" {
		return logs
	}
	if !running {
		return read(false)
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	for {
		if logs := read(false); logs != "" {
			return logs
		}
		select {
		case <-ctx.Done():
			return ""
		case <-time.After(500 * time.Millisecond):
		}
	}
}

// kubeletLogError reports whether what the kubelet answered for a container's logs is its own
// error text rather than the container's output (it answers 200 with these when an instance's
// log file is gone: "unable to retrieve container logs for ...", "failed to try resolving
// symlinks in path \"/var/log/pods/...\"").
func kubeletLogError(logs string) bool {
	return logs == "" || strings.HasPrefix(logs, "unable to retrieve container logs") ||
		strings.HasPrefix(logs, "failed to try resolving symlinks in path")
}

func (c *Client) warningEvents(ctx context.Context, pod string) []string {
	sel := fields.AndSelectors(fields.OneTermEqualSelector("involvedObject.name", pod), fields.OneTermEqualSelector("type", corev1.EventTypeWarning))
	evs, err := c.Core.CoreV1().Events(c.Namespace).List(ctx, metav1.ListOptions{FieldSelector: sel.String()})
	if err != nil {
		return nil
	}
	sort.Slice(evs.Items, func(i, j int) bool { return evs.Items[i].LastTimestamp.Before(&evs.Items[j].LastTimestamp) })
	var out []string
	for _, e := range evs.Items {
		out = append(out, fmt.Sprintf("pod %s event %s: %s", pod, e.Reason, e.Message))
	}
	if len(out) > 3 {
		out = out[len(out)-3:]
	}
	return out
}

// replicaSetFailures reports why the ReplicaSets of selector could not create pods (admission,
// pod security, quota): their FailedCreate events.
func (c *Client) replicaSetFailures(ctx context.Context, selector string) []string {
	rss, err := c.Core.AppsV1().ReplicaSets(c.Namespace).List(ctx, metav1.ListOptions{LabelSelector: selector})
	if err != nil {
		return nil
	}
	var out []string
	for _, rs := range rss.Items {
		sel := fields.AndSelectors(fields.OneTermEqualSelector("involvedObject.name", rs.Name), fields.OneTermEqualSelector("reason", "FailedCreate"))
		evs, err := c.Core.CoreV1().Events(c.Namespace).List(ctx, metav1.ListOptions{FieldSelector: sel.String()})
		if err != nil || len(evs.Items) == 0 {
			continue
		}
		e := evs.Items[len(evs.Items)-1]
		out = append(out, fmt.Sprintf("replicaset %s cannot create pods: %s", rs.Name, e.Message))
	}
	return out
}
