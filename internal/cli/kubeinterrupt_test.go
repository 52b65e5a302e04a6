package cli

import (
	"bytes"
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pyship/pyship/internal/kube"
	"github.com/pyship/pyship/internal/testsvc"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// lockedBuffer is a bytes.Buffer that a command writes while the test reads it.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// Ctrl-C during a deploy on Kubernetes follows the rule of the local target
// (TestCtrlCAbortsTheDeploy): the first one aborts and rolls back to the live release while the
// command shows it, for rolling as for blue-green (both through the strategy engine), and for
// `apply` of a saved plan, which goes through the same workflow.
func TestCtrlCAbortsTheKubernetesDeploy(t *testing.T) {
	for _, tc := range []struct {
		name, strategy string
		apply          bool
	}{{"rolling", "rolling", false}, {"blue-green", "blue-green", false}, {"blue-green-apply", "blue-green", true}} {
		strategy := tc.strategy
		t.Run(tc.name, func(t *testing.T) {
			env, c := kubeProject(t, "cli-intr", `name = "intr"
[deploy]
target = "kubernetes"
strategy = "`+strategy+`"
replicas = 2
[kubernetes]
namespace = %q
`)
			if code, _, errs := env.run(t, "deploy", "--image", cliImage); code != ExitOK {
				t.Fatalf("deploy v1: exit %d\n%s", code, errs)
			}
			ctx0, cancel0 := context.WithTimeout(context.Background(), 10*time.Second)
			v1, err := c.ReadState(ctx0, "intr")
			cancel0()
			if err != nil || v1.Active == "" {
				t.Fatalf("state after v1: %+v %v", v1, err)
			}
			// v2 can never schedule: only the interrupt ends its deploy before the timeout.
			v2 := []string{"deploy", "--image", cliImage, "--memory", "100Ti", "--memory-limit", "100Ti", "--timeout", "3m"}
			if tc.apply {
				// Made right after v1's deploy, while the Deployment controller still writes
				// v1's status: those writes do not make the plan stale.
				file := filepath.Join(t.TempDir(), "v2.plan")
				if code, _, errs := env.run(t, "plan", "--out", file, "--image", cliImage, "--memory", "100Ti", "--memory-limit", "100Ti"); code != ExitOK {
					t.Fatalf("plan --out: exit %d\n%s", code, errs)
				}
				v2 = []string{"apply", file, "--timeout", "3m"}
			}
			code, candidate, errs := interruptedDeploy(t, env, c, "intr", v2)
			if code != ExitFailure || !strings.Contains(errs, "interrupted: aborting the deploy of "+candidate) ||
				!strings.Contains(errs, "rolled back") {
				t.Errorf("exit %d (MainSignals makes it 130), output:\n%s", code, errs)
			}
			ctx2, cancel2 := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel2()
			st, err := c.ReadState(ctx2, "intr")
			if err != nil || st.Active != v1.Active || st.Failed != candidate || st.Candidate != "" {
				t.Errorf("state after the interrupted deploy: %+v %v; want %s active", st, err, v1.Active)
			}
		})
	}
}

// Ctrl-C during the first deploy of an app on Kubernetes stops its release: nothing of the app
// is left (no release in status, no Service), as a failed first deploy leaves nothing locally.
func TestCtrlCStopsTheFirstKubernetesRelease(t *testing.T) {
	env, c := kubeProject(t, "cli-intr1", `name = "intr1"
[deploy]
target = "kubernetes"
replicas = 2
[kubernetes]
namespace = %q
`)
	args := []string{"deploy", "--image", cliImage, "--memory", "100Ti", "--memory-limit", "100Ti", "--timeout", "3m"}
	code, candidate, errs := interruptedDeploy(t, env, c, "intr1", args)
	if code != ExitFailure || !strings.Contains(errs, "interrupted: aborting the deploy of "+candidate+" and stopping it") ||
		!strings.Contains(errs, "nothing of intr1 is left") {
		t.Errorf("exit %d (MainSignals makes it 130), output:\n%s", code, errs)
	}
	code, stdout, errs := env.run(t, "status")
	if code != ExitOK || !strings.Contains(stdout, "intr1 is not deployed in namespace "+c.Namespace) {
		t.Errorf("status after the stopped first release: exit %d\n%s%s", code, stdout, errs)
	}
	ctx2, cancel2 := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel2()
	if svcs, err := c.Core.CoreV1().Services(c.Namespace).List(ctx2, metav1.ListOptions{}); err != nil || len(svcs.Items) != 0 {
		t.Errorf("Services left after the stopped first release: %v %v", svcs, err)
	}
}

// interruptedDeploy runs the command args in env until the rollout of a release of app is
// recorded, then sends one Ctrl-C and waits for the command to end; it returns its exit code,
// the release that was rolling out and what the command wrote on stderr.
func interruptedDeploy(t *testing.T, env cliEnv, c *kube.Client, app string, args []string) (code int, candidate, stderr string) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	intr := &interrupts{cancel: cancel}
	var out, errb lockedBuffer
	done := make(chan int, 1)
	start := time.Now()
	go func() {
		done <- runStreams(ctx, args, &streams{In: strings.NewReader(""), Out: &out, Err: &errb, intr: intr, env: env})
	}()
	testsvc.Eventually(t, time.Minute, "the rollout of "+app+" to be recorded", func() error {
		select {
		case code := <-done:
			t.Fatalf("%s ended before its rollout was recorded: exit %d\n%s", args[0], code, errb.String())
		default:
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		st, err := c.ReadState(ctx, app)
		if err != nil || st.Candidate == "" {
			return fmt.Errorf("state %+v, %v", st, err)
		}
		candidate = st.Candidate
		return nil
	})
	intr.fire()
	select {
	case code = <-done:
	case <-time.After(2 * time.Minute):
		t.Fatalf("%s did not end within 2m of Ctrl-C:\n%s", args[0], errb.String())
	}
	t.Logf("%s after Ctrl-C (%s):\n%s", args[0], time.Since(start).Round(time.Millisecond), errb.String())
	return code, candidate, errb.String()
}
