package cli

import (
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"github.com/pyship/pyship/internal/kube"
)

func writeKubeStatus(w io.Writer, app, ns string, st *kube.AppStatus, now time.Time) error {
	if len(st.Releases) == 0 && st.State.Active == "" {
		_, err := fmt.Fprintf(w, "%s is not deployed in namespace %s\n", app, ns)
		return err
	}
	s := st.State
	fmt.Fprintf(w, "%s  namespace %s  active %s  phase %s\n", app, ns, orDash(s.Active), orDash(string(s.Phase)))
	if s.Candidate != "" {
		fmt.Fprintf(w, "rollout in progress: %s", s.Candidate)
		if s.CanaryWeight != "" {
			fmt.Fprintf(w, " at %s%%", s.CanaryWeight)
		}
		fmt.Fprintln(w)
	}
	if s.Failed != "" {
		fmt.Fprintf(w, "last failed release: %s\n", s.Failed)
	}
	writeAnalysis(w, st.Analysis)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "RELEASE\tROLE\tREPLICAS\tREADY\tRESTARTS\tIMAGE")
	for _, r := range st.Releases {
		fmt.Fprintf(tw, "%s\t%s\t%d\t%d/%d\t%d\t%s\n", orDash(r.Release), orDash(r.Role), r.Replicas, r.Health.Ready, r.Health.Total, r.Health.Restarts, r.Image)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	for _, r := range st.Releases {
		if r.Role == "previous" && r.Replicas > 0 {
			_, err := fmt.Fprintln(w, retirement(r, s.RetireAfter, now))
			return err
		}
	}
	return nil
}

// retirement says how long the previous release, still running, is kept for rollback and what
// retires it: nothing on the cluster does by itself, the first deploy or promote after its
// rollback window does.
func retirement(r kube.ReleaseStatus, after, now time.Time) string {
	switch {
	case after.IsZero():
		return fmt.Sprintf("previous release %s still runs %d replica(s) for rollback; the next deploy or `pyship promote` scales it down", r.Release, r.Replicas)
	case now.Before(after):
		return fmt.Sprintf("previous release %s keeps %d replica(s) for rollback until %s (in %s); the first deploy or `pyship promote` after that scales it down (promote now ends the window)",
			r.Release, r.Replicas, after.UTC().Format(time.RFC3339), after.Sub(now).Round(time.Second))
	}
	return fmt.Sprintf("previous release %s still runs %d replica(s): its rollback window ended at %s; `pyship promote` or the next deploy scales it down",
		r.Release, r.Replicas, after.UTC().Format(time.RFC3339))
}
