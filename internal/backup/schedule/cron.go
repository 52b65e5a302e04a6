package schedule

import (
	"fmt"
	"strings"
	"time"

	"github.com/robfig/cron/v3"
)

// Cron is a parsed cron expression.
type Cron struct {
	sched cron.Schedule
	expr  string
}

// Parse parses a cron expression exactly as Kubernetes validates a CronJob's schedule: with
// robfig/cron's standard parser (five fields: minute 0-59, hour 0-23, day of month 1-31, month
// 1-12 or jan-dec, day of week 0-6 or sun-sat; lists, ranges and steps; @hourly, @daily,
// @weekly, @monthly, @yearly, @every DURATION), and no TZ= or CRON_TZ= prefix (Kubernetes
// takes the zone from its own field). So a schedule `pyship check` accepts is one the cluster
// accepts, and the local agent runs it at the same times. As in cron, when both day fields
// are restricted a day matches either. The expression is parsed as written, spaces around it
// included (" @daily" and "@daily " are refused, as the API server refuses them).
func Parse(expr string) (*Cron, error) {
	if strings.Contains(expr, "TZ") {
		return nil, fmt.Errorf("schedule %q: a TZ= or CRON_TZ= prefix is not allowed (Kubernetes refuses it); schedules run in the agent's local time zone", expr)
	}
	s, err := cron.ParseStandard(expr)
	if err != nil {
		return nil, fmt.Errorf("schedule %q: %w; want 5 fields (minute hour day-of-month month day-of-week), e.g. \"0 3 * * *\", or @hourly/@daily/@weekly/@monthly", expr, err)
	}
	return &Cron{sched: s, expr: expr}, nil
}

// String is the expression as written.
func (c *Cron) String() string { return c.expr }

// Next returns the first time strictly after after (in after's location) that the expression
// names, or the zero time when none comes within five years (e.g. "0 0 30 2 *").
func (c *Cron) Next(after time.Time) time.Time {
	return c.sched.Next(after)
}
